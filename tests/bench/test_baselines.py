"""The two benchmark baselines (bench/naive_simpy.py, bench/heapq_loop.py) model the same line.

A speed comparison means nothing unless the contestants compute the same thing, so these
tests pin both baselines to exact expectations (the deterministic line, a shared sample
path) and to theory (renewal rate of one failing station), and check that independent
replications of the two agree statistically.
"""

from __future__ import annotations

import importlib.util
import math
import statistics
from types import ModuleType

import pytest
from paths import BENCH


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


naive = _load("naive_simpy")
heapq_loop = _load("heapq_loop")
MODELS = [naive, heapq_loop]


@pytest.mark.parametrize("model", MODELS, ids=["naive", "heapq"])
@pytest.mark.parametrize("stations", [1, 4, 20])
@pytest.mark.parametrize("days", [1.0, 1.5003])
def test_deterministic_line_fills_then_makes_one_per_cycle(
    model: ModuleType, stations: int, days: float
) -> None:
    """Without failures the k-th part (k >= 1) leaves station n at (n + k - 1) x 60 s.

    Station j finishes its first part at j x 60 s and then one every 60 s (equal cycles, so
    nobody blocks or starves after the fill). The horizon H is half-open, as SimPy's
    ``run(until=H)``: a completion at exactly H is not counted. Hence the count is
    #{k >= 1: (n + k - 1) 60 < H} = ceil(H / 60) - n, i.e. minutes minus n for a whole
    number of minutes (one less than "minutes minus (n - 1)", which would count the
    completion at H itself).
    """
    horizon = days * 86400.0
    expected = math.ceil(horizon / 60.0) - stations
    assert model.run(1, days, failures=False, stations=stations) == expected


@pytest.mark.parametrize("seed", [1, 2])
def test_both_follow_the_same_sample_path(seed: int) -> None:
    """Same per-station streams drawn in the same order: the counts are equal, exactly."""
    assert naive.run(seed, 4) == heapq_loop.run(seed, 4)


def test_one_failing_station_matches_renewal_theory() -> None:
    """A lone saturated station is a renewal process of job lengths D = 60 s + repairs.

    Failures come at rate 1/MTBF of operating time (memoryless), so the number of failures
    in a job is Poisson(lam = 60/MTBF); with preempt-resume D = 60 + sum of Exp(MTTR)
    repairs: E[D] = 60 + lam MTTR, Var[D] = lam 2 MTTR^2. Over H the count is approximately
    normal with mean H / E[D] and variance H Var[D] / E[D]^3. Preempt-repeat, or forgetting
    the failure clock, would move the mean by many standard deviations.
    """
    m = heapq_loop
    lam = m.CYCLE / m.MTBF
    mean_d = m.CYCLE + lam * m.MTTR
    var_d = lam * 2 * m.MTTR**2
    days = 200.0
    horizon = days * 86400.0
    sd = math.sqrt(horizon * var_d / mean_d**3)
    count = m.run(7, days, stations=1)
    assert abs(count - horizon / mean_d) < 4 * sd
    assert abs(count - horizon / m.CYCLE) > 10 * sd   # the failures do cost something


def test_independent_replications_agree() -> None:
    """Disjoint seeds: the mean throughputs differ by less than 4 standard errors.

    The standard error uses the pooled variance (under the hypothesis being tested, both
    samples come from the same distribution), so the few costly naive runs borrow the
    variance estimate of the many cheap heapq runs.
    """
    days = 4.0
    a = [naive.run(seed, days) for seed in range(100, 103)]
    b = [heapq_loop.run(seed, days) for seed in range(200, 230)]
    pooled = ((len(a) - 1) * statistics.variance(a) + (len(b) - 1) * statistics.variance(b)) / (
        len(a) + len(b) - 2
    )
    se = math.sqrt(pooled * (1 / len(a) + 1 / len(b)))
    assert se > 0
    assert abs(statistics.fmean(a) - statistics.fmean(b)) < 4 * se
    minutes = days * 1440
    assert statistics.fmean(b) < 0.99 * (minutes - 20)   # failures and blocking bite


def test_scenario_file_is_the_same_line() -> None:
    """bench/reference_line.yaml describes the line the baselines hard-code."""
    loader = pytest.importorskip("sim.spec.loader")
    sc = loader.load_scenario(BENCH / "reference_line.yaml")
    m = heapq_loop
    assert (sc.run.duration, sc.run.warmup, sc.run.seed, sc.run.replications) == (
        365 * 86400.0, 0.0, 1, 1)
    assert [s.kind for s in sc.sources.values()] == ["saturated"]
    assert len(sc.stations) == m.STATIONS and len(sc.sinks) == 1
    chain = [next(iter(sc.sources))]
    for _ in range(m.STATIONS + 1):
        (nxt,) = [b for b in sc.buffers.values() if b.from_ == (chain[-1],)]
        if nxt.to in sc.stations:
            assert nxt.capacity == (1 if len(chain) == 1 else m.CAPACITY)
        chain.append(nxt.to)
    assert chain[1:-1] == list(sc.stations) and chain[-1] in sc.sinks
    for st in sc.stations.values():
        assert (st.cycle.dist, st.cycle.value, st.servers) == ("deterministic", m.CYCLE, 1)
        f = st.failures
        assert (f.mode, f.uptime.dist, f.repair.dist) == ("operation", "exponential",
                                                          "exponential")
        assert (f.uptime.mean, f.repair.mean) == (m.MTBF, m.MTTR)
