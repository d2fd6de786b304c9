"""Planner figures: the tables behind them, exact on hand-made records; valid PNGs."""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np
import pytest
from factories import DAY, HOUR, make_result, random_result, station
from pictures import assert_png

from sim.analysis.production import (
    ALL,
    OFF_SHIFT,
    cumulative_table,
    group_table,
    monthly_table,
    shift_table,
)
from sim.engine.records import STATES, RunResult, frozen_array
from sim.report.plots_plan import has_plan, write_plan_plots

JAN30 = datetime.date(2024, 1, 30)


def with_shifts(r: RunResult, shifts: list[int], names: tuple[str, ...]) -> RunResult:
    """The result with completions labelled by shift index (-1 off shift)."""
    c = dataclasses.replace(r.completions, shift=frozen_array(shifts, "int8"))
    return dataclasses.replace(r, log=c, shift_names=names)


def grouped(r: RunResult, groups: dict[str, str]) -> RunResult:
    """The result with station groups set by name."""
    stations = tuple(dataclasses.replace(s, group=groups.get(s.name, "")) for s in r.stations)
    return dataclasses.replace(r, stations=stations)


# types: 0 = A/std, 1 = B/x, 2 = B/y; sinks: 0 = yard, 1 = scrap
REP0 = [(0, 0, 0.0, 0.5 * DAY), (0, 0, 0.0, 1.5 * DAY), (1, 0, 0.0, 2.2 * DAY),
        (2, 1, 0.0, 2.3 * DAY), (2, 0, 0.0, 4.9 * DAY)]
REP1 = [(0, 0, 0.0, 2.5 * DAY), (2, 0, 0.0, 3.5 * DAY), (1, 0, 0.0, 3.6 * DAY)]


@pytest.fixture
def two_reps() -> list[RunResult]:
    return [make_result(rows, start=JAN30, horizon=5 * DAY, replication=i)
            for i, rows in enumerate((REP0, REP1))]


def test_monthly_table_by_hand(two_reps: list[RunResult]) -> None:
    t = monthly_table(two_reps)
    # rep 0: Jan A=2, B=0; Feb A=0, B=2 (scrap excluded). rep 1: Jan nothing; Feb A=1, B=2.
    assert t["month"].tolist() == ["2024-01"] * 3 + ["2024-02"] * 3
    assert t["product"].tolist() == ["A", "B", ALL] * 2
    assert t["mean"].tolist() == [1.0, 0.0, 1.0, 0.5, 2.0, 2.5]
    assert t["min"].tolist() == [0, 0, 0, 0, 2, 2]
    assert t["max"].tolist() == [2, 0, 2, 1, 2, 3]


def test_cumulative_table_by_hand(two_reps: list[RunResult]) -> None:
    t = cumulative_table(two_reps)
    total = t["product"] == ALL
    assert t["date"][total].astype(str).tolist() == [
        "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-03"]
    # totals per day: rep 0 = 1, 1, 1, 0, 1 -> 1, 2, 3, 3, 4; rep 1 = 0, 0, 1, 2, 0 -> 0, 0, 1, 3, 3
    assert t["mean"][total].tolist() == [0.5, 1.0, 2.0, 3.0, 3.5]
    assert t["min"][total].tolist() == [0, 0, 1, 3, 3]
    assert t["max"][total].tolist() == [1, 2, 3, 3, 4]
    assert t["mean"][t["product"] == "A"][-1] == 1.5


def test_cumulative_end_equals_monthly_sum(two_reps: list[RunResult]) -> None:
    monthly, cumulative = monthly_table(two_reps), cumulative_table(two_reps)
    for product in ("A", "B", ALL):
        assert monthly["mean"][monthly["product"] == product].sum() == pytest.approx(
            cumulative["mean"][cumulative["product"] == product][-1])


