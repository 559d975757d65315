"""The `lotsdb` command: global options and the command groups (SPEC §3, §4)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from lotsdb_cli import __version__
from lotsdb_cli.cli import albums, auth, cache, config, events, lots, sandbox, sellers
from lotsdb_cli.cli.params import CacheLocation, DurationOption, exclusive, given_on_command_line
from lotsdb_cli.cli.state import AppState
from lotsdb_cli.config import DEFAULT_MAX_WAIT, DEFAULT_RETRIES, DEFAULT_TIMEOUT, DEFAULT_TTL
from lotsdb_cli.durations import format_duration

app = typer.Typer(
    name="lotsdb",
    help=(
        "Auction-catalog exports (ABConnect Catalog API) and a Spotify-enriched album catalog,"
        " through one persistent HTTP cache.\n\n"
        'Try it on the built-in sandbox:  eval "$(lotsdb sandbox env)"; lotsdb sandbox serve &'
    ),
    no_args_is_help=True,
    add_completion=False,
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
        float, typer.Option(metavar="SECONDS", help="Per-request timeout in seconds.", min=0.1)
    ] = DEFAULT_TIMEOUT,
    retries: Annotated[int, typer.Option(metavar="N", help="Retries per request.", min=0)] = DEFAULT_RETRIES,
    max_wait: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="Longest back-off to sleep (seconds); longer waits stop the run with exit 75.",
            min=0,
        ),
    ] = DEFAULT_MAX_WAIT,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summaries.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More detail on stderr.")] = 0,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Global options come before the command: `lotsdb --offline lots dump 42`."""
    from lotsdb_cli.cli import console
    from lotsdb_cli.config import load_settings

    exclusive(ctx, no_cache=no_cache, refresh=refresh, offline=offline)
    console.configure(quiet=quiet, verbosity=verbose)
    options = given_on_command_line(ctx)  # only these are recorded as coming from an option
    if "cache_location" in options:
        options["cache"] = options.pop("cache_location")
    settings = load_settings().with_options(**options)
    state = AppState(settings)
    ctx.obj = state
    ctx.call_on_close(state.close)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into a message and an exit code."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    from lotsdb_cli.cli import console
    from lotsdb_cli.cli.errors import exit_status_for
    from lotsdb_cli.errors import ExitStatus

    command = typer.main.get_command(app)
    try:
        returned = command.main(args=argv, prog_name="lotsdb", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return exit_status_for(KeyboardInterrupt())
    except BaseException as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # Click's usage errors
            exc.show()
            return int(exc.exit_code)
        if isinstance(exc, SystemExit):
            return int(exc.code or 0) if isinstance(exc.code, int) else 1
        return exit_status_for(exc, verbosity=console.verbosity())
    finally:
        _flush_stdout()
    # Outside standalone mode Typer returns the code of a `typer.Exit` instead of raising it,
    # and turns Ctrl-C into `Exit(130)`; our commands themselves return None.
    if isinstance(returned, int) and returned == ExitStatus.INTERRUPTED:
        return exit_status_for(KeyboardInterrupt())
    return returned if isinstance(returned, int) else 0


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        # Reader went away (`| head`): point stdout at devnull so the interpreter's
        # final flush does not print a second error.
        import os

        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
