"""Verification: run the analytic scenarios and compare the engine with theory.

Why: a production-line model is only believable once it reproduces the cases whose answer
is known exactly. Each `Case` pairs a scenario of `sim/verify/scenarios/` with the measures to
check: a function extracting the simulated value from one `RunResult`, and the analytic
value from `sim.verify.theory` using the scenario's `meta.theory` parameters.

Acceptance rule. Replications are independent, so each measure gets its mean and Student t
interval across replications; the table shows the usual 95% half-width. A measure passes
when |mean - theory| <= t_q(n - 1) s / sqrt(n), the half-width at a level corrected for
multiple comparisons (Bonferroni): with m measures judged together at family level F
(default 95%), each uses q = 1 - (1 - F) / (2m). A plain 95% interval per measure would
flag one of ~30 correct measures by chance in three runs out of four; with the correction
a correct engine fails the whole table with probability at most 1 - F, while the interval
stays within ~2x the 95% one (t quantiles of 4.3 vs 2.26 at n = 10).

No other widening is applied, because no known bias is large enough to need one: the
scenarios start empty and discard a warm-up of 1-5 days, at least ~80 times the slowest
relaxation time among them (M/M/1 at rho = 0.8, about 1.5 h), so the initialisation bias
is negligible; the engine runs in continuous time (no discretisation); ratio estimators
(mean lead time over ~1e5 parts, L / (lambda W)) have biases of order 1/N, far below the
half-widths. Little's law is checked per replication as L / (lambda W) from the run
itself (theory 1); its edge terms (parts present at the window's ends) have mean zero in
steady state and their noise is inside the interval. Cases marked `exact` (deterministic,
e.g. shift-calendar output) must hit the theory value in every replication, exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.numbers import format_number
from sim.analysis.stats import ci95, t_quantile
from sim.engine.records import BufferRecord, RunResult, StationRecord
from sim.engine.run import run_once
from sim.experiments.replications import default_workers, process_pool
from sim.spec.loader import load_scenario
from sim.spec.units import DAY, HOUR
from sim.verify import theory

VERIFY_DIR = Path(__file__).resolve().parent / "scenarios"  # package data
FAMILY = 0.95

Extract = Callable[[RunResult], float]
Theory = Callable[[Mapping[str, Any]], float]


@dataclass(frozen=True)
class Measure:
    """One quantity checked: its label, how to read it off a run, and its theory value."""

    name: str
    extract: Extract
    theory: Theory


@dataclass(frozen=True)
class Case:
    """A verification scenario, its measures and its default number of replications."""

    name: str
    path: Path
    measures: tuple[Measure, ...]
    replications: int
    exact: bool = False
    params: Mapping[str, Any] | None = field(default=None, compare=False)

    def scenario(self) -> Any:
        """The loaded scenario (cached per process)."""
        return _scenario(str(self.path))

    def theory_params(self) -> Mapping[str, Any]:
        """The `meta.theory` mapping (or the replacement given in `params`)."""
        if self.params is not None:
            return self.params
        return dict(self.scenario().meta["theory"])


@dataclass(frozen=True)
class CaseResult:
    """One measure of one case: theory, simulated mean with its 95% half-width, verdict.

    `allowed` is the accepted |mean - theory| (the Bonferroni-corrected half-width; 0 for
    exact cases), and `within` the verdict.
    """

    case: str
    measure: str
    theory: float
    mean: float
    half_width: float
    n: int
    allowed: float
    within: bool


# -- extractors (one RunResult -> one number) ------------------------------------------


def throughput_per_hour(r: RunResult) -> float:
    """Good completions after warm-up per hour of the observed window."""
    return float(np.count_nonzero(r.done_mask())) / r.observed_seconds * HOUR


def lead_time(r: RunResult) -> float:
    """Mean release-to-done time (s) of the good parts completed after warm-up."""
    mask = r.done_mask()
    c = r.completions
    if not mask.any():
        return math.nan
    return float(np.mean(c.t_done[mask] - c.t_release[mask]))


def wip(r: RunResult) -> float:
    """Time-average number of parts in the system after warm-up."""
    return float(r.wip_mean)


def little_ratio(r: RunResult) -> float:
    """L / (lambda W) from the run itself: 1 when Little's law holds."""
    lam_w = throughput_per_hour(r) / HOUR * lead_time(r)
    return float(r.wip_mean) / lam_w if lam_w > 0 else math.nan


def loss_probability(r: RunResult) -> float:
    """Fraction of arrivals after warm-up lost at a full buffer: lost / (lost + released)."""
    total = r.lost + r.released
    return r.lost / total if total else math.nan


def completed(r: RunResult) -> float:
    """Good completions after warm-up (a count)."""
    return float(np.count_nonzero(r.done_mask()))


def _station(r: RunResult, name: str) -> StationRecord:
    for s in r.stations:
        if s.name == name:
            return s
    raise KeyError(f"no station {name!r} in the run of {r.scenario!r}")


