"""lotsdb: auction-catalog exports and a Spotify-enriched album catalog behind one HTTP cache.

from lotsdb_cli import Lotsdb

with Lotsdb() as db:
    for result in db.dump(1002):
        print(result.lot_id, result.lot)
"""

from __future__ import annotations

TYPE_CHECKING = False  # (not `typing`'s: the package loads nothing at start, so an early Ctrl-C finds our handler)
__version__ = "0.1.0"
__all__ = ["Environment", "Lotsdb", "Settings", "__version__", "load_settings"]

if TYPE_CHECKING:
    from lotsdb_cli.api import Lotsdb
    from lotsdb_cli.config import Settings, load_settings
    from lotsdb_cli.env import Environment


def __getattr__(name: str) -> object:
    # Imported on first use, so that `lotsdb --version` loads none of it.
    if name == "Lotsdb":
        from lotsdb_cli.api import Lotsdb

        return Lotsdb
    if name in ("Settings", "load_settings"):
        from lotsdb_cli import config

        return getattr(config, name)
    if name == "Environment":
        from lotsdb_cli.env import Environment

        return Environment
    raise AttributeError(name)
