"""`lotsdb auth`: what credentials are configured; never prints a secret."""

from __future__ import annotations

import typer

from lotsdb_cli.cli.common import FormatOption, emit_list, help_with_examples
from lotsdb_cli.cli.state import get_state

app = typer.Typer(help=help_with_examples("Credentials and tokens.", "lotsdb auth status"), no_args_is_help=True)


@app.command("status")
def status(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Whether credentials are configured and when the stored tokens expire.

    Examples:

    \b
        lotsdb auth status
    """
    rows = get_state(ctx).db.auth_status()
    emit_list(ctx, rows, fmt, ["service", "credentials", "token", "expires_at", "expires_in_seconds", "refresh_token"])