def _buffer(r: RunResult, name: str) -> BufferRecord:
    for b in r.buffers:
        if b.name == name:
            return b
    raise KeyError(f"no buffer {name!r} in the run of {r.scenario!r}")


def state_fraction(station: str, state: str) -> Extract:
    """Fraction of the station's server time spent in `state` (summed over servers)."""

    def extract(r: RunResult) -> float:
        sec = _station(r, station).state_seconds
        total = sum(sec.values())
        return sec.get(state, 0.0) / total if total > 0 else math.nan

    return extract


def not_failed(station: str) -> Extract:
    """working / (working + failed): the availability of a machine that is never idle."""

    def extract(r: RunResult) -> float:
        sec = _station(r, station).state_seconds
        up, down = sec.get("working", 0.0), sec.get("failed", 0.0)
        return up / (up + down) if up + down > 0 else math.nan

    return extract


def failures_per_day(station: str) -> Extract:
    """Failures begun after warm-up per day of the observed window."""
    return lambda r: _station(r, station).failures / r.observed_seconds * DAY


def buffer_level(name: str) -> Extract:
    """Time-average level of a buffer after warm-up."""
    return lambda r: float(_buffer(r, name).mean_level)


# -- theory values from a case's `meta.theory` -----------------------------------------


def _metric(attr: str, scale: float = 1.0) -> Theory:
    """An attribute of `theory.evaluate(params)` (a QueueMetrics, LineMetrics...), scaled."""
    return lambda p: float(getattr(theory.evaluate(p), attr)) * scale


def _value(scale: float = 1.0) -> Theory:
    """`theory.evaluate(params)` itself (a number), scaled."""
    return lambda p: float(theory.evaluate(p)) * scale  # type: ignore[arg-type]


def _availability(p: Mapping[str, Any]) -> float:
    return theory.availability(float(p["mtbf"]), float(p["mttr"]))


def _failure_rate(p: Mapping[str, Any]) -> float:
    """Failures per day of a machine that is never idle: one per up-repair cycle."""
    return DAY / (float(p["mtbf"]) + float(p["mttr"]))


def _one(_p: Mapping[str, Any]) -> float:
    return 1.0


LITTLE = Measure("Little L/(lambda W)", little_ratio, _one)


def _case(name: str, measures: Iterable[Measure], replications: int,
          exact: bool = False) -> Case:
    return Case(name, VERIFY_DIR / f"{name}.yaml", tuple(measures), replications, exact)


def _availability_case(name: str) -> Case:
    return _case(name, [
        Measure("availability working/(working+failed)", not_failed("s1"), _availability),
        Measure("throughput [parts/h]", throughput_per_hour, _value(HOUR)),
        Measure("failures per day", failures_per_day("s1"), _failure_rate),
    ], 10)


CASES: dict[str, Case] = {c.name: c for c in (
    _availability_case("availability_operation"),
    _availability_case("availability_time"),
    _case("two_station_buffer", [
        Measure("throughput [parts/h]", throughput_per_hour, _metric("throughput", HOUR)),
        Measure("mean level of b12", buffer_level("b12"), _metric("mean_buffer")),
        Measure("P(s2 starved)", state_fraction("s2", "starved"), _metric("p_starved2")),
        Measure("P(s1 blocked)", state_fraction("s1", "blocked"), _metric("p_blocked1")),
        LITTLE,
    ], 10),
    _case("hillier_boling_3", [
        Measure("throughput [parts/h]", throughput_per_hour, _value(HOUR)),
        LITTLE,
    ], 10),
    _case("mm1", [
        Measure("L (mean in system)", wip, _metric("L")),
        Measure("W (mean lead time) [s]", lead_time, _metric("W")),
        Measure("utilisation", state_fraction("s1", "working"), _metric("utilisation")),
        Measure("Lq (mean queue)", buffer_level("queue"), _metric("Lq")),
        LITTLE,
    ], 10),
    _case("mm1k", [
        Measure("loss probability", loss_probability, _metric("p_block")),
        Measure("L (mean in system)", wip, _metric("L")),
        Measure("throughput [parts/h]", throughput_per_hour, _metric("throughput", HOUR)),
        LITTLE,
    ], 10),
    _case("mmc", [
        Measure("Lq (mean queue)", buffer_level("queue"), _metric("Lq")),
        Measure("L (mean in system)", wip, _metric("L")),
        Measure("W (mean lead time) [s]", lead_time, _metric("W")),
        LITTLE,
    ], 10),
    _case("paced_line", [
        Measure("throughput [parts/h]", throughput_per_hour, _metric("throughput", HOUR)),
        Measure("lead time in segment [s]", lead_time, _metric("mean_lead")),
        LITTLE,
    ], 10),
    _case("shift_calendar", [
        Measure("output [parts]", completed, _value()),
    ], 4, exact=True),
)}


def case_names() -> list[str]:
    """Names of the verification cases, in table order."""
    return list(CASES)


# -- running ---------------------------------------------------------------------------


@cache
def _scenario(path: str) -> Any:
    """The loaded scenario of a case file (once per process)."""

    return load_scenario(path)


