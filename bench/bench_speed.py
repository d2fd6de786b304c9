"""Every speed figure of issue 10 in one run: interleaved rounds, medians and ranges.

Why one script: speed claims drift when each figure comes from a different day and load.
Here every case runs once per round, in a fresh interpreter, and the rounds interleave
the cases, so a burst of load touches all of them alike. Printed with the load average
before and after:

- the reference line year (docs/design.md §5): engine, naive SimPy, heapq loop; the ratios
  engine / heapq and naive / engine;
- the Douai 2024 plant-year: one replication (simulation only, scenario loaded before
  the clock starts), and 20 replications on 2 worker processes;
- the `run` CLI's wall (interpreter start to exit, `-n 1 -w 1`, with and without
  figures) over the simulation-only time of the same replication;
- peak RSS of the reference line at 1 and 4 simulated years, with per-vehicle rows kept
  (`run`) and without (`vehicles=False`, sweeps: memory flat in the horizon);
- the size of a default 5-replication Douai results folder (measured once).

    python bench/bench_speed.py [--rounds 3] [--no-douai20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOUAI = ROOT / "scenarios" / "douai" / "2024.yaml"
DOUAI_CHILD = """
import json, sys, time
from sim.spec.loader import load_scenario
from sim.experiments.replications import run_replications
sc = load_scenario(sys.argv[1])
n, workers = int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
rs = run_replications(sc, n, workers=workers)
print(json.dumps({"wall": time.perf_counter() - t, "events": rs[0].events}))
"""


def _json(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ref(impl: str, days: float) -> dict:
    """One reference-line run (bench_reference_line.py's child): wall, peak RSS."""
    return _json([sys.executable, str(HERE / "bench_reference_line.py"), "--child", impl,
                  "--days", repr(days), "--seed", "1"])


def douai(n: int, workers: int) -> dict:
    """n Douai replications on `workers` processes, simulation only."""
    return _json([sys.executable, "-c", DOUAI_CHILD, str(DOUAI), str(n), str(workers)])


def cli(out: Path, plots: bool) -> dict:
    """The whole `run` command, interpreter start to exit."""
    t = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", str(DOUAI), "-n", "1",
                    "-w", "1", "--out", str(out), "-q", *([] if plots else ["--no-plots"])],
                   cwd=ROOT, check=True, capture_output=True)
    return {"wall": time.perf_counter() - t}


def _line(label: str, values: list[float], unit: str = "s") -> str:
    return (f"  {label:42s} median {statistics.median(values):8.2f} {unit}  "
            f"range {min(values):.2f}-{max(values):.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-douai20", action="store_true", help="skip the 20-replication case")
    opts = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; "
          f"{opts.rounds} interleaved rounds, each case in a fresh interpreter")
    walls: dict[str, list[float]] = {}
    rss: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "reference line: engine": lambda: ref("engine", 365.0),
            "reference line: naive SimPy": lambda: ref("naive", 365.0),
            "reference line: heapq loop": lambda: ref("heapq", 365.0),
            "reference line: engine, 4 years": lambda: ref("engine", 4 * 365.0),
            "reference line: engine, no rows": lambda: ref("engine-tally", 365.0),
            "reference line: engine, no rows, 4 years": lambda: ref("engine-tally", 4 * 365.0),
            "Douai year, 1 replication (simulation)": lambda: douai(1, 1),
            "run CLI, Douai, 1 replication": lambda: cli(Path(tmp) / "a", True),
            "run CLI, Douai, 1 replication, --no-plots": lambda: cli(Path(tmp) / "b", False),
        }
        if not opts.no_douai20:
            cases["Douai, 20 replications on 2 workers"] = lambda: douai(20, 2)
        for _ in range(opts.rounds):
            for label, case in cases.items():
                res = case()
                walls.setdefault(label, []).append(float(res["wall"]))
                if "peak_mb" in res:
                    rss.setdefault(label, []).append(float(res["peak_mb"]))
        subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", str(DOUAI), "-n",
                        "5", "--out", tmp, "--name", "five", "-q"], cwd=ROOT, check=True,
                       capture_output=True)
        size = sum(p.stat().st_size for p in (Path(tmp) / "five").rglob("*") if p.is_file())
    print("wall time:")
    for label, values in walls.items():
        print(_line(label, values))
    med = {k: statistics.median(v) for k, v in walls.items()}
    sim = med["Douai year, 1 replication (simulation)"]
    print("ratios (of medians):")
    print(f"  engine / heapq loop                         "
          f"{med['reference line: engine'] / med['reference line: heapq loop']:.2f}x")
    print(f"  naive SimPy / engine                        "
          f"{med['reference line: naive SimPy'] / med['reference line: engine']:.2f}x")
    print(f"  run CLI / simulation only                   "
          f"{med['run CLI, Douai, 1 replication'] / sim:.2f}x "
          f"(--no-plots {med['run CLI, Douai, 1 replication, --no-plots'] / sim:.2f}x)")
    print("peak RSS:")
    for label in ("reference line: engine", "reference line: engine, 4 years",
                  "reference line: engine, no rows", "reference line: engine, no rows, 4 years"):
        print(_line(label, rss[label], "MB"))
    print(f"results folder of a default 5-replication Douai 2024 run: {size / 1e6:.1f} MB")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
