"""Every command's help, rendered at 80 columns as a user sees it: examples intact, no Python types."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer

from lotsdb_cli.cli.app import app, run

PYTHON_PLACEHOLDER = re.compile(r"<(?:str|int|float|bool|list|dict|path|int range|float range)[^>]*>|\{[a-z_]+\}")


def command_paths() -> Iterator[list[str]]:
    root = typer.main.get_command(app)

    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(root, [])


def rendered_help(path: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    assert run([*path, "--help"]) == 0
    return capsys.readouterr().out


def examples(text: str) -> list[str]:
    """The example command lines of a help page (under an `Examples:` heading)."""
    found, inside = [], False
    for line in text.splitlines():
        if line.strip() == "Examples:":
            inside = True
            continue
        if inside and line.strip() and not line.startswith("    "):
            inside = False
        if inside and line.strip():
            found.append(line.strip())
    return found


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda path: " ".join(path) or "lotsdb")
def test_help_reads_like_a_cli(
    path: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = rendered_help(path, capsys, monkeypatch)
    assert not PYTHON_PLACEHOLDER.search(text), PYTHON_PLACEHOLDER.search(text)
    for line in text.splitlines():
        assert len(line) <= 80, line
    shown = examples(text)
    assert shown, f"{' '.join(path) or 'lotsdb'} --help has no example"
    for example in shown:
        assert example.startswith(("lotsdb ", "eval ", "curl ", "*/", "LOTSDB_", "export ", "$ ")), example
        assert not example.endswith(("\\", "--", "-o", "|")), f"example cut mid-command: {example}"


def test_global_defaults_are_shown(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    text = rendered_help([], capsys, monkeypatch)
    for option, default in (("--timeout", "30"), ("--retries", "3"), ("--max-wait", "120")):
        block = text[text.index(option) :]
        entry = " ".join(block[: block.index("\n  -")].split())  # the option's help, unwrapped
        assert f"[default: {default}" in entry, option
