"""Compare scenarios with paired confidence intervals (common random numbers).

Why paired: replication r of every scenario runs with the same root seed's r-th streams,
and streams are keyed by component name (docs/design.md §6), so two options that share most of
the plant draw the same failures, cycle times and routings there. The difference of a KPI,
replication by replication, then carries only the effect of the option, and its t interval
is far narrower than the one of two independent samples. Both are reported, so a reader
sees what pairing bought.

Significance: each (KPI, alternative) pair is a test of "mean difference = 0" by the paired
t test. The tests are corrected within the family of KPIs the reader chose (by default the
headline KPIs, `sim.analysis.kpi.is_headline`): Holm's step-down correction keeps the family-wise
error of those tests at 5%, and each gets its adjusted p-value. Correcting over every KPI
a run reports (dozens of station shares) would make nothing significant at n = 3; KPIs
outside the family are not tested (their raw p-values are still reported).

Inputs are "arms": the per-replication KPI values and daily output of one scenario, from
fresh runs (`arm_from_results`) or from a results folder (`arm_from_folder`). Arms pair only
when their seeds, replications and time windows are equal (`check_pairing`).
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.analysis.catalogue import is_headline
from sim.analysis.kpi import daily_counts, run_kpis
from sim.analysis.stats import (
    ci95,
    holm_adjusted,
    paired_diff,
    paired_p_value,
    t_quantile,
    t_quantiles,
    unpaired_half_width,
)
from sim.engine.calendar import Calendar
from sim.engine.records import RunResult
from sim.engine.run import working_mask
from sim.errors import ScenarioError, UsageError
from sim.results.stored import RunSummary, read_checked
from sim.spec.loader import load_scenario, read_yaml
from sim.spec.targets import parse_targets, target_values
from sim.spec.units import DAY

ALPHA = 0.05


@dataclass(frozen=True)
class Arm:
    """One scenario's results, replication by replication."""

    name: str
    seeds: tuple[tuple[int, int], ...]     # (replication, seed)
    start: dt.date
    warmup: float
    horizon: float
    kpis: dict[str, tuple[float, ...]]      # KPI -> value per replication
    daily: np.ndarray                       # [replications, days] good completions
    targets: dict[str, float] = field(default_factory=dict)  # meta.targets of the scenario
    working: np.ndarray | None = None       # [days] production days (None: every day)


@dataclass(frozen=True)
class KpiRow:
    """One KPI of one scenario, and its difference to the baseline."""

    kpi: str
    scenario: str
    mean: float
    half_width: float
    diff: float
    diff_half_width: float
    unpaired_half_width: float
    relative: float
    p_value: float          # the paired t test's, uncorrected
    tested: bool            # in the family corrected over (alternatives only)
    p_adjusted: float       # Holm-adjusted within the family; nan when not tested
    significant: bool       # p_adjusted <= 5%


@dataclass(frozen=True)
class PeriodRow:
    """Good completions in one month or ISO week: a scenario against the baseline."""

    period: str          # "month" | "week"
    label: str           # 2024-10 or 2024-W41
    first_day: dt.date
    scenario: str
    mean: float
    half_width: float
    diff: float
    diff_half_width: float
    unpaired_half_width: float


@dataclass(frozen=True)
class Curve:
    """Cumulative good completions of one scenario, day by day: mean and 95% band, and
    its cumulative difference to the baseline with the paired and unpaired half-widths."""

    scenario: str
    mean: np.ndarray
    half_width: np.ndarray
    daily_mean: np.ndarray
    diff: np.ndarray
    diff_half_width: np.ndarray
    unpaired_half_width: np.ndarray
    working: np.ndarray | None = None   # production days (None: every day)


