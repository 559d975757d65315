"""`lotsdb sellers` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="sellers commands.", no_args_is_help=True)
