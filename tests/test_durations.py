"""Durations (`600`, `90s`, `10m`, `2h`, `1d`, `1w`) and the command-line parameter types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pytest
import typer
from conftest import Cli
from typer.testing import CliRunner

from lotsdb_cli.cli.params import DurationDefault, DurationOption, FieldAssignmentOption
from lotsdb_cli.durations import DURATION_FORMS, DurationError, format_duration, parse_duration
from lotsdb_cli.sandbox import Sandbox


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("600", 600),
        ("90s", 90),
        ("10m", 600),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1.5h", 5400),
        (" 10M ", 600),
        ("0", 0),
        (45, 45),
        (2.5, 2.5),
    ],
)
def test_accepted_forms(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ten", "not a duration"),
        ("", "not a duration"),
        ("-1d", "not a duration"),
        ("10 minutes", "not a duration"),
        ("1h30m", "not a duration"),
        (True, "not a duration"),
        (float("nan"), "not a duration"),
        (-5, "duration must not be negative"),
        (float("inf"), "duration too long"),
        ("36501d", "duration too long"),
    ],
)
def test_refused(text: str | float, problem: str) -> None:
    with pytest.raises(DurationError) as refused:
        parse_duration(text)
    assert refused.value.problem == problem
    assert str(refused.value) == f"{problem}: {text!r}"
    assert refused.value.hint == (
        f"use {DURATION_FORMS}" if problem != "duration too long" else "at most 100 years (36500d)"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (600, "10m"),
        (750, "12m30s"),
        (7200, "2h"),
        (11100, "3h05m"),
        (172800, "2d"),
        (93600, "1d2h"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


# --- On the command line --------------------------------------------------------------------------


def test_root_ttl_takes_a_duration(isolated_home: Path) -> None:
    result = Cli({"LOTSDB_HOME": str(isolated_home)})("--ttl", "1w", "config", "show", "--format", "json")
    assert result.code == 0, result.stderr
    ttl = next(row for row in json.loads(result.stdout) if row["setting"] == "ttl")
    assert ttl == {"setting": "ttl", "value": 604800, "source": "option (--ttl)"}


@pytest.mark.parametrize("value", ["soon", "10 minutes", "-1d", "99999999999999999999d", "\u0661\u0662", "\uff11m"])
def test_a_bad_ttl_is_a_usage_error(isolated_home: Path, value: str) -> None:
    result = Cli({"LOTSDB_HOME": str(isolated_home)})("--ttl", value, "config", "show")
    assert result.code == 2 and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: Invalid value for '--ttl': ") and repr(value) in last
    assert DURATION_FORMS in last or "at most 100 years" in last


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--offline", "--no-cache"], "Error: --no-cache and --offline cannot be combined"),
        (["--refresh", "--offline"], "Error: --refresh and --offline cannot be combined"),
        (["--no-cache", "--refresh", "--offline"], "Error: --no-cache, --refresh and --offline cannot be combined"),
        (["--cache", "ftp://cache.example/x"], "Error: Invalid value for '--cache': not a cache location"),
    ],
)
def test_conflicting_or_bad_global_options_are_usage_errors(isolated_home: Path, args: list[str], message: str) -> None:
    result = Cli({"LOTSDB_HOME": str(isolated_home)})(*args, "config", "show")
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1].startswith(message)


@pytest.mark.parametrize(
    "args",
    [
        ["sellers", "list", "--name", "a\udcff"],
        ["albums", "list", "--artist", "a\udcff"],
        ["albums", "refresh", "--genre", "a\udcff", "--dry-run"],
        ["albums", "gallery", "--artist", "\udcffb", "-o", "-"],
        ["cache", "clear", "--url-pattern", "*/\udcff/*"],
        ["lots", "override", "100241", "--set", "Notes=a\udcff", "--dry-run"],
    ],
)
def test_bytes_that_are_not_utf8_in_a_text_option_are_a_usage_error(
    cli: Cli, sandbox: Sandbox, args: list[str]
) -> None:
    """A search word in Latin-1 from an old script (`$'\\xff'`): exit 2 naming the option, nothing sent."""
    result = cli(*args)
    assert result.code == 2 and result.stdout == ""
    assert "not UTF-8 text: b'" in result.stderr and "\\xff" in result.stderr
    assert sandbox.stats()["requests"] == 0


def test_root_help_shows_metavars_and_defaults() -> None:
    result = Cli({})("--help")
    assert result.code == 0
    options = " ".join(result.stdout.split("Options:")[1].split())  # the option list, unwrapped
    assert "--cache PATH|URL " in options and "--ttl DURATION " in options
    assert "--timeout SECONDS " in options and "(0.1 to 86400 seconds). [default: 30]" in options
    assert "--retries N " in options and "(0 to 100). [default: 3]" in options
    assert "--max-wait SECONDS " in options and "(0 to 604800 seconds). [default: 120]" in options
    assert "<" not in result.stdout  # no Python type such as <str> or <float range>


# --- The types other commands use -----------------------------------------------------------------

demo = typer.Typer(rich_markup_mode=None)


@demo.command()
def demo_command(
    within: Annotated[float, DurationOption("--within", help="How far ahead.")] = DurationDefault("30d"),
    assignments: Annotated[list[str] | None, FieldAssignmentOption("--set", "-s", help="FIELD=VALUE.")] = None,
) -> None:
    print(json.dumps({"within": within, "set": assignments}))


def run_demo(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(demo, list(args))
    return result.exit_code, result.output


def test_duration_option() -> None:
    assert run_demo("--within", "2h") == (0, '{"within": 7200.0, "set": null}\n')
    assert run_demo() == (0, '{"within": 2592000.0, "set": null}\n')  # the default, converted
    code, output = run_demo("--within", "fortnight")
    assert code == 2 and f"Invalid value for '--within': not a duration: 'fortnight'; use {DURATION_FORMS}" in output


def test_field_assignment_option() -> None:
    code, output = run_demo("--set", "Qty=2", "-s", "Notes=a=b", "-s", "description=")
    assert (code, json.loads(output)["set"]) == (0, ["Qty=2", "Notes=a=b", "description="])
    for bad in ("Qty", "=2"):
        code, output = run_demo("--set", bad)
        assert code == 2 and f"Invalid value for '--set' / '-s': --set expects FIELD=VALUE, got {bad!r}" in output
    code, output = run_demo("--set", "Estimate=3")  # a lot field, of its type
    assert code == 2 and "unknown lot field 'Estimate'" in output


def test_help_of_the_types() -> None:
    code, output = run_demo("--help")
    assert code == 0
    assert "--within DURATION" in output and "[default: 30d]" in output
    assert "--set FIELD=VALUE" in output and "<" not in output


def test_duration_default_is_seconds() -> None:
    default = DurationDefault("10m")
    assert default == 600.0 and str(default) == "10m"
