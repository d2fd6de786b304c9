"""The engine compiled with mypyc against the same engine in pure Python, interleaved.

Why: issue 18 asks which way to a compiled core pays on this code. This script compiles
every module of `sim/engine/` with mypyc in a temporary copy of the tree (out of tree:
an in-tree extension would shadow the edited .py files of an editable install), then
times both trees alternately, round after round, each run in a fresh interpreter, and
prints medians and ranges with the load average. The child reports the vehicles built
and whether its engine was the compiled one, so a difference in results or a silent
fallback shows next to the times.

    python bench/bench_compile.py [--rounds 5] [--days 365] [--douai scenarios/douai/2024.yaml]

Needs mypy (with mypyc), setuptools >= 77 and a C compiler (the `dev` extra and the
machine's gcc). Cases: the reference line (`bench/reference_line.yaml`, `--days` long) and
one replication of a Douai year; CPU seconds of build + run, the scenario loaded before
the clock starts.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rounds import interleave, report

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
import sim.engine.station as station
from sim.spec.loader import load_scenario
from sim.engine.run import run_once
sc = load_scenario(sys.argv[1], sys.argv[2:])
t = time.process_time()
r = run_once(sc, 0, vehicles=False)
print(json.dumps({"cpu": time.process_time() - t, "completed": r.counters["completed"],
                  "engine": "pure" if station.__file__.endswith(".py") else "compiled"}))
"""


def compile_copy(dest: Path) -> float:
    """Copy `sim/` into `dest` and compile its engine there; the seconds it took."""
    shutil.copytree(ROOT / "sim", dest / "sim",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    modules = sorted(str(p.relative_to(dest)) for p in (dest / "sim" / "engine").glob("*.py")
                     if p.name != "__init__.py")
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mypyc", *modules], cwd=dest, check=True,
                   capture_output=True)
    return time.perf_counter() - began


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--days", type=int, default=365, help="reference line length")
    ap.add_argument("--douai", default="scenarios/douai/2024.yaml")
    args = ap.parse_args()
    cases = {
        "reference line": (str(ROOT / "bench/reference_line.yaml"),
                           [f"run.duration={args.days} d"]),
        "douai": (str(ROOT / args.douai), []),
    }
    with tempfile.TemporaryDirectory() as tmp:
        build = compile_copy(Path(tmp))
        trees = {"pure Python": ROOT, "mypyc": Path(tmp)}
        times, seen = interleave(trees, cases, args.rounds, CHILD, "cpu",
                                 ("completed", "engine"))
    medians = report(trees, cases, args.rounds, times, seen, " CPU",
                     f"; mypyc build of sim/engine {build:.0f} s")
    for case, (pure, compiled) in medians.items():
        print(f"{case:15s} speed-up {pure / compiled:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
