"""Configuration: command-line option > environment variable > config file > default (SPEC §2).

Every value read from the environment or from `$LOTSDB_HOME/config.toml` is checked when the
settings are loaded: a bad one is a `ConfigError` (exit 4) that names the variable or `file:key`,
shows the value (never a secret's) and says what is accepted. `Settings.sources` records where each
setting came from, for `lotsdb config show`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from lotsdb_cli.errors import ConfigError, UsageError
from lotsdb_cli.own_files import read_regular
from lotsdb_cli.settings_values import (  # noqa: F401 - the names other modules import from here
    _FIELDS,
    _FIELDS_BY_NAME,
    CONFIG_KEYS,
    DEFAULT_CATALOG_URL,
    DEFAULT_IDENTITY_URL,
    DEFAULT_MAX_WAIT,
    DEFAULT_RETRIES,
    DEFAULT_SPOTIFY_ACCOUNTS_URL,
    DEFAULT_SPOTIFY_API_URL,
    DEFAULT_TIMEOUT,
    DEFAULT_TTL,
    ENV_FIELDS,
    INSECURE_VARIABLE,
    REDIS_SCHEMES,
    SECRET_FIELDS,
    InvalidValue,
    _Field,
    _shown,
    check_openssl_paths,
    is_redis_url,
    parse_value,
    redact_url,
)

CONFIG_FILE_NAME = "config.toml"


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("lotsdb", appauthor=False))


DEFAULT, CONFIG_FILE, ENVIRONMENT, OPTION = "default", "config file", "environment", "option"


class Source(NamedTuple):
    """Where a setting's value came from: `default`, `config file`, `environment` or `option`."""

    kind: str
    name: str = ""  # the variable, `PATH:key` or `--flag`
    line: int | None = None  # the config file's line, when known

    def __str__(self) -> str:
        return f"{self.kind} ({self.name})" if self.name else self.kind

    @property
    def where(self) -> str:
        """The source as an error message names it: `LOTSDB_TTL`, `/x/config.toml:ttl (line 3)`, `--ttl`."""
        if self.kind == CONFIG_FILE and self.line is not None:
            return f"{self.name} (line {self.line})"
        return self.name or self.kind


FROM_DEFAULT = Source(DEFAULT)


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where things are and how to talk to them."""

    home: Path
    cache: str | None = None
    db: str | None = None
    ttl: float = DEFAULT_TTL
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
    ca_bundle: str | None = None  # CA certificates to trust; None: the system's
    allow_insecure: bool = False  # credentials may go over plain http:// to a non-loopback host
    # Global HTTP options (SPEC §3); only the command line sets these.
    no_cache: bool = False
    refresh: bool = False
    offline: bool = False
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    max_wait: float = DEFAULT_MAX_WAIT
    verbose: int = 0
    quiet: bool = False
    # Field name -> where its value came from; a field missing here has its default.
    sources: Mapping[str, Source] = field(default_factory=dict, repr=False, compare=False)

    @property
    def cache_location(self) -> str:
        return self.cache or str(self.home / "http_cache.sqlite")

    @property
    def cache_backend(self) -> str:
        """`redis` or `sqlite`: what `cache_location` names."""
        return "redis" if is_redis_url(self.cache_location) else "sqlite"

    @property
    def db_path(self) -> Path:
        return Path(self.db) if self.db else self.home / "lotsdb.sqlite"

    @property
    def token_path(self) -> Path:
        return self.home / "tokens.json"

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE_NAME

    def source(self, name: str) -> Source:
        """Where the setting `name` (a field) came from."""
        return self.sources.get(name, FROM_DEFAULT)

    def with_options(self, **options: Any) -> Settings:
        """A copy with the given command-line options applied (None means 'not given').

        Each is recorded as coming from `option (--name)`, and checked as the same setting read
        from the environment would be (a bad one is a `UsageError`).
        """
        given: dict[str, Any] = {}
        sources = dict(self.sources)
        for name, value in options.items():
            if value is None:
                continue
            source = Source(OPTION, "--" + name.replace("_", "-"))
            spec = _FIELDS_BY_NAME.get(name)
            if spec is not None:
                try:
                    value = spec.parse(value)
                except InvalidValue as exc:
                    raise UsageError(exc.describe(source, _shown(spec, value))) from None
            given[name] = value
            sources[name] = source
        return replace(self, sources=sources, **given)


# --- Loading --------------------------------------------------------------------------------------


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment and `$LOTSDB_HOME/config.toml` (CLI options come later).

    Raises `ConfigError` naming the variable or `file:key` of the first bad value. Reads no file
    but the config file, creates none and sends nothing.
    """
    environ = os.environ if environ is None else environ
    home, home_source = _home(environ)
    file_values = _read_config_file(home / CONFIG_FILE_NAME)
    values: dict[str, Any] = {}
    sources = {"home": home_source}
    for spec in _FIELDS:
        found = _lookup(spec, environ, file_values)
        if found is None:
            continue
        raw, source = found
        try:
            values[spec.name] = spec.parse(raw)
        except InvalidValue as exc:
            raise ConfigError(exc.describe(source, _shown(spec, raw))) from None
        sources[spec.name] = source
    check_openssl_paths(environ)
    settings = Settings(home=home, sources=sources, **values)
    _register_secrets(settings)
    return settings


