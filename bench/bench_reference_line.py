"""Speed and memory of the reference line: our engine against naive SimPy and a heapq loop.

Why: docs/design.md §5 sets targets that only a measurement can check: the engine must be at
least 5x faster than the naive SimPy model, within 2x of the hand-written heapq loop (the
practical limit in Python), and stay under 200 MB peak memory, on the same line
(``reference_line.yaml`` = ``naive_simpy.py`` = ``heapq_loop.py``).

Every run happens in a fresh subprocess, so that imports, caches and the heap of one run do
not flatter or burden the next, and so that the peak RSS is that of one run alone. The child
times the model only (scenario load + build + run for the engine; model construction + run
for the baselines), not the interpreter start or the imports.

    python bench/bench_reference_line.py [--days 365] [--repeats 3] [--only engine|naive|heapq]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIO = HERE / "reference_line.yaml"
IMPLS = ("engine", "naive", "heapq")
LABELS = {"engine": "engine (scenario file)", "naive": "naive SimPy", "heapq": "heapq loop"}
SPEEDUP_VS_NAIVE = 5.0      # engine at least this many times faster than naive SimPy
SLOWDOWN_VS_HEAPQ = 2.0     # engine at most this many times slower than the heapq loop
PEAK_MB = 200.0             # engine peak RSS


@dataclass(frozen=True)
class Measured:
    """Summary of the repeated runs of one model (or why it could not run)."""

    error: str = ""
    wall: float = 0.0               # median wall seconds
    walls: tuple[float, ...] = ()
    vehicles: int = 0
    peak_mb: float = 0.0            # largest peak RSS over the runs


def _model(impl: str, days: float, seed: int) -> Callable[[], int]:
    """A no-argument callable that runs ``impl`` once (imports done here, untimed)."""
    # The baselines from here; `sim` from the installed build if there is one (a compiled
    # one, bench_speed.py), else from this checkout.
    sys.path[:0] = [str(HERE)]
    sys.path.append(str(ROOT))
    if impl in ("engine", "engine-tally"):
        from sim.engine.run import run_once
        from sim.spec.loader import load_scenario

        overrides = [f"run.duration={days!r} d", f"run.seed={seed}"]
        if impl == "engine-tally":  # no per-vehicle rows: the KPIs' tally only (sweeps)
            def lean() -> int:
                tally = run_once(load_scenario(SCENARIO, overrides), 0, vehicles=False).tally
                assert tally is not None
                return tally.rows
            return lean
        return lambda: len(run_once(load_scenario(SCENARIO, overrides), 0).completions.t_done)
    module = importlib.import_module("naive_simpy" if impl == "naive" else "heapq_loop")
    return lambda: int(module.run(seed, days))


def child(impl: str, days: float, seed: int) -> dict[str, object]:
    """Run one model once in this process; return vehicles, wall seconds, peak RSS."""
    try:
        model = _model(impl, days, seed)
    except ImportError as exc:
        return {"error": f"not available ({exc})"}
    start = time.perf_counter()
    vehicles = model()
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux
    out: dict[str, object] = {"vehicles": vehicles, "wall": wall, "peak_mb": peak_kb / 1024.0}
    if impl.startswith("engine"):
        from sim.engine import build
        out["build"] = build()  # which engine ran: "mypyc" or "pure"
    return out


def measure(impl: str, days: float, seed: int, repeats: int) -> Measured:
    """Run ``impl`` ``repeats`` times, each in a fresh interpreter; summarise."""
    runs: list[dict[str, Any]] = []
    for _ in range(repeats):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", impl,
               "--days", repr(days), "--seed", str(seed)]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        if out.returncode != 0:
            tail = out.stderr.strip().splitlines()[-1:] or ["no output"]
            return Measured(error=f"failed: {tail[0]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if "error" in result:
            return Measured(error=str(result["error"]))
        runs.append(result)
    walls = tuple(float(r["wall"]) for r in runs)
    return Measured(wall=statistics.median(walls), walls=walls, vehicles=int(runs[0]["vehicles"]),
                    peak_mb=max(float(r["peak_mb"]) for r in runs))


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def report(results: dict[str, Measured], days: float, repeats: int) -> str:
    """The table and the target checks, as text."""
    machine = (f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
               f"{platform.machine()}, load average {os.getloadavg()[0]:.2f}")
    header = (f"{'model':<24}{'median wall s':>14}{'vehicles':>10}{'per year':>10}"
              f"{'peak RSS MB':>13}  all runs s")
    lines = [f"reference line, {days:g} days, median of {repeats} run(s); {machine}", header]
    for impl, res in results.items():
        if res.error:
            lines.append(f"{LABELS[impl]:<24}  {impl}: {res.error}")
            continue
        per_year = res.vehicles * 365.0 / days
        lines.append(f"{LABELS[impl]:<24}{res.wall:>14.2f}{res.vehicles:>10}"
                     f"{per_year:>10.0f}{res.peak_mb:>13.1f}  "
                     + " ".join(f"{w:.2f}" for w in res.walls))
    ok = {k: v for k, v in results.items() if not v.error}
    if "engine" in ok:
        eng = ok["engine"]
        if "naive" in ok:
            r = ok["naive"].wall / eng.wall
            lines.append(f"naive / engine = {r:.2f}x   (target >= {SPEEDUP_VS_NAIVE:g}x)  "
                         f"{_verdict(r >= SPEEDUP_VS_NAIVE)}")
        if "heapq" in ok:
            r = eng.wall / ok["heapq"].wall
            lines.append(f"engine / heapq = {r:.2f}x   (target <= {SLOWDOWN_VS_HEAPQ:g}x)  "
                         f"{_verdict(r <= SLOWDOWN_VS_HEAPQ)}")
        lines.append(f"engine peak RSS = {eng.peak_mb:.0f} MB (target < {PEAK_MB:g} MB)  "
                     f"{_verdict(eng.peak_mb < PEAK_MB)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0, help="simulated days (default 365)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per model (median)")
    parser.add_argument("--only", choices=IMPLS, help="time one model only")
    parser.add_argument("--seed", type=int, default=1, help="seed for every model (default 1)")
    parser.add_argument("--child", choices=(*IMPLS, "engine-tally"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.days, args.seed)))
        return 0
    results: dict[str, Measured] = {}
    for impl in [args.only] if args.only else IMPLS:
        results[impl] = measure(impl, args.days, args.seed, args.repeats)
        print(f"  {LABELS[impl]}: done", file=sys.stderr, flush=True)
    print(report(results, args.days, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
