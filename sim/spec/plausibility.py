"""A plausibility pass over a validated scenario: refuse what cannot give a meaningful
result in reasonable time or memory, warn on what is suspicious.

Why before running: a scenario that is valid field by field can still ask for a hundred
years, or for a billion events (a 1 ms cycle over a year), and the user learns it only
when the machine runs out of time or memory. An upper bound of the event count is cheap
to compute from the scenario alone: every station busy all the time at its fastest mean
cycle, every failure, every arrival or planned order. Refusals can be overridden with
`--force`; warnings never stop anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.spec.units import DAY

if TYPE_CHECKING:
    from sim.spec.scenario import Scenario

MAX_HORIZON = 100 * 365.25 * DAY   # s: a century of simulated time
MAX_EVENTS = 100_000_000               # per replication, ~5 minutes at 300,000 events/s


def _mean(spec: Any) -> float:
    """The smallest mean of a cycle (a table gives one mean per value, take the fastest)."""
    if hasattr(spec, "mean_value"):
        return float(spec.mean_value)
    means = [float(d.mean_value) for d in spec.values.values()]
    if spec.default is not None:
        means.append(float(spec.default.mean_value))
    return min(means) if means else float("inf")


def estimated_events(s: Scenario) -> float:
    """An upper bound of the events of one replication: jobs, failures, arrivals, orders."""
    horizon = s.run.horizon
    events = 0.0
    for st in s.stations.values():
        if st.paced is not None:
            events += horizon / st.paced.takt
        elif st.cycle is not None:
            events += st.servers * horizon / max(_mean(st.cycle), 1e-9)
        if st.failures is not None:
            events += 2 * st.servers * horizon / max(_mean(st.failures.uptime), 1e-9)
    for src in s.sources.values():
        if src.interarrival is not None:
            events += horizon / max(_mean(src.interarrival), 1e-9)
        for book in (src.plan, src.demand):
            for period in (book.periods if book is not None else ()):
                events += sum(period.quantities.values())
                events += sum(getattr(period, "per_day", {}).values()) * (
                    (period.to - period.from_).days + 1)
    return events


Finding = tuple[str, str]  # (field path, message)


def check_plausible(s: Scenario) -> tuple[list[Finding], list[Finding]]:
    """(refusals, warnings) for a validated scenario, each as (field path, message)."""
    refusals: list[Finding] = []
    warnings: list[Finding] = []
    if s.run.horizon > MAX_HORIZON:
        refusals.append(("run", (f"the horizon is {s.run.horizon / 86400 / 365.25:,.0f} "
                                "years; the limit is 100 years")))
    events = estimated_events(s)
    if events > MAX_EVENTS:
        refusals.append(("run", (f"about {events:,.0f} events per replication (an upper "
                                f"bound), over the limit of {MAX_EVENTS:,}; check the cycle "
                                "times and the horizon (or run with --force)")))
    for name, st in s.stations.items():
        if st.failures is not None and st.cycle is not None:
            up, cycle = _mean(st.failures.uptime), _mean(st.cycle)
            if up < cycle:
                warnings.append((f"stations.{name}.failures",
                                 (f"the mean up-time ({up:g} s) is shorter than a cycle "
                                 f"({cycle:g} s): most jobs will be interrupted")))
    if s.run.warmup > s.run.horizon / 2:
        warnings.append(("run.warmup", "more than half the run is discarded as warm-up"))
    return refusals, warnings
