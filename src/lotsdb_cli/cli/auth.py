"""`lotsdb auth` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="auth commands.", no_args_is_help=True)
