"""Main effects, two-way tables and the factor ranking against paper arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.analysis import effects


def _points() -> list[dict]:
    levels = [("x", 1), ("x", 2), ("y", 1), ("y", 2)]
    return [{"point": i, "labels": {"a": a, "b": str(b)}, "numbers": {"a": None, "b": float(b)}}
            for i, (a, b) in enumerate(levels)]


def _runs(values: dict[tuple[int, int], float]) -> dict:
    return {k: {"status": "ok", "kpis": {"k": v}} for k, v in values.items()}


VALUES = {(0, 0): 1.0, (0, 1): 3.0, (1, 0): 3.0, (1, 1): 5.0,
          (2, 0): 5.0, (2, 1): 7.0, (3, 0): 7.0, (3, 1): 9.0}


def test_a_main_effect_is_the_t_interval_of_per_replication_level_means() -> None:
    points = _points()
    m = effects.matrix(points, _runs(VALUES), "k", 2)
    a = effects.main_effects(points, m, "a")
    # a = x: replication means (1+3)/2 = 2 and (3+5)/2 = 4 -> mean 3, sd sqrt(2), n 2
    half = stats.t.ppf(0.975, 1) * np.sqrt(2) / np.sqrt(2)
    assert [(lv.label, lv.mean, lv.n) for lv in a] == [("x", 3.0, 2), ("y", 7.0, 2)]
    assert a[0].low == pytest.approx(3 - half) and a[0].high == pytest.approx(3 + half)
    b = effects.main_effects(points, m, "b")
    assert [(lv.label, lv.x, lv.mean) for lv in b] == [("1", 1.0, 4.0), ("2", 2.0, 6.0)]
    assert effects.ranking(points, m, ["b", "a"]) == [("a", 4.0), ("b", 2.0)]
    rows, cols, table = effects.two_way(points, m, "a", "b")
    assert (rows, cols) == (["x", "y"], ["1", "2"])
    assert table.tolist() == [[2.0, 4.0], [6.0, 8.0]]


def test_failed_runs_are_left_out_not_counted_as_zero() -> None:
    points = _points()
    runs = _runs(VALUES)
    runs[(3, 1)] = {"status": "failed", "kpis": {}, "message": "locked up"}
    m = effects.matrix(points, runs, "k", 2)
    assert np.isnan(m[3, 1])
    y = effects.main_effects(points, m, "a")[1]
    assert y.mean == pytest.approx((6.0 + 7.0) / 2)  # replication 1 of y is point 2 alone


def test_a_continuous_factor_is_grouped_into_quantile_bins() -> None:
    x = np.linspace(0.0, 1.0, 20)
    points = [{"point": i, "labels": {"f": f"{v:.3f}"}, "numbers": {"f": float(v)}}
              for i, v in enumerate(x)]
    m = np.tile(2.0 * x[:, None], (1, 3))      # KPI = 2 x, the same in every replication
    levels = effects.main_effects(points, m, "f")
    assert len(levels) == effects.BINS
    for lv in levels:                           # a linear KPI: bin mean = 2 x bin centre
        assert lv.mean == pytest.approx(2 * lv.x)
    assert sum(1 for _ in levels) == 5
