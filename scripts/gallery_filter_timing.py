"""How fast a gallery page's filter box answers, in headless Chromium; prints one JSON object.

    .venv/bin/python scripts/gallery_filter_timing.py albums.html [--text jazz] [--width 1280]

Opens the page (a file written by `lotsdb albums gallery`) in Debian's `chromium`, driven by
Playwright, types `--text` into the filter one key at a time and then clears it with Escape, which
shows every tile again (the heaviest step). For each step it measures, inside the page, the time
from the key press (the event's own time stamp) until the DOM has settled: the filter has run and
the frame that shows its result has been laid out and painted (a `setTimeout` queued from the
next `requestAnimationFrame`). Output:

    {"file": ..., "albums": "10000 albums", "chromium": "156.0...", "load_ms": ..., "width": 1280,
     "steps": [{"keys": "j", "rendered": 240, "count": "2000 of 10000 albums", "ms": 41.2}, ...],
     "median_ms": ..., "max_ms": ...}
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from gallery_page import CHROMIUM, CHROMIUM_ARGS

# Installed after the page's own script, so its `input` listener runs after the filter's.
PROBE = """() => {
  window.__settled = [];
  let pressedAt = null;
  document.addEventListener("keydown", (event) => { pressedAt = event.timeStamp; }, true);
  const settle = () => {
    if (pressedAt === null) return;
    const start = pressedAt;
    pressedAt = null;
    requestAnimationFrame(() => setTimeout(() => window.__settled.push(performance.now() - start)));
  };
  document.getElementById("filter").addEventListener("input", settle);
  document.getElementById("filter").addEventListener("keydown", (event) => {
    if (event.key === "Escape") setTimeout(settle);
  });
}"""
# The page keeps only matching tiles in the grid, and of those the first few hundred until scrolled.
RENDERED = "() => document.querySelectorAll('#albums .tile').length"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="an HTML file written by `lotsdb albums gallery`")
    parser.add_argument("--text", default="jazz", help="what to type into the filter (default: jazz)")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in CSS pixels (default: 1280)")
    args = parser.parse_args()
    if not args.page.is_file():
        parser.error(f"no such file: {args.page}")
    print(json.dumps(measure(args.page, args.text, args.width)))
    return 0


def measure(page_file: Path, text: str, width: int) -> dict[str, Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            load_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
            initial_count = page.text_content("#count")
            page.evaluate(PROBE)
            page.focus("#filter")
            steps = [_step(page, key, typed) for key, typed in _keys(text)]
            steps.append(_step(page, "Escape", "(cleared)"))
            result = {
                "file": str(page_file),
                "albums": initial_count,
                "chromium": browser.version,
                "load_ms": round(load_ms, 1),
                "width": width,
                "steps": steps,
            }
        finally:
            browser.close()
    times = [step["ms"] for step in steps]
    return {**result, "median_ms": round(statistics.median(times), 1), "max_ms": max(times)}


def _keys(text: str) -> list[tuple[str, str]]:
    return [(character, text[: index + 1]) for index, character in enumerate(text)]


def _step(page: Page, key: str, typed: str) -> dict[str, Any]:
    done = page.evaluate("() => window.__settled.length")
    page.keyboard.press(key)
    page.wait_for_function(f"() => window.__settled.length > {done}")
    return {
        "keys": typed,
        "rendered": page.evaluate(RENDERED),
        "count": page.text_content("#count"),
        "ms": round(page.evaluate(f"() => window.__settled[{done}]"), 1),
    }


if __name__ == "__main__":
    sys.exit(main())
