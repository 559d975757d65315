"""Per-invocation state shared by the commands: settings, the process environment, the console, the library."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from lotsdb_cli.cli.console import Console
from lotsdb_cli.config import Settings
from lotsdb_cli.env import Environment

if TYPE_CHECKING:
    from lotsdb_cli.api import Lotsdb


@dataclass
class AppState:
    settings: Settings
    env: Environment
    console: Console
    command: str = ""
    _db: Lotsdb | None = field(default=None, repr=False)

    @property
    def db(self) -> Lotsdb:
        """The library, built on first use (commands that make no request never start its I/O thread)."""
        if self._db is None:
            from lotsdb_cli.api import Lotsdb

            self._db = Lotsdb(
                self.settings, self.env, warn=self.console.warn, trace=self.console.trace, command=self.command
            )
        return self._db

    def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()


def get_state(ctx: typer.Context) -> AppState:
    state = ctx.find_root().obj
    if not isinstance(state, AppState):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("lotsdb state is missing")
    state.command = " ".join(ctx.command_path.split()[1:])  # "lots dump": never the arguments
    return state
