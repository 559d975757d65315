"""What each setting accepts: one checker per setting, the environment variables it is read from,
and how a bad value is described (`InvalidValue`: what is wrong, and what would be accepted).

`config.py` loads the settings and says where a bad value came from; this module only judges values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import SplitResult, urlsplit

from lotsdb_cli.durations import DURATION_FORMS, DurationError, parse_duration
from lotsdb_cli.errors import ConfigError

if TYPE_CHECKING:
    from lotsdb_cli.config import Source

DEFAULT_CATALOG_URL = "https://catalog-api.abconnect.co"
DEFAULT_IDENTITY_URL = "https://login.abconnect.co/connect/token"
DEFAULT_SPOTIFY_API_URL = "https://api.spotify.com"
DEFAULT_SPOTIFY_ACCOUNTS_URL = "https://accounts.spotify.com"
DEFAULT_TTL = 600.0
DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 3
DEFAULT_MAX_WAIT = 120
MAX_TIMEOUT = 86_400.0  # a day: any longer deadline is no deadline
MAX_RETRIES = 100
MAX_MAX_WAIT = 7 * 86_400.0
REDIS_SCHEMES = ("redis", "rediss", "unix")  # an HTTP cache location with one of these is a Redis URL
INSECURE_VARIABLE = "LOTSDB_ALLOW_INSECURE"


def is_redis_url(location: str) -> bool:
    return urlsplit(location).scheme.lower() in REDIS_SCHEMES and "://" in location


def redact_url(url: str) -> str:
    """`url` with the password of its user part replaced by `***` (`redis://:***@host:6379/0`), or
    its user name when there is no password (`https://***@host/`: a token is often put there)."""
    try:
        parts = urlsplit(url)
        password, username = parts.password, parts.username
    except ValueError:  # not a URL Python can take apart (`redis://:pw@[::1:6379`): by its shape
        return re.sub(r"//([^/@:]*):[^/@]*@", r"//\1:***@", re.sub(r"//[^/@:]+@", "//***@", url))
    if password:
        return url.replace(f":{password}@", ":***@", 1)
    if username:
        return url.replace(f"//{username}@", "//***@", 1)
    return url


# --- Checking one value ---------------------------------------------------------------------------


class InvalidValue(ValueError):
    """A value a setting does not accept: what is wrong, and what would be accepted."""

    def __init__(self, problem: str, accepted: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.accepted = accepted

    def describe(self, source: Source, shown: str) -> str:
        return f"{source.where}: {self.problem}: {shown}; {self.accepted}"


_TOML_TYPES = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array", dict: "table"}


def _toml_type(value: Any) -> str:
    return _TOML_TYPES.get(type(value), "date or time")


def _text(value: Any, accepted: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"a TOML {_toml_type(value)}, not a string", accepted)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes in the environment that are not UTF-8 (kept as surrogates)
        raise InvalidValue("not UTF-8 text", accepted) from None
    return value


def _check_printable(text: str, problem: str, accepted: str) -> None:
    """No spaces, control characters or undecodable bytes (which the environment can hold)."""
    if not text.isprintable() or " " in text:
        raise InvalidValue(f"{problem} (it contains spaces or control characters)", accepted)


def _split(text: str, accepted: str) -> SplitResult:
    try:
        return urlsplit(text)
    except ValueError as exc:  # `[::1` (an IPv6 host not closed) and the like
        raise InvalidValue(f"not a URL ({exc})", accepted) from None


def _url(value: Any, accepted: str) -> str:
    text = _text(value, accepted)
    _check_printable(text, "not a URL", accepted)
    parts = _split(text, accepted)
    if parts.scheme.lower() not in ("http", "https") or not text.lower().startswith(("http://", "https://")):
        raise InvalidValue("not an http:// or https:// URL", accepted)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidValue("not a URL (the port is not a number)", accepted) from None
    if not parts.hostname:
        raise InvalidValue("not a URL with a host", accepted)
    if "@" in parts.netloc:
        # Credentials have settings of their own, kept out of URLs that are shown and logged.
        raise InvalidValue(
            "a URL with a user name or password in it",
            "the URL without user:password@; credentials go in LOTSDB_USERNAME, LOTSDB_PASSWORD "
            "and the client settings",
        )
    return text


_ORIGIN_ACCEPTED = "expected an http:// or https:// URL with a host, e.g. {default}"


def _origin(default: str) -> Callable[[Any], str]:
    accepted = _ORIGIN_ACCEPTED.format(default=default)

    def parse(value: Any) -> str:
        url = _url(value, accepted)
        parts = urlsplit(url)
        if parts.query or parts.fragment or "?" in url or "#" in url:  # (an empty `?` or `#` too)
            raise InvalidValue("not an origin (it has a query or fragment; paths are appended to it)", accepted)
        return url.rstrip("/")

    return parse


def _identity_url(value: Any) -> str:
    accepted = f"expected the token endpoint's full URL, e.g. {DEFAULT_IDENTITY_URL}"
    url = _url(value, accepted)
    if urlsplit(url).path in ("", "/"):
        raise InvalidValue("not a token endpoint (the URL has no path)", accepted)
    return url


def _cache(value: Any) -> str:
    accepted = "expected a file path, or a redis://, rediss:// or unix:// URL"
    text = _text(value, accepted)
    if "://" not in text:
        return _path_text(text, "not a file path", accepted)
    _check_printable(text, "not a cache URL", accepted)
    parts = _split(text, accepted)
    scheme = parts.scheme.lower()
    if scheme not in REDIS_SCHEMES:
        raise InvalidValue("not a cache location", accepted)
    text = scheme + text[len(parts.scheme) :]  # the cache layer matches the scheme in lower case
    if scheme == "unix":
        if not parts.path:
            raise InvalidValue("not a socket URL (no path)", accepted + ", e.g. unix:///run/redis.sock")
        return text
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidValue("not a Redis URL (the port is not a number)", accepted) from None
    if not parts.hostname:
        raise InvalidValue("not a Redis URL (no host)", accepted + ", e.g. redis://cache.internal:6379/0")
    if parts.path.strip("/") and not parts.path.strip("/").isdigit():
        raise InvalidValue(
            "not a Redis URL (the database is not a number)", accepted + ", e.g. redis://cache.internal:6379/0"
        )
    return text


def _path_text(text: str, problem: str, accepted: str) -> str:
    if not text or "\0" in text:
        raise InvalidValue(problem, accepted)
    try:
        return str(Path(text).expanduser())
    except RuntimeError:  # `~` and no home directory to expand it to
        raise InvalidValue(f"{problem} (cannot expand ~)", accepted) from None


def _db(value: Any) -> str:
    accepted = "expected the album database's file path"
    text = _text(value, accepted)
    if "://" in text:
        raise InvalidValue("a URL, not a file path", accepted)
    path = _path_text(text, "not a file path", accepted)
    if Path(path).is_dir():
        raise InvalidValue("a directory, not a file", accepted)
    return path


def _ttl(value: Any) -> float:
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise InvalidValue(exc.problem, exc.hint or f"use {DURATION_FORMS}") from None


def _seconds(low: float, high: float) -> Callable[[Any], float]:
    accepted = f"expected a number of seconds from {low:g} to {high:g}"

    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidValue(f"a TOML {_toml_type(value)}, not a number", accepted)
        try:
            seconds = float(value)
        except ValueError:
            raise InvalidValue("not a number", accepted) from None
        if not low <= seconds <= high:  # false for nan too
            raise InvalidValue("out of range", accepted)
        return seconds

    return parse


def _retries(value: Any) -> int:
    accepted = f"expected a whole number from 0 to {MAX_RETRIES}"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidValue(f"a TOML {_toml_type(value)}, not an integer", accepted)
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_RETRIES:
        raise InvalidValue("not a whole number in range", accepted)
    return int(text)


def _market(value: Any) -> str:
    accepted = "expected a two-letter country code, e.g. US, GB, DE"
    text = _text(value, accepted).strip()
    if len(text) != 2 or not (text.isascii() and text.isalpha()):
        raise InvalidValue("not a two-letter country code", accepted)
    return text.upper()


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _yes_no(value: Any) -> bool:
    accepted = f"expected {', '.join(_TRUE)} or {', '.join(_FALSE)}"
    if isinstance(value, bool):
        return value
    text = _text(value, accepted).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue("not a yes/no value", accepted)


def _ca_bundle(value: Any) -> str:
    accepted = "expected an existing file of CA certificates (PEM) or a directory of them"
    path = _path_text(_text(value, accepted), "not a file path", accepted)
    if not os.path.exists(path):
        raise InvalidValue("no such file or directory", accepted)
    if not (os.path.isfile(path) or os.path.isdir(path)):  # a FIFO or a device: reading it could block for ever
        raise InvalidValue("not a file or a directory", accepted)
    if os.path.isfile(path):
        # Read whole (a system bundle is about 200 KB): `/etc/passwd` would otherwise pass until the
        # first https request. Loading the certificates themselves is left to that first request.
        try:
            with open(path, "rb") as file:
                pem = file.read(64 * 1024 * 1024)
        except OSError as exc:
            raise InvalidValue(f"cannot read it ({exc.strerror or exc})", accepted) from None
        if b"-----BEGIN CERTIFICATE-----" not in pem and b"-----BEGIN TRUSTED CERTIFICATE-----" not in pem:
            raise InvalidValue("holds no PEM certificate", accepted)
    return path


def _plain_text(value: Any) -> str:
    return _text(value, "expected text")


# RFC 6750's b64token, and the JWT and opaque tokens seen in practice: printable ASCII, no spaces.
BEARER_TOKEN = re.compile(r"[!-~]+")


def _bearer_token(value: Any) -> str:
    accepted = "expected the token alone (printable ASCII: no `Bearer ` prefix, no spaces or line breaks)"
    token = _text(value, accepted)
    if not BEARER_TOKEN.fullmatch(token):  # what an HTTP header can carry as it is
        raise InvalidValue("not a bearer token", accepted)
    return token


class _Field(NamedTuple):
    """One setting read from the environment and the config file."""

    name: str  # the Settings field, and the config file's key
    variables: tuple[str, ...]  # environment variables that beat the config file, strongest first
    parse: Callable[[Any], Any]  # the value to store; raises InvalidValue
    secret: bool = False
    fallbacks: tuple[str, ...] = ()  # environment variables weaker than the config file


_FIELDS = (
    _Field("cache", ("LOTSDB_CACHE",), _cache),
    _Field("db", ("LOTSDB_DB",), _db),
    _Field("ttl", ("LOTSDB_TTL",), _ttl),
    _Field("timeout", ("LOTSDB_TIMEOUT",), _seconds(0.1, MAX_TIMEOUT)),
    _Field("retries", ("LOTSDB_RETRIES",), _retries),
    _Field("max_wait", ("LOTSDB_MAX_WAIT",), _seconds(0, MAX_MAX_WAIT)),
    _Field("catalog_url", ("LOTSDB_CATALOG_URL",), _origin(DEFAULT_CATALOG_URL)),
    _Field("identity_url", ("LOTSDB_IDENTITY_URL",), _identity_url),
    _Field("username", ("LOTSDB_USERNAME",), _plain_text),
    _Field("password", ("LOTSDB_PASSWORD",), _plain_text, secret=True),
    _Field("client_id", ("LOTSDB_CLIENT_ID",), _plain_text),
    _Field("client_secret", ("LOTSDB_CLIENT_SECRET",), _plain_text, secret=True),
    _Field("token", ("LOTSDB_TOKEN",), _bearer_token, secret=True),
    # SPOTIPY_* are what the spotipy library reads: fallbacks, so SPOTIFY_* win.
    _Field("spotify_client_id", ("SPOTIFY_CLIENT_ID", "SPOTIPY_CLIENT_ID"), _plain_text),
    _Field("spotify_client_secret", ("SPOTIFY_CLIENT_SECRET", "SPOTIPY_CLIENT_SECRET"), _plain_text, secret=True),
    _Field("spotify_api_url", ("LOTSDB_SPOTIFY_API_URL",), _origin(DEFAULT_SPOTIFY_API_URL)),
    _Field("spotify_accounts_url", ("LOTSDB_SPOTIFY_ACCOUNTS_URL",), _origin(DEFAULT_SPOTIFY_ACCOUNTS_URL)),
    _Field("spotify_market", ("LOTSDB_SPOTIFY_MARKET",), _market),
    # The names requests (in its own order) and OpenSSL users already set come after lotsdb's own
    # and its config file.
    _Field(
        "ca_bundle",
        ("LOTSDB_CA_BUNDLE",),
        _ca_bundle,
        fallbacks=("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"),
    ),
    _Field("allow_insecure", (INSECURE_VARIABLE,), _yes_no),
)
_FIELDS_BY_NAME = {spec.name: spec for spec in _FIELDS}
# Environment variable -> Settings field; config-file keys are the field names (`catalog_url = "..."`).
ENV_FIELDS: dict[str, str] = {
    variable: spec.name for spec in _FIELDS for variable in (*spec.variables, *spec.fallbacks)
}
SECRET_FIELDS = frozenset(spec.name for spec in _FIELDS if spec.secret)
CONFIG_KEYS = tuple(sorted(_FIELDS_BY_NAME))


def parse_value(name: str, value: Any) -> Any:
    """`value` checked and normalized as the setting `name` (a field) stores it; raises `InvalidValue`."""
    return _FIELDS_BY_NAME[name].parse(value)


def _shown(spec: _Field, value: Any) -> str:
    """How an error message shows a bad value: never a secret, never a password inside a URL."""
    if spec.secret:
        return "(hidden)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(redact_url(value)) if isinstance(value, str) else repr(value)  # a TOML number, array, table
    return text if len(text) <= 80 else text[:79] + "…"


def check_openssl_paths(environ: Mapping[str, str]) -> None:
    """OpenSSL opens SSL_CERT_FILE (and the HTTP stack loads the default CAs as it starts) whatever
    setting wins: a FIFO or a device there would block the process in C, beyond the reach of
    --timeout and of signals. A missing file is OpenSSL's business (it is skipped)."""
    import stat

    for variable in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        value = environ.get(variable)
        if not value:
            continue
        try:
            mode = os.stat(value).st_mode
        except (OSError, ValueError):
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise ConfigError(
                f"{variable}: not a file or a directory: {value!r} (reading it could block for ever); "
                "expected a file of CA certificates (PEM) or a directory of them"
            )
