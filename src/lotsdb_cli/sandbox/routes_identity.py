"""Token endpoints: the ABConnect identity server (password and refresh grants) and Spotify's
accounts service (client credentials). Both speak OAuth 2.0, form-encoded."""

from __future__ import annotations

import base64
import hmac
from urllib.parse import parse_qs

from lotsdb_cli.sandbox.credentials import IDENTITY_TOKEN_PATH
from lotsdb_cli.sandbox.messages import Request, Response, json_response
from lotsdb_cli.sandbox.routing import Call, Route
from lotsdb_cli.sandbox.services import IDENTITY, SPOTIFY_ACCOUNTS
from lotsdb_cli.sandbox.tokens import ABCONNECT, SPOTIFY, IssuedToken

SPOTIFY_TOKEN_PATH = "/api/token"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(error: str, description: str | None = None) -> Response:
    document = {"error": error}
    if description:
        document["error_description"] = description
    response = json_response(400, document)
    response.headers.update(NO_STORE)
    return response


def _form(request: Request) -> dict[str, str]:
    fields = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = (request.header("authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        return None
    return client_id, secret


def _client(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """Client id and secret from HTTP Basic auth, else from the form (both are allowed)."""
    return _basic_credentials(request) or (form.get("client_id", ""), form.get("client_secret", ""))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _token_response(issued: IssuedToken) -> Response:
    document: dict[str, object] = {
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "token_type": "Bearer",
    }
    if issued.refresh_token:
        document["refresh_token"] = issued.refresh_token
    response = json_response(200, document)
    response.headers.update(NO_STORE)
    return response


def identity_token(call: Call) -> Response:
    form = _form(call.request)
    demo = call.state.demo
    client_id, client_secret = _client(call.request, form)
    if not (_same(client_id, demo.client_id) and _same(client_secret, demo.client_secret)):
        return oauth_error("invalid_client")
    grant_type = form.get("grant_type")
    tokens = call.state.tokens
    if grant_type == "password":
        username_ok = _same(form.get("username", ""), demo.username)
        if not (username_ok and _same(form.get("password", ""), demo.password)):
            return oauth_error("invalid_grant", "invalid_username_or_password")
        return _token_response(tokens.issue(ABCONNECT))
    if grant_type == "refresh_token":
        if not tokens.refresh_token_is_valid(form.get("refresh_token", "")):
            return oauth_error("invalid_grant")
        return _token_response(tokens.issue(ABCONNECT))
    return oauth_error("unsupported_grant_type")


def spotify_token(call: Call) -> Response:
    form = _form(call.request)
    demo = call.state.demo
    grant_type = form.get("grant_type")
    if grant_type is None:
        return oauth_error("unsupported_grant_type", "grant_type parameter is missing")
    if grant_type != "client_credentials":
        return oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
    client_id, client_secret = _client(call.request, form)
    if not (_same(client_id, demo.spotify_client_id) and _same(client_secret, demo.spotify_client_secret)):
        return oauth_error("invalid_client", "Invalid client")
    return _token_response(call.state.tokens.issue(SPOTIFY))


def identity_routes() -> list[Route]:
    return [
        Route("POST", IDENTITY_TOKEN_PATH, IDENTITY, identity_token, case_insensitive=True),
        Route("POST", SPOTIFY_TOKEN_PATH, SPOTIFY_ACCOUNTS, spotify_token),
    ]
