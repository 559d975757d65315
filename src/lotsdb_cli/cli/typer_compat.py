"""One adjustment to how Typer 0.28 writes help: arguments read `EVENT_ID`, as in Click and every CLI.

Typer 0.28 writes a required argument as `{event_id}` in the usage line and lower-case in the
argument list. Typer is pinned below 0.29 (which imports pydantic on every run), so this stays
exact; `tests/test_help.py` checks the help of every command for it.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument


def _argument_metavar(self: TyperArgument, ctx: Any = None, *, usage: bool = False) -> str:
    name = self.metavar or (self.name or "").upper()
    if not self.required:
        name = f"[{name}]"
    if self.nargs != 1:
        name += "..."
    return name


def apply() -> None:
    TyperArgument.make_metavar = _argument_metavar  # type: ignore[method-assign]
