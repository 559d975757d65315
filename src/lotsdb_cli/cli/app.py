"""The `lotsdb` command: global options, the command groups, and the one exit point (SPEC §3, §4, §6)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from lotsdb_cli import __version__
from lotsdb_cli.cli import albums, auth, cache, config, events, lots, sandbox, sellers, typer_compat
from lotsdb_cli.cli.argv import MissingValue, hoist_global_options
from lotsdb_cli.cli.common import help_with_examples
from lotsdb_cli.cli.errors import exit_status_for, silence, stderr_may_fail, verbosity_of
from lotsdb_cli.cli.params import (
    CacheLocation,
    DurationOption,
    SecondsOption,
    WholeNumberOption,
    exclusive,
    given_on_command_line,
)
from lotsdb_cli.cli.signals import ended, reporting, stop_signals
from lotsdb_cli.cli.state import AppState
from lotsdb_cli.config import DEFAULT_MAX_WAIT, DEFAULT_RETRIES, DEFAULT_TIMEOUT, DEFAULT_TTL
from lotsdb_cli.durations import format_duration
from lotsdb_cli.settings_values import MAX_MAX_WAIT, MAX_RETRIES, MAX_TIMEOUT

typer_compat.apply()
app = typer.Typer(
    name="lotsdb",
    help=help_with_examples(
        "Auction-catalog exports (ABConnect Catalog API) and a Spotify-enriched album catalog,"
        " through one persistent HTTP cache. Global options may come before or after the command;"
        " the examples try it on the built-in sandbox.",
        "lotsdb sandbox serve &",
        'eval "$(lotsdb sandbox env)"',
        "lotsdb lots dump 1000 -o lots.jsonl",
        "lotsdb albums import examples/albums.csv",
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(sellers.app, name="sellers")
app.add_typer(events.app, name="events")
app.add_typer(lots.app, name="lots")
app.add_typer(albums.app, name="albums")
app.add_typer(cache.app, name="cache")
app.add_typer(auth.app, name="auth")
app.add_typer(config.app, name="config")
app.add_typer(sandbox.app, name="sandbox")


def _version(value: bool) -> None:
    if value:
        print(f"lotsdb {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    cache_location: Annotated[
        str | None,
        typer.Option(
            "--cache",
            parser=CacheLocation(),
            metavar=CacheLocation.metavar,
            help="HTTP cache: SQLite file path or redis://host:port/db.",
        ),
    ] = None,
    ttl: Annotated[
        float | None,
        DurationOption(
            help="Freshness of catalog responses: 600, 10m, 2h, 1d"
            f" (default: LOTSDB_TTL, else {format_duration(DEFAULT_TTL)})."
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ignore cached entries, fetch and store new ones.")
    ] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Answer only from the cache; a miss exits 4.")] = False,
    timeout: Annotated[
        float,
        SecondsOption("--timeout", low=0.1, high=MAX_TIMEOUT, help="Deadline of each request, body included."),
    ] = DEFAULT_TIMEOUT,
    retries: Annotated[
        int, WholeNumberOption("--retries", low=0, high=MAX_RETRIES, help="Retries per request.")
    ] = DEFAULT_RETRIES,
    max_wait: Annotated[
        float,
        SecondsOption(
            "--max-wait",
            low=0,
            high=MAX_MAX_WAIT,
            help="Longest back-off to sleep; a server asking for longer stops the run, exit 75.",
        ),
    ] = DEFAULT_MAX_WAIT,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summaries.")] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v: one line per request; -vv: with headers.")
    ] = 0,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Global options."""
    from lotsdb_cli.cli.console import Console
    from lotsdb_cli.config import load_settings
    from lotsdb_cli.env import Environment

    exclusive(ctx, no_cache=no_cache, refresh=refresh, offline=offline)
    env = Environment.from_process(verbosity=verbose, quiet=quiet)
    console = Console(env)
    options = given_on_command_line(ctx)  # only these are recorded as coming from an option
    if "cache_location" in options:
        options["cache"] = options.pop("cache_location")
    settings = load_settings(env.environ).with_options(**options)
    state = AppState(settings, env, console)
    ctx.obj = state
    ctx.call_on_close(state.close)


COMPLETE_VARIABLE = "_LOTSDB_COMPLETE"


