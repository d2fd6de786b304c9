"""Speed of this tree against an earlier revision, in interleaved rounds.

Why: a feature that should cost nothing when unused (dated changes, order books, call-off)
must be shown to cost nothing, on the same machine, at the same time. Measuring "before"
and "after" an hour apart mixes the change with the machine's load, so the two revisions
run alternately, round after round, each run in a fresh interpreter, and the script prints
medians and ranges per revision with the load average. The base revision is checked out
into a temporary git worktree; both run with the current interpreter and packages.

    python bench/bench_revisions.py --base 068e6ce [--rounds 5] [--days 365]

Cases: the reference line of docs/design.md §5 (`bench/reference_line.yaml`, `--days` long)
and one replication of a Douai scenario (`--douai`, default the 2024 calibrated year).
The child times build + run only (the scenario is loaded before the clock starts) and
reports the vehicles built, so a difference in results shows next to a difference in time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from rounds import interleave, report

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
from sim.spec.loader import load_scenario
from sim.engine.run import run_once
sc = load_scenario(sys.argv[1], sys.argv[2:])
t = time.perf_counter()
r = run_once(sc, 0)
print(json.dumps({"wall": time.perf_counter() - t, "completed": r.counters["completed"]}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="git revision to compare against")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--days", type=int, default=365, help="reference line length")
    ap.add_argument("--douai", default="scenarios/douai/2024.yaml",
                    help="Douai scenario to time, or 'none' for the reference line only")
    args = ap.parse_args()
    cases = {
        "reference line": ("bench/reference_line.yaml", [f"run.duration={args.days} d"]),
        "douai": (args.douai, []),
    }
    if args.douai == "none":
        del cases["douai"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            trees = {f"base {args.base}": base, "this tree": ROOT}
            times, seen = interleave(trees, cases, args.rounds, CHILD, "wall", ("completed",))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                           check=False, capture_output=True)
    medians = report(trees, cases, args.rounds, times, seen, "")
    for case, (before, after) in medians.items():
        print(f"{case:15s} this tree / base: {after / before:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
