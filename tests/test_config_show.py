"""`lotsdb config show`: every effective setting, its value and its source; secrets as set/unset."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.sandbox import Sandbox


@pytest.fixture(autouse=True)
def no_tls_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)


def settings_shown(cli: Cli, *args: str) -> dict[str, dict[str, object]]:
    result = cli(*args, "config", "show")  # stdout is not a terminal: JSON
    assert result.code == 0 and result.stderr == "", result.stderr
    return {row.pop("setting"): row for row in json.loads(result.stdout)}


def test_defaults(isolated_home: Path) -> None:
    rows = settings_shown(Cli({"LOTSDB_HOME": str(isolated_home)}))
    home_source = "environment (LOTSDB_HOME)"
    assert list(rows)[:6] == ["home", "config_file", "cache", "cache_backend", "db", "token_file"]
    assert rows["home"] == {"value": str(isolated_home), "source": home_source}
    assert rows["config_file"] == {"value": str(isolated_home / "config.toml"), "source": home_source}
    assert rows["cache"] == {"value": str(isolated_home / "http_cache.sqlite"), "source": home_source}
    assert rows["cache_backend"] == {"value": "sqlite", "source": home_source}
    assert rows["db"] == {"value": str(isolated_home / "lotsdb.sqlite"), "source": home_source}
    assert rows["token_file"] == {"value": str(isolated_home / "tokens.json"), "source": home_source}
    defaults = {
        "ttl": 600,
        "timeout": 30,
        "retries": 3,
        "max_wait": 120,
        "no_cache": False,
        "refresh": False,
        "offline": False,
        "catalog_url": "https://catalog-api.abconnect.co",
        "identity_url": "https://login.abconnect.co/connect/token",
        "spotify_api_url": "https://api.spotify.com",
        "spotify_accounts_url": "https://accounts.spotify.com",
        "spotify_market": "US",
        "username": None,
        "password": "unset",
        "client_secret": "unset",
        "token": "unset",
        "spotify_client_secret": "unset",
        "ca_bundle": None,
        "allow_insecure": False,
    }
    for name, value in defaults.items():
        assert rows[name] == {"value": value, "source": "default"}, name


def test_secrets_are_set_or_unset_only(cli: Cli, sandbox: Sandbox) -> None:
    rows = settings_shown(cli)
    secrets = {name: value for name, value in sandbox.env().items() if "PASSWORD" in name or "SECRET" in name}
    assert len(secrets) == 3
    for name in ("password", "client_secret", "spotify_client_secret"):
        assert rows[name]["value"] == "set"
    assert rows["password"]["source"] == "environment (LOTSDB_PASSWORD)"
    assert rows["token"] == {"value": "unset", "source": "default"}
    assert rows["username"] == {"value": "demo", "source": "environment (LOTSDB_USERNAME)"}
    output = cli("config", "show", "--format", "table").stdout
    assert all(secret not in output for secret in secrets.values())


def test_makes_no_request_and_creates_no_file(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    for fmt in ("table", "json", "jsonl", "csv"):
        assert cli("config", "show", "--format", fmt).code == 0
    assert sandbox.stats()["requests"] == 0
    assert not isolated_home.exists()


def test_options_environment_and_file(isolated_home: Path, tmp_path: Path) -> None:
    isolated_home.mkdir()
    config_file = isolated_home / "config.toml"
    config_file.write_text('cache = "redis://:s3cret-pw@cache.internal:6379/2"\ndb = "~/albums.sqlite"\n')
    cli = Cli({"LOTSDB_HOME": str(isolated_home), "LOTSDB_TOKEN": "tok-0123456789", "HOME": str(tmp_path)})
    rows = settings_shown(cli, "--timeout", "5", "--retries", "0", "--max-wait", "7", "--offline", "-q")
    assert rows["cache"] == {
        "value": "redis://:***@cache.internal:6379/2",
        "source": f"config file ({config_file}:cache)",
    }
    assert rows["cache_backend"] == {"value": "redis", "source": f"config file ({config_file}:cache)"}
    assert rows["db"] == {"value": str(tmp_path / "albums.sqlite"), "source": f"config file ({config_file}:db)"}
    assert rows["token"] == {"value": "set", "source": "environment (LOTSDB_TOKEN)"}
    assert rows["timeout"] == {"value": 5, "source": "option (--timeout)"}
    assert rows["retries"] == {"value": 0, "source": "option (--retries)"}
    assert rows["max_wait"] == {"value": 7, "source": "option (--max-wait)"}
    assert rows["offline"] == {"value": True, "source": "option (--offline)"}
    assert rows["quiet"] == {"value": True, "source": "option (--quiet)"}
    assert rows["no_cache"] == {"value": False, "source": "default"}
    on_the_command_line = settings_shown(cli, "--cache", str(tmp_path / "c.sqlite"), "--retries", "3")
    assert on_the_command_line["cache"] == {"value": str(tmp_path / "c.sqlite"), "source": "option (--cache)"}
    assert on_the_command_line["cache_backend"] == {"value": "sqlite", "source": "option (--cache)"}
    assert on_the_command_line["retries"] == {"value": 3, "source": "option (--retries)"}  # given, if equal


def test_formats(isolated_home: Path) -> None:
    cli = Cli({"LOTSDB_HOME": str(isolated_home), "LOTSDB_TTL": "90"})
    table = cli("config", "show", "--format", "table").stdout.splitlines()
    assert table[0].split() == ["setting", "value", "source"]
    assert table[2].startswith("home ") and table[2].endswith(" environment (LOTSDB_HOME)")  # long paths are cut
    assert [line.split() for line in table if line.startswith("ttl ")] == [
        ["ttl", "1m30s", "environment", "(LOTSDB_TTL)"]
    ]
    rows = list(csv.DictReader(io.StringIO(cli("config", "show", "--format", "csv").stdout)))
    by_name = {row["setting"]: row for row in rows}
    assert by_name["ttl"] == {"setting": "ttl", "value": "1m30s", "source": "environment (LOTSDB_TTL)"}
    assert by_name["offline"]["value"] == "false"
    lines = cli("config", "show", "--format", "jsonl").stdout.splitlines()
    assert json.loads(lines[0]) == {
        "setting": "home",
        "value": str(isolated_home),
        "source": "environment (LOTSDB_HOME)",
    }
    assert len(lines) == len(rows)


def test_table_on_a_terminal(isolated_home: Path) -> None:
    """Without --format: a table when stdout is a terminal (JSON when piped, as the tests above)."""
    primary, replica = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lotsdb_cli", "config", "show"],
            env={**os.environ, "LOTSDB_HOME": str(isolated_home)},
            stdout=replica,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(replica)
        output = _read_all(primary)  # until the process closes the terminal
        _, stderr = proc.communicate(timeout=60)
    finally:
        os.close(primary)
    assert proc.returncode == 0, stderr
    assert output.splitlines()[0].split() == ["setting", "value", "source"]


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_help_has_an_example() -> None:
    result = Cli({})("config", "show", "--help")
    assert result.code == 0
    assert "      LOTSDB_TTL=2h lotsdb --timeout 10 config show --format json\n" in result.stdout
