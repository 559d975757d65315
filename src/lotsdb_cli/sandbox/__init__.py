"""A local stand-in for the Catalog API, its identity server and the Spotify Web API."""

from lotsdb_cli.sandbox.credentials import DEMO, DemoCredentials, sandbox_env
from lotsdb_cli.sandbox.sandbox import Sandbox

__all__ = ["DEMO", "DemoCredentials", "Sandbox", "sandbox_env"]
