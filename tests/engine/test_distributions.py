"""Samplers against theory: moments (checked against scipy.stats), reproducibility, blocks.

Tolerances: with n draws, the sample mean has standard error sqrt(var / n) and we accept
4 of them. The sample variance has standard error sqrt((mu4 - var^2) / n), mu4 the central
fourth moment (from scipy's raw moments); its sampling distribution is skewed for
heavy-tailed laws, so we accept 5 of them. Seeds are fixed, so the tests are deterministic;
the bounds say how unlikely a failure would be for a correct sampler and any seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from sim.engine.distributions import Constant, make_sampler
from sim.spec.dists import DistSpec

_ADAPTER = TypeAdapter(DistSpec)


def _spec(**fields: object):
    """A validated distribution model (`sim.spec.dists`), times given in seconds."""
    raw = {k: (f"{v} s" if k in ("mean", "sd", "low", "mode", "high", "value") else v)
           for k, v in fields.items()}
    if raw.get("values") is not None:
        raw["values"] = [f"{v} s" for v in raw["values"]]
    return _ADAPTER.validate_python(raw)

N = 200_000

SPECS = {
    "exponential": _spec(dist="exponential", mean=60.0),
    "uniform": _spec(dist="uniform", low=30.0, high=90.0),
    "triangular": _spec(dist="triangular", low=30.0, mode=45.0, high=90.0),
    "normal": _spec(dist="normal", mean=60.0, sd=30.0),
    "normal_heavy_clip": _spec(dist="normal", mean=10.0, sd=30.0),
    "lognormal": _spec(dist="lognormal", mean=60.0, cv=0.5),
    "lognormal_sd": _spec(dist="lognormal", mean=60.0, sd=30.0),
    "gamma": _spec(dist="gamma", mean=60.0, cv=0.7),
    "erlang": _spec(dist="erlang", mean=60.0, k=3),
    "weibull": _spec(dist="weibull", mean=60.0, shape=1.5),
    "empirical": _spec(dist="empirical", values=(30.0, 60.0, 120.0), weights=(1.0, 2.0, 1.0)),
    "empirical_equal": _spec(dist="empirical", values=(30.0, 60.0, 120.0), weights=None),
}


def raw_moments(spec) -> list[float]:
    """E[X^k], k = 1..4, independently of sim.engine.distributions (scipy or direct sums)."""
    if spec.dist == "empirical":
        v = np.asarray(spec.values)
        w = np.ones(len(v)) if spec.weights is None else np.asarray(spec.weights)
        w = w / w.sum()
        return [float((v**k) @ w) for k in range(1, 5)]
    if spec.dist == "normal":
        norm = stats.norm(spec.mean, spec.sd)
        return [norm.expect(lambda x, k=k: x**k, lb=0.0) for k in range(1, 5)]
    if spec.dist == "exponential":
        d = stats.expon(scale=spec.mean)
    elif spec.dist == "uniform":
        d = stats.uniform(loc=spec.low, scale=spec.high - spec.low)
    elif spec.dist == "triangular":
        width = spec.high - spec.low
        d = stats.triang((spec.mode - spec.low) / width, loc=spec.low, scale=width)
    elif spec.dist == "lognormal":
        cv = getattr(spec, "cv", None) or spec.sd / spec.mean
        s = math.sqrt(math.log(1 + cv * cv))
        d = stats.lognorm(s, scale=spec.mean / math.sqrt(1 + cv * cv))
    elif spec.dist == "gamma":
        d = stats.gamma(1 / spec.cv**2, scale=spec.mean * spec.cv**2)
    elif spec.dist == "erlang":
        d = stats.gamma(spec.k, scale=spec.mean / spec.k)
    else:
        d = stats.weibull_min(spec.shape, scale=spec.mean / math.gamma(1 + 1 / spec.shape))
    return [float(d.moment(k)) for k in range(1, 5)]


def reference(spec) -> tuple[float, float, float]:
    """Mean, variance and central fourth moment."""
    m1, m2, m3, m4 = raw_moments(spec)
    var = m2 - m1**2
    mu4 = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
    return m1, var, mu4


@pytest.mark.parametrize("name", SPECS)
def test_analytic_moments_match_scipy(name: str) -> None:
    spec = SPECS[name]
    mean, var, _ = reference(spec)
    assert spec.mean_value == pytest.approx(mean, rel=1e-7)
    assert spec.variance == pytest.approx(var, rel=1e-6)


@pytest.mark.parametrize("name", SPECS)
def test_sample_moments_within_standard_errors(name: str) -> None:
    spec = SPECS[name]
    sampler = make_sampler(spec, np.random.default_rng(12345))
    x = np.array([sampler.draw() for _ in range(N)])
    mean, var, mu4 = reference(spec)
    assert sampler.mean == pytest.approx(mean, rel=1e-7)
    assert (x >= 0).all()
    assert abs(x.mean() - mean) < 4 * math.sqrt(var / N)
    assert abs(x.var(ddof=1) - var) < 5 * math.sqrt((mu4 - var**2) / N)


def test_normal_clipping_puts_mass_at_zero() -> None:
    spec = SPECS["normal_heavy_clip"]
    sampler = make_sampler(spec, np.random.default_rng(3))
    x = np.array([sampler.draw() for _ in range(N)])
    p0 = stats.norm.cdf(0.0, spec.mean, spec.sd)
    assert abs((x == 0).mean() - p0) < 4 * math.sqrt(p0 * (1 - p0) / N)


def test_empirical_draws_only_listed_values_with_their_weights() -> None:
    spec = SPECS["empirical"]
    sampler = make_sampler(spec, np.random.default_rng(5))
    x = np.array([sampler.draw() for _ in range(N)])
    assert set(np.unique(x)) == {30.0, 60.0, 120.0}
    p = 0.5
    assert abs((x == 60.0).mean() - p) < 4 * math.sqrt(p * (1 - p) / N)


@pytest.mark.parametrize("name", SPECS)
def test_same_seed_same_sequence(name: str) -> None:
    a = make_sampler(SPECS[name], np.random.default_rng(99))
    b = make_sampler(SPECS[name], np.random.default_rng(99))
    c = make_sampler(SPECS[name], np.random.default_rng(100))
    xa = [a.draw() for _ in range(3000)]
    assert xa == [b.draw() for _ in range(3000)]
    assert xa != [c.draw() for _ in range(3000)]


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("block", [1, 7, 4096])
def test_block_size_does_not_change_the_sequence(name: str, block: int) -> None:
    ref = make_sampler(SPECS[name], np.random.default_rng(42))
    other = make_sampler(SPECS[name], np.random.default_rng(42), block=block)
    assert [ref.draw() for _ in range(2500)] == [other.draw() for _ in range(2500)]


def test_deterministic_never_touches_the_generator() -> None:
    rng = np.random.default_rng(1)
    state = rng.bit_generator.state
    sampler = make_sampler(_spec(dist="deterministic", value=60.0), rng)
    assert isinstance(sampler, Constant)
    assert [sampler.draw() for _ in range(10)] == [60.0] * 10
    assert sampler.mean == 60.0
    assert rng.bit_generator.state == state
    assert make_sampler(_spec(dist="deterministic", value=5.0), None).draw() == 5.0


def test_plain_number_is_deterministic() -> None:
    sampler = make_sampler(42.0, None)
    assert sampler.draw() == 42.0 and sampler.mean == 42.0


def test_unknown_dist_names_the_allowed_ones() -> None:
    with pytest.raises(ValidationError, match="exponential"):
        _spec(dist="poisson", mean=1.0)


def test_random_sampler_needs_a_generator() -> None:
    with pytest.raises(ValueError):
        make_sampler(SPECS["exponential"], None)


def test_spec_is_kept() -> None:
    spec = SPECS["gamma"]
    assert make_sampler(spec, np.random.default_rng(1)).spec is spec


YAML_SPECS = [
    "60 s",
    {"dist": "exponential", "mean": "1 min"},
    {"dist": "uniform", "low": "30 s", "high": "90 s"},
    {"dist": "triangular", "low": "30 s", "mode": "45 s", "high": "90 s"},
    {"dist": "normal", "mean": "10 s", "sd": "30 s"},
    {"dist": "lognormal", "mean": "60 s", "sd": "30 s"},
    {"dist": "gamma", "mean": "60 s", "cv": 0.7},
    {"dist": "erlang", "mean": "60 s", "k": 3},
    {"dist": "weibull", "mean": "60 s", "shape": 1.5},
    {"dist": "empirical", "values": ["30 s", "60 s", "120 s"], "weights": [1, 2, 1]},
]


@pytest.mark.parametrize("raw", YAML_SPECS, ids=str)
def test_samples_the_validated_scenario_models(raw: object) -> None:
    spec = _ADAPTER.validate_python(raw)
    expected = spec.value if spec.dist == "deterministic" else reference(spec)[0]
    assert spec.mean_value == pytest.approx(expected, rel=1e-7)
    sampler = make_sampler(spec, np.random.default_rng(8))
    assert sampler.draw() >= 0.0 and sampler.spec is spec
