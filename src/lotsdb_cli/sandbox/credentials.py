"""The sandbox's demo credentials and the environment that points lotsdb at a sandbox."""

from __future__ import annotations

from dataclasses import dataclass

IDENTITY_TOKEN_PATH = "/connect/token"


@dataclass(frozen=True)
class DemoCredentials:
    username: str = "demo"
    password: str = "demo-password"
    client_id: str = "lotsdb-demo"
    client_secret: str = "demo-secret"
    spotify_client_id: str = "sandbox-spotify-client"
    spotify_client_secret: str = "sandbox-spotify-secret"

    def password_form(self) -> dict[str, str]:
        """The form of a password-grant token request with these credentials."""
        return {
            "grant_type": "password",
            "username": self.username,
            "password": self.password,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": "offline_access",
        }


DEMO = DemoCredentials()


def origin(host: str, port: int) -> str:
    """`http://host:port`, with an IPv6 literal in brackets."""
    shown_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown_host}:{port}"


def sandbox_env(url: str, demo: DemoCredentials = DEMO) -> dict[str, str]:
    """The variables (SPEC §2) that make lotsdb talk to the sandbox at `url`."""
    return {
        "LOTSDB_CATALOG_URL": url,
        "LOTSDB_IDENTITY_URL": url + IDENTITY_TOKEN_PATH,
        "LOTSDB_USERNAME": demo.username,
        "LOTSDB_PASSWORD": demo.password,
        "LOTSDB_CLIENT_ID": demo.client_id,
        "LOTSDB_CLIENT_SECRET": demo.client_secret,
        "SPOTIFY_CLIENT_ID": demo.spotify_client_id,
        "SPOTIFY_CLIENT_SECRET": demo.spotify_client_secret,
        "LOTSDB_SPOTIFY_API_URL": url,
        "LOTSDB_SPOTIFY_ACCOUNTS_URL": url,
    }
