"""`lotsdb auth`: what credentials are configured; never prints a secret."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import typer

from lotsdb_cli.cli.common import FormatOption, emit_list, help_with_examples
from lotsdb_cli.cli.state import get_state

app = typer.Typer(help=help_with_examples("Credentials and tokens.", "lotsdb auth status"), no_args_is_help=True)

# Table and CSV columns: these always, so the CSV header is the same whether or not a token is
# stored, then every other field a service's status has (the JSON's), in the order first seen.
COLUMNS = ("service", "credentials", "token", "expires_at", "expires_in_seconds", "refresh_token")


@app.command("status")
def status(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Whether credentials are configured and when the stored tokens expire.

    Every format has the same fields: the identity server or token URL, the username or client
    id, and the stored token's expiry (table and CSV leave a field a service lacks empty).

    Examples:

    \b
        lotsdb auth status
        lotsdb auth status --format csv
    """
    from lotsdb_cli.output import flatten

    rows = get_state(ctx).db.auth_status()
    emit_list(ctx, rows, fmt, _columns(rows), row=flatten)


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """`COLUMNS`, then the other (flattened) fields of `rows`: no field of the JSON is left out."""
    from lotsdb_cli.output import flatten

    return list(dict.fromkeys([*COLUMNS, *(name for row in rows for name in flatten(row))]))
