"""Interleaved rounds in fresh processes: what every before/after benchmark here shares.

Two trees (revisions, or pure and compiled) are measured alternately, round after round,
each run in a fresh interpreter, so the machine's load falls on both alike; the summary
gives medians, ranges and what each child reported beside its time (vehicles built, which
engine ran), so a difference in results shows next to a difference in speed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

Cases = dict[str, tuple[str, list[str]]]


def measure(tree: Path, child: str, scenario: str, overrides: list[str]) -> dict:
    """Run `child` (a script printing one JSON line) in `tree` on a scenario."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", child, scenario, *overrides], cwd=tree,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleave(trees: dict[str, Path], cases: Cases, rounds: int, child: str, timed: str,
               noted: tuple[str, ...]) -> tuple[dict, dict]:
    """Times (`timed` of each child's report) and the set of `noted` values, per case and
    tree."""
    times: dict[tuple[str, str], list[float]] = {}
    seen: dict[tuple[str, str], set] = {}
    for _ in range(rounds):
        for case, (scenario, overrides) in cases.items():
            for label, tree in trees.items():
                m = measure(tree, child, scenario, overrides)
                times.setdefault((case, label), []).append(m[timed])
                seen.setdefault((case, label), set()).add(tuple(m[k] for k in noted))
    return times, seen


def report(trees: dict[str, Path], cases: Cases, rounds: int, times: dict, seen: dict,
           unit: str, extra: str = "") -> dict[str, tuple[float, ...]]:
    """Print the header, medians and ranges; each tree's median per case, in order."""
    load = os.getloadavg()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {rounds} interleaved "
          f"rounds, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}{extra}")
    out = {}
    for case in cases:
        meds = []
        for label in trees:
            t = times[case, label]
            meds.append(statistics.median(t))
            print(f"{case:15s} {label:22s} median {meds[-1]:6.2f} s{unit}  range "
                  f"{min(t):.2f}-{max(t):.2f}  {sorted(seen[case, label])}")
        out[case] = tuple(meds)
    return out
