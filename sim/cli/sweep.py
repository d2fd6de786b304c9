"""The `sweep` and `merge` verbs: run a sweep file (locally, on Dask, or one shard of it)
and join shards; exit 4 when runs failed (recorded in failures.csv), 2 on bad input."""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.effects import matrix
from sim.analysis.stats import ci95
from sim.errors import ScenarioError, Terminated, UsageError
from sim.experiments import sweep as sw
from sim.experiments.design import plan_sweep
from sim.experiments.executors import connect
from sim.experiments.progress import Progress
from sim.experiments.replications import default_workers
from sim.report.sweep import kpi_names, plot_kpis, publish
from sim.results.folder import ResultsWriter, check_output, prepare_dir, target_folder
from sim.results.manifest import git_revision, package_versions
from sim.results.stored import read_object
from sim.spec.plausibility import check_plausible, estimated_events

EXIT_OK, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_FAILED_RUNS = 0, 130, 143, 4


def add_parsers(verbs: argparse._SubParsersAction, debug: argparse.ArgumentParser) -> None:
    """The `sweep` and `merge` sub-commands."""
    p = verbs.add_parser("sweep", parents=[debug],
                         help="run a sweep file: factors x levels x replications")
    p.add_argument("file", type=Path, help="sweep YAML file")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="base directory of results (default: results/)")
    p.add_argument("--name", help="folder name (default: the sweep's name; with --shard, "
                                  "NAME-shard-I-of-N)")
    p.add_argument("--workers", "-w", type=int, help="local processes (default: one per CPU)")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="run on Dask: a scheduler address (tcp://host:8786) or local:N "
                        "(a local cluster of N worker processes)")
    p.add_argument("--shard", default="1/1", metavar="I/N",
                   help="run only slice I of N of the runs (merge the N folders after)")
    p.add_argument("--retry-failed", action="store_true",
                   help="rerun only the failed runs of the existing folder, then re-report")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    p.add_argument("--progress-every", type=float, default=30.0, metavar="SECONDS",
                   help="off a terminal, print progress at most this often (and every 10%%)")

    m = verbs.add_parser("merge", parents=[debug],
                         help="join the N shard folders of one sweep into one result")
    m.add_argument("shards", type=Path, nargs="+", help="shard folders (all N of them)")
    m.add_argument("--out", type=Path, default=Path("results"),
                   help="base directory of results (default: results/)")
    m.add_argument("--name", help="folder name (default: the sweep's name)")
    m.add_argument("--no-plots", action="store_true", help="skip the PNG figures")


MAX_SWEEP_EVENTS = 1e11  # events of one shard's runs (upper bound): ~4 days on one core


def _plausible(plan: Any, shard: Any) -> None:
    """Refuse a point the plausibility pass refuses (naming the point), and a shard whose
    runs add up to more than MAX_SWEEP_EVENTS events, before anything runs."""

    for point, scenario in zip(plan.points, plan.scenarios):
        refusals, _ = check_plausible(scenario)
        if refusals:
            where, message = refusals[0]
            raise ScenarioError(str(plan.file), f"point {point.index}", f"{where}: {message}")
    per_point = [estimated_events(scenario) for scenario in plan.scenarios]
    total = sum(per_point[p] for p, _ in shard.take(plan.runs))
    if total > MAX_SWEEP_EVENTS:
        raise ScenarioError(str(plan.file), "replications", (
            f"about {total:,.0f} events in {len(shard.take(plan.runs)):,} runs (an upper "
            f"bound), over the limit of {MAX_SWEEP_EVENTS:,.0f} for one sweep or shard; run "
            "it in shards (--shard i/N) or with fewer points or replications"))


def _manifest(plan: Any, folder: Path, args: argparse.Namespace, executor: str,
              done_now: int, found: int, wall: float, runs: dict[tuple[int, int], Any],
              shard: Any) -> dict[str, Any]:

    walls = [r.get("wall_seconds", math.nan) for r in runs.values()]
    return {
        "sweep": plan.spec.name, "fingerprint": plan.fingerprint,
        "files": [source.record() for source in plan.sources],
        "shard": str(shard), "executor": executor,
        "runs_in_shard": len(shard.take(plan.runs)), "runs_done_now": done_now,
        "runs_found_done": found,
        "failed": sum(1 for r in runs.values() if r.get("status") != "ok"),
        "events": sum(int(r.get("events", 0)) for r in runs.values()),
        "run_wall_seconds_mean": (sum(walls) / len(walls)) if walls else None,
        "wall_seconds": wall,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "git": git_revision(Path(__file__).resolve().parent),
        "argv": list(getattr(args, "argv", []) or []),
        "folder": str(folder),
    }


