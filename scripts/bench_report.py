"""The bench's scenarios, targets and report: a Markdown table ready for the README, one table of
every figure per scenario, and PASS/FAIL per target with the measured value."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_measure import Design

PEER_COLUMNS = ("pool(10)", "pool(32)", "curl", "aiohttp(32)", "sequential")


@dataclass
class Target:
    """`measured` must be at most `bound` (or below it, when `strict`)."""

    name: str
    measured: float | None
    bound: float
    strict: bool = False
    shown: str = ""  # how to show the measured value, when a bare number says too little
    short: str = ""  # the target in a few words, for the summary table

    @classmethod
    def at_most(cls, name: str, measured: float | None, bound: float, shown: str = "", short: str = "") -> Target:
        return cls(name, measured, bound, False, shown, short)

    @classmethod
    def below(cls, name: str, measured: float | None, bound: float, shown: str = "", short: str = "") -> Target:
        return cls(name, measured, bound, True, shown, short)

    @property
    def passed(self) -> bool:
        if self.measured is None:
            return False
        return self.measured < self.bound if self.strict else self.measured <= self.bound

    def line(self) -> str:
        shown = self.shown or ("not measured" if self.measured is None else f"{self.measured:.3g}")
        sign = "<" if self.strict else "<="
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name} {sign} {self.bound:g}: {shown}"

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "measured": self.measured, "bound": self.bound, "strict": self.strict,
                "passed": self.passed, "shown": self.shown}  # fmt: skip


@dataclass
class Scenario:
    key: str
    title: str
    items: int = 0  # lots (or albums, rows) per run: the N of the limits and the per-lot figures
    designs: list[Design] = field(default_factory=list)
    limit: float | None = None  # seconds: the physical limit, where one applies
    limit_note: str = ""
    targets: list[Target] = field(default_factory=list)
    reported: dict[str, Any] = field(default_factory=dict)  # measured without a target
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str = ""

    def design(self, name: str) -> Design:
        for design in self.designs:
            if design.name == name:
                return design
        design = Design(name)
        self.designs.append(design)
        return design

    def ours(self) -> list[Design]:
        return [design for design in self.designs if design.name.startswith("lotsdb") and design.runs]

    def peers(self) -> list[Design]:
        return [design for design in self.designs if not design.name.startswith(("lotsdb", "probe")) and design.runs]

    def fastest_peer(self) -> Design | None:
        """The fastest peer among those that delivered every item in every run (a peer that
        drops lots under a rate limit is not a time to beat)."""
        timed = [design for design in self.peers() if design.wall is not None and design.max_lost() == 0]
        return min(timed, key=lambda design: design.wall or 0) if timed else None

    def ratio_to_fastest(self, design: Design) -> float | None:
        fastest = self.fastest_peer()
        return ratio(design.wall, fastest.wall if fastest else None)

    def ratio_to_limit(self, design: Design) -> float | None:
        return ratio(design.wall, self.limit)

    # Targets on times
    def versus_fastest_peer(self, name: str, bound: float) -> Target:
        fastest = self.fastest_peer()
        if fastest is None:
            return Target.at_most(f"{name}: time / the fastest peer's", None, bound, "no peer measured")
        target = self.versus_peer(name, fastest.name, bound, label="the fastest peer")
        target.short = f"≤ {bound:.2f}x the fastest peer"
        return target

    def versus_peer(self, name: str, peer: str, bound: float, label: str = "") -> Target:
        theirs = self.design(peer)
        value = ratio(self.design(name).wall, theirs.wall)
        title = f"{name}: time / {label}'s ({peer})" if label else f"{name}: time / {peer}'s"
        short = f"≤ {bound:.2f}x {peer}"
        if value is None:
            return Target.at_most(title, None, bound, f"{peer} not measured", short)
        shown = f"{value:.2f}x ({self.design(name).wall:.2f} s / {theirs.wall:.2f} s)"
        return Target.at_most(title, value, bound, shown, short)

    def versus_limit(self, name: str, bound: float) -> Target:
        ours = self.design(name)
        value = self.ratio_to_limit(ours)
        title = f"{name}: time / the limit"
        short = f"≤ {bound:.2f}x the limit"
        if value is None or ours.wall is None or self.limit is None:
            return Target.at_most(title, None, bound, short=short)
        return Target.at_most(title, value, bound, f"{value:.2f}x ({ours.wall:.2f} s / {self.limit:.2f} s)", short)

    def complete(self, name: str, *, ordered: bool = True) -> Target:
        """Every expected item, once, (in order): counted over all runs, 0 allowed."""
        runs = self.design(name).runs
        bad = [run for run in runs if run.lost != 0 or run.extra != 0 or (ordered and run.order != "in order")]
        lost = sum(run.lost or 0 for run in runs)
        extra = sum(run.extra or 0 for run in runs)
        orders = ", ".join(self.design(name).orders()) or "no output"
        title = f"{name}: runs with a lot lost, repeated" + (" or out of order" if ordered else "")
        shown = f"{len(bad)} of {len(runs)} runs ({lost} lost, {extra} extra in all; {orders})"
        return Target.at_most(title, len(bad) if runs else None, 0, shown, "0 lost" + (", in order" if ordered else ""))

    @property
    def met(self) -> bool:
        return bool(self.targets) and all(target.passed for target in self.targets)

    def summary(self) -> dict[str, Any]:
        designs = []
        for design in self.designs:
            figures = design.summary()
            figures["ratio_to_fastest_peer"] = self.ratio_to_fastest(design)
            figures["ratio_to_limit"] = self.ratio_to_limit(design)
            designs.append(figures)
        fastest = self.fastest_peer()
        return {
            "key": self.key,
            "title": self.title,
            "items": self.items,
            "limit_s": self.limit,
            "limit_note": self.limit_note,
            "fastest_peer": fastest.name if fastest else None,
            "designs": designs,
            "targets": [target.summary() for target in self.targets],
            "met": self.met,
            "reported": self.reported,
            "details": self.details,
            "notes": self.notes,
            "skipped": self.skipped,
        }


def ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return round(value / reference, 3)


# -- the report --------------------------------------------------------------------------------
def report(scenarios: list[Scenario], elapsed: float) -> str:
    parts = ["## Summary", "", summary_table(scenarios), ""]
    for s in scenarios:
        parts += scenario_section(s)
    targets = [(s, target) for s in scenarios for target in s.targets]
    parts += ["## Targets", "", "```"]
    parts += [f"{s.key:<4} {target.line()}" for s, target in targets]
    parts += [f"{s.key:<4} SKIP  {s.skipped}" for s in scenarios if s.skipped]
    parts += ["```", ""]
    passed = sum(target.passed for _, target in targets)
    parts.append(f"{passed} of {len(targets)} targets met; the bench took {elapsed:.0f} s.")
    return "\n".join(parts)


def summary_table(scenarios: list[Scenario]) -> str:
    lines = [
        "| scenario | lotsdb | " + " | ".join(PEER_COLUMNS) + " | limit | lotsdb ratios | target | met? |",
        "| --- " * (len(PEER_COLUMNS) + 6) + "|",
    ]
    for s in scenarios:
        ours = s.ours()
        if s.skipped or not ours:
            cells = [f"{s.key} {s.title}", "—", *("" for _ in PEER_COLUMNS), "—", "—", s.skipped or "—", "skipped"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        for design in ours:
            first = design is ours[0]
            label = f"{s.key} {s.title}" if first else f"{s.key} — {design.name}"
            peers = [short_cell(s.design(name), s) if first and has(s, name) else "" for name in PEER_COLUMNS]
            cells = [
                label,
                f"{design.name}: {short_cell(design, s)}" if len(ours) > 1 else short_cell(design, s),
                *peers,
                f"{s.limit:.2f} s" if s.limit and first else ("—" if first else ""),
                ratios_cell(design, s),
                "; ".join(dict.fromkeys(target_phrase(t) for t in s.targets)) if first else "",
                ("yes" if s.met else "**no**") if first else "",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def has(s: Scenario, name: str) -> bool:
    return any(design.name == name and design.runs for design in s.designs)


def short_cell(design: Design, s: Scenario) -> str:
    wall = design.wall
    if wall is None:
        return "—"
    parts = [f"{wall:.2f} s"]
    share = design.throttled_share()
    if share:
        parts.append(f"{100 * share:.1f} % 429")
    lost = design.max_lost()
    if lost:
        parts.append(f"{lost} lost")
    return ", ".join(parts)


def ratios_cell(design: Design, s: Scenario) -> str:
    parts = []
    fastest = s.fastest_peer()
    to_fastest = s.ratio_to_fastest(design)
    if to_fastest is not None and fastest is not None:
        parts.append(f"{to_fastest:.2f}x fastest peer ({fastest.name})")
    to_limit = s.ratio_to_limit(design)
    if to_limit is not None:
        parts.append(f"{to_limit:.2f}x limit")
    return ", ".join(parts) or "—"


def target_phrase(target: Target) -> str:
    return target.short or f"{target.name} {'<' if target.strict else '≤'} {target.bound:g}"


def scenario_section(s: Scenario) -> list[str]:
    lines = [f"### {s.key} {s.title}", ""]
    if s.skipped:
        return [*lines, f"Skipped: {s.skipped}.", ""]
    if s.limit is not None:
        lines += [f"Limit: {s.limit:.3f} s = {s.limit_note}, N = {s.items:,}.", ""]
    header = ("design", "runs", "wall s", "x fastest peer", "x limit", "requests", "429s", "peak RSS MB",
              "CPU ms/item", "switches/item", "first request s", "lost", "extra", "order", "exit")  # fmt: skip
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| --- " * len(header) + "|")
    for design in s.designs:
        if not design.runs:
            continue
        figures = design.summary()
        row = [
            design.name,
            str(len(design.runs)),
            number(figures["wall"], 3),
            number(s.ratio_to_fastest(design), 2),
            number(s.ratio_to_limit(design), 2),
            number(figures["requests"], 0),
            number(figures["throttled"], 0),
            number(figures["rss_mb"], 0),
            number(figures["cpu_ms_per_item"], 2),
            number(figures["switches_per_item"], 1),
            number(figures["first_s"], 3),
            number(figures["max_lost"], 0),
            number(figures["max_extra"], 0),
            ", ".join(figures["order"]) or "—",
            ", ".join(map(str, figures["codes"])),
        ]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for name, value in {**s.reported, **s.details}.items():
        lines.append(f"- {name}: {value}")
    for note in s.notes + [f"{d.name}: {run.note}" for d in s.designs for run in d.runs if run.note]:
        lines.append(f"- {note}")
    lines.append("")
    return lines


def number(value: float | None, places: int) -> str:
    return "—" if value is None else f"{value:,.{places}f}"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["curl"] = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    except OSError:
        info["curl"] = None
    from importlib import metadata

    for package in ("lotsdb", "requests", "requests-cache", "aiohttp", "typer"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = None
    return info
