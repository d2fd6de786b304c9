"""The `bottleneck` verb: where a run's output is held back, and what +10% rate would buy.

It reads a run folder's bottleneck.csv (the active-period method, `sim.analysis.bottleneck`)
and prints sole and shifting bottleneck shares with 95% intervals over replications: in
all, by shift and by month. With `--sensitivity K` it reruns the folder's scenario
(scenario.resolved.yaml: exactly what ran) with each of the top K stations `--step`
faster (`stations.<name>.speed`), replication for replication on the same seeds, and
prints the paired effect on output: where a euro of capacity goes.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

from sim.analysis.bottleneck import rank
from sim.analysis.kpi import NO_BOTTLENECK, run_kpis
from sim.analysis.stats import ci95, paired_diff
from sim.errors import ScenarioError, UsageError
from sim.experiments.replications import run_replications
from sim.spec.loader import load_scenario


def add_parser(verbs: argparse._SubParsersAction, debug: argparse.ArgumentParser) -> None:
    """The `bottleneck` sub-command."""
    p = verbs.add_parser("bottleneck", parents=[debug],
                         help="bottleneck shares of a run folder (active-period method) and "
                              "the effect of faster stations on output")
    p.add_argument("result", type=Path, help="results folder of `run`")
    p.add_argument("--by", choices=("all", "shift", "month"), action="append",
                   help="tables to print (default: all three)")
    p.add_argument("--top", type=int, default=8, help="stations per table (default 8)")
    p.add_argument("--sensitivity", type=int, default=0, metavar="K",
                   help="rerun with each of the top K stations faster (paired runs)")
    p.add_argument("--step", type=float, default=0.10,
                   help="rate increase for --sensitivity (default 0.10: +10%%)")
    p.add_argument("--workers", "-w", type=int, help="processes for --sensitivity")


def read_table(folder: Path) -> dict[tuple[str, str], dict[str, list[float]]]:
    """(station, bin) -> column -> per-replication values, from bottleneck.csv."""
    path = folder / "bottleneck.csv"
    if not path.is_file():
        raise UsageError(f"{folder}: no bottleneck.csv (a results folder of `run`, written "
                         "by this version?)")
    out: dict[tuple[str, str], dict[str, list[float]]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh)
        for i, row in enumerate(rows, start=2):
            try:
                key = (row["station"], row["bin"])
                cell = out.setdefault(key, {"sole": [], "shifting": [], "observed_s": []})
                for col in cell:
                    cell[col].append(float(row[col]))
            except (KeyError, TypeError, ValueError):
                raise ScenarioError(str(path), f"line {i}", "expected the columns of "
                                    "bottleneck.csv (station, bin, observed_s, sole, "
                                    "shifting) with numbers") from None
    return out


def ranked(table: dict[tuple[str, str], dict[str, list[float]]], bin_: str) -> list[str]:
    """Stations by mean sole share in `bin_`, then shifting (Roser's order)."""
    return rank({st: (float(np.nanmean(v["sole"])), float(np.nanmean(v["shifting"])))
                 for (st, b), v in table.items() if b == bin_ and st != NO_BOTTLENECK})


def _pct(values: list[float]) -> str:
    e = ci95(values)
    if math.isnan(e.mean):
        return "     -"
    hw = "" if math.isnan(e.half_width) else f" ± {100 * e.half_width:4.1f}"
    return f"{100 * e.mean:5.1f}%{hw}"


def cmd_bottleneck(args: argparse.Namespace) -> int:
    """Print the tables; with --sensitivity, run the paired faster-station variants."""
    if args.top < 1 or args.sensitivity < 0 or not 0 < args.step <= 10:
        raise UsageError("--top must be >= 1, --sensitivity >= 0 and --step in (0, 10]")
    if not args.result.is_dir():
        raise UsageError(f"{args.result}: not a results folder")
    table = read_table(args.result)
    kinds = args.by or ["all", "shift", "month"]
    print("bottleneck shares of on-shift time (active-period method; mean ± 95% over "
          "replications)")
    if "all" in kinds:
        print(f"\n{'station':<24}{'sole':>16}{'shifting':>16}")
        for st in ranked(table, "all")[:args.top]:
            v = table[st, "all"]
            print(f"{st:<24}{_pct(v['sole']):>16}{_pct(v['shifting']):>16}")
        if (NO_BOTTLENECK, "all") in table:
            print(f"{NO_BOTTLENECK:<24}{_pct(table[NO_BOTTLENECK, 'all']['sole']):>16}"
                  "   (no station active: the plan or the supply holds output back)")
    bins = list(dict.fromkeys(b for _, b in table))
    for kind in ("shift", "month"):
        if kind not in kinds:
            continue
        labels = [b for b in bins if b.startswith(kind + ":")]
        if not labels:
            continue
        print(f"\nby {kind}: the top stations (sole share)")
        for label in labels:
            top = ranked(table, label)[:3]
            cells = ", ".join(f"{st} {_pct(table[st, label]['sole']).strip()}" for st in top)
            print(f"  {label.split(':', 1)[1]:<12} {cells}")
    if args.sensitivity:
        sensitivity(args.result, ranked(table, "all")[:args.sensitivity], args.step,
                    args.workers)
    return 0


def sensitivity(folder: Path, stations: list[str], step: float, workers: int | None) -> None:
    """Paired runs: the folder's scenario as it ran, then each station `step` faster."""

    path = folder / "scenario.resolved.yaml"
    base = load_scenario(path)
    n = base.run.replications
    print(f"\nsensitivity: output with each station {100 * step:g}% faster "
          f"({n} paired replications, seed {base.run.seed}; scenario {path})")
    ref = [run_kpis(r)["completed"] for r in run_replications(base, n, workers=workers)]
    print(f"  {'base':<24}{np.mean(ref):>12,.0f} completed")
    for st in stations:
        speed = base.stations[st].speed * (1.0 + step)
        faster = load_scenario(path, [f"stations.{st}.speed={speed!r}"])
        got = [run_kpis(r)["completed"] for r in run_replications(faster, n, workers=workers)]
        d = paired_diff(got, ref)
        hw = "" if math.isnan(d.half_width) else f" ± {d.half_width:,.0f}"
        print(f"  {st + ' +' + format(100 * step, 'g') + '%':<24}{d.mean:>+12,.0f}{hw} "
              f"completed ({100 * d.mean / np.mean(ref):+.2f}%)")
