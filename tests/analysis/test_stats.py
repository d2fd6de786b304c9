"""Confidence intervals: hand-computed values, edge cases and coverage by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis.stats import Estimate, ci95, paired_diff, summarise


def test_two_values_use_t_with_one_dof():
    e = ci95([0.0, 2.0])
    # mean 1, sd sqrt(2), t(0.975, 1) = 12.706 (tables): half = 12.706 * sqrt(2) / sqrt(2)
    assert e.mean == 1.0 and e.n == 2
    assert e.sd == pytest.approx(math.sqrt(2.0))
    assert e.half_width == pytest.approx(12.7062, abs=1e-4)
    assert (e.low, e.high) == pytest.approx((1.0 - 12.7062, 1.0 + 12.7062), abs=1e-4)


def test_five_values_against_table():
    e = ci95([1, 2, 3, 4, 5])
    # sd = sqrt(2.5); t(0.975, 4) = 2.7764 (tables)
    assert e.mean == 3.0
    assert e.half_width == pytest.approx(2.7764 * math.sqrt(2.5) / math.sqrt(5), rel=1e-4)


def test_constant_values_have_zero_width():
    e = ci95([4.0] * 6)
    assert e.half_width == 0.0 and e.low == e.high == 4.0


def test_one_value_has_no_width():
    e = ci95([7.5])
    assert e.mean == 7.5 and e.n == 1
    assert math.isnan(e.half_width) and math.isnan(e.sd)
    assert math.isnan(e.low) and math.isnan(e.high)


def test_no_values_and_nan_values():
    assert ci95([]).n == 0 and math.isnan(ci95([]).mean)
    assert math.isnan(ci95([1.0, float("nan"), 2.0]).mean)


def test_estimate_is_frozen():
    e = ci95([1.0, 2.0])
    with pytest.raises(AttributeError):
        e.mean = 3.0  # type: ignore[misc]
    assert isinstance(e, Estimate)
    assert set(e.as_dict()) == {"mean", "half_width", "low", "high", "sd", "n"}


def test_coverage_by_simulation():
    # 2000 intervals from n = 10 normal samples. The number covering the true mean is
    # Binomial(2000, 0.95): sd = sqrt(0.95 * 0.05 / 2000) = 0.0049, so +- 0.015 is about
    # 3 sd (a correct interval fails this with probability ~0.2%; the seed is fixed anyway).
    # A z interval (1.96 instead of t(0.975, 9) = 2.262) would cover only ~92%: outside.
    rng = np.random.default_rng(20240101)
    mu = 3.0
    samples = rng.normal(mu, 2.0, size=(2000, 10))
    covered = [(e.low <= mu <= e.high) for e in map(ci95, samples)]
    assert abs(np.mean(covered) - 0.95) <= 0.015


def test_summarise_across_replications():
    runs = [{"a": 1.0, "b": 10.0}, {"a": 3.0, "b": 10.0, "c": 5.0}]
    s = summarise(runs)
    assert list(s) == ["a", "b", "c"]
    assert s["a"].mean == 2.0 and s["a"].n == 2
    assert s["b"].half_width == 0.0
    assert s["c"].n == 1 and s["c"].mean == 5.0


def test_paired_diff_uses_differences():
    rng = np.random.default_rng(3)
    common = rng.normal(100.0, 10.0, 20)  # shared noise (common random numbers)
    a = common + 1.0 + rng.normal(0.0, 0.1, 20)
    b = common
    d = paired_diff(a, b)
    assert d.n == 20
    assert d.low <= 1.0 <= d.high
    assert d.half_width < 0.1 * ci95(a).half_width  # the shared noise cancels
    assert paired_diff([3.0, 5.0], [1.0, 2.0]).mean == pytest.approx(2.5)


def test_paired_diff_needs_equal_lengths():
    with pytest.raises(ValueError):
        paired_diff([1.0, 2.0], [1.0])


def test_unpaired_half_width_is_welchs_interval() -> None:
    from scipy import stats as st

    from sim.analysis.stats import unpaired_half_width

    a, b = [10.0, 12.0, 11.0, 13.0], [9.0, 9.5, 12.0, 8.0, 10.0]
    va, vb = np.var(a, ddof=1) / 4, np.var(b, ddof=1) / 5
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 4)
    assert unpaired_half_width(a, b) == pytest.approx(st.t.ppf(0.975, df) * np.sqrt(va + vb))
    assert unpaired_half_width([1.0, 1.0], [2.0, 2.0]) == 0.0


def test_paired_p_value_matches_scipys_paired_t_test() -> None:
    from scipy import stats as st

    from sim.analysis.stats import paired_p_value

    a, b = np.array([5.0, 6.1, 7.2, 6.0, 5.5]), np.array([4.8, 6.0, 6.6, 5.9, 5.0])
    assert paired_p_value(a - b) == pytest.approx(st.ttest_rel(a, b).pvalue)
    assert paired_p_value([0.0, 0.0, 0.0]) == 1.0
    assert paired_p_value([2.0, 2.0, 2.0]) == 0.0


def test_holm_rejects_step_down_and_never_more_than_its_level_allows() -> None:
    from sim.analysis.stats import holm

    # m = 4 at 0.05: thresholds 0.0125, 0.0167, 0.025, 0.05 in p order.
    assert holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert holm([0.001, 0.012, 0.02, 0.04]) == [True, True, True, True]
    assert holm([float("nan"), 0.01]) == [False, True]


def test_holm_adjusted_p_values_by_hand() -> None:
    from sim.analysis.stats import holm_adjusted

    # sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1, kept >= 0.06
    assert holm_adjusted([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjusted([0.5, 0.9]) == [1.0, 1.0]  # capped at 1
    out = holm_adjusted([float("nan"), 0.01])
    assert math.isnan(out[0]) and out[1] == 0.01  # nan does not count towards m


def test_the_working_day_mean_skips_weekends_and_shutdowns() -> None:
    from sim.analysis.stats import working_day_mean, working_line

    # two weeks: 100 a weekday, nothing at weekends; the average stays 100 on working days
    values = np.array(([100.0] * 5 + [0.0] * 2) * 2)
    working = values > 0
    mean = working_day_mean(values, working)
    assert np.all(mean[working] == 100.0) and np.all(np.isnan(mean[~working]))
    # the first working days average what there is: 10, 20 -> 10, 15
    assert working_day_mean(np.array([10.0, 20.0]), np.array([True, True]),
                            window=7).tolist() == [10.0, 15.0]
    # a window of 3: (1 + 2 + 3) / 3, (2 + 3 + 4) / 3
    assert working_day_mean(np.arange(1.0, 5.0), np.ones(4, bool), 3)[2:].tolist() == [2.0, 3.0]
    # the line joins a weekend, breaks at a gap of more than 4 days (a shutdown)
    work = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1], bool)
    xs, ys = working_line(np.arange(11.0), 2 * np.arange(11.0), work)
    assert np.array_equal(xs, [0.0, 1.0, 4.0, np.nan, 10.0], equal_nan=True)
    assert np.array_equal(ys, [0.0, 2.0, 8.0, np.nan, 20.0], equal_nan=True)
