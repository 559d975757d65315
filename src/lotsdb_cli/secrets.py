"""Keeping secrets out of messages, logs and tracebacks."""

from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_known: set[str] = set()
_BEARER = re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# A credential in a form, a URL's query (`?token=…`, `&api_key=…`) or a JSON object (a token endpoint
# that echoes the request), whatever its length.
_FIELDS = (
    "password|passwd|client_secret|secret|refresh_token|access_token|id_token|token|api_key|apikey|api-key|key"
    "|sig|signature"
)
# In a form or a query, any parameter whose name (percent-decoded, without `-` and `_`, in any case)
# says it carries a credential: `token`, `X-Amz-Signature`, `private_token`, `accessToken`, `%74oken`,
# `Key-Pair-Id`, `jwt` ... A name that merely contains one of these words is masked too: what is shown
# loses a value, never a secret.
_CREDENTIAL_NAME = re.compile(r"token|secret|passw|pwd|key|sig|credential|auth|session|jwt|bearer|policy")
_PAIR = re.compile(r"(?<![\w%.-])([\w%.-]+)=([^&\s#'\"]+)")
_IN_JSON = re.compile(rf'(?i)"({_FIELDS})"(\s*:\s*)"(?:[^"\\]|\\.)*"')


def register(secret: str | None) -> None:
    """Remember a secret so `redact` removes it from any text we print, as it is and as a form,
    a URL or JSON would encode it (`p@ss w` is also `p%40ss+w`)."""
    if secret and len(secret) >= 4:
        from json import dumps
        from urllib.parse import quote, quote_plus

        with _lock:
            _known.update({secret, quote_plus(secret), quote(secret, safe=""), dumps(secret)[1:-1]})


def redact(text: str) -> str:
    """`text` with every known secret and any bearer/basic credential replaced by `***`."""
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    if "=" in text:
        text = _PAIR.sub(_masked_pair, text)
    text = _IN_JSON.sub(lambda match: f'"{match.group(1)}"{match.group(2)}"***"', text)
    return _BEARER.sub(lambda match: f"{match.group(1)} ***", text)


def _masked_pair(match: re.Match[str]) -> str:
    from urllib.parse import unquote

    name = unquote(match.group(1)).lower().replace("-", "").replace("_", "")
    return f"{match.group(1)}=***" if _CREDENTIAL_NAME.search(name) else match.group(0)