def _home(environ: Mapping[str, str]) -> tuple[Path, Source]:
    accepted = "expected a directory (created when first needed)"
    if environ.get("LOTSDB_HOME"):
        source = Source(ENVIRONMENT, "LOTSDB_HOME")
        try:
            home = Path(environ["LOTSDB_HOME"]).expanduser()
        except RuntimeError:
            raise ConfigError(f"LOTSDB_HOME: cannot expand ~: {environ['LOTSDB_HOME']!r}; {accepted}") from None
    else:
        source, home = FROM_DEFAULT, default_home()
    if home.exists() and not home.is_dir():
        where = "LOTSDB_HOME" if source.kind == ENVIRONMENT else "LOTSDB_HOME (unset: the default)"
        raise ConfigError(f"{where}: not a directory: {str(home)!r}; {accepted}")
    return home, source


def _lookup(spec: _Field, environ: Mapping[str, str], file_values: Mapping[str, tuple[Any, Source]]) -> Any:
    """(raw value, source) of the strongest place that sets `spec`, or None; empty means unset."""
    for variable in spec.variables:
        if environ.get(variable):
            return environ[variable], Source(ENVIRONMENT, variable)
    if spec.name in file_values:
        return file_values[spec.name]
    for variable in spec.fallbacks:
        if environ.get(variable):
            return environ[variable], Source(ENVIRONMENT, variable)
    return None


MAX_CONFIG_BYTES = 16 * 1024 * 1024  # far more than any settings file needs


def _read_config_file(path: Path) -> dict[str, tuple[Any, Source]]:
    """Field name -> (value, source) of each key set (to a non-empty value) in the config file."""
    try:
        data = read_regular(path, MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:  # never read in part: what is past the cut would go unseen
            raise ConfigError(f"{path}: the config file is too large (over {MAX_CONFIG_BYTES} bytes)")
    except (FileNotFoundError, NotADirectoryError):  # no config file (or no home directory at all)
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); expected a TOML file in UTF-8"
        ) from None
    import tomllib  # only when there is a config file: keeps start-up fast

    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, tuple[Any, Source]] = {}
    keys_seen: dict[str, str] = {}
    for key, value in table.items():
        source = Source(CONFIG_FILE, f"{path}:{key}", _line_of(text, key))
        name = key.lower().removeprefix("lotsdb_")
        if name not in _FIELDS_BY_NAME:
            raise ConfigError(f"{source.where}: unknown setting", hint=f"known keys: {', '.join(CONFIG_KEYS)}")
        if name in keys_seen:
            raise ConfigError(f"{source.where}: {name} is set twice (also as {keys_seen[name]!r})")
        keys_seen[name] = key
        if value != "":  # as in the environment, empty means unset
            values[name] = (value, source)
    return values


def _line_of(text: str, key: str) -> int | None:
    """The line that sets the top-level `key` of a TOML text (`key = ...` or a `[key]` table), if found."""
    name = rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')"""
    assignment = re.compile(rf"^\s*{name}\s*[.=]")
    table = re.compile(rf"^\s*\[+\s*{name}\s*[.\]]")
    top_level = True
    for number, line in enumerate(text.splitlines(), start=1):
        if table.match(line) or (top_level and assignment.match(line)):
            return number
        top_level = top_level and not line.lstrip().startswith("[")
    return None


