"""The README's console examples are what the tool prints today (scripts/readme_examples.py --check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_examples_match_a_real_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_examples.py"), "--check", "--work", str(tmp_path / "try")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "match a real run" in done.stdout


def test_every_module_reads_in_one_sitting() -> None:
    """The layout the README describes: stages a newcomer can name, none over 400 lines."""
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "src" / "lotsdb_cli").rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}
