"""`lotsdb albums` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="albums commands.", no_args_is_help=True)