def test_shift_table_by_hand() -> None:
    r = with_shifts(make_result(REP0, start=JAN30, horizon=3 * DAY), [0, 1, -1, 0, 1],
                    ("early", "late"))
    t = shift_table(r)
    assert t["shift"].tolist()[:3] == ["early", "late", OFF_SHIFT]
    grid = t["completed"].reshape(3, 3)
    # day 0: early; day 1: late; day 2: off shift (the scrap row is not counted; the row at
    # 4.9 days lies beyond the 3-day horizon and is counted on the last day, late)
    assert grid.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_shift_table_empty_without_shifts(two_reps: list[RunResult]) -> None:
    assert len(shift_table(two_reps[0])["date"]) == 0


def test_group_table_sums_seconds_over_the_group() -> None:
    stations = [station("a", working=30.0, starved=10.0), station("b", working=10.0,
                starved=50.0), station("c", working=5.0, failed=5.0)]
    r0 = grouped(make_result(stations=stations), {"a": "shop", "b": "shop"})
    r1 = grouped(make_result(stations=[station("a", working=40.0), station("b", working=60.0),
                                       station("c", working=10.0)]), {"a": "shop", "b": "shop"})
    t = group_table([r0, r1])
    frac = {(g, s): f for g, s, f in zip(t["group"], t["state"], t["fraction"])}
    assert frac[("shop", "working")] == pytest.approx((40 / 100 + 1.0) / 2)
    assert frac[("shop", "starved")] == pytest.approx(0.6 / 2)
    assert frac[("c", "working")] == pytest.approx(0.75) and frac[("c", "failed")] == 0.25
    assert t["stations"][t["group"] == "shop"][0] == 2
    assert len(t["group"]) == 2 * len(STATES)


def test_has_plan() -> None:
    assert has_plan({"sources": {"o": {"kind": "plan"}}})
    assert not has_plan({"sources": {"s": {"kind": "saturated"}}}) and not has_plan({})


def test_every_planner_png(tmp_path) -> None:
    results = []
    for i in range(2):
        r = random_result(i, n=1500, days=40)
        shifts = (np.arange(len(r.completions)) % 3 - 1).tolist()
        results.append(grouped(with_shifts(r, shifts, ("morning", "afternoon")),
                               {"s1": "shop", "s2": "shop"}))
    meta = {"targets": {"completed": {"value": 3000, "source": "report"}, "completed.A": 800}}
    paths = write_plan_plots(tmp_path, results, meta)
    assert [p.name for p in paths] == [
        "production_by_month.png", "cumulative_vs_target.png", "daily_by_shift.png",
        "group_utilisation.png", "buffer_levels.png"]
    for p in paths:
        assert_png(p)


def test_optional_figures_skipped(tmp_path) -> None:
    bare = make_result([], horizon=2 * DAY)
    paths = write_plan_plots(tmp_path, [bare])
    assert [p.name for p in paths] == ["production_by_month.png", "cumulative_vs_target.png"]
    for p in paths:
        assert_png(p)
    with pytest.raises(ValueError):
        write_plan_plots(tmp_path, [])


def test_one_day_run_draws(tmp_path) -> None:
    r = make_result([(0, 0, 0.0, 2 * HOUR)], horizon=DAY)
    for p in write_plan_plots(tmp_path, [r], {"targets": {"completed": 1}}):
        assert_png(p)


def test_results_folder_of_a_plan_scenario_has_the_planner_figures(tmp_path, monkeypatch) -> None:
    import sim.report.plots
    from sim.report.run_folder import write_results

    monkeypatch.setattr(sim.report.plots, "write_plots", lambda out, results: [])  # not tested here
    results = [random_result(i, n=300, days=5) for i in range(2)]
    resolved = {"name": "demo", "sources": {"o": {"kind": "plan"}},
                "meta": {"targets": {"completed": 500}}}
    out = write_results(tmp_path / "demo", results, resolved, {"scenario": "demo"})
    names = {p.name for p in out.iterdir()}
    assert {"production_by_month.png", "cumulative_vs_target.png", "buffer_levels.png"} <= names
    assert "daily_by_shift.png" not in names and "group_utilisation.png" not in names
    assert "production_by_month.png" in (out / "README.txt").read_text()
    plain = write_results(tmp_path / "plain", results, {"name": "plain"}, {"scenario": "p"})
    assert "production_by_month.png" not in {p.name for p in plain.iterdir()}