def _complete(command: Any, args: list[str]) -> int:
    """Answer the completion script's question, as Typer's own entry point would.

    Click's order of the instruction (`zsh_source`, as Click's documentation shows it) is read as
    Typer's (`source_zsh`), so both work.
    """
    first, _, second = os.environ[COMPLETE_VARIABLE].partition("_")
    if second in ("source", "complete"):
        os.environ[COMPLETE_VARIABLE] = f"{second}_{first}"
    _offer_global_options_everywhere(command)
    try:
        command.main(args=args, prog_name="lotsdb", complete_var=COMPLETE_VARIABLE)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def _offer_global_options_everywhere(root: Any) -> None:
    """Global options work after the command (`lotsdb lots dump 1002 --retries 5`), so completion offers
    them there too: each command gets the root's options it does not have. Done only to answer a
    completion request, where nothing runs (when a command runs, they are hoisted in front instead)."""
    import copy

    shared = [
        param
        for param in root.params
        if getattr(param, "param_type_name", "") == "option"
        and param.name not in ("version", "install_completion", "show_completion", "help")
    ]
    pending = list(getattr(root, "commands", {}).values())
    while pending:
        command = pending.pop()
        pending.extend(getattr(command, "commands", {}).values())
        if getattr(command, "commands", None):
            continue
        taken = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
        command.params.extend(copy.copy(param) for param in shared if not taken & {*param.opts, *param.secondary_opts})


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into a message and an exit code."""
    status = run(argv, process=True)
    ended(status)
    # Everything is written and closed: leave now, with the command's status. The interpreter's own
    # shutdown puts the default signal handlers back first, so a Ctrl-C or SIGTERM in its last
    # moments would end the process by the signal, as if the command had been stopped.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def _usage_error(message: str) -> int:
    """A usage error found before Click parses the line, shown as Click shows its own."""
    with stderr_may_fail():
        sys.stderr.write(f"Usage: lotsdb [OPTIONS] COMMAND [ARGS]...\nTry 'lotsdb -h' for help.\n\nError: {message}\n")
    return 2


def _completion_for(args: list[str]) -> int | None:
    """`--show-completion zsh`, `--install-completion fish`: the named shell, not the detected one."""
    if len(args) != 2 or args[0] not in ("--show-completion", "--install-completion"):
        return None
    from typer._completion_shared import Shells, get_completion_script, install

    shells = [shell.value for shell in Shells]
    if args[1] not in shells:
        return _usage_error(f"Invalid value for '{args[0]}': {args[1]!r} is not one of {', '.join(shells)}.")
    if args[0] == "--show-completion":
        print(get_completion_script(prog_name="lotsdb", complete_var=COMPLETE_VARIABLE, shell=args[1]))
    else:
        shell, path = install(shell=args[1], prog_name="lotsdb", complete_var=COMPLETE_VARIABLE)
        print(f"{shell} completion installed in {path}")
        print("Completion will take effect once you restart the terminal")
    return 0


def run(argv: Sequence[str] | None = None, *, process: bool = False) -> int:
    """Run one command and return its exit status. `process`: this is the `lotsdb` process, which keeps
    its stop-signal handler until it exits (see `signals.py`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _stand_in_for_closed_streams()
    with stop_signals(restore=not process):
        try:
            return _run(args)
        except BaseException as exc:
            reporting()  # the command is over: a signal now must not interrupt the report
            return _status_for(exc, args)


def _run(args: list[str]) -> int:
    command = typer.main.get_command(app)
    if os.environ.get(COMPLETE_VARIABLE):  # the shell asks for completions (see --show-completion)
        return _complete(command, args)
    try:
        completion = _completion_for(args)
        if completion is not None:
            return completion
        try:
            args = hoist_global_options(command, args)
        except MissingValue as exc:
            return _usage_error(str(exc))
        with command.make_context("lotsdb", list(args)) as ctx:  # Click consumes the list it is given
            command.invoke(ctx)
    finally:
        _flush_stdout()
    return 0


def _status_for(exc: BaseException, args: list[str]) -> int:
    """The exit status for how the command ended, reported on stderr."""
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code)
    if isinstance(exc, typer.TyperException):  # Click's usage errors (exit 2)
        with stderr_may_fail():
            exc.show()  # type: ignore[attr-defined]
        return int(exc.exit_code)
    if isinstance(exc, typer.Abort):
        return exit_status_for(KeyboardInterrupt())
    if isinstance(exc, SystemExit):  # --show-completion and --install-completion end this way
        return exc.code if isinstance(exc.code, int) else 0
    return exit_status_for(exc, verbosity=verbosity_of(args))


class _ClosedStdout(io.TextIOBase):
    """What stdout is when the process was started with it closed (`>&-`): a reader that went away."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "standard output is closed")

    def writable(self) -> bool:
        return True


def _stand_in_for_closed_streams() -> None:
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    if sys.stderr is None:  # nothing can be reported; say it nowhere rather than crash
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    # What lotsdb writes is UTF-8, whatever the locale says (`LC_ALL=C` with PYTHONUTF8=0, a Latin-1
    # locale, PYTHONIOENCODING=ascii): JSON, JSONL and CSV are UTF-8 by definition, and a table of
    # non-ASCII names must not end in a UnicodeEncodeError half-way.
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "").replace("_", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(encoding="utf-8")


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence(sys.stdout)
        raise
    except ValueError:  # stdout closed
        pass