def cmd_sweep(args: argparse.Namespace) -> int:
    """Validate every point, open (or resume) the folder, run, store, report."""

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1 (got {args.workers})")
    if args.cluster and args.workers:
        raise UsageError("--workers is for local processes; a --cluster has its own workers")
    shard = sw.Shard.parse(args.shard)
    if args.name is not None:
        target_folder(args.out, args.name, "--name")
    plan = plan_sweep(args.file)
    _plausible(plan, shard)
    check_output(args.out)
    name = args.name or (plan.spec.name if shard.count == 1 else
                         f"{plan.spec.name}-shard-{shard.index}-of-{shard.count}")
    target_folder(args.out, name, "--name" if args.name else f"{args.file}: name")
    client = cluster = None
    if args.cluster:

        client, cluster = connect(args.cluster)
    try:
        ws = sw.open_workspace(args.out, name, plan, shard, args.retry_failed)
        runs = sw.todo(plan, ws, shard, args.retry_failed)
        mine = len(shard.take(plan.runs))
        found = mine - len(runs)
        if ws.resumed:
            print(f"{ws.folder}: resuming, {found} of {mine} runs already stored"
                  + (f"; retrying {len(runs)} failed" if args.retry_failed else ""),
                  file=sys.stderr)
        workers = 1 if client is not None else (args.workers or default_workers(len(runs)
                                                                                or 1))
        executor = (f"dask {args.cluster}" if client is not None else
                    "this process" if workers == 1 else f"{workers} local processes")
        progress = Progress(f"sweep {plan.spec.name}" + (f" shard {shard}" if shard.count > 1
                                                          else ""),
                            mine, found, every=args.progress_every, enabled=not args.quiet)
        wall0 = time.perf_counter()
        done_now = 0
        try:
            for record in sw.execute(plan, ws, runs, workers=workers, client=client):
                done_now += 1
                progress.update(record["status"] != "ok")
        except KeyboardInterrupt as stop:
            progress.close()
            how = "terminated (SIGTERM)" if isinstance(stop, Terminated) else "interrupted"
            print(f"{how}: {found + done_now} of {mine} runs are stored in "
                  f"{ws.folder}; rerun the same command to resume", file=sys.stderr)
            return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
        progress.close()
        stored = sw.records(ws.folder, ws.state)
        lost = [run for run in shard.take(plan.runs) if run not in stored]
        if lost:
            raise RuntimeError(f"{len(lost)} runs were not stored (e.g. {sw.key(*lost[0])}); "
                               "rerun the same command to run them")
        manifest = _manifest(plan, ws.folder, args, executor, done_now, found,
                             time.perf_counter() - wall0, stored, shard)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    if shard.count > 1:
        sw.write_json_atomic(ws.folder / sw.MANIFEST, manifest)
        failed = [r for r in stored.values() if r.get("status") != "ok"]
        _print_failures(failed)
        print(f"shard {shard} complete: {len(stored)} runs in {ws.folder} (merge the "
              f"{shard.count} shard folders with `merge`)")
        return EXIT_FAILED_RUNS if failed else EXIT_OK
    return _report(ws.folder, ws.state, stored, manifest, not args.no_plots)


def _report(folder: Path, state: dict[str, Any], stored: dict[tuple[int, int], Any],
            manifest: dict[str, Any], plots: bool, shown: Path | None = None) -> int:

    publish(folder, state, stored, manifest, plots)
    names = kpi_names(stored)
    failed = [r for r in stored.values() if r.get("status") != "ok"]
    if names:
        print(_table(state, stored, plot_kpis(state, names)[0]))
    _print_failures(failed)
    print(f"results written to {shown or folder}")
    return EXIT_FAILED_RUNS if failed else EXIT_OK


def _table(state: dict[str, Any], stored: dict[tuple[int, int], Any], kpi: str) -> str:
    """Per point: its levels and the KPI's mean ± 95% half-width."""


    factors = state["factors"]
    values = matrix(state["points"], stored, kpi, state["replications"])
    rows = [["point", *factors, kpi, "± 95%", "n"]]
    for p, row in zip(state["points"], values):
        e = ci95(row[~np.isnan(row)])
        rows.append([str(p["point"]), *(p["labels"][f] for f in factors),
                     f"{e.mean:,.6g}" if e.n else "n/a", "" if e.half_width != e.half_width
                     else f"{e.half_width:,.3g}", str(e.n)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def _print_failures(failed: list[dict[str, Any]]) -> None:
    if not failed:
        return
    print(f"{len(failed)} run(s) failed (failures.csv; rerun them with --retry-failed):",
          file=sys.stderr)
    for r in sorted(failed, key=lambda r: (r["point"], r["replication"]))[:10]:
        print(f"  point {r['point']} replication {r['replication']}: {r['message']}",
              file=sys.stderr)


def cmd_merge(args: argparse.Namespace) -> int:
    """Check the shards (all N, once each, one sweep), join them into a new folder."""

    if args.name is not None:
        target_folder(args.out, args.name, "--name")
    state, stored = sw.merge_inputs(list(args.shards))
    check_output(args.out)
    name = args.name or state["name"]
    target_folder(args.out, name, "--name" if args.name else
                  f"{args.shards[0] / sw.STATE}: name")
    target = prepare_dir(args.out, name)
    writer = ResultsWriter(target)  # a temporary folder, renamed into place when complete
    with writer as tmp:
        sw.copy_runs(stored, state, tmp)
        sw.write_json_atomic(tmp / sw.STATE, state)
        manifests = [read_object(folder / sw.MANIFEST) for folder in args.shards]
        manifest = {"sweep": state["name"], "fingerprint": state["fingerprint"],
                    "merged_from": [{"folder": str(f), "shard": m.get("shard"),
                                     "executor": m.get("executor"),
                                     "wall_seconds": m.get("wall_seconds")}
                                    for f, m in zip(args.shards, manifests)],
                    "files": manifests[0].get("files"), "versions": manifests[0].get("versions"),
                    "git": manifests[0].get("git"), "argv": list(getattr(args, "argv", []))}
        code = _report(tmp, state, stored, manifest, not args.no_plots, target)
    print(f"merged {len(args.shards)} shards into {writer.final}")
    return code
