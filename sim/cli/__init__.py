"""The command line: `python run_sim.py <verb> ...` (also the `douai-sim` console script).

Why: planners run scenarios from a shell or CI and must get either results or one clear
line saying what is wrong, never a traceback and never a half-written results folder
(docs/design.md §8). So every verb loads and validates everything first, runs, and only then
writes; scenario errors exit with status 2, unexpected ones with 3 (`--debug` re-raises),
Ctrl-C with 130.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sim
from sim.analysis.kpi import kpi_unit
from sim.cli import bottleneck as bottleneck_verb
from sim.cli import capacity as capacity_verb
from sim.cli import compare as compare_verb
from sim.cli import gate as gate_verb
from sim.cli import sweep as sweep_verb
from sim.engine.records import STATES
from sim.errors import ScenarioError, Terminated, UsageError
from sim.spec.units import DAY, format_duration

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED = 143  # SIGTERM, 128 + 15
EXIT_PIPE = 141  # the output's reader closed it (SIGPIPE), 128 + 13
EXIT_MEANINGLESS = 4  # --strict: a replication locked up or stalled


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its verbs."""
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks of unexpected errors")
    parser = argparse.ArgumentParser(
        prog="douai-sim", parents=[debug],
        description="Discrete-event production-line simulator driven by scenario YAML files.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {sim.__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    run = verbs.add_parser("run", parents=[debug], help="run a scenario's replications")
    run.add_argument("file", type=Path, help="scenario YAML file")
    run.add_argument("--replications", "-n", type=int, help="number of replications")
    run.add_argument("--seed", type=int, help="root seed (default: run.seed)")
    run.add_argument("--out", type=Path, default=Path("results"),
                     help="base directory of results (default: results/)")
    run.add_argument("--name", help="results folder name (default: scenario name)")
    _add_set(run)
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

    check = verbs.add_parser("check", parents=[debug],
                             help="load, validate and build a scenario without running it")
    check.add_argument("file", type=Path, help="scenario YAML file")
    _add_set(check)

    schema = verbs.add_parser("schema", parents=[debug],
                              help="print the JSON Schema of the scenario format")
    schema.add_argument("--out", type=Path, help="write the schema to this file")
    schema.add_argument("--sweep", action="store_true",
                        help="the JSON Schema of the sweep file format instead")

    validate = verbs.add_parser("validate", parents=[debug],
                                help="check the engine against analytic results")
    validate.add_argument("cases", nargs="*", metavar="CASE", help="case names (default: all)")
    validate.add_argument("--replications", "-n", type=int, help="replications per case")
    validate.add_argument("--workers", "-w", type=int, help="processes")

    calibrate = verbs.add_parser("calibrate", parents=[debug],
                                 help="fit scenario parameters to targets (calibration file)")
    calibrate.add_argument("file", type=Path, help="calibration YAML file")
    calibrate.add_argument("--workers", "-w", type=int, help="processes")
    calibrate.add_argument("--replications", "-n", type=int,
                           help="replications per iteration (default: the file's)")
    calibrate.add_argument("--dry-run", action="store_true",
                           help="print the iterations, do not write the calibrated file")
    compare_verb.add_parser(verbs, debug)
    gate_verb.add_parser(verbs, debug)
    bottleneck_verb.add_parser(verbs, debug)
    capacity_verb.add_parser(verbs, debug)
    sweep_verb.add_parsers(verbs, debug)
    return parser


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE", help="override one field, e.g. run.duration='2 d'")


def _positive(value: int | None, flag: str) -> None:
    if value is not None and value < 1:
        raise UsageError(f"{flag} must be >= 1 (got {value})")


def cmd_run(args: argparse.Namespace) -> int:
    """Load, run all replications, then write the results folder and print the summary."""
    from sim.spec.loader import load_with_sources, resolved_dict

    _positive(args.replications, "--replications")
    _positive(args.workers, "--workers")
    from sim.results.folder import check_output, target_folder

    if args.name is not None:
        target_folder(args.out, args.name, "--name")
    overrides = list(args.overrides)
    if args.replications is not None:
        overrides.append(f"run.replications={args.replications}")
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    scenario, sources = load_with_sources(args.file, overrides)
    plausible(args.file, scenario, args.force)
    from sim.experiments.replications import default_workers

    target = target_folder(args.out, args.name or scenario.name,
                           "--name" if args.name else f"{args.file}: name")
    n = scenario.run.replications
    workers = args.workers or default_workers(n)
    # One build per replication, none extra: in one process, replication 0 runs on the
    # model built here as the structural check; in parallel each worker builds its own
    # first thing, and a build error stops the pool before any simulation.
    first = _build_model(scenario, activity=True) if min(workers, n) == 1 else None
    check_output(args.out)

    from sim.analysis.kpi import run_kpis
    from sim.analysis.stats import summarise
    from sim.experiments.replications import run_manifest, run_replications
    from sim.report.run_folder import write_results

    began = time.perf_counter()
    results = run_replications(scenario, n, workers=workers,
                               progress=False if args.quiet else None, first=first,
                               bottleneck=True)
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
    troubled = _warn_stalls(results)
    return EXIT_MEANINGLESS if troubled and args.strict else EXIT_OK


def _warn_stalls(results: list[Any]) -> bool:
    """Print a warning naming the replications that locked up or stalled; True if any."""
    from sim.report.run_folder import _when

    locked = [r for r in results if r.lockup is not None]
    stalled = [r for r in results if r.stalls]
    for r in locked:
        lk = r.lockup
        since = (f"after {_when(r.start, lk.t_last)}" if len(r.completions)
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
              f"from {_when(results[0].start, longest.t_from)} (summary.json: stalls)",
              file=sys.stderr)
    return bool(locked or stalled)


def plausible(file: Path, scenario: Any, force: bool = False) -> None:
    """Warn on suspicious inputs; refuse implausible ones (ScenarioError) unless forced."""
    from sim.spec.plausibility import check_plausible

    refusals, warnings = check_plausible(scenario)
    for path, message in warnings:
        print(f"warning: {file}: {path}: {message}", file=sys.stderr)
    if refusals and not force:
        path, message = refusals[0]
        raise ScenarioError(str(file), path, message)


def format_summary(summary: dict[str, Any], start: Any = None) -> str:
    """Headline KPI table (mean, ± 95% half-width, unit) and one state row per station;
    with the run's start date, milestone days are also given as dates.

    Buffer levels and the per-station KPIs in full are in summary.json.
    """
    head = [(name, e) for name, e in summary.items()
            if not name.startswith(DETAIL) and not _zero_counter(name, e)]
    rows = [("KPI", "mean", "± 95%", "unit")]
    rows += [(name, _num(e.mean), "± " + _num(e.half_width), kpi_unit(name)) for name, e in head]
    text = _columns(rows, right={1})
    if start is not None:
        for name, e in head:
            if name.startswith("milestone.") and name.endswith(".day"):
                text += "\n" + _milestone_line(name, e, start)
    stations = _station_rows(summary)
    if stations:
        text += "\n\n" + _columns(stations, right=set(range(1, len(STATES) + 1)))
    waits: dict[str, list[str]] = {}
    for name, e in summary.items():
        parts = name.split(".", 3)
        if len(parts) == 4 and parts[0] == "station" and parts[2] == "waiting_for":
            waits.setdefault(parts[1], []).append(f"{parts[3]} {100 * e.mean:.1f}%")
    for station, items in waits.items():
        text += f"\n{station} waited (% of on-shift time) for: {', '.join(items)}"
    for name, e in summary.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "station" and parts[2] == "loaded":
            text += (f"\n{parts[1]}: {100 * e.mean:.1f}% of its positions loaded on shift "
                     "(a paced segment 'works' whenever it moves)")
    ranked = bottleneck_ranking(summary)
    if ranked:
        text += ("\n\nbottleneck (active-period method, % of on-shift time; "
                 "`bottleneck RUN_DIR` by shift and month):")
        for station, sole, shifting in ranked[:5]:
            text += (f"\n  {station:<22} sole {_pct(sole)}  shifting {_pct(shifting)}")
        if "bottleneck_none" in summary:
            text += (f"\n  {'(none active)':<22} {_pct(summary['bottleneck_none'])} "
                     "(the plan or the supply holds output back)")
    return text


def _pct(e: Any) -> str:
    hw = "" if e.half_width is None or math.isnan(e.half_width) else f" ± {100 * e.half_width:.1f}"
    return f"{100 * e.mean:5.1f}%{hw}"


def bottleneck_ranking(summary: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Stations by sole bottleneck share, then shifting (Roser's ranking), largest first."""
    from sim.analysis.bottleneck import kpi_shares, rank

    order = rank(kpi_shares(summary, lambda e: e.mean))
    return [(st, summary[f"bottleneck.{st}.sole"], summary[f"bottleneck.{st}.shifting"])
            for st in order]


DETAIL = ("station.", "buffer.", "little_gap", "bottleneck")  # in summary.json, not in the printed table


def _milestone_line(name: str, e: Any, start: Any) -> str:
    """`milestone r5_100k: 2025-11-21 (95% CI 2025-11-20 .. 2025-11-22)`, or why not."""
    import datetime

    label = name[len("milestone."):-len(".day")]
    if e.mean is None or math.isnan(e.mean):
        return f"milestone {label}: not reached in every replication"

    def date(days: float) -> str:
        return (start + datetime.timedelta(days=math.floor(days))).isoformat()
    if e.half_width is None or math.isnan(e.half_width):
        return f"milestone {label}: {date(e.mean)}"
    return f"milestone {label}: {date(e.mean)} (95% CI {date(e.low)} .. {date(e.high)})"


def _zero_counter(name: str, e: Any) -> bool:
    """An engine counter, or a product, that stayed at zero in every replication (noise in
    the table: products that build nothing, like purchased modules, stay out)."""
    return (name.startswith(("counter.", "completed.")) and e.mean == 0
            and not e.half_width)


def _station_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    """Station x state table of mean percentages of the station's *on-shift* time (so a
    bottleneck is not hidden by nights and weekends), then the off-shift share of all time
    (empty when no station KPIs)."""
    names = dict.fromkeys(k.split(".")[1] for k in summary
                          if k.startswith("station.") and k.count(".") == 2)
    if not names:
        return []
    on_states = [s for s in STATES if s != "off_shift"]
    rows = [("station (% of on-shift time)", *on_states, "off shift (% of all)")]
    for name in names:
        off = summary.get(f"station.{name}.off_shift")
        on = 1.0 - (off.mean if off is not None else 0.0)
        cells = []
        for state in on_states:
            est = summary.get(f"station.{name}.{state}")
            cells.append("" if est is None or on <= 0 else f"{100 * est.mean / on:.1f}")
        cells.append("" if off is None else f"{100 * off.mean:.1f}")
        rows.append((name, *cells))
    return rows


def _columns(rows: Sequence[tuple[str, ...]], right: set[int]) -> str:
    """Rows as aligned text columns (numbers right-aligned)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _num(x: float) -> str:
    """Four significant figures, plain notation for everyday magnitudes."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 1e-4):
        return f"{x:.3e}"
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def _build_model(scenario: Any, activity: bool = False) -> Any:
    """The model of replication 0 (building it runs the structural checks)."""
    from sim.engine.model import build

    return build(scenario, replication=0, activity=activity)


def cmd_check(args: argparse.Namespace) -> int:
    """Load, validate and build without running; print a one-line description."""
    from sim.spec.loader import load_scenario

    scenario = load_scenario(args.file, list(args.overrides))
    plausible(args.file, scenario)
    model = _build_model(scenario)
    horizon = getattr(model, "horizon", None)
    counts = ", ".join(_plural(len(getattr(scenario, kind)), kind[:-1])
                       for kind in ("stations", "buffers", "sources", "sinks"))
    print(f"OK: {scenario.name}: {counts}, horizon {_horizon(scenario, horizon)}")
    return EXIT_OK


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _horizon(scenario: Any, seconds: float | None) -> str:
    """The run length in readable units and its start date."""
    run = scenario.run
    if seconds is None:
        seconds = getattr(run, "duration", None)
    if seconds is None and getattr(run, "end", None) is not None:
        seconds = ((run.end - run.start).days + 1) * DAY
    text = "?" if seconds is None else format_duration(float(seconds))
    return f"{text} from {run.start}"


def cmd_schema(args: argparse.Namespace) -> int:
    """Print or write the JSON Schema (indent 2)."""
    from sim.spec.loader import scenario_schema
    from sim.spec.sweep import sweep_schema

    text = json.dumps(sweep_schema() if args.sweep else scenario_schema(), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"schema written to {args.out}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Run the analytic verification cases; exit 1 if any falls outside its interval."""
    from sim.verify import cases as verify

    _positive(args.replications, "--replications")
    _positive(args.workers, "--workers")
    if args.replications == 1:
        raise UsageError("--replications must be >= 2: a confidence interval needs two")
    unknown = sorted(set(args.cases) - set(verify.case_names()))
    if unknown:
        raise UsageError(f"unknown case(s) {', '.join(unknown)}; "
                         f"known: {', '.join(verify.case_names())}")
    results = verify.run_cases(names=args.cases or None, replications=args.replications,
                               workers=args.workers)
    print(verify.format_table(results))
    return EXIT_OK if all(c.within for c in results) else EXIT_FAIL


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the calibration file's parameters; exit 1 if they cannot meet the targets."""
    from sim.experiments.calibrate import run_command

    _positive(args.replications, "--replications")
    _positive(args.workers, "--workers")
    return run_command(args.file, workers=args.workers, replications=args.replications,
                       dry_run=args.dry_run)


COMMANDS = {"run": cmd_run, "check": cmd_check, "schema": cmd_schema, "validate": cmd_validate,
            "calibrate": cmd_calibrate, "compare": compare_verb.cmd_compare,
            "gate": gate_verb.cmd_gate, "bottleneck": bottleneck_verb.cmd_bottleneck,
            "capacity": capacity_verb.cmd_capacity, "sweep": sweep_verb.cmd_sweep,
            "merge": sweep_verb.cmd_merge}


def _on_sigterm(main_pid: int) -> Any:
    """A SIGTERM handler: in this process, raise Terminated (handled as Ctrl-C is); in a
    process forked from it that kept the handler, die of SIGTERM as by default."""
    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != main_pid:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated()

    return handler


def _pipe_closed() -> int:
    """The output's reader went away (`... | head`): say nothing more, and point stdout at
    /dev/null so that no flush at exit fails again (the recipe of Python's signal docs)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_PIPE


def entry() -> None:
    """Process entry point (`run_sim.py`, the `douai-sim` script): exit with main's status.

    SIGTERM is handled as Ctrl-C is (nothing partial written, workers stopped), with exit
    status 143. After either the process ends at once (`os._exit`): its workers are stopped
    and nothing partial was written, while the interpreter's exit hook would join the
    process pool's management thread, which can wait forever on a worker terminated
    mid-message."""
    signal.signal(signal.SIGTERM, _on_sigterm(os.getpid()))
    code = main()
    try:
        sys.stdout.flush()  # what is still buffered, while a closed pipe can be handled
    except BrokenPipeError:
        code = _pipe_closed()
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default sys.argv[1:]), run the verb, return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    debug = getattr(args, "debug", False)
    try:
        return COMMANDS[args.verb](args)
    except ScenarioError as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        print(f"error: {err.filename}: {err.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print("terminated (SIGTERM): nothing written", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("interrupted: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _pipe_closed()
    except Exception as err:
        if debug:
            raise
        message = " ".join(str(err).split()) or "(no message)"
        print(f"internal error: {type(err).__name__}: {message} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
