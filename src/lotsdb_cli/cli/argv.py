"""Global options anywhere on the command line, as gh and git accept them.

`lotsdb lots dump 1002 -q --no-cache` becomes `lotsdb -q --no-cache lots dump 1002` before Click
parses it. The walk follows the command tree, so it knows which tokens are command names, which
options of a command take a value (that value is never mistaken for an option), and where `--`
ends the options. A command's own option of the same name as a global one stays with the command.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Typer ships its own copy of Click (typer._click) since 0.29; the tree is walked by the attributes
# every Click command and option has (`params`, `commands`, `opts`, `is_flag`), not by its classes.
Command = Any
Parameter = Any


def _options(command: Command) -> dict[str, Parameter]:
    found: dict[str, Parameter] = {}
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option":
            for name in (*param.opts, *param.secondary_opts):
                found[name] = param
    return found


def _takes_value(param: Parameter) -> bool:
    return not param.is_flag and not param.count


def _short_cluster(token: str, options: dict[str, Parameter]) -> bool:
    """`-qv`, `-vv`: every letter a flag of `options`."""
    if not token.startswith("-") or token.startswith("--") or len(token) < 2:
        return False
    return all(f"-{letter}" in options and not _takes_value(options[f"-{letter}"]) for letter in token[1:])


class MissingValue(Exception):
    """A global option that takes a value came last, with none (`lotsdb lots dump 1002 --ttl`)."""

    def __init__(self, option: str) -> None:
        super().__init__(f"Option '{option}' requires an argument.")
        self.option = option


def _global_prefix(token: str, globals_: dict[str, Parameter], own: dict[str, Parameter]) -> str:
    """The leading letters of a short cluster that are global flags and not the command's (`-qf` -> `q`)."""
    if not token.startswith("-") or token.startswith("--"):
        return ""
    prefix = ""
    for letter in token[1:]:
        option = f"-{letter}"
        if option in own or option not in globals_ or _takes_value(globals_[option]):
            break
        prefix += letter
    return prefix


def hoist_global_options(root: Command, args: Sequence[str]) -> list[str]:
    """`args` with the root's options moved in front of the command path.

    Raises MissingValue when a global option that takes a value ends the line.
    """
    globals_ = _options(root)
    hoisted: list[str] = []
    kept: list[str] = []
    args = list(args)
    command = root
    depth = 0
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":
            kept.extend(args[index:])
            break
        own = _options(command) if depth else {}
        name = token.split("=", 1)[0]
        if depth and name not in own and (name in globals_ or _short_cluster(token, globals_)):
            hoisted.append(token)
            if name in globals_ and _takes_value(globals_[name]) and "=" not in token:
                if index + 1 == len(args):
                    raise MissingValue(name)
                hoisted.append(args[index + 1])
                index += 1
            index += 1
            continue
        prefix = _global_prefix(token, globals_, own) if depth else ""
        if prefix and len(prefix) < len(token) - 1:  # `-qf csv`: `-q` goes in front, `-f csv` stays
            hoisted.append(f"-{prefix}")
            args[index] = f"-{token[1 + len(prefix) :]}"
            continue
        options = own if depth else globals_
        if token.startswith("-") and name in options and _takes_value(options[name]) and "=" not in token:
            kept.extend(args[index : index + 2])
            index += 2
            continue
        if not token.startswith("-") and isinstance(getattr(command, "commands", None), dict):
            sub = command.commands.get(token)
            if sub is not None:
                command, depth = sub, depth + 1
        kept.append(token)
        index += 1
    return hoisted + kept
