"""The `capacity` verb: the saturated rate of a scenario's plant for a mix, or a curve.

It answers "what can the plant build?" apart from "what does the book ask?": the
scenario's order source is replaced by one that always has orders due at the mix
(`sim.experiments.capacity`), and the output per working day over a window is printed
with its 95% interval over replications, the top bottleneck and how often no station
was active (supply or sequencing, not a station, holding output back). `--share R5=0.3:0.9:0.1`
gives a curve over one product's share; `--supply unlimited` the envelope of the line
and shops with every purchased part in plenty.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from pathlib import Path

from sim.analysis.bottleneck import kpi_shares, rank
from sim.analysis.kpi import run_kpis
from sim.analysis.stats import summarise
from sim.cli.common import plausible
from sim.errors import ScenarioError, UsageError
from sim.experiments.capacity import (
    Window,
    base_mix,
    check_window,
    saturated,
    share_curve,
)
from sim.experiments.replications import run_replications
from sim.spec.loader import load_scenario


def add_parser(verbs: argparse._SubParsersAction, debug: argparse.ArgumentParser) -> None:
    """The `capacity` sub-command."""
    p = verbs.add_parser("capacity", parents=[debug],
                         help="saturated output per working day for a mix (or a curve over "
                              "one product's share): the capacity envelope")
    p.add_argument("file", type=Path, help="scenario YAML file")
    p.add_argument("--from", dest="start", required=True, type=dt.date.fromisoformat,
                   help="first day of the measurement window (YYYY-MM-DD); the days "
                        "before it, from the run start, fill the plant")
    p.add_argument("--days", type=int, default=28, help="window length in days (default 28)")
    p.add_argument("--mix", help="product shares, e.g. R5=0.67,Scenic=0.33 (default: the "
                                 "order book's mix over the window)")
    p.add_argument("--share", metavar="PRODUCT=LO:HI:STEP",
                   help="a curve: PRODUCT's share from LO to HI, the others in proportion")
    p.add_argument("--supply", choices=("as-is", "unlimited"), default="as-is",
                   help="purchased parts as the scenario has them (default) or in plenty")
    p.add_argument("--replications", "-n", type=int, help="default: the scenario's")
    p.add_argument("--workers", "-w", type=int, help="processes")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="PATH=VALUE", help="override one field of the scenario")


def _mix(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--mix: expected PRODUCT=SHARE items separated by commas "
                             f"(got {item!r})") from None
    return out


def _shares(text: str) -> tuple[str, list[float]]:
    name, _, rng = text.partition("=")
    try:
        lo, hi, step = (float(x) for x in rng.split(":"))
    except ValueError:
        raise UsageError(f"--share: expected PRODUCT=LO:HI:STEP (got {text!r})") from None
    if not (0 <= lo <= hi <= 1 and step > 0) or (hi - lo) / step > 50:
        raise UsageError("--share: need 0 <= LO <= HI <= 1, STEP > 0, at most 50 points")
    n = math.floor((hi - lo) / step + 1e-9) + 1
    return name.strip(), [round(lo + i * step, 10) for i in range(n)]


def cmd_capacity(args: argparse.Namespace) -> int:
    """Build every saturated twin first (so a bad mix fails before any run), then run."""

    if args.days < 1 or (args.replications is not None and args.replications < 1):
        raise UsageError("--days and --replications must be >= 1")
    sc = load_scenario(args.file, list(args.overrides))
    plausible(args.file, sc)
    window = Window(args.start, args.days)
    try:
        check_window(sc, window)
        base = _mix(args.mix) if args.mix else base_mix(sc, window)
        mixes = [base]
        if args.share:
            product, shares = _shares(args.share)
            mixes = share_curve(base, product, shares)
        twins = [saturated(sc, m, window, args.supply == "unlimited") for m in mixes]
    except ScenarioError as err:  # an option or the scenario's order source
        if err.path.startswith("--"):
            raise UsageError(f"{err.path}: {err.message}") from None
        raise ScenarioError(str(args.file), err.path, err.message) from None
    n = args.replications or sc.run.replications
    end = window.start + dt.timedelta(days=window.days - 1)
    print(f"{sc.name}: saturated output {window.start} .. {end}, supply {args.supply}, "
          f"{n} replication(s), seed {sc.run.seed} (mean ± 95%)")
    labels = [", ".join(f"{p} {s:.2f}" for p, s in m.items() if s > 0) for m in mixes]
    width = max(len(x) for x in labels) + 2
    print(f"{'mix':<{width}}{'per working day':>18}{'per on-shift h':>16}  "
          f"{'bottleneck (sole)':<26}none active")
    for label, twin in zip(labels, twins):
        results = run_replications(twin, n, workers=args.workers, bottleneck=True)
        k = summarise([run_kpis(r) for r in results])
        top = rank(kpi_shares(k, lambda e: e.mean))[:1]
        where = f"{top[0]} {100 * k[f'bottleneck.{top[0]}.sole'].mean:.0f}%" if top else "-"
        none = k.get("bottleneck_none")
        day, hour = k["per_day"], k["jph_on_shift"]
        print(f"{label:<{width}}{_pm(day.mean, day.half_width):>18}"
              f"{_pm(hour.mean, hour.half_width):>16}  {where:<26}"
              f"{'' if none is None else format(100 * none.mean, '.0f') + '%'}")
    return 0


def _pm(mean: float, half: float) -> str:
    return f"{mean:,.1f}" + ("" if math.isnan(half) else f" ± {half:,.1f}")
