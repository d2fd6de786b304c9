"""Sweep throughput, overhead per run and peak memory, in interleaved rounds.

Why: a sweep's cost should be the simulations and nothing else, on any executor. Three
measures, each sweep run by the real CLI in a fresh interpreter (so imports, planning,
the store and the result files are counted):

1. Throughput on the Douai year: a grid of the calibrated 2024 plant (2 store sizes x
   `--reps` replications) on `--workers` local processes and on a Dask LocalCluster of as
   many worker processes, alternating round by round; runs per minute = runs / wall.
2. Overhead per run: a sweep of `--tiny` two-day runs of the two-station example in one
   process (`-w 1 --no-plots`): (sweep wall - sum of the runs' own wall) / runs.
3. Peak memory: the sweep process's peak RSS (and the largest worker's) over a sweep of
   `--memory-runs` Douai 2024 years, against one of a fifth as many: a store on disk and
   bounded in-flight work keep the parent flat.

    python bench/bench_sweep.py [--rounds 2] [--reps 4] [--workers 2] [--memory-runs 100]

Prints medians and ranges per case with the load average. Tests never time anything.
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

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import resource, sys, time
from sim.cli import main
t = time.perf_counter()
code = main(sys.argv[1:])
wall = time.perf_counter() - t
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"BENCH {code} {wall} {own} {kids}", file=sys.stderr)
"""


def _sweep_file(folder: Path, name: str, scenario: Path, sets: list[str], values: list[int],
                reps: int) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "scenario": str(scenario), "set": sets, "replications": reps,
        "factors": {"store": {"path": "buffers.painted_body_store.capacity",
                              "values": values}} if "douai" in str(scenario) else
        {"cap": {"path": "buffers.b1.capacity", "values": values}},
        "kpis": ["completed", "lockup"]}))
    return path


def _run(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    line = [x for x in done.stderr.splitlines() if x.startswith("BENCH ")][-1].split()
    if line[1] != "0":
        raise SystemExit(f"sweep failed: {done.stderr[-2000:]}")
    return {"wall": float(line[2]), "rss_mb": float(line[3]), "child_rss_mb": float(line[4])}


def _show(label: str, values: list[float], unit: str) -> None:
    print(f"  {label:44s} median {statistics.median(values):8.2f} {unit}   "
          f"range {min(values):.2f}-{max(values):.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=4, help="replications per point (2 points)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tiny", type=int, default=200, help="runs of the overhead sweep")
    ap.add_argument("--memory-runs", type=int, default=100)
    ap.add_argument("--only", choices=("throughput", "overhead", "memory"),
                    help="run one of the three measures")
    opts = ap.parse_args()
    douai = ROOT / "scenarios" / "douai" / "2024.yaml"
    two = ROOT / "scenarios" / "examples" / "two_stations.yaml"
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if opts.only in (None, "throughput"):
            _throughput(folder, douai, opts)
        if opts.only in (None, "overhead"):
            _overhead(folder, two, opts)
        if opts.only in (None, "memory"):
            _memory(folder, douai, opts)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


def _throughput(folder: Path, douai: Path, opts: argparse.Namespace) -> None:
    year = _sweep_file(folder, "douai-year", douai, [], [120, 250], opts.reps)
    runs = 2 * opts.reps
    walls: dict[str, list[float]] = {"local": [], "dask": []}
    for k in range(opts.rounds):
        for how in ("local", "dask"):
            where = (["--workers", str(opts.workers)] if how == "local" else
                     ["--cluster", f"local:{opts.workers}"])
            res = _run(["sweep", str(year), "--out", str(folder / "out"), "--name",
                        f"{how}-{k}", "-q", "--no-plots", *where])
            walls[how].append(res["wall"])
    print(f"1. Douai 2024 year, {runs} runs per sweep, {opts.workers} workers, "
          f"{opts.rounds} interleaved rounds:")
    for how, values in walls.items():
        _show(f"{how}: sweep wall", values, "s")
        _show(f"{how}: runs per minute", [runs / w * 60 for w in values], "runs/min")
    manifest = json.loads((folder / "out" / "local-0" / "manifest.json").read_text())
    print(f"  mean wall of one run inside the sweep: {manifest['run_wall_seconds_mean']:.2f} s")


def _overhead(folder: Path, two: Path, opts: argparse.Namespace) -> None:
    tiny = _sweep_file(folder, "tiny", two, ["run.duration=2 d"],
                       list(range(1, opts.tiny // 2 + 1)), 2)
    overheads = []
    for k in range(opts.rounds):
        res = _run(["sweep", str(tiny), "--out", str(folder / "out"), "--name",
                    f"tiny-{k}", "-q", "--no-plots", "-w", "1"])
        stored = [json.loads(p.read_text()) for p in
                  (folder / "out" / f"tiny-{k}" / "runs").glob("p*.json")]
        inside = sum(r["wall_seconds"] for r in stored)
        overheads.append((res["wall"] - inside) / len(stored) * 1000)
    print(f"2. Overhead per run, {opts.tiny} two-day runs of two_stations in one process "
          "(sweep wall minus the runs' own wall, per run; includes imports, planning, "
          "the store and the result files):")
    _show("overhead per run", overheads, "ms")


def _memory(folder: Path, douai: Path, opts: argparse.Namespace) -> None:
    small = max(2, opts.memory_runs // 5)
    print(f"3. Peak RSS, sweeps of Douai 2024 years on {opts.workers} processes:")
    for n in (small, opts.memory_runs):
        f = _sweep_file(folder, f"mem{n}", douai, [], [120, 250], n // 2)
        t0 = time.perf_counter()
        res = _run(["sweep", str(f), "--out", str(folder / "out"), "-q", "--no-plots",
                    "--workers", str(opts.workers)])
        print(f"  {n:4d} runs: sweep process {res['rss_mb']:.0f} MB, largest worker "
              f"{res['child_rss_mb']:.0f} MB ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
