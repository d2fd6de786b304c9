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
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
                  "compiled": not station.__file__.endswith(".py")}))
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


def _measure(tree: Path, scenario: str, overrides: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CHILD, scenario, *overrides], cwd=tree,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


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
        cpu: dict[tuple[str, str], list[float]] = {}
        seen: dict[tuple[str, str], set] = {}
        for _ in range(args.rounds):
            for case, (scenario, overrides) in cases.items():
                for label, tree in trees.items():
                    m = _measure(tree, scenario, overrides)
                    cpu.setdefault((case, label), []).append(m["cpu"])
                    seen.setdefault((case, label), set()).add(
                        (m["completed"], "compiled" if m["compiled"] else "pure"))
    load = os.getloadavg()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.rounds} interleaved "
          f"rounds, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; "
          f"mypyc build of sim/engine {build:.0f} s")
    for case in cases:
        meds = {}
        for label in trees:
            c = cpu[case, label]
            meds[label] = statistics.median(c)
            print(f"{case:15s} {label:12s} median {meds[label]:6.2f} s CPU  range "
                  f"{min(c):.2f}-{max(c):.2f}  vehicles, engine {sorted(seen[case, label])}")
        pure, compiled = meds.values()
        print(f"{case:15s} speed-up {pure / compiled:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