def _register_secrets(settings: Settings) -> None:
    """Secrets are masked in every message the process prints from now on."""
    from lotsdb_cli import secrets

    for name in SECRET_FIELDS:
        secrets.register(getattr(settings, name))
    if settings.cache:
        with contextlib.suppress(ValueError):  # a port that is not a number: no password either
            secrets.register(urlsplit(settings.cache).password)


# --- Provenance -----------------------------------------------------------------------------------


class EffectiveSetting(NamedTuple):
    """One line of `lotsdb config show`: a setting, its value as shown, where it came from."""

    name: str
    value: Any  # secrets are "set" or "unset"; a password inside a URL is ***
    source: Source


def effective_settings(settings: Settings) -> list[EffectiveSetting]:
    """Every setting in effect, derived ones included (home, cache backend, file paths)."""
    home_source = settings.source("home")
    cache_source = settings.source("cache") if settings.cache else home_source
    db_source = settings.source("db") if settings.db else home_source
    rows = [
        EffectiveSetting("home", str(settings.home), home_source),
        EffectiveSetting("config_file", str(settings.config_path), home_source),
        EffectiveSetting("cache", redact_url(settings.cache_location), cache_source),
        EffectiveSetting("cache_backend", settings.cache_backend, cache_source),
        EffectiveSetting("db", str(settings.db_path), db_source),
        EffectiveSetting("token_file", str(settings.token_path), home_source),
    ]
    for settings_field in fields(Settings):
        name = settings_field.name
        if name in ("home", "cache", "db", "sources"):  # listed above
            continue
        value = getattr(settings, name)
        if name in SECRET_FIELDS:
            value = "set" if value else "unset"
        elif isinstance(value, str) and "://" in value:
            value = redact_url(value)
        rows.append(EffectiveSetting(name, value, settings.source(name)))
    return rows


# --- Credentials over plain http --------------------------------------------------------------------

# Settings whose URL receives a credential: a password and client secret (identity), a client
# secret (Spotify accounts), a bearer token (Catalog API, Spotify API).
CREDENTIAL_URLS = ("identity_url", "spotify_accounts_url", "catalog_url", "spotify_api_url")


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 and `localhost`: traffic that never leaves the machine."""
    import ipaddress

    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def sends_credentials_in_clear(url: str) -> bool:
    """A plain http:// URL to a host other than loopback, or through a proxy that is not on loopback
    (the request then leaves the machine, whatever host it names)."""
    from lotsdb_cli.http.urls import proxy_for

    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return False
    proxy = proxy_for(url)
    if proxy is not None and not is_loopback_host(urlsplit(proxy).hostname):
        return True
    return not is_loopback_host(parts.hostname)


def insecure_credential_urls(settings: Settings) -> list[tuple[str, str]]:
    """(setting name, URL) of each credential-receiving URL that is plain http to a non-loopback host.

    Lists them whether or not `allow_insecure` is set; `require_secure_credentials` decides.
    """
    return [
        (name, getattr(settings, name))
        for name in CREDENTIAL_URLS
        if sends_credentials_in_clear(getattr(settings, name))
    ]


def require_secure_credentials(settings: Settings, *names: str) -> None:
    """Raise `ConfigError` (exit 4) unless the named URL settings (default: all of them) are safe
    to send credentials to: https://, a loopback host, or `allow_insecure` set.

    The HTTP layer calls this before it sends a password, client secret or token; loading the
    settings does not, so that commands which send nothing keep working.
    """
    if settings.allow_insecure:
        return
    wanted = names or CREDENTIAL_URLS
    for name, url in insecure_credential_urls(settings):
        if name in wanted:
            source = settings.source(name)
            where = source.where if source.kind != DEFAULT else name
            raise ConfigError(
                f"{where}: {redact_url(url)} would send credentials in clear"
                " (plain http to a host that is not loopback)",
                hint=f"use https://, or set {INSECURE_VARIABLE}=1 to send credentials over plain http to this host",
            )
