"""Credentials over plain http: refused (exit 4) for a host that is not loopback, unless allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.config import (
    Settings,
    insecure_credential_urls,
    is_loopback_host,
    load_settings,
    require_secure_credentials,
)
from lotsdb_cli.errors import ConfigError, ExitStatus

URL_VARIABLES = {
    "identity_url": "LOTSDB_IDENTITY_URL",
    "spotify_accounts_url": "LOTSDB_SPOTIFY_ACCOUNTS_URL",
    "catalog_url": "LOTSDB_CATALOG_URL",
    "spotify_api_url": "LOTSDB_SPOTIFY_API_URL",
}
HINT = "use https://, or set LOTSDB_ALLOW_INSECURE=1 to send credentials over plain http to this host"


def settings_with(tmp_path: Path, **env: str) -> Settings:
    return load_settings({"LOTSDB_HOME": str(tmp_path), **env})


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "localhost.", "[::1]", "[::ffff:127.0.0.1]"],
)
def test_loopback_hosts_may_get_credentials_over_http(tmp_path: Path, host: str) -> None:
    origin = f"http://{host}:8765"
    settings = settings_with(
        tmp_path,
        LOTSDB_CATALOG_URL=origin,
        LOTSDB_IDENTITY_URL=f"{origin}/connect/token",
        LOTSDB_SPOTIFY_API_URL=origin,
        LOTSDB_SPOTIFY_ACCOUNTS_URL=origin,
    )
    assert insecure_credential_urls(settings) == []
    require_secure_credentials(settings)


@pytest.mark.parametrize(
    "host", ["catalog.example", "10.0.0.7", "[2001:db8::1]", "127.0.0.1.nip.example", "localhost.example", "0.0.0.0"]
)
def test_other_hosts_over_http_are_listed(tmp_path: Path, host: str) -> None:
    settings = settings_with(tmp_path, LOTSDB_CATALOG_URL=f"http://{host}")
    assert insecure_credential_urls(settings) == [("catalog_url", f"http://{host}")]
    assert not is_loopback_host(host.strip("[]"))


@pytest.mark.parametrize("setting", sorted(URL_VARIABLES))
def test_each_credential_url_is_checked(tmp_path: Path, setting: str) -> None:
    url = "http://plain.example/connect/token"
    settings = settings_with(tmp_path, **{URL_VARIABLES[setting]: url})
    assert insecure_credential_urls(settings) == [(setting, url)]
    with pytest.raises(ConfigError) as refused:
        require_secure_credentials(settings)
    assert refused.value.exit_status == ExitStatus.AUTH == 4
    assert str(refused.value) == (
        f"{URL_VARIABLES[setting]}: {url} would send credentials in clear (plain http to a host that is not loopback)"
    )
    assert refused.value.hint == HINT


def test_https_and_defaults_are_fine(tmp_path: Path) -> None:
    assert insecure_credential_urls(settings_with(tmp_path)) == []
    settings = settings_with(tmp_path, LOTSDB_CATALOG_URL="https://catalog.example")
    assert insecure_credential_urls(settings) == []
    require_secure_credentials(settings)


def test_allow_insecure_lets_them_through(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, LOTSDB_CATALOG_URL="http://catalog.example", LOTSDB_ALLOW_INSECURE="1")
    assert insecure_credential_urls(settings) == [("catalog_url", "http://catalog.example")]
    require_secure_credentials(settings)  # allowed: no error


def test_only_the_named_settings_are_checked(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, LOTSDB_SPOTIFY_API_URL="http://spotify.example")
    require_secure_credentials(settings, "catalog_url", "identity_url")  # Spotify is not involved
    with pytest.raises(ConfigError, match=r"^LOTSDB_SPOTIFY_API_URL: "):
        require_secure_credentials(settings, "spotify_api_url")


def test_the_config_file_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('catalog_url = "http://catalog.example"\n')
    with pytest.raises(ConfigError) as refused:
        require_secure_credentials(settings_with(tmp_path))
    assert str(refused.value).startswith(f"{tmp_path / 'config.toml'}:catalog_url (line 1): http://catalog.example ")


def test_a_password_in_the_url_is_refused_and_not_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_with(tmp_path, LOTSDB_IDENTITY_URL="http://user:pa55word@login.example/connect/token")
    assert "pa55word" not in str(refused.value) and "http://user:***@login.example" in str(refused.value)
    assert "LOTSDB_IDENTITY_URL: a URL with a user name or password in it" in str(refused.value)


def test_loading_does_not_refuse_them(isolated_home: Path) -> None:
    """Offline commands send no credential: plain http settings must not stop them."""
    result = Cli({"LOTSDB_HOME": str(isolated_home), "LOTSDB_CATALOG_URL": "http://catalog.example"})("config", "show")
    assert result.code == 0, result.stderr
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    assert rows["catalog_url"] == {
        "setting": "catalog_url",
        "value": "http://catalog.example",
        "source": "environment (LOTSDB_CATALOG_URL)",
    }
