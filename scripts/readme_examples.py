"""The README's console examples, produced by a real run against the sandbox (so they cannot drift).

    .venv/bin/python scripts/readme_examples.py           # run the examples, rewrite the README's blocks
    .venv/bin/python scripts/readme_examples.py --check   # exit 1 if the README no longer matches a run

Each example is a block of the README between `<!-- example: NAME -->` and `<!-- /example -->`.
The examples run in the README's order, in one fresh directory, against a sandbox with `lotsdb sandbox serve`'s
defaults, exactly as a newcomer who followed the README would run them. What changes from run to
run and day to day (dates, timings, sizes, the temporary directory, the sandbox's port) is shown
as it came out, and left out of the comparison made by `--check`.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lotsdb_cli.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHOWN_PORT = 8765  # what `lotsdb sandbox serve` listens on by default
WORK = Path(tempfile.gettempdir()) / "lotsdb-try"  # where the examples run (LOTSDB_HOME is WORK/home)
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
BLOCK = re.compile(r"(<!-- example: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /example -->)", re.S)


@dataclass
class Example:
    name: str
    commands: list[str]
    env: dict[str, str] = field(default_factory=dict)


EXAMPLES = [
    Example("events", ["lotsdb events list --limit 4 --format table"]),
    Example(
        "dump",
        [
            "lotsdb lots dump 1002 -o lots.jsonl",
            "lotsdb lots dump 1002 -o lots.csv        # warm: no request; CSV from the file name",
            "head -3 lots.csv",
        ],
    ),
    Example("override", ["lotsdb lots override 100241 --set Qty=2 --set Notes=fragile --dry-run --format jsonl"]),
    Example(
        "changes",
        [
            "lotsdb lots dump 1002 --changes -o delta.jsonl",
            "lotsdb lots override 100241 --set Qty=2 --set Notes=fragile --format jsonl > /dev/null",
            "lotsdb lots dump 1002 --changes -o delta.jsonl",
            "cut -c1-72 delta.jsonl",
        ],
    ),
    Example("warm", ["lotsdb cache warm --upcoming --within 14d"]),
    Example("import", ["lotsdb albums import examples/albums.csv --reject-log rejects.csv"]),
    Example(
        "refresh",
        ["lotsdb albums refresh --dry-run --artist Saltwater --format table", "lotsdb albums refresh"],
    ),
    Example("gallery", ["lotsdb albums gallery -o albums.html"]),
    Example("stats", ["lotsdb cache stats --format table"]),
    Example("verbose", ["lotsdb -v sellers show 2 --format json > /dev/null", "lotsdb -v sellers show 2 > /dev/null"]),
    Example("config", ["LOTSDB_TTL=30m lotsdb --timeout 10 config show --format table"]),
    Example(
        "errors",
        [
            "lotsdb --offline lots show 100999",
            "LOTSDB_TTL=ten lotsdb lots show 100241",
            "lotsdb lots dump 1002 --format xml",
        ],
    ),
]


def run_examples(work: Path = WORK) -> dict[str, str]:
    """Every example's console text, from one run in `work` (shown as WORK wherever it appears)."""
    shutil.rmtree(work, ignore_errors=True)
    bin_dir = Path(sys.executable).parent
    shutil.copytree(ROOT / "examples", work / "examples")
    try:
        with _sandbox() as sandbox:
            base = {
                **{
                    name: value
                    for name, value in os.environ.items()
                    if not name.startswith(("LOTSDB_", "SPOTIFY_", "SPOTIPY_")) and name not in CA_VARIABLES
                },
                **sandbox.env(),
                "LOTSDB_HOME": str(work / "home"),
                "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                "COLUMNS": "200",
            }
            port = sandbox.url.rsplit(":", 1)[1]
            outputs = {}
            for example in EXAMPLES:
                text = []
                for command in example.commands:
                    shown = command.split("  #")[0].rstrip() if "  #" in command else command
                    done = subprocess.run(
                        [
                            "bash",
                            "-c",
                            f"exec 2>&1\n{shown}",
                        ],  # stderr beside stdout, before the command's own redirections
                        cwd=work,
                        env={**base, **example.env},
                        capture_output=True,
                        text=True,
                        timeout=300,
                    )
                    text.append(f"$ {command}\n{done.stdout}")
                output = "".join(text).replace(f":{port}", f":{SHOWN_PORT}").replace(str(work), str(WORK))
                outputs[example.name] = output
            return outputs
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _sandbox() -> Sandbox:
    """The sandbox on the port the README shows, when it is free."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", SHOWN_PORT))
        except OSError:
            return Sandbox()
    return Sandbox(port=SHOWN_PORT)


def rewrite(readme: str, outputs: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in outputs:
            raise SystemExit(f"README block {name!r} has no example in {Path(__file__).name}")
        return f"{match.group(1)}```console\n{outputs[name].rstrip()}\n```\n{match.group(4)}"

    return BLOCK.sub(replace, readme)


# What differs from run to run: dates and times, timings and rates, sizes, counts of runs.
_VOLATILE = [
    (re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(\.\d+)?Z?)?"), "DATE"),
    (re.compile(r"\b\d+ms\b"), "Nms"),
    (re.compile(r"(size_bytes\s+)\d+"), r"\1N"),
    (re.compile(r"EV-\d{4}-"), "EV-YEAR-"),
    (re.compile(r"[ \t]+$", re.M), ""),
    (re.compile(r"-{2,}"), "--"),  # table rules follow the widths of dates
    (re.compile(r" {2,}"), " "),
]


def normalized(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the README instead of rewriting it")
    parser.add_argument("--work", type=Path, default=WORK, help=f"where to run the examples (default: {WORK})")
    options = parser.parse_args()
    current = README.read_text(encoding="utf-8")
    in_readme = [match["name"] for match in BLOCK.finditer(current)]
    if in_readme != [example.name for example in EXAMPLES]:
        # Each example sees what the earlier ones did: a reader going down the README must too.
        print(f"README.md's example blocks {in_readme} are not in the order they are run; reorder EXAMPLES")
        return 1
    updated = rewrite(current, run_examples(options.work.resolve()))
    if not options.check:
        README.write_text(updated, encoding="utf-8")
        print(f"README.md: {len(BLOCK.findall(updated))} example blocks written")
        return 0
    before, after = normalized(current).splitlines(), normalized(updated).splitlines()
    if before == after:
        print("README.md examples match a real run")
        return 0
    sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(before, after, "README.md", "a real run"))
    print("README.md examples no longer match a real run: run scripts/readme_examples.py and commit the result")
    return 1


if __name__ == "__main__":
    sys.exit(main())
