"""The engine compiled with mypyc against the same engine in pure Python, interleaved.

Why: issue 18 asks which way to a compiled core pays on this code. This script compiles
every module of `sim/engine/` with mypyc in a temporary copy of the tree (out of tree:
an in-tree extension would shadow the edited .py files of an editable install), then
times both trees alternately, round after round, each run in a fresh interpreter, and
prints medians and ranges with the load average. The child reports the vehicles built
and whether its engine was the compiled one, so a difference in results or a silent
fallback shows next to the times.

    python bench/bench_compile.py [--rounds 5] [--days 365] [--with mypyc,cython] [--loop]

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


# The run loop alone, under the same built model: the project's own loop (`run_until`,
# SimPy's run/step inline, Timed objects fired directly) or SimPy's `env.run`.
LOOP_CHILD = """
import json, sys, time
import sim.engine.station as station
from sim.spec.loader import load_scenario
from sim.engine.kernel import run_until
from sim.engine.model import build
sc = load_scenario(sys.argv[1], sys.argv[3:])
model = build(sc, 0, vehicles=False)
for port in model.ports:
    port.start()
if model.changes is not None:
    model.changes.start()
t = time.process_time()
if sys.argv[2] == "run_until":
    run_until(model.env, model.horizon)
else:
    model.env.run(until=model.horizon)
print(json.dumps({"cpu": time.process_time() - t, "completed": model.counters["released"],
                  "engine": "pure" if station.__file__.endswith(".py") else "compiled"}))
"""

COMPILERS = {
    # mypyc: what setup.py builds (there as one group; here each module on its own)
    "mypyc": lambda modules: [sys.executable, "-m", "mypyc", *modules],
    # Cython in pure-Python mode: the same .py files, compiled as they are
    "cython": lambda modules: [sys.executable, "-m", "Cython.Build.Cythonize", "-i", "-3",
                               "-j", "2", "-q", *modules],
}


def compile_copy(dest: Path, compiler: str) -> float:
    """Copy `sim/` into `dest` and compile its engine there; the seconds it took."""
    shutil.copytree(ROOT / "sim", dest / "sim",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    modules = sorted(str(p.relative_to(dest)) for p in (dest / "sim" / "engine").glob("*.py")
                     if p.name not in ("__init__.py", "records.py"))  # as setup.py
    began = time.perf_counter()
    subprocess.run(COMPILERS[compiler](modules), cwd=dest, check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--days", type=int, default=365, help="reference line length")
    ap.add_argument("--douai", default="scenarios/douai/2024.yaml")
    ap.add_argument("--with", dest="compilers", default="mypyc",
                    help="comma-separated: mypyc, cython (needs Cython installed)")
    ap.add_argument("--loop", action="store_true",
                    help="time the run loop alone: run_until against SimPy's env.run")
    args = ap.parse_args()
    cases = {
        "reference line": (str(ROOT / "bench/reference_line.yaml"),
                           [f"run.duration={args.days} d"]),
        "douai": (str(ROOT / args.douai), []),
    }
    child = CHILD
    if args.loop:
        child = LOOP_CHILD
        cases = {f"{case} {loop}": (scenario, [loop, *overrides])
                 for case, (scenario, overrides) in cases.items()
                 for loop in ("run_until", "env.run")}
    compilers = args.compilers.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        trees, builds = {"pure Python": ROOT}, []
        for compiler in compilers:
            builds.append(f"{compiler} build {compile_copy(Path(tmp) / compiler, compiler):.0f} s")
            trees[compiler] = Path(tmp) / compiler
        times, seen = interleave(trees, cases, args.rounds, child, "cpu",
                                 ("completed", "engine"))
    medians = report(trees, cases, args.rounds, times, seen, " CPU", "; " + ", ".join(builds))
    for case, meds in medians.items():
        print(f"{case:15s} speed-up " + ", ".join(
            f"{label} {meds[0] / m:.2f}x" for label, m in zip(compilers, meds[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