@dataclass(frozen=True)
class Comparison:
    """Every scenario against the first (the baseline)."""

    baseline: str
    scenarios: tuple[str, ...]
    replications: int
    correction: str
    kpis: tuple[KpiRow, ...]
    periods: tuple[PeriodRow, ...]
    start: dt.date = dt.date(2024, 1, 1)
    curves: tuple[Curve, ...] = ()
    targets: dict[str, float] = field(default_factory=dict)

    def bottlenecks(self) -> dict[str, tuple[str, float]]:
        """Per scenario, the station with the largest sole bottleneck share (active-period
        method, `sim.analysis.bottleneck`); for arms read from folders written without it,
        the station working the largest share of its on-shift time."""
        out: dict[str, tuple[str, float]] = {}
        for name in self.scenarios:
            sole = {r.kpi.split(".")[1]: r.mean for r in self.kpis
                    if r.scenario == name and r.kpi.startswith("bottleneck.")
                    and r.kpi.endswith(".sole")}
            if sole:
                best = max(sole, key=lambda st: sole[st])
                out[name] = (best, sole[best])
                continue
            shares = on_shift_shares(self, name)
            if shares:
                best = max(shares, key=lambda st: shares[st]["working"])
                out[name] = (best, shares[best]["working"])
        return out

    def bottleneck_measure(self) -> str:
        """What `bottlenecks` ranks by: the active-period sole share, or (folders written
        without it) the working share of on-shift time."""
        if any(r.kpi.startswith("bottleneck.") for r in self.kpis):
            return "sole bottleneck share of on-shift time (active-period method)"
        return "working share of on-shift time"


def on_shift_shares(c: Comparison, scenario: str) -> dict[str, dict[str, float]]:
    """Station -> state -> mean share of the station's on-shift time (off shift removed)."""
    raw: dict[str, dict[str, float]] = {}
    for r in c.kpis:
        parts = r.kpi.split(".")
        if r.scenario == scenario and parts[0] == "station" and len(parts) == 3:
            raw.setdefault(parts[1], {})[parts[2]] = r.mean
    out = {}
    for station, states in raw.items():
        on = 1.0 - states.get("off_shift", 0.0)
        if on > 0:
            out[station] = {s: v / on for s, v in states.items() if s != "off_shift"}
    return out


def arm_from_results(name: str, results: Sequence[RunResult],
                     targets: dict[str, float] | None = None) -> Arm:
    """An arm from the records of fresh runs (`targets`: the scenario's meta.targets)."""
    r0 = results[0]
    per = [run_kpis(r) for r in results]
    keys = [k for k in per[0] if all(k in p for p in per)]
    return Arm(name, tuple((r.replication, r.seed) for r in results), r0.start, r0.warmup,
               r0.horizon, {k: tuple(p[k] for p in per) for k in keys},
               np.array([daily_counts(r).sum(axis=1) for r in results]), targets or {},
               r0.working_mask)


def arm_from_folder(folder: Path) -> Arm:
    """An arm from a results folder written by `run` (summary.json and daily.csv)."""
    summary_path, daily_path = folder / "summary.json", folder / "daily.csv"
    if not summary_path.is_file() or not daily_path.is_file():
        raise UsageError(f"{folder}: not a results folder (no summary.json and daily.csv)")
    summary = read_checked(RunSummary, summary_path)
    window = summary["window"]
    try:
        start = dt.date.fromisoformat(window["start"])
    except ValueError:
        raise UsageError(f"{summary_path}: window.start: expected an ISO date") from None
    seeds = tuple((int(r["replication"]), int(r["seed"])) for r in summary["runs"])
    kpis = {k: tuple(math.nan if v is None else float(v) for v in e["values"])
            for k, e in summary["kpis"].items()}
    days = max(1, math.ceil(window["horizon_s"] / DAY))
    daily = np.zeros((len(seeds), days))
    index = {rep: i for i, (rep, _) in enumerate(seeds)}
    with daily_path.open(encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), 2):
            try:
                day = (dt.date.fromisoformat(row["date"]) - start).days
                if not 0 <= day < days:
                    raise IndexError(day)
                daily[index[int(row["replication"])], day] += int(row["completed"])
            except (KeyError, TypeError, ValueError, IndexError):
                raise UsageError(f"{daily_path}: line {line}: expected a date in the run's "
                                 "window, a replication of summary.json and a whole number "
                                 "completed (a damaged or edited file?)") from None
    resolved = folder / "scenario.resolved.yaml"
    meta = read_yaml(resolved).get("meta") if resolved.is_file() else None
    return Arm(str(summary["scenario"]), seeds, start, float(window["warmup_s"]),
               float(window["horizon_s"]), kpis, daily, target_values(parse_targets(meta)),
               _working(resolved, float(window["horizon_s"])))


