"""Keeping secrets out of messages, logs and tracebacks."""

from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_known: set[str] = set()
_BEARER = re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def register(secret: str | None) -> None:
    """Remember a secret so `redact` removes it from any text we print."""
    if secret and len(secret) >= 4:
        with _lock:
            _known.add(secret)


def redact(text: str) -> str:
    """`text` with every known secret and any bearer/basic credential replaced by `***`."""
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return _BEARER.sub(lambda match: f"{match.group(1)} ***", text)
