"""`lotsdb config`: the settings in effect and where each came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

from lotsdb_cli.cli.common import FormatOption, emit_list, help_with_examples
from lotsdb_cli.cli.state import get_state

app = typer.Typer(
    help=help_with_examples("The settings in effect and where they come from.", "lotsdb config show"),
    no_args_is_help=True,
)

COLUMNS = ("setting", "value", "source")


@app.command("show")
def show(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Every effective setting, its value and its source: default, config file, environment or option.

    Secrets (passwords, client secrets, tokens) show only as set or unset. Sends no request and
    creates no file.

    Examples:

    \b
        lotsdb config show
        LOTSDB_TTL=2h lotsdb --timeout 10 config show --format json
    """
    from lotsdb_cli.config import effective_settings

    settings = get_state(ctx).settings
    records = (
        {"setting": item.name, "value": _number(item.value), "source": str(item.source)}
        for item in effective_settings(settings)
    )
    emit_list(ctx, records, fmt, COLUMNS, row=_readable)


def _number(value: Any) -> Any:
    """`30`, not `30.0`: seconds given as whole numbers read as such."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _readable(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """Table and CSV cells: the TTL as `10m`, flags as true/false; JSON keeps numbers and booleans."""
    from lotsdb_cli.durations import format_duration

    value = record["value"]
    if record["setting"] == "ttl":
        value = format_duration(value)
    elif isinstance(value, bool):
        value = "true" if value else "false"
    return {**record, "value": value}
