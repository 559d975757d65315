"""Shell completion for bash, zsh and fish: the scripts, and the answers the shells ask for."""

from __future__ import annotations

import subprocess
import sys

import pytest


def lotsdb(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "lotsdb_cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_the_script(shell: str) -> None:
    result = lotsdb("--show-completion", shell, env={"SHELL": f"/bin/{shell}"})
    assert result.returncode == 0, result.stderr
    assert "_LOTSDB_COMPLETE" in result.stdout and result.stderr == ""


def test_bash_completes_commands_and_subcommands() -> None:
    words = lotsdb(env={"_LOTSDB_COMPLETE": "complete_bash", "COMP_WORDS": "lotsdb lo", "COMP_CWORD": "1"})
    assert words.returncode == 0 and words.stdout.split() == ["lots"]
    sub = lotsdb(env={"_LOTSDB_COMPLETE": "complete_bash", "COMP_WORDS": "lotsdb lots d", "COMP_CWORD": "2"})
    assert sub.stdout.split() == ["dump"]


def test_zsh_completes_with_descriptions() -> None:
    result = lotsdb(env={"_LOTSDB_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "lotsdb albums "})
    assert result.returncode == 0
    for command in ("import", "list", "show", "cover", "refresh"):
        assert f'"{command}":' in result.stdout


def test_fish_completes_options() -> None:
    env = {
        "_LOTSDB_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": "lotsdb lots dump 1000 --for",
    }
    result = lotsdb(env=env)
    assert result.returncode == 0 and "--format" in result.stdout
