"""Screenshots of `lotsdb albums gallery` for the README: docs/gallery-1280.png and docs/gallery-390.png.

    .venv/bin/python scripts/gallery_screenshots.py [--out-dir docs]

Starts a sandbox, imports examples/albums.csv into a fresh data directory, writes the gallery (its
covers fetched from the sandbox, which serves their images), and photographs it in headless
Chromium (Debian's `chromium`, driven by Playwright) at desktop (1280 px) and phone (390 px)
widths, once every cover in view has loaded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from gallery_page import CHROMIUM, CHROMIUM_ARGS

from lotsdb_cli.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
VIEWPORTS = {"gallery-1280.png": (1280, 800), "gallery-390.png": (390, 844)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, Sandbox(seed=1, albums=60) as sandbox:
        page_file = Path(work) / "albums.html"
        env = {**os.environ, **sandbox.env(), "LOTSDB_HOME": str(Path(work) / "home")}
        lotsdb = [sys.executable, "-m", "lotsdb_cli"]
        subprocess.run([*lotsdb, "albums", "import", str(ROOT / "examples" / "albums.csv")], env=env, check=False)
        subprocess.run([*lotsdb, "albums", "gallery", "-o", str(page_file)], env=env, check=False)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, (width, height) in VIEWPORTS.items():
                page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
                page.goto(page_file.as_uri())
                _wait_for_covers_in_view(page)
                page.screenshot(path=str(args.out_dir / name))
                print(f"wrote {args.out_dir / name}")
                page.close()
            browser.close()
    return 0


def _wait_for_covers_in_view(page: Page) -> None:
    in_view = "Array.from(document.images).filter((img) => img.getBoundingClientRect().top < innerHeight)"
    page.wait_for_function(f"() => {in_view}.every((img) => img.complete && img.naturalWidth > 0)", timeout=15_000)
    # Loaded is not yet painted: the images decode asynchronously (decoding="async").
    page.evaluate(f"() => Promise.all({in_view}.map((img) => img.decode()))")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


if __name__ == "__main__":
    sys.exit(main())
