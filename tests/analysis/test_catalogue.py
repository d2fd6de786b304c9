"""The KPI catalogue: every KPI a run reports has an entry, and each reader agrees with it."""

from __future__ import annotations

import pytest
from scenario_builder import line, run

from sim.analysis.catalogue import (
    UNKNOWN,
    in_summary,
    is_headline,
    kind_of,
    kpi_unit,
    lower_is_better,
)
from sim.analysis.kpi import run_kpis


@pytest.mark.parametrize(("name", "unit", "better", "headline"), [
    ("completed", "parts", "higher", True),
    ("completed.R5", "parts", "higher", True),
    ("per_day", "parts/working day", "higher", True),
    ("jph_on_shift", "parts/on-shift h", "higher", True),
    ("lead_time_p50_h", "h", "lower", True),
    ("lead_time_p95_h", "h", "lower", False),
    ("lead_time.R5.p50_h", "h", "lower", False),
    ("shift.night.jph", "parts/on-shift h", "higher", True),
    ("shift.night.completed", "parts", "higher", False),
    ("station.trim.blocked", "fraction", None, False),
    ("bottleneck.trim.sole", "fraction", None, False),
    ("bottleneck_none", "fraction", None, False),
    ("demand.backlog_end", "orders", "lower", True),
    ("demand.backlog_end.R5", "orders", "lower", False),
    ("milestone.r5_100k.day", "days from start", "lower", True),
    ("milestone.r5_100k.reached", "share of runs", "higher", False),
    ("reporting.q4.per_day", "parts/working day", "higher", True),
    ("counter.units_modules", "stock units", None, False),
    ("counter.rework", "parts", None, False),
    ("stall.hours", "h", "lower", False),
])
def test_an_entry_per_family(name: str, unit: str, better: str | None, headline: bool) -> None:
    kind = kind_of(name)
    assert (kind.unit, kind.better, kind.headline) == (unit, better, headline)
    assert kpi_unit(name) == unit and is_headline(name) == headline
    assert lower_is_better(name) == (better == "lower")


def test_every_kpi_of_a_real_run_is_in_the_catalogue() -> None:
    d = line(["50 s", "40 s"], duration="1 d")
    d["milestones"] = {"first_100": {"count": 100}}
    kpis = run_kpis(run(d))
    missing = [k for k in kpis if kind_of(k) is UNKNOWN]
    assert not missing and len(kpis) > 20


def test_answer_labels_name_the_product_and_the_milestone() -> None:
    assert kind_of("completed").label("completed") == "vehicles built"
    assert kind_of("completed.R5").label("completed.R5") == "built: R5"
    assert kind_of("milestone.a.b.day").label("milestone.a.b.day") == "date of milestone a.b"
    assert kind_of("lead_time_p50_h").label("lead_time_p50_h") is None


def test_the_summary_leaves_out_details_and_what_never_moved() -> None:
    assert in_summary("completed", 10.0, 1.0)
    assert not in_summary("station.s1.working", 0.5, 0.01)
    assert not in_summary("completed.modules", 0.0, 0.0)
    assert in_summary("completed.modules", 0.0, 0.5)  # zero on average only
    assert not in_summary("counter.rework", 0.0, None)
