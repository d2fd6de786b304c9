"""Every speed figure of issues 10 and 18 in one run: the compiled engine and the pure one.

Why one script: speed claims drift when each figure comes from a different day and load.
This script installs this tree as a user would (`pip install .`, which compiles the engine
with mypyc: setup.py) into a temporary folder, and runs every case twice per round, once
with that build and once with the same build under `DOUAI_SIM_PURE=1` (its `.py` files),
each run in a fresh interpreter, the rounds interleaving the cases so a burst of load
touches all alike. Every child reports which engine ran and what it built, so a silent
fallback or a difference in results shows next to the times. Cases:

- the reference line year (bench/README.md): the engine (scenario load, build and run),
  and once per round the hand-written heapq loop (pure Python, no engine): engine / heapq;
- the Douai 2024 plant-year: one replication (simulation only, scenario loaded before the
  clock starts), and 20 replications on 2 worker processes;
- the `run` CLI's wall on one Douai replication (`--no-plots`), interpreter start to exit;
- peak RSS of the `run` CLI on the reference line at 1 and 4 simulated years (`--no-plots`,
  measured once per build: it does not depend on the load).

    python bench/bench_speed.py [--rounds 3] [--no-douai20] [--markdown]

`--markdown` also prints the table that README.md's speed section shows.
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOUAI = ROOT / "scenarios" / "douai" / "2024.yaml"
REFERENCE = HERE / "reference_line.yaml"
BUILDS = ("pure", "compiled")
DOUAI_CHILD = """
import json, sys, time
import sim.engine
from sim.spec.loader import load_scenario
from sim.experiments.replications import run_replications
sc = load_scenario(sys.argv[1])
n, workers = int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
rs = run_replications(sc, n, workers=workers)
print(json.dumps({"wall": time.perf_counter() - t, "build": sim.engine.build(),
                  "vehicles": sum(int(r.done_mask().sum()) for r in rs)}))
