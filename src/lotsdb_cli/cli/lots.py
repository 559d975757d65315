"""`lotsdb lots` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="lots commands.", no_args_is_help=True)
