"""The `compare` verb: scenarios (run now, paired) or results folders, against the first.

Thin by design: parse, load or read every input first (a bad file or a pair that cannot
be paired fails before anything runs or is written), call `sim.experiments.compare`, write
the folder with `sim.report.comparison`, print the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from sim.cli.common import plausible, rows_scratch
from sim.errors import UsageError
from sim.experiments.compare import (
    arm_from_folder,
    arm_from_results,
    arm_labels,
    check_pairing,
    compare,
)
from sim.experiments.replications import default_workers, run_replications
from sim.results.folder import check_output, target_folder
from sim.spec.loader import load_scenario, load_with_sources
from sim.spec.targets import target_values


def add_parser(verbs: argparse._SubParsersAction, debug: argparse.ArgumentParser) -> None:
    """The `compare` sub-command and its options."""
    p = verbs.add_parser("compare", parents=[debug],
                         help="compare scenarios or results folders with paired intervals")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="scenario files (run now, same seeds) or results folders of `run`; "
                        "the first is the baseline")
    p.add_argument("--replications", "-n", type=int,
                   help="replications of every scenario (default: the baseline's)")
    p.add_argument("--seed", type=int, help="root seed of every scenario (default: the "
                                            "baseline's)")
    p.add_argument("--workers", "-w", type=int, help="processes (default: one per CPU)")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="base directory of results (default: results/)")
    p.add_argument("--name", help="folder name (default: compare-<baseline>)")
    p.add_argument("--all", action="store_true", help="print every KPI, not the headline")
    p.add_argument("--family", metavar="KPIS", default="headline",
                   help="the KPIs whose tests are corrected together (Holm, 5%%): headline "
                        "(default), all, or comma-separated name patterns, e.g. "
                        "'completed,completed.*'")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the folder")


def cmd_compare(args: argparse.Namespace) -> int:
    """Build the arms, compare, write, print."""
    from sim.report.comparison import (  # lazy: jinja2, only when a comparison is written
        format_comparison,
        write_comparison,
    )

    if len(args.inputs) < 2:
        raise UsageError("compare needs at least two inputs (the first is the baseline)")

    if args.name is not None:
        target_folder(args.out, args.name, "--name")
    check_output(args.out)
    folders = [p.is_dir() for p in args.inputs]
    began = time.perf_counter()
    if all(folders):
        if args.replications is not None or args.seed is not None:
            raise UsageError("--replications and --seed apply to scenario files, not to "
                             "results folders")
        arms = [arm_from_folder(p) for p in args.inputs]
        labels = arm_labels([a.name for a in arms], args.inputs)
        default = f"compare-{arms[0].name}"
        arms = [dataclasses.replace(a, name=label) for a, label in zip(arms, labels)]
        check_pairing(arms)
        inputs = {"kind": "results folders", "folders": [str(p) for p in args.inputs]}
    elif not any(folders):
        arms, inputs, default = _run_scenarios(args)
    else:
        raise UsageError("give scenario files or results folders, not both")
    comparison = compare(arms, args.family)
    manifest = {"verb": "compare", "argv": args.argv, "inputs": inputs,
                "baseline": comparison.baseline, "replications": comparison.replications,
                "seeds": [{"replication": r, "seed": s} for r, s in arms[0].seeds],
                "wall_seconds": round(time.perf_counter() - began, 3)}
    target = target_folder(args.out, args.name or default,
                           "--name" if args.name else "the baseline's name")
    written = write_comparison(target, comparison, manifest, plots=not args.no_plots)
    if not args.quiet:
        print(format_comparison(comparison, every_kpi=args.all))
    print(f"comparison: {written}")
    return 0


def _run_scenarios(args: argparse.Namespace) -> tuple[list, dict, str]:
    """Load every scenario first, then run each with the baseline's seed and replications."""

    for flag in ("replications", "workers"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag} must be >= 1 (got {value})")
    base = load_scenario(args.inputs[0])
    n = args.replications or base.run.replications
    seed = base.run.seed if args.seed is None else args.seed
    if n < 2:
        raise UsageError("compare needs at least 2 replications (--replications): an "
                         "interval needs two")
    sets = [f"run.replications={n}", f"run.seed={seed}"]

    loaded = [load_with_sources(p, sets) for p in args.inputs]
    scenarios = [scenario for scenario, _ in loaded]
    for path, sc in zip(args.inputs, scenarios):
        plausible(path, sc)
    labels = arm_labels([s.name for s in scenarios], args.inputs)
    default = f"compare-{scenarios[0].name}"
    if args.name is None:
        target_folder(args.out, default, "the baseline's name")  # before running
    workers = args.workers or default_workers(n)
    with rows_scratch() as rows:  # each arm's rows on disk until its KPIs are taken
        arms = [arm_from_results(label, run_replications(s, n, workers=workers,
                                                         progress=False if args.quiet
                                                         else None, bottleneck=True,
                                                         rows=rows),
                                 target_values(s.targets))
                for s, label in zip(scenarios, labels)]
    files = [source.record() for _, sources in loaded for source in sources]
    return arms, {"kind": "scenario files", "files": files, "overrides": sets}, default
