"""Settings from the environment and the config file: a bad value is one line naming its source (exit 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.config import load_settings
from lotsdb_cli.errors import ConfigError

TLS_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")

# The shape a CA file is checked for at start (the certificates are loaded by the first https request).
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture(autouse=True)
def no_tls_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CA bundle variables of the developer's shell would show up as the `ca_bundle` setting."""
    for name in TLS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def run(home: Path, *args: str, **env: str) -> tuple[int, str, str]:
    result = Cli({"LOTSDB_HOME": str(home), **env})(*args)
    return result.code, result.stdout, result.stderr


def one_error_line(stderr: str) -> str:
    """SPEC §6: one `error:` line (and at most a `hint:`), no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) in (1, 2) and lines[0].startswith("error: "), stderr
    assert len(lines) == 1 or lines[1].startswith("hint: "), stderr
    return lines[0]


def shown(home: Path, *args: str, **env: str) -> dict[str, dict[str, object]]:
    code, stdout, stderr = run(home, *args, "config", "show", "--format", "json", **env)
    assert code == 0, stderr
    return {row["setting"]: row for row in json.loads(stdout)}


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LOTSDB_TTL", "ten", "not a duration: 'ten'; use seconds, or a number with s, m, h, d or w: 600, 90s"),
        ("LOTSDB_TTL", "-5", "not a duration: '-5'"),
        ("LOTSDB_TTL", "999999999d", "duration too long: '999999999d'; at most 100 years"),
        ("LOTSDB_CATALOG_URL", "not-a-url", "not an http:// or https:// URL: 'not-a-url'; expected an http:// or"),
        ("LOTSDB_CATALOG_URL", "https://catalog.example/?page=2", "it has a query or fragment"),
        ("LOTSDB_SPOTIFY_API_URL", "ftp://api.example", "not an http:// or https:// URL: 'ftp://api.example'"),
        ("LOTSDB_SPOTIFY_ACCOUNTS_URL", "https://", "not a URL with a host: 'https://'"),
        ("LOTSDB_SPOTIFY_ACCOUNTS_URL", "https://accounts.example:port", "the port is not a number"),
        ("LOTSDB_IDENTITY_URL", "https://login.example", "not a token endpoint (the URL has no path)"),
        ("LOTSDB_IDENTITY_URL", "https://login.example/connect token", "contains spaces"),
        ("LOTSDB_CACHE", "memcached://cache:11211", "not a cache location: 'memcached://cache:11211'; expected a file"),
        ("LOTSDB_CACHE", "redis://cache.internal:6379/zero", "the database is not a number"),
        ("LOTSDB_CACHE", "redis:///0", "not a Redis URL (no host)"),
        ("LOTSDB_DB", "https://db.example/albums", "a URL, not a file path"),
        ("LOTSDB_SPOTIFY_MARKET", "USA", "not a two-letter country code: 'USA'; expected a two-letter country code"),
        ("LOTSDB_ALLOW_INSECURE", "maybe", "not a yes/no value: 'maybe'; expected 1, true, yes, on or 0, false"),
        ("LOTSDB_CA_BUNDLE", "/no/such/ca.pem", "no such file or directory: '/no/such/ca.pem'; expected an existing"),
        ("REQUESTS_CA_BUNDLE", "/no/such/ca.pem", "no such file or directory"),
        ("CURL_CA_BUNDLE", "/no/such/ca.pem", "no such file or directory"),
        ("SSL_CERT_FILE", "/no/such/ca.pem", "no such file or directory"),
        ("LOTSDB_CATALOG_URL", "http://127.0.0.1:8765?", "not an origin (it has a query or fragment"),
        ("LOTSDB_SPOTIFY_API_URL", "http://127.0.0.1:8765#", "not an origin (it has a query or fragment"),
        ("LOTSDB_CA_BUNDLE", "/etc/passwd", "holds no PEM certificate: '/etc/passwd'; expected an existing"),
        ("LOTSDB_TIMEOUT", "nan", "out of range: 'nan'; expected a number of seconds from 0.1 to 86400"),
        ("LOTSDB_TIMEOUT", "soon", "not a number: 'soon'"),
        ("LOTSDB_MAX_WAIT", "inf", "out of range: 'inf'; expected a number of seconds from 0 to 604800"),
        ("LOTSDB_RETRIES", "101", "not a whole number in range: '101'; expected a whole number from 0 to 100"),
    ],
)
def test_a_bad_environment_variable_is_named(isolated_home: Path, variable: str, value: str, expected: str) -> None:
    code, stdout, stderr = run(isolated_home, "config", "show", **{variable: value})
    assert code == 4 and stdout == ""
    assert one_error_line(stderr).startswith(f"error: {variable}: ")
    assert expected in stderr


def test_the_album_database_may_not_be_a_directory(isolated_home: Path, tmp_path: Path) -> None:
    code, _, stderr = run(isolated_home, "albums", "list", LOTSDB_DB=str(tmp_path))
    assert code == 4
    assert one_error_line(stderr) == (
        f"error: LOTSDB_DB: a directory, not a file: '{tmp_path}'; expected the album database's file path"
    )


def test_home_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "not-a-dir"
    home.write_text("")
    code, _, stderr = run(home, "config", "show")
    assert code == 4
    assert one_error_line(stderr) == (
        f"error: LOTSDB_HOME: not a directory: '{home}'; expected a directory (created when first needed)"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOTSDB_TOKEN", "Bearer tok-3f9a8c7e1d"),  # the prefix is ours to add
        ("LOTSDB_TOKEN", "tok-3f9a8c7e1d\n"),
        ("LOTSDB_TOKEN", "t\u00f6k\u20ac-3f9a8c7e1d"),  # no header can carry it as it is
    ],
)
def test_a_bad_secret_is_never_echoed(isolated_home: Path, variable: str, value: str) -> None:
    code, _, stderr = run(isolated_home, "config", "show", **{variable: value})
    assert code == 4
    assert one_error_line(stderr).startswith(f"error: {variable}: not a bearer token: (hidden); expected")
    assert "3f9a8c7e1d" not in stderr


def test_a_password_inside_a_redis_url_is_never_echoed(isolated_home: Path) -> None:
    code, _, stderr = run(isolated_home, "config", "show", LOTSDB_CACHE="redis://:hunter2-pw@cache:63x9/0")
    assert code == 4
    assert "'redis://:***@cache:63x9/0'" in one_error_line(stderr)
    assert "hunter2-pw" not in stderr


def test_an_overridden_bad_fallback_is_not_an_error(isolated_home: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text(PEM)
    rows = shown(isolated_home, LOTSDB_CA_BUNDLE=str(bundle), SSL_CERT_FILE="/no/such/file")
    assert rows["ca_bundle"] == {
        "setting": "ca_bundle",
        "value": str(bundle),
        "source": "environment (LOTSDB_CA_BUNDLE)",
    }


def test_empty_variables_mean_unset(isolated_home: Path) -> None:
    rows = shown(isolated_home, LOTSDB_TTL="", LOTSDB_CATALOG_URL="", LOTSDB_CA_BUNDLE="", LOTSDB_PASSWORD="")
    assert rows["ttl"] == {"setting": "ttl", "value": 600, "source": "default"}
    assert rows["catalog_url"]["source"] == "default"
    assert rows["ca_bundle"] == {"setting": "ca_bundle", "value": None, "source": "default"}
    assert rows["password"]["value"] == "unset"


# --- The config file ------------------------------------------------------------------------------


def write_config(home: Path, content: str | bytes) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("# TTL\n\nttl = true\n", ":ttl (line 3): not a duration: true; use seconds, or a number with s, m, h"),
        ("ttl = -1\n", ":ttl (line 1): duration must not be negative: -1"),
        ("ttl = nan\n", ":ttl (line 1): not a duration: nan"),
        (
            'ttl = "5m"\ncatalog_url = 5\n',
            ":catalog_url (line 2): a TOML integer, not a string: 5; expected an http:// or https:// URL with a host",
        ),
        (
            'spotify_market = ["US"]\n',
            ":spotify_market (line 1): a TOML array, not a string: ['US']; expected a two-letter",
        ),
        ("allow_insecure = 2\n", ":allow_insecure (line 1): a TOML integer, not a string: 2; expected 1, true"),
        ('"identity_url" = "login.example/connect/token"\n', ":identity_url (line 1): not an http:// or https:// URL"),
        ('ttl = "1m"\nTTL = "2m"\n', ":TTL (line 2): ttl is set twice (also as 'ttl')"),
    ],
)
def test_a_bad_value_in_the_config_file_names_file_key_and_line(
    isolated_home: Path, content: str, expected: str
) -> None:
    path = write_config(isolated_home, content)
    code, stdout, stderr = run(isolated_home, "config", "show")
    assert code == 4 and stdout == ""
    assert one_error_line(stderr).startswith(f"error: {path}{expected}")


def test_a_secret_of_the_wrong_type_is_hidden(isolated_home: Path) -> None:
    path = write_config(isolated_home, "password = 31415926\n")
    code, _, stderr = run(isolated_home, "config", "show")
    assert code == 4
    assert one_error_line(stderr) == (
        f"error: {path}:password (line 1): a TOML integer, not a string: (hidden); expected text"
    )
    assert "31415926" not in stderr


def test_an_unknown_key_lists_the_known_ones(isolated_home: Path) -> None:
    path = write_config(isolated_home, 'ttl = "5m"\ncolour = "red"\n')
    code, _, stderr = run(isolated_home, "config", "show")
    assert code == 4
    error, hint = stderr.strip().splitlines()
    assert error == f"error: {path}:colour (line 2): unknown setting"
    assert hint.startswith("hint: known keys: allow_insecure, ca_bundle, cache, catalog_url, client_id,")
    assert "spotify_market" in hint and "ttl" in hint


def test_an_unknown_table_is_an_unknown_key(isolated_home: Path) -> None:
    path = write_config(isolated_home, 'ttl = "5m"\n\n[spotify]\nmarket = "GB"\n')
    code, _, stderr = run(isolated_home, "config", "show")
    assert code == 4
    assert one_error_line(stderr) == f"error: {path}:spotify (line 3): unknown setting"


def test_a_toml_syntax_error_names_file_and_line(isolated_home: Path) -> None:
    path = write_config(isolated_home, 'ttl = "5m"\ncatalog_url = https://catalog.example\n')
    code, _, stderr = run(isolated_home, "config", "show")
    assert code == 4
    line = one_error_line(stderr)
    assert line.startswith(f"error: {path}: not valid TOML: ") and "line 2" in line


def test_a_config_file_that_is_not_utf8(isolated_home: Path) -> None:
    path = write_config(isolated_home, b'ttl = "5m"\nusername = "Ren\xe9"\n')  # Latin-1
    code, _, stderr = run(isolated_home, "config", "show")
    assert code == 4
    assert one_error_line(stderr) == f"error: {path}:2: not UTF-8 text (byte 0xe9); expected a TOML file in UTF-8"
    assert "UnicodeDecodeError" not in stderr


def test_a_config_file_that_cannot_be_read(isolated_home: Path) -> None:
    (isolated_home / "config.toml").mkdir(parents=True)  # root reads any file: a directory is unreadable to all
    code, _, stderr = run(isolated_home, "config", "show")
    assert code == 4
    assert one_error_line(stderr) == (
        f"error: {isolated_home / 'config.toml'}: cannot read the config file: Is a directory"
    )


def test_a_config_file_with_a_byte_order_mark_is_read(isolated_home: Path) -> None:
    write_config(isolated_home, '\ufeffspotify_market = "gb"\n'.encode())
    assert shown(isolated_home)["spotify_market"]["value"] == "GB"


def test_keys_may_be_written_as_the_variables(isolated_home: Path) -> None:
    path = write_config(isolated_home, 'LOTSDB_TTL = "2h"\nCatalog_URL = "https://catalog.example/"\n')
    rows = shown(isolated_home)
    assert rows["ttl"] == {"setting": "ttl", "value": 7200, "source": f"config file ({path}:LOTSDB_TTL)"}
    assert rows["catalog_url"]["value"] == "https://catalog.example"  # trailing slash dropped


# --- Precedence and provenance --------------------------------------------------------------------


def test_option_beats_environment_beats_file_beats_default(isolated_home: Path) -> None:
    path = write_config(isolated_home, 'ttl = "5m"\nspotify_market = "GB"\n')
    assert shown(isolated_home)["ttl"] == {"setting": "ttl", "value": 300, "source": f"config file ({path}:ttl)"}
    from_env = shown(isolated_home, LOTSDB_TTL="2h")
    assert from_env["ttl"] == {"setting": "ttl", "value": 7200, "source": "environment (LOTSDB_TTL)"}
    assert from_env["spotify_market"]["source"] == f"config file ({path}:spotify_market)"
    from_option = shown(isolated_home, "--ttl", "90s", LOTSDB_TTL="2h")
    assert from_option["ttl"] == {"setting": "ttl", "value": 90, "source": "option (--ttl)"}


def test_timeout_retries_and_max_wait_are_settings_too(isolated_home: Path) -> None:
    path = write_config(isolated_home, "timeout = 60\nretries = 5\nmax_wait = 30.5\n")
    settings = shown(isolated_home, LOTSDB_RETRIES="7")
    assert settings["timeout"] == {"setting": "timeout", "value": 60, "source": f"config file ({path}:timeout)"}
    assert settings["retries"] == {"setting": "retries", "value": 7, "source": "environment (LOTSDB_RETRIES)"}
    assert settings["max_wait"]["value"] == 30.5
    assert shown(isolated_home, "--timeout", "5")["timeout"] == {
        "setting": "timeout",
        "value": 5,
        "source": "option (--timeout)",
    }


def test_ca_bundle_sources_in_order(isolated_home: Path, tmp_path: Path) -> None:
    bundles = {name: tmp_path / f"{name}.pem" for name in ("lotsdb", "file", "requests", "openssl")}
    for bundle in bundles.values():
        bundle.write_text(PEM)
    path = write_config(isolated_home, f'ca_bundle = "{bundles["file"]}"\n')
    env = {"REQUESTS_CA_BUNDLE": str(bundles["requests"]), "SSL_CERT_FILE": str(bundles["openssl"])}
    assert shown(isolated_home, LOTSDB_CA_BUNDLE=str(bundles["lotsdb"]), **env)["ca_bundle"] == {
        "setting": "ca_bundle",
        "value": str(bundles["lotsdb"]),
        "source": "environment (LOTSDB_CA_BUNDLE)",
    }
    assert shown(isolated_home, **env)["ca_bundle"]["source"] == f"config file ({path}:ca_bundle)"
    path.unlink()
    assert shown(isolated_home, **env)["ca_bundle"]["source"] == "environment (REQUESTS_CA_BUNDLE)"
    assert shown(isolated_home, CURL_CA_BUNDLE=str(bundles["requests"]), SSL_CERT_FILE=str(tmp_path))["ca_bundle"][
        "source"
    ] == ("environment (CURL_CA_BUNDLE)")
    assert shown(isolated_home, SSL_CERT_FILE=str(tmp_path))["ca_bundle"] == {
        "setting": "ca_bundle",
        "value": str(tmp_path),  # a directory of certificates will do
        "source": "environment (SSL_CERT_FILE)",
    }


def test_spotipy_variables_are_fallbacks(isolated_home: Path) -> None:
    rows = shown(isolated_home, SPOTIPY_CLIENT_ID="from-spotipy", SPOTIPY_CLIENT_SECRET="spotipy-secret")
    assert rows["spotify_client_id"] == {
        "setting": "spotify_client_id",
        "value": "from-spotipy",
        "source": "environment (SPOTIPY_CLIENT_ID)",
    }
    assert rows["spotify_client_secret"] == {
        "setting": "spotify_client_secret",
        "value": "set",
        "source": "environment (SPOTIPY_CLIENT_SECRET)",
    }
    both = shown(isolated_home, SPOTIPY_CLIENT_ID="from-spotipy", SPOTIFY_CLIENT_ID="from-spotify")
    assert both["spotify_client_id"]["value"] == "from-spotify"


def test_load_settings_records_sources(tmp_path: Path) -> None:
    settings = load_settings({"LOTSDB_HOME": str(tmp_path), "LOTSDB_TTL": "1d", "LOTSDB_ALLOW_INSECURE": "on"})
    assert (settings.ttl, str(settings.source("ttl"))) == (86400.0, "environment (LOTSDB_TTL)")
    assert settings.allow_insecure is True
    assert str(settings.source("catalog_url")) == "default"
    given = settings.with_options(ttl="10m", retries=1, offline=None)
    assert (given.ttl, str(given.source("ttl"))) == (600.0, "option (--ttl)")
    assert str(given.source("retries")) == "option (--retries)"
    assert str(given.source("offline")) == "default"


def test_load_settings_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^LOTSDB_SPOTIFY_MARKET: not a two-letter country code: 'U5'"):
        load_settings({"LOTSDB_HOME": str(tmp_path), "LOTSDB_SPOTIFY_MARKET": "U5"})


def test_loading_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    load_settings({"LOTSDB_HOME": str(home)})
    assert not home.exists()


@pytest.mark.parametrize("variable", ["LOTSDB_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_ca_setting_naming_a_fifo_is_refused_before_anything_reads_it(
    isolated_home: Path, tmp_path: Path, variable: str
) -> None:
    """OpenSSL would block opening it, in C, beyond --timeout and signals: exit 4 at once, naming it."""
    import os

    fifo = tmp_path / "ca.fifo"
    os.mkfifo(fifo)
    others = {"LOTSDB_CA_BUNDLE": ""} if variable != "LOTSDB_CA_BUNDLE" else {}
    code, _, stderr = run(isolated_home, "config", "show", **{variable: str(fifo)}, **others)
    assert code == 4
    assert one_error_line(stderr).startswith(f"error: {variable}: not a file or a directory: ")


def test_ssl_cert_file_is_checked_even_when_another_ca_setting_wins(isolated_home: Path, tmp_path: Path) -> None:
    import os

    bundle, fifo = tmp_path / "ca.pem", tmp_path / "ca.fifo"
    bundle.write_text(PEM)
    os.mkfifo(fifo)
    code, _, stderr = run(isolated_home, "config", "show", LOTSDB_CA_BUNDLE=str(bundle), SSL_CERT_FILE=str(fifo))
    assert code == 4 and "SSL_CERT_FILE: not a file or a directory" in stderr
