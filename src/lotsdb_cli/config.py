"""Configuration: command-line option > environment variable > config file > default (SPEC §2)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lotsdb_cli.durations import parse_duration
from lotsdb_cli.errors import ConfigError

DEFAULT_CATALOG_URL = "https://catalog-api.abconnect.co"
DEFAULT_IDENTITY_URL = "https://login.abconnect.co/connect/token"
DEFAULT_SPOTIFY_API_URL = "https://api.spotify.com"
DEFAULT_SPOTIFY_ACCOUNTS_URL = "https://accounts.spotify.com"

# Environment variable -> Settings field. Config-file keys are the same names,
# lower-cased and without the `LOTSDB_` prefix (e.g. `catalog_url = "..."`).
ENV_FIELDS: dict[str, str] = {
    "LOTSDB_CACHE": "cache",
    "LOTSDB_DB": "db",
    "LOTSDB_TTL": "ttl",
    "LOTSDB_CATALOG_URL": "catalog_url",
    "LOTSDB_IDENTITY_URL": "identity_url",
    "LOTSDB_USERNAME": "username",
    "LOTSDB_PASSWORD": "password",
    "LOTSDB_CLIENT_ID": "client_id",
    "LOTSDB_CLIENT_SECRET": "client_secret",
    "LOTSDB_TOKEN": "token",
    "SPOTIFY_CLIENT_ID": "spotify_client_id",
    "SPOTIFY_CLIENT_SECRET": "spotify_client_secret",
    "SPOTIPY_CLIENT_ID": "spotify_client_id",
    "SPOTIPY_CLIENT_SECRET": "spotify_client_secret",
    "LOTSDB_SPOTIFY_API_URL": "spotify_api_url",
    "LOTSDB_SPOTIFY_ACCOUNTS_URL": "spotify_accounts_url",
    "LOTSDB_SPOTIFY_MARKET": "spotify_market",
    "LOTSDB_CA_BUNDLE": "ca_bundle",
    "LOTSDB_ALLOW_INSECURE": "allow_insecure",
}
SECRET_FIELDS = frozenset({"password", "client_secret", "token", "spotify_client_secret"})


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("lotsdb", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where things are and how to talk to them."""

    home: Path
    cache: str | None = None
    db: str | None = None
    ttl: float = 600.0
    catalog_url: str = DEFAULT_CATALOG_URL
    identity_url: str = DEFAULT_IDENTITY_URL
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    spotify_client_id: str | None = None
    spotify_client_secret: str | None = field(default=None, repr=False)
    spotify_api_url: str = DEFAULT_SPOTIFY_API_URL
    spotify_accounts_url: str = DEFAULT_SPOTIFY_ACCOUNTS_URL
    spotify_market: str = "US"
    ca_bundle: str | None = None  # CA certificates to trust (LOTSDB_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)
    allow_insecure: bool = False  # credentials may go over plain http:// to a non-loopback host
    # Global HTTP options (SPEC §3); only the command line sets these.
    no_cache: bool = False
    refresh: bool = False
    offline: bool = False
    timeout: float = 30.0
    retries: int = 3
    max_wait: float = 120.0
    verbose: int = 0
    quiet: bool = False

    @property
    def cache_location(self) -> str:
        return self.cache or str(self.home / "http_cache.sqlite")

    @property
    def db_path(self) -> Path:
        return Path(self.db) if self.db else self.home / "lotsdb.sqlite"

    @property
    def token_path(self) -> Path:
        return self.home / "tokens.json"

    def with_options(self, **options: Any) -> Settings:
        """A copy with the given command-line options applied (None means 'not given')."""
        given = {name: value for name, value in options.items() if value is not None}
        if "ttl" in given:
            given["ttl"] = parse_duration(given["ttl"])
        return replace(self, **given)


def _read_config_file(home: Path) -> dict[str, Any]:
    path = home / "config.toml"
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (FileNotFoundError, NotADirectoryError):  # no config file (or no home directory at all)
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment and `$LOTSDB_HOME/config.toml` (CLI options come later)."""
    environ = os.environ if environ is None else environ
    home = Path(environ["LOTSDB_HOME"]).expanduser() if environ.get("LOTSDB_HOME") else default_home()
    values: dict[str, Any] = {}
    file_values = _read_config_file(home)
    known = set(ENV_FIELDS.values())
    for key, value in file_values.items():
        name = key.lower().removeprefix("lotsdb_")
        if name not in known:
            raise ConfigError(f"unknown setting {key!r} in {home / 'config.toml'}")
        values[name] = value
    # SPOTIPY_* are fallbacks: read them first so SPOTIFY_* win.
    for variable in sorted(ENV_FIELDS, key=lambda name: not name.startswith("SPOTIPY_")):
        if environ.get(variable):
            values[ENV_FIELDS[variable]] = environ[variable]
    if "ttl" in values:
        values["ttl"] = parse_duration(values["ttl"])
    for url_field in ("catalog_url", "spotify_api_url", "spotify_accounts_url"):
        if url_field in values:
            values[url_field] = str(values[url_field]).rstrip("/")
    return Settings(home=home, **values)
