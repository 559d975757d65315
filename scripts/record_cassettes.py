"""Record the wire-format cassettes in tests/cassettes/ from a sandbox on port 8765.

    .venv/bin/python scripts/record_cassettes.py

Run it after a deliberate change to what the clients send; tests/test_wire_format.py replays the
cassettes with no server and fails when a request no longer matches what was recorded.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from wire import CASSETTES, RECORD_PORT, recorder, run_catalog_calls, run_spotify_calls

from lotsdb_cli.sandbox import Sandbox
from lotsdb_cli.sandbox.albumids import album_id


def main() -> None:
    for old in CASSETTES.glob("*.yaml"):
        old.unlink()
    with Sandbox(seed=1, port=RECORD_PORT), tempfile.TemporaryDirectory() as home:
        with recorder("all").use_cassette("catalog.yaml"):
            run_catalog_calls(Path(home) / "catalog")
        with recorder("all").use_cassette("spotify.yaml"):
            run_spotify_calls(Path(home) / "spotify", album_id(1, 0))
    print(f"recorded {', '.join(path.name for path in sorted(CASSETTES.glob('*.yaml')))}")


if __name__ == "__main__":
    main()
