"""Error bodies: RFC 7807 ProblemDetails for the Catalog API, `{"error": ...}` for Spotify."""

from __future__ import annotations

import math

from lotsdb_cli.sandbox.messages import PROBLEM_TYPE, Response, json_response
from lotsdb_cli.sandbox.services import OAUTH_SERVICES, SPOTIFY

_RFC9110 = "https://tools.ietf.org/html/rfc9110#section-"
PROBLEM_TYPES = {
    400: (_RFC9110 + "15.5.1", "One or more validation errors occurred."),
    401: (_RFC9110 + "15.5.2", "Unauthorized"),
    403: (_RFC9110 + "15.5.4", "Forbidden"),
    404: (_RFC9110 + "15.5.5", "Not Found"),
    405: (_RFC9110 + "15.5.6", "Method Not Allowed"),
    408: (_RFC9110 + "15.5.9", "Request Timeout"),
    411: (_RFC9110 + "15.5.12", "Length Required"),
    413: (_RFC9110 + "15.5.14", "Content Too Large"),
    414: (_RFC9110 + "15.5.15", "URI Too Long"),
    415: (_RFC9110 + "15.5.16", "Unsupported Media Type"),
    429: ("https://tools.ietf.org/html/rfc6585#section-4", "Too Many Requests"),
    431: ("https://tools.ietf.org/html/rfc6585#section-5", "Request Header Fields Too Large"),
    500: (_RFC9110 + "15.6.1", "An error occurred while processing your request."),
    501: (_RFC9110 + "15.6.2", "Not Implemented"),
    502: (_RFC9110 + "15.6.3", "Bad Gateway"),
    503: (_RFC9110 + "15.6.4", "Service Unavailable"),
    504: (_RFC9110 + "15.6.5", "Gateway Timeout"),
    505: (_RFC9110 + "15.6.6", "HTTP Version Not Supported"),
}

SPOTIFY_MESSAGES = {
    400: "Bad request",
    401: "Invalid access token",
    403: "Forbidden",
    404: "Resource not found",
    405: "Method not allowed",
    408: "Request timeout",
    411: "Length required",
    413: "Request entity too large",
    414: "Request-URI too long",
    415: "Unsupported media type",
    429: "API rate limit exceeded",
    431: "Request header fields too large",
    500: "Server error",
    502: "Bad gateway",
    501: "Not implemented",
    503: "Service unavailable",
    505: "HTTP version not supported",
}


def problem_document(
    status: int, detail: str | None, instance: str, errors: dict[str, list[str]] | None = None
) -> dict[str, object]:
    type_uri, title = PROBLEM_TYPES.get(status, (_RFC9110 + "15", "Error"))
    document: dict[str, object] = {
        "type": type_uri,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        document["errors"] = errors
    return document


def problem(status: int, detail: str | None, instance: str, errors: dict[str, list[str]] | None = None) -> Response:
    return json_response(status, problem_document(status, detail, instance, errors), PROBLEM_TYPE)


def spotify_error_document(status: int, message: str | None = None, reason: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {
        "status": status,
        "message": message or SPOTIFY_MESSAGES.get(status, "Error"),
    }
    if reason:
        error["reason"] = reason
    return {"error": error}


def spotify_error(status: int, message: str | None = None, reason: str | None = None) -> Response:
    return json_response(status, spotify_error_document(status, message, reason))


def retry_after_seconds(wait: float) -> str:
    """Whole seconds, rounded up and never 0, as gateways send them."""
    return str(max(1, math.ceil(wait)))


OAUTH_ERRORS = {429: "slow_down", 503: "temporarily_unavailable"}


def oauth_error_document(status: int, description: str | None = None) -> dict[str, str]:
    """An OAuth 2.0 error (RFC 6749 §5.2), as the token endpoints send them."""
    error = OAUTH_ERRORS.get(status) or ("invalid_request" if status < 500 else "server_error")
    document = {"error": error}
    if description:
        document["error_description"] = description
    return document


def service_error(
    service: str, status: int, path: str, detail: str | None = None, reason: str | None = None
) -> Response:
    """The error body each upstream service sends for `status`. Paths of no upstream service
    (the sandbox's own, unknown ones) answer ProblemDetails, as the Catalog API's host does."""
    if service == SPOTIFY:
        return spotify_error(status, detail, reason)
    if service in OAUTH_SERVICES:
        return json_response(status, oauth_error_document(status, detail))
    return problem(status, detail, path)
