"""`lotsdb sandbox` commands: serve the local stand-in for the three upstream services, and print
the environment that points lotsdb at it (SPEC §7)."""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from typing import Annotated, Any

import typer

from lotsdb_cli.cli.common import help_with_examples
from lotsdb_cli.cli.params import TextOption

app = typer.Typer(
    help=help_with_examples(
        "A local stand-in for the Catalog API, its identity server and Spotify.",
        "lotsdb sandbox serve &",
        'eval "$(lotsdb sandbox env)"',
    ),
    no_args_is_help=True,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
HostOption = Annotated[str, typer.Option(metavar="HOST", help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(min=0, max=65535, metavar="PORT", help="Port (0: any free port).")]
SandboxHostOption = Annotated[str, TextOption("--host", metavar="HOST", help="Address of the sandbox.")]
SandboxPortOption = Annotated[
    int, typer.Option("--port", min=1, max=65535, metavar="PORT", help="Port of the sandbox.")
]


@app.command("serve")
def serve(
    host: HostOption = DEFAULT_HOST,
    port: PortOption = DEFAULT_PORT,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", min=0, metavar="MS", help="Delay before each API answer (ms).")
    ] = 0,
    rate_limit: Annotated[
        float,
        typer.Option(min=0, metavar="RATE", help="Requests per second per service before 429s (0: no limit)."),
    ] = 0,
    fail_rate: Annotated[
        float, typer.Option(min=0, max=1, metavar="FRACTION", help="Fraction of API requests answering 503.")
    ] = 0,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the generated data.")] = 1,
    sellers: Annotated[int, typer.Option(min=0, metavar="N", help="Number of sellers.")] = 6,
    events_per_seller: Annotated[int, typer.Option(min=0, metavar="N", help="Events per seller.")] = 4,
    lots_per_event: Annotated[int, typer.Option(min=0, metavar="N", help="Lots per event.")] = 120,
    albums: Annotated[int, typer.Option(min=0, metavar="N", help="Number of Spotify albums.")] = 500,
    spotify_batch: Annotated[
        bool,
        typer.Option("--spotify-batch", help="Allow GET /v1/albums?ids= (Extended Quota)."),
    ] = False,
    token_ttl: Annotated[
        int, typer.Option(min=1, metavar="SECONDS", help="Lifetime of access tokens in seconds.")
    ] = 3600,
) -> None:
    """Serve the sandbox until Ctrl-C (or SIGTERM).

    Examples:

    \b
        lotsdb sandbox serve &
        lotsdb sandbox serve --port 0 --latency-ms 20 --rate-limit 50
    """
    from lotsdb_cli.errors import LotsdbError
    from lotsdb_cli.sandbox import Sandbox

    sandbox = Sandbox(
        seed=seed,
        sellers=sellers,
        events_per_seller=events_per_seller,
        lots_per_event=lots_per_event,
        albums=albums,
        latency_ms=latency_ms,
        rate_limit=rate_limit,
        fail_rate=fail_rate,
        spotify_batch=spotify_batch,
        token_ttl=token_ttl,
        host=host,
        port=port,
    )
    try:
        sandbox.start()
    except OSError as exc:
        raise LotsdbError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port, or --port 0 for any free one",
        ) from None
    try:
        print(f"sandbox listening on {sandbox.url}", file=sys.stderr, flush=True)
        _wait_for_stop_signal()
    finally:
        sandbox.stop()
    print("sandbox stopped", file=sys.stderr, flush=True)


def _wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM; either one is a normal way to stop the server."""
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop_requested.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command("env")
def env(host: SandboxHostOption = DEFAULT_HOST, port: SandboxPortOption = DEFAULT_PORT) -> None:
    """Print `export` lines that point lotsdb at a sandbox, with its demo credentials.

    Examples:

    \b
        eval "$(lotsdb sandbox env)"
        eval "$(lotsdb sandbox env --port 9000)"
    """
    from lotsdb_cli.sandbox.credentials import origin, sandbox_env

    for name, value in sandbox_env(origin(host, port)).items():
        print(f"export {name}={shlex.quote(value)}")
