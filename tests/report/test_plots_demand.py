"""The order-book figure: planned, released, built per period and the backlog, from its table."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


def test_the_order_book_figure_is_drawn_from_its_table(tmp_path) -> None:
    from scenario_builder import line, run

    from sim.analysis.kpi import run_kpis
    from sim.report.plots_demand import backlog_table, plot_demand

    d = line(["60 s"], 1, duration="2 d")
    d["run"]["start"] = "2025-01-01"
    d["products"] = {"A": {}, "B": {}}
    d["sources"]["src"] = {"kind": "demand", "demand": {"periods": [
        {"from": "2025-01-01", "to": "2025-01-01", "quantities": {"A": 2000}},
        {"from": "2025-01-02", "to": "2025-01-02", "quantities": {"B": 1000}}]}}
    rs = [run(d, 0), run(d, 1)]
    t = backlog_table(rs)
    k = run_kpis(rs[0])
    assert list(t["planned"]) == [2000, 1000]
    assert t["released"].sum() == k["demand.released"]
    assert t["backlog"][-1] == k["demand.backlog_end"]
    assert plot_demand(rs, tmp_path / "d.png").stat().st_size > 10_000


def test_the_cumulative_order_book_spreads_each_period_over_its_working_days() -> None:
    import datetime as dt

    from sim.engine.records import DemandRecord
    from sim.report.plots_demand import cumulative_due

    start = dt.date(2025, 1, 6)  # a Monday
    book = DemandRecord("orders", ("A",), (start, start + dt.timedelta(days=7)),
                        (start + dt.timedelta(days=6), start + dt.timedelta(days=13)),
                        np.array([[500], [1000]]), np.zeros(0), np.zeros(0, np.int64),
                        np.zeros(1, np.int64))
    r = SimpleNamespace(demand=(book,), start=start,
                        working_mask=np.array(([True] * 5 + [False] * 2) * 2))
    due = cumulative_due(r, 14)
    assert due.tolist() == [100, 200, 300, 400, 500, 500, 500,
                            700, 900, 1100, 1300, 1500, 1500, 1500]
