"""Checks of the analytic formulas themselves: published values, hand-derived values, and
independent routes to the same number (closed form vs CTMC vs general line CTMC)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import ROOT

from sim.verify import theory
from sim.verify.theory import (
    availability,
    calendar_output,
    erlang_c,
    evaluate,
    exponential_line_throughput,
    hillier_boling,
    littles_law,
    mm1,
    mm1k,
    mm1k_probabilities,
    mmc,
    paced_line,
    saturated_machine_throughput,
    two_station_line,
    two_station_line_closed_form,
)

rates = st.floats(min_value=0.05, max_value=20.0)
loads = st.floats(min_value=0.01, max_value=0.98)


def assert_little(m: theory.QueueMetrics) -> None:
    assert littles_law(m.L, m.throughput, m.W) < 1e-12
    assert littles_law(m.Lq, m.throughput, m.Wq) < 1e-12 or m.Lq == m.Wq == 0


def test_availability() -> None:
    assert availability(7200, 1200) == pytest.approx(6 / 7)
    assert availability(math.inf, 600) == 1.0
    assert saturated_machine_throughput(60, 7200, 1200) == pytest.approx(6 / 7 / 60)
    with pytest.raises(ValueError):
        availability(0, 1)


def test_littles_law_gap() -> None:
    assert littles_law(2.0, 1.0, 2.0) == 0.0
    assert littles_law(0.0, 0.0, 0.0) == 0.0
    assert littles_law(2.2, 1.0, 2.0) == pytest.approx(0.2 / 2.2)


@given(loads, rates)
def test_mm1_closed_forms(rho: float, mu: float) -> None:
    lam = rho * mu
    m = mm1(lam, mu)
    assert m.L == pytest.approx(rho / (1 - rho), rel=1e-12)
    assert m.Lq == pytest.approx(rho**2 / (1 - rho), rel=1e-12)
    assert m.W == pytest.approx(1 / (mu - lam), rel=1e-12)
    assert m.Wq == pytest.approx(m.W - 1 / mu, rel=1e-9, abs=1e-12)
    assert (m.throughput, m.utilisation, m.p_block) == (lam, pytest.approx(rho), 0.0)
    assert_little(m)


def test_mm1_unstable_rejected() -> None:
    with pytest.raises(ValueError):
        mm1(1.0, 1.0)


@given(rates, rates, st.integers(min_value=1, max_value=60))
def test_mm1k_probabilities_and_little(lam: float, mu: float, K: int) -> None:
    p = mm1k_probabilities(lam, mu, K)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(p >= 0)
    m = mm1k(lam, mu, K)
    assert m.p_block == pytest.approx(p[K])
    assert m.throughput == pytest.approx(lam * (1 - p[K]))
    assert m.throughput == pytest.approx(mu * m.utilisation)     # flow balance
    assert 0 <= m.Lq <= m.L <= K
    assert_little(m)


def test_mm1k_balanced_hand_value() -> None:
    m = mm1k(1.0, 1.0, 5)                      # p_n = 1/6 for n = 0..5
    assert m.L == pytest.approx(2.5)
    assert m.throughput == pytest.approx(5 / 6)
    assert m.p_block == pytest.approx(1 / 6)


def test_mm1k_converges_to_mm1() -> None:
    big, inf = mm1k(0.8, 1.0, 400), mm1(0.8, 1.0)
    for f in ("throughput", "utilisation", "L", "Lq", "W", "Wq"):
        assert getattr(big, f) == pytest.approx(getattr(inf, f), rel=1e-9)
    assert mm1k(0.8, 1.0, 5).L < mm1k(0.8, 1.0, 10).L < inf.L


@given(loads, rates)
def test_mmc_one_server_is_mm1(rho: float, mu: float) -> None:
    a, b = mmc(rho * mu, mu, 1), mm1(rho * mu, mu)
    for f in ("throughput", "utilisation", "L", "Lq", "W", "Wq"):
        assert getattr(a, f) == pytest.approx(getattr(b, f), rel=1e-9)


def test_mmc_hand_derived_two_servers() -> None:
    # c = 2, a = 4/3: P0 = 1/(1 + 4/3 + (16/9)/(2 (1/3))) = 1/5, C = (8/3) P0 = 8/15,
    # Lq = C rho/(1-rho) = 16/15, W = Wq + 1/mu = 16/15 + 4/3 = 12/5.
    assert erlang_c(2, 4 / 3) == pytest.approx(8 / 15, rel=1e-12)
    m = mmc(1.0, 0.75, 2)
    assert m.Lq == pytest.approx(16 / 15, rel=1e-12)
    assert m.W == pytest.approx(2.4, rel=1e-12)
    assert m.utilisation == pytest.approx(2 / 3)


def test_mmc_hand_derived_verify_case() -> None:
    # c = 3, a = 2.4: sum_{k<3} a^k/k! = 6.28, a^3/3!/(1 - 0.8) = 11.52, C = 11.52/17.8.
    C = float(Fraction(1152, 1780))
    assert erlang_c(3, 2.4) == pytest.approx(C, rel=1e-12)
    assert mmc(0.04, 1 / 60, 3).Wq == pytest.approx(C / (3 / 60 - 0.04), rel=1e-12)


@given(st.integers(min_value=1, max_value=40), st.floats(min_value=0.01, max_value=0.99))
def test_erlang_c_recursion_matches_direct_sum(c: int, rho: float) -> None:
    a = rho * c
    terms = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    assert erlang_c(c, a) == pytest.approx(top / (terms + top), rel=1e-9)


@given(loads, rates, st.integers(min_value=1, max_value=20))
def test_mmc_little(rho: float, mu: float, c: int) -> None:
    assert_little(mmc(rho * c * mu, mu, c))


def test_two_station_classic_zero_buffer() -> None:
    for mu in (1.0, 1 / 60):
        assert two_station_line(mu, mu, 0).throughput == pytest.approx(2 / 3 * mu, rel=1e-12)


def line_metrics_from_general_chain(mu1: float, mu2: float, B: int) -> theory.LineMetrics:
    states, pi = theory.line_chain([mu1, mu2], [B])
    s1, s2, q = (np.array(col) for col in zip(*states))
    return theory.LineMetrics(
        throughput=mu2 * float(pi[s2 == theory.WORKING].sum()),
        mean_buffer=float(np.dot(q, pi)),
        p_starved2=float(pi[s2 == theory.STARVED].sum()),
        p_blocked1=float(pi[s1 == theory.BLOCKED].sum()),
    )


ratios = st.one_of(st.just(1.0), st.floats(min_value=0.1, max_value=0.999),
                   st.floats(min_value=1.001, max_value=10.0))


@settings(deadline=None)
@given(rates, ratios, st.integers(min_value=0, max_value=30))
def test_two_station_three_routes_agree(mu2: float, r: float, B: int) -> None:
    mu1 = r * mu2
    routes = (two_station_line(mu1, mu2, B), two_station_line_closed_form(mu1, mu2, B),
              line_metrics_from_general_chain(mu1, mu2, B))
    for f in ("throughput", "mean_buffer", "p_starved2", "p_blocked1"):
        values = [getattr(m, f) for m in routes]
        scale = mu2 if f == "throughput" else 1.0
        assert max(values) - min(values) <= 1e-9 * max(scale, abs(values[0]))
    assert exponential_line_throughput([mu1, mu2], [B]) == pytest.approx(
        routes[0].throughput, rel=1e-9)


@settings(deadline=None)
@given(rates, rates, st.integers(min_value=0, max_value=30))
def test_two_station_is_mm1k_with_k_b_plus_2(mu1: float, mu2: float, B: int) -> None:
    # The chain is birth-death on 0..B+2 (blocked = full): M/M/1/K with lam = mu1, K = B+2.
    line, q = two_station_line(mu1, mu2, B), mm1k(mu1, mu2, B + 2)
    assert line.throughput == pytest.approx(q.throughput, rel=1e-9)
    assert line.p_blocked1 == pytest.approx(q.p_block, rel=1e-9, abs=1e-15)
    assert 0 <= line.mean_buffer <= B


def test_two_station_large_buffer_limit() -> None:
    assert two_station_line(1.0, 2.0, 60).throughput == pytest.approx(1.0, rel=1e-12)
    assert two_station_line(2.0, 1.0, 60).p_starved2 == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n, published", [(2, 0.6667), (3, 0.5641), (4, 0.5148), (5, 0.4858)])
def test_hillier_boling_published(n: int, published: float) -> None:
    # Hillier & Boling (1967), Table: balanced exponential lines, no buffers, mu = 1.
    assert hillier_boling(n) == pytest.approx(published, abs=5e-5)


def test_hillier_boling_three_exact() -> None:
    assert hillier_boling(3) == pytest.approx(22 / 39, rel=1e-12)   # Hunt (1956)


small_lines = st.integers(min_value=1, max_value=4).flatmap(
    lambda n: st.tuples(st.lists(st.floats(0.2, 5.0), min_size=n, max_size=n),
                        st.lists(st.integers(0, 2), min_size=n - 1, max_size=n - 1)))


@settings(max_examples=40, deadline=None)
@given(small_lines)
def test_line_reversibility_and_bounds(line: tuple[list[float], list[int]]) -> None:
    # Reversibility (Yamazaki & Sakasegawa 1975; Muth 1979): the reversed line has the
    # same throughput. Throughput never exceeds the slowest station.
    mus, bufs = line
    th = exponential_line_throughput(mus, bufs)
    assert th == pytest.approx(exponential_line_throughput(mus[::-1], bufs[::-1]), rel=1e-9)
    assert 0 < th <= min(mus) * (1 + 1e-12)
    if bufs:
        more = [b + 1 if i == 0 else b for i, b in enumerate(bufs)]
        assert exponential_line_throughput(mus, more) >= th * (1 - 1e-12)


def test_line_input_errors() -> None:
    with pytest.raises(ValueError):
        exponential_line_throughput([1.0, 1.0], [])
    with pytest.raises(ValueError):
        exponential_line_throughput([1.0, 1.0], [math.inf])


@given(st.floats(1.0, 300.0), st.integers(1, 200), st.floats(60.0, 1e6), st.floats(0.0, 1e5))
def test_paced_line(takt: float, n: int, mtbf: float, mttr: float) -> None:
    m = paced_line(takt, n, mtbf, mttr)
    a = mtbf / (mtbf + mttr)
    assert m.throughput == pytest.approx(a / takt, rel=1e-12)
    assert m.mean_lead == pytest.approx(n * takt * (1 + mttr / mtbf), rel=1e-12)
    # Little: a saturated segment always holds n parts.
    assert m.throughput * m.mean_lead == pytest.approx(n, rel=1e-12)


def test_paced_line_without_failures() -> None:
    m = paced_line(60.0, 20, math.inf, 900.0)
    assert (m.throughput, m.mean_lead) == (1 / 60, 1200.0)


def test_calendar_output_counts_whole_cycles() -> None:
    assert calendar_output(20 * 15 * 3600, 60) == 18000
    assert calendar_output(119.0, 60) == 1


def test_evaluate_dispatches_and_rejects() -> None:
    assert evaluate({"case": "mm1", "lam": 0.5, "mu": 1.0}) == mm1(0.5, 1.0)
    assert evaluate({"case": "hillier_boling", "n": 2}) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="unknown theory case"):
        evaluate({"case": "nope"})


VERIFY = sorted((ROOT / "sim" / "verify" / "scenarios").glob("*.yaml"))


def test_verify_scenarios_exist() -> None:
    assert len(VERIFY) >= 9


@pytest.mark.parametrize("path", VERIFY, ids=lambda p: p.stem)
def test_verify_scenario_theory_evaluates(path: Path) -> None:
    meta = yaml.safe_load(path.read_text())["meta"]["theory"]
    result = evaluate(meta)
    value = result if isinstance(result, (int, float)) else result.throughput
    assert value > 0


@pytest.mark.parametrize("path", VERIFY, ids=lambda p: p.stem)
def test_verify_scenario_loads(path: Path) -> None:
    loader = pytest.importorskip("sim.spec.loader")
    scenario = loader.load_scenario(path)
    assert scenario.run.replications == 10