def _working(resolved: Path, horizon: float) -> np.ndarray | None:
    """The production days of a results folder's run calendar, from its resolved scenario
    (None when the folder has none or it no longer loads: every day then counts)."""

    if not resolved.is_file():
        return None
    try:
        sc = load_scenario(resolved)
    except ScenarioError:
        return None
    spec = sc.calendars.get(sc.run.calendar) if sc.run.calendar else None
    return working_mask(Calendar.build(spec, sc.run.start, horizon), horizon)


def arm_labels(names: Sequence[str], paths: Sequence[Path]) -> list[str]:
    """How the arms are told apart: their scenario names when these differ; else the
    folder or file names (`results/a`, `opt.yaml` -> `a`, `opt`); else the paths as given.
    The same input given twice cannot be told apart: a UsageError."""
    seen = [Path(p).resolve() for p in paths]
    for i, p in enumerate(seen):
        if p in seen[:i]:
            raise UsageError(f"{paths[i]} is given twice: compare needs different inputs")
    for labels in (list(names), [Path(p).stem if Path(p).suffix in (".yaml", ".yml")
                                 else Path(p).name for p in paths]):
        if len(set(labels)) == len(labels):
            return labels
    return [str(p) for p in paths]  # distinct: equal paths resolve alike, refused above


def check_pairing(arms: Sequence[Arm]) -> None:
    """Arms pair only with equal seeds, replications and windows; else a UsageError."""
    if len(arms) < 2:
        raise UsageError("compare needs at least two scenarios or results folders")
    base = arms[0]
    if len(base.seeds) < 2:
        raise UsageError("compare needs at least 2 replications: an interval needs two")
    for arm in arms[1:]:
        what = []
        if arm.seeds != base.seeds:
            what.append(f"seeds/replications {_seeds(arm)} vs {_seeds(base)}")
        if (arm.start, arm.warmup, arm.horizon) != (base.start, base.warmup, base.horizon):
            what.append(f"window {arm.start} +{arm.horizon / 86400:g} d (warm-up "
                        f"{arm.warmup:g} s) vs {base.start} +{base.horizon / 86400:g} d "
                        f"(warm-up {base.warmup:g} s)")
        if what:
            raise UsageError(f"{arm.name} does not pair with {base.name}: "
                             + "; ".join(what))


def _seeds(arm: Arm) -> str:
    return f"{len(arm.seeds)} replication(s) from seed {arm.seeds[0][1]}"


def family_of(patterns: str | None) -> tuple[Callable[[str], bool], str]:
    """(test, description) of the KPI family to correct over: `headline` (the default),
    `all`, or comma-separated KPI name patterns (fnmatch: `completed,completed.*`)."""
    if patterns in (None, "", "headline"):
        return is_headline, "the headline KPIs"
    if patterns == "all":
        return (lambda name: True), "every KPI"
    globs = [p.strip() for p in patterns.split(",") if p.strip()]
    return ((lambda name: any(fnmatch.fnmatchcase(name, g) for g in globs)),
            "the KPIs matching " + ", ".join(globs))