def _replicate(name: str, replication: int) -> tuple[float, ...]:
    """Worker: one replication of a registered case, reduced to its measures' values."""

    case = CASES[name]
    result = run_once(case.scenario(), replication)
    return tuple(m.extract(result) for m in case.measures)


def simulate(cases: Sequence[Case], replications: int | None = None,
             workers: int | None = None) -> dict[str, np.ndarray]:
    """Values of every measure (rows: replications 0..n-1) of registered cases.

    Replication r of a case is `run_once(scenario, r)`, exactly as in
    `sim.experiments.replications.run_replications`; here all cases share one process pool and only the
    measures travel back, longest tasks first.
    """

    tasks = [(c.name, r) for c in cases for r in range(replications or c.replications)]
    workers = default_workers(len(tasks)) if workers is None else workers
    if workers == 1:
        values = [_replicate(*task) for task in tasks]
    else:
        order = sorted(range(len(tasks)), key=lambda i: -_cost(tasks[i][0]))
        with process_pool(workers) as pool:
            futures = {i: pool.submit(_replicate, *tasks[i]) for i in order}
            try:
                values = [futures[i].result() for i in range(len(tasks))]
            except BaseException:
                for f in futures.values():
                    f.cancel()
                raise
    out: dict[str, list[tuple[float, ...]]] = {c.name: [] for c in cases}
    for (name, _), row in zip(tasks, values):
        out[name].append(row)
    return {name: np.array(rows, dtype=float) for name, rows in out.items()}


def _cost(name: str) -> float:
    """Rough relative cost of one replication (for scheduling only)."""
    return {"mmc": 7.0, "mm1k": 3.0, "mm1": 2.5}.get(name, 1.0)


def judge(case: Case, values: np.ndarray, level: float) -> list[CaseResult]:
    """Compare a case's simulated values (replications x measures) with its theory.

    `level` is the two-sided confidence level of each measure's acceptance interval.
    """
    params = case.theory_params()
    results = []
    for j, m in enumerate(case.measures):
        col = values[:, j]
        est = ci95(col)
        th = m.theory(params)
        if case.exact:
            allowed = 0.0
            ok = bool(np.all(col == th))
        else:
            allowed = _half_width(col, level)
            ok = bool(abs(est.mean - th) <= allowed)
        hw = 0.0 if case.exact and np.all(col == col[0]) else est.half_width
        results.append(CaseResult(case.name, m.name, th, est.mean, hw, est.n, allowed, ok))
    return results


def _half_width(x: np.ndarray, level: float) -> float:
    """Two-sided t half-width at `level` (n - 1 degrees of freedom); nan if n < 2."""
    n = x.size
    if n < 2:
        return math.nan
    q = t_quantile(0.5 + level / 2, n - 1)
    return q * float(np.std(x, ddof=1)) / math.sqrt(n)


def bonferroni(family: float, m: int) -> float:
    """Per-measure level so that m intervals hold together with probability >= `family`."""
    return 1.0 - (1.0 - family) / max(m, 1)


def run_cases(names: Sequence[str] | None = None, replications: int | None = None,
              workers: int | None = None, family: float = FAMILY) -> list[CaseResult]:
    """Run the named cases (default: all) and judge them at family-wise level `family`."""
    unknown = sorted(set(names or ()) - set(CASES))
    if unknown:
        raise KeyError(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    if replications is not None and replications < 2:
        raise ValueError(f"an interval needs at least 2 replications (got {replications})")
    cases = [CASES[n] for n in (names or CASES)]
    values = simulate(cases, replications, workers)
    m = sum(len(c.measures) for c in cases if not c.exact)
    level = bonferroni(family, m)
    return [res for c in cases for res in judge(c, values[c.name], level)]


def with_params(case: Case, **changes: Any) -> Case:
    """The case judged against `meta.theory` with some parameters changed (power checks)."""
    return replace(case, params={**case.theory_params(), **changes})


# -- table -----------------------------------------------------------------------------


def format_table(results: Sequence[CaseResult]) -> str:
    """Aligned table: case, measure, theory, mean ± 95% half-width, relative error, verdict."""
    head = ("case", "measure", "theory", "simulated (95% CI)", "rel. error", "allowed", "")
    rows = [head]
    for r in results:
        rel = (r.mean - r.theory) / abs(r.theory) if r.theory else r.mean - r.theory
        rows.append((r.case, r.measure, format_number6(r.theory), f"{format_number6(r.mean)} ± {format_number6(r.half_width)}",
                     f"{rel:+.3%}", format_number6(r.allowed), "OK" if r.within else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
             for row in rows]
    fails = sum(not r.within for r in results)
    lines.append(f"{len(results) - fails} of {len(results)} measures within their intervals"
                 + (f"; {fails} FAIL" if fails else ""))
    return "\n".join(lines)


def format_number6(x: float) -> str:
    """Six significant figures: theory and simulation side by side need more than four."""
    return format_number(x, 6)