"""
PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def install(dest: Path) -> float:
    """`pip install .` of this tree into `dest` (no dependencies: this venv has them), from
    a copy of what a wheel is made of: pip builds in the source folder, and a `build/`
    left there by an earlier build would leak into this one."""
    src = dest.parent / "src"
    src.mkdir()
    shutil.copytree(ROOT / "sim", src / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(dest), "."],
                   check=True, capture_output=True, cwd=src)
    return time.perf_counter() - began


class Builds:
    """The environments that run the installed build compiled, or forced pure."""

    def __init__(self, target: Path) -> None:
        base = {k: v for k, v in os.environ.items() if k != "DOUAI_SIM_PURE"}
        base.update(PYTHONSAFEPATH="1", PYTHONPATH=str(target))  # not this checkout's sim
        self.env = {"compiled": base, "pure": {**base, "DOUAI_SIM_PURE": "1"}}

    def json(self, build: str, cmd: list[str]) -> dict:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True,
                             env=self.env[build])
        return json.loads(out.stdout.strip().splitlines()[-1])

    def reference(self, build: str, impl: str = "engine") -> dict:
        return self.json(build, [sys.executable, str(HERE / "bench_reference_line.py"),
                                 "--child", impl, "--days", "365.0", "--seed", "1"])

    def douai(self, build: str, n: int, workers: int) -> dict:
        return self.json(build, [sys.executable, "-c", DOUAI_CHILD, str(DOUAI), str(n),
                                 str(workers)])

    def cli(self, build: str, out: Path) -> dict:
        began = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", str(DOUAI), "-n", "1",
                        "-w", "1", "--out", str(out), "-q", "--no-plots"], cwd=ROOT,
                       check=True, capture_output=True, env=self.env[build])
        return {"wall": time.perf_counter() - began, "build": self.built(build)}

    def peak_mb(self, build: str, days: int, out: Path) -> float:
        """Peak RSS of the whole `run` command on the reference line."""
        cmd = [sys.executable, str(ROOT / "run_sim.py"), "run", str(REFERENCE), "--set",
               f"run.duration={days} d", "-n", "1", "--no-plots", "-q", "--out", str(out)]
        done = subprocess.run([sys.executable, "-c", PEAK, *cmd], capture_output=True,
                              text=True, cwd=ROOT, check=True, env=self.env[build])
        return float(done.stdout.strip().splitlines()[-1])

    def built(self, build: str) -> str:
        probe = "import json, sim.engine; print(json.dumps({'build': sim.engine.build()}))"
        return self.json(build, [sys.executable, "-c", probe])["build"]


def _stats(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f}  ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-douai20", action="store_true", help="skip the 20-replication case")
    ap.add_argument("--markdown", action="store_true", help="also print README.md's table")
    opts = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; "
          f"{opts.rounds} interleaved rounds, each case in a fresh interpreter")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "build"
        print(f"pip install . (mypyc build of the engine): {install(target):.0f} s")
        b = Builds(target)
        assert b.built("compiled") == "mypyc", "the build fell back to pure Python"
        cases = {
            "reference line year": lambda build: b.reference(build),
            "Douai year, 1 replication": lambda build: b.douai(build, 1, 1),
            "run CLI, Douai, 1 replication": lambda build: b.cli(build, Path(tmp) / "cli"),
        }
        if not opts.no_douai20:
            cases["Douai, 20 replications on 2 workers"] = lambda build: b.douai(build, 20, 2)
        walls: dict[tuple[str, str], list[float]] = {}
        seen: dict[tuple[str, str], set] = {}
        heapq: list[float] = []
        for _ in range(opts.rounds):
            heapq.append(float(b.reference("pure", "heapq")["wall"]))
            for label, case in cases.items():
                for build in BUILDS:
                    res = case(build)
                    walls.setdefault((label, build), []).append(float(res["wall"]))
                    seen.setdefault((label, build), set()).add(
                        (res["build"], res.get("vehicles")))
        peaks = {(build, days): b.peak_mb(build, days, Path(tmp) / "rss")
                 for build in BUILDS for days in (365, 4 * 365)}
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"\n{'wall seconds: median (range)':42s} {'pure':>22s} {'compiled':>22s}  speed-up")
    med = {k: statistics.median(v) for k, v in walls.items()}
    for label in cases:
        print(f"  {label:40s} {_stats(walls[label, 'pure']):>22s} "
              f"{_stats(walls[label, 'compiled']):>22s}  "
              f"{med[label, 'pure'] / med[label, 'compiled']:.2f}x")
        print(f"  {'':40s} engine, vehicles: {sorted(seen[label, 'pure'])} / "
              f"{sorted(seen[label, 'compiled'])}")
    h = statistics.median(heapq)
    print(f"  {'heapq loop (pure Python, no engine)':40s} {_stats(heapq):>22s}")
    ratio = {build: med["reference line year", build] / h for build in BUILDS}
    print(f"  {'reference line: engine / heapq loop':40s} {ratio['pure']:>13.2f}x "
          f"{ratio['compiled']:>22.2f}x")
    print("peak RSS of `run --no-plots`, reference line (MB):")
    for build in BUILDS:
        one, four = peaks[build, 365], peaks[build, 4 * 365]
        print(f"  {build:10s} 1 y {one:6.0f}   4 y {four:6.0f}   4 y / 1 y {four / one:.2f}x")
    if opts.markdown:
        print("\n| measure | pure Python | compiled (mypyc) |\n|---|---|---|")
        for label in cases:
            print(f"| {label}, s | {med[label, 'pure']:.2f} | {med[label, 'compiled']:.2f} |")
        print(f"| reference line, engine / heapq loop | {ratio['pure']:.2f}x | "
              f"{ratio['compiled']:.2f}x |")
        print("| `run` peak RSS, reference line 1 y / 4 y, MB | "
              f"{peaks['pure', 365]:.0f} / {peaks['pure', 1460]:.0f} | "
              f"{peaks['compiled', 365]:.0f} / {peaks['compiled', 1460]:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
