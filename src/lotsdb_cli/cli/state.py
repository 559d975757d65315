"""Per-invocation state shared by the commands: settings and lazily built clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from lotsdb_cli.config import Settings

if TYPE_CHECKING:
    from lotsdb_cli.albums.store import AlbumStore
    from lotsdb_cli.catalog import CatalogClient
    from lotsdb_cli.http.client import HttpClient
    from lotsdb_cli.spotify import SpotifyClient


@dataclass
class AppState:
    settings: Settings
    _objects: dict[str, Any] = field(default_factory=dict)

    def http(self) -> HttpClient:
        if "http" not in self._objects:
            from lotsdb_cli.cli.console import warn
            from lotsdb_cli.http.client import HttpClient

            self._objects["http"] = HttpClient(self.settings, warn=warn)
        return self._objects["http"]

    def catalog(self) -> CatalogClient:
        if "catalog" not in self._objects:
            from lotsdb_cli.catalog import CatalogClient

            self._objects["catalog"] = CatalogClient(self.http(), self.settings)
        return self._objects["catalog"]

    def spotify(self) -> SpotifyClient:
        if "spotify" not in self._objects:
            from lotsdb_cli.spotify import SpotifyClient

            self._objects["spotify"] = SpotifyClient(self.http(), self.settings)
        return self._objects["spotify"]

    def albums(self) -> AlbumStore:
        if "albums" not in self._objects:
            from lotsdb_cli.albums.store import AlbumStore

            self._objects["albums"] = AlbumStore(self.settings.db_path)
        return self._objects["albums"]

    def close(self) -> None:
        for obj in reversed(list(self._objects.values())):
            close = getattr(obj, "close", None)
            if close is not None:
                close()
        self._objects.clear()


def get_state(ctx: typer.Context) -> AppState:
    state = ctx.find_root().obj
    if not isinstance(state, AppState):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("lotsdb state is missing")
    return state