def compare(arms: Sequence[Arm], family: str | None = None) -> Comparison:
    """Every KPI and every month and week of each arm against the first arm; significance
    within the KPI `family` (see `family_of`)."""
    check_pairing(arms)
    base = arms[0]
    keys = [k for k in base.kpis if all(k in a.kpis for a in arms)]
    in_family, label = family_of(family)
    # a KPI that is 0 in every replication of every arm (a product nobody builds) has
    # nothing to test: it stays out of the family rather than diluting it with p = 1
    silent = {k for k in keys if all(v == 0 for a in arms for v in a.kpis[k])}
    raw = []
    for arm in arms:
        for k in keys:
            a, b = np.array(arm.kpis[k]), np.array(base.kpis[k])
            own, diff = ci95(a), paired_diff(a, b)
            alt = arm is not base
            raw.append((k, arm.name, own, diff, unpaired_half_width(a, b) if alt else math.nan,
                        paired_p_value(a - b) if alt else math.nan,
                        alt and in_family(k) and k not in silent))
    adjusted = holm_adjusted([p if tested else math.nan for *_, p, tested in raw])
    tests = sum(1 for *_, p, tested in raw if tested and not math.isnan(p))
    kpis = len({k for k, *_, p, tested in raw if tested and not math.isnan(p)})
    correction = (f"Holm step-down within {label}: {tests} tests ({kpis} KPIs x "
                  f"{len(arms) - 1} alternative(s)), family-wise error {ALPHA:.0%}; other "
                  "KPIs not tested")
    base_mean = {k: float(np.mean(base.kpis[k])) for k in keys}
    rows = tuple(
        KpiRow(k, name, own.mean, own.half_width, d.mean, d.half_width, unp,
               d.mean / abs(base_mean[k]) if base_mean[k] else math.nan, p, tested, adj,
               tested and adj <= ALPHA)
        for (k, name, own, d, unp, p, tested), adj in zip(raw, adjusted))
    return Comparison(base.name, tuple(a.name for a in arms), len(base.seeds), correction,
                      rows, _periods(arms), base.start, _curves(arms), base.targets)


def _curves(arms: Sequence[Arm]) -> tuple[Curve, ...]:
    """Cumulative output per day: each arm's t band and the paired band of its lead."""
    base = np.cumsum(arms[0].daily, axis=1)
    n = base.shape[0]
    t = t_quantile(0.975, n - 1)
    out = []
    for arm in arms:
        cum = np.cumsum(arm.daily, axis=1)
        d = cum - base
        va, vb = cum.var(axis=0, ddof=1) / n, base.var(axis=0, ddof=1) / n
        se2 = va + vb
        with np.errstate(divide="ignore", invalid="ignore"):
            df = np.where(se2 > 0, se2**2 / ((va**2 + vb**2) / (n - 1)), n - 1)
        out.append(Curve(arm.name, cum.mean(axis=0), t * cum.std(axis=0, ddof=1) / np.sqrt(n),
                         arm.daily.mean(axis=0), d.mean(axis=0),
                         t * d.std(axis=0, ddof=1) / np.sqrt(n),
                         t_quantiles(0.975, np.maximum(df, 1)) * np.sqrt(se2), arm.working))
    return tuple(out)


def _periods(arms: Sequence[Arm]) -> tuple[PeriodRow, ...]:
    base = arms[0]
    days = base.daily.shape[1]
    dates = [base.start + dt.timedelta(days=d) for d in range(days)]
    out = []
    for period, key in (("month", lambda d: d.strftime("%Y-%m")),
                        ("week", lambda d: f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}")):
        labels = [key(d) for d in dates]
        order = list(dict.fromkeys(labels))
        idx = np.array([order.index(lab) for lab in labels])
        sums = {a.name: np.stack([np.bincount(idx, weights=rep, minlength=len(order))
                                  for rep in a.daily]) for a in arms}
        first = {lab: dates[labels.index(lab)] for lab in order}
        for arm in arms:
            for j, lab in enumerate(order):
                a, b = sums[arm.name][:, j], sums[base.name][:, j]
                d = paired_diff(a, b)
                out.append(PeriodRow(period, lab, first[lab], arm.name, float(a.mean()),
                                     ci95(a).half_width, d.mean, d.half_width,
                                     unpaired_half_width(a, b) if arm is not base else math.nan))
    return tuple(out)
