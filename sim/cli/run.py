"""`run`: a scenario's replications, its results folder and the printed summary.

Loads and checks everything first (the file, the options, the output folder, the model's
structure), runs, and only then writes the folder, all or nothing (docs/design.md §8).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from sim.analysis.kpi import run_kpis
from sim.analysis.stats import summarise
from sim.cli.common import (
    EXIT_MEANINGLESS,
    EXIT_OK,
    Verbs,
    add_set,
    build_model,
    plausible,
    positive,
    rows_scratch,
)
from sim.experiments.replications import default_workers, run_manifest, run_replications
from sim.report.run_folder import write_results
from sim.report.summary_text import format_summary
from sim.results.folder import check_output, target_folder
from sim.spec.clock import when
from sim.spec.loader import load_with_sources, resolved_dict


def add_parser(verbs: Verbs, debug: argparse.ArgumentParser) -> None:
    run = verbs.add_parser("run", parents=[debug], help="run a scenario's replications")
    run.add_argument("file", type=Path, help="scenario YAML file")
    run.add_argument("--replications", "-n", type=int, help="number of replications")
    run.add_argument("--seed", type=int, help="root seed (default: run.seed)")
    run.add_argument("--out", type=Path, default=Path("results"),
                     help="base directory of results (default: results/)")
    run.add_argument("--name", help="results folder name (default: scenario name)")
    add_set(run)
    run.add_argument("--workers", "-w", type=int, help="processes (default: one per CPU)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--vehicles", choices=("parquet", "csv", "none"), default="parquet",
                     help="the per-vehicle table: completions.parquet (default), "
                          "completions.csv, or none")
    run.add_argument("--excel", action="store_true",
                     help="also write results.xlsx: KPIs, completions by month and the "
                          "order books by period, a sheet each")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="no progress bar, print only the results path")
    run.add_argument("--force", action="store_true",
                     help="run even what the plausibility pass refuses (huge event counts)")
    run.add_argument("--strict", action="store_true",
                     help="exit 4 when a replication locked up or stalled (results written)")


def cmd_run(args: argparse.Namespace) -> int:
    """Load, run all replications, then write the results folder and print the summary."""
    positive(args.replications, "--replications")
    positive(args.workers, "--workers")
    if args.name is not None:
        target_folder(args.out, args.name, "--name")
    overrides = list(args.overrides)
    if args.replications is not None:
        overrides.append(f"run.replications={args.replications}")
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    scenario, sources = load_with_sources(args.file, overrides)
    plausible(args.file, scenario, args.force)
    target = target_folder(args.out, args.name or scenario.name,
                           "--name" if args.name else f"{args.file}: name")
    n = scenario.run.replications
    workers = args.workers or default_workers(n)
    # One build per replication, none extra: in one process, replication 0 runs on the
    # model built here as the structural check; in parallel each worker builds its own
    # first thing, and a build error stops the pool before any simulation.
    with rows_scratch() as rows:  # the rows stay on disk until the folder is written
        first = (build_model(scenario, activity=True, rows=rows) if min(workers, n) == 1
                 else None)
        check_output(args.out)

        began = time.perf_counter()
        results = run_replications(scenario, n, workers=workers,
                                   progress=False if args.quiet else None, first=first,
                                   bottleneck=True, rows=rows)
        wall = time.perf_counter() - began
        summary = summarise([run_kpis(r) for r in results])
        manifest = run_manifest(scenario, sources, results, overrides=overrides,
                                workers=min(workers, n), wall_seconds=wall, argv=args.argv)
        written = write_results(target, results, resolved_dict(scenario), manifest,
                                plots=not args.no_plots, vehicles=args.vehicles,
                                source_text=sources[0].text, excel=args.excel)
        if not args.quiet:
            print(f"{scenario.name}: {n} replication(s), seed {scenario.run.seed}, "
                  f"{wall:.1f} s wall")
            print(format_summary(summary, scenario.run.start))
        print(f"results: {written}")
        troubled = warn_stalls(results)
    return EXIT_MEANINGLESS if troubled and args.strict else EXIT_OK


def warn_stalls(results: list[Any]) -> bool:
    """Print a warning naming the replications that locked up or stalled; True if any."""
    locked = [r for r in results if r.lockup is not None]
    stalled = [r for r in results if r.stalls]
    for r in locked:
        lk = r.lockup
        since = (f"after {when(r.start, lk.t_last)}" if len(r.completions)
                 else "at all")
        print(f"warning: replication {r.replication} locked up: no completion {since} "
              f"({lk.hours:,.0f} on-shift h to the end, "
              f"{lk.wip} parts inside); stuck: {'; '.join(lk.stuck[:6]) or 'see summary'}"
              " (the result is not a forecast; details in summary.json)", file=sys.stderr)
    if stalled:
        longest = max((s for r in stalled for s in r.stalls), key=lambda s: s.hours)
        reps = ", ".join(str(r.replication) for r in stalled)
        print(f"warning: stalls (no output for >= run.stall_after on shift with work "
              f"inside) in replication(s) {reps}; longest {longest.hours:,.1f} on-shift h "
              f"from {when(results[0].start, longest.t_from)} (summary.json: stalls)",
              file=sys.stderr)
    return bool(locked or stalled)
