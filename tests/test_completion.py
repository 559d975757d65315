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


@pytest.mark.parametrize(
    ("shell", "marker"), [("bash", "COMPREPLY"), ("zsh", "#compdef lotsdb"), ("fish", "complete --command")]
)
def test_show_completion_prints_the_named_shells_script(shell: str, marker: str) -> None:
    # From a bash (the tests' parent shell), the shell named on the command line wins.
    result = lotsdb("--show-completion", shell, env={"SHELL": "/bin/bash"})
    assert result.returncode == 0, result.stderr
    assert "_LOTSDB_COMPLETE" in result.stdout and marker in result.stdout and result.stderr == ""


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = lotsdb("--show-completion", "tcsh")
    assert result.returncode == 2 and result.stdout == ""
    assert "'tcsh' is not one of bash, zsh, fish" in result.stderr


@pytest.mark.parametrize("instruction", ["source_zsh", "zsh_source"])
def test_the_source_instruction_reads_in_either_order(instruction: str) -> None:
    result = lotsdb(env={"_LOTSDB_COMPLETE": instruction})
    assert result.returncode == 0 and "#compdef lotsdb" in result.stdout, result.stderr


def test_bash_completes_commands_and_subcommands() -> None:
    words = lotsdb(env={"_LOTSDB_COMPLETE": "complete_bash", "COMP_WORDS": "lotsdb lo", "COMP_CWORD": "1"})
    assert words.returncode == 0 and words.stdout.split() == ["lots"]
    sub = lotsdb(env={"_LOTSDB_COMPLETE": "complete_bash", "COMP_WORDS": "lotsdb lots d", "COMP_CWORD": "2"})
    assert sub.stdout.split() == ["dump"]


def test_global_options_complete_after_the_command_too() -> None:
    """They work there (`lotsdb lots dump 1002 --retries 5`), so the shell offers them there."""
    env = {"_LOTSDB_COMPLETE": "complete_bash", "COMP_WORDS": "lotsdb lots dump 1002 --ret", "COMP_CWORD": "4"}
    assert lotsdb(env=env).stdout.split() == ["--retries"]
    env["COMP_WORDS"] = "lotsdb lots dump 1002 --"
    offered = lotsdb(env=env).stdout.split()
    assert {"--workers", "--changes", "--no-cache", "--ttl", "--quiet"} <= set(offered)
    assert "--version" not in offered and "--show-completion" not in offered
    assert offered.count("--format") == 1  # the command's own, not a second one


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
