"""Samplers for the scenario's distributions, drawn from numpy in blocks.

Why: a station draws one cycle time per job, millions of times per run. A numpy call per
draw costs ~300 ns; drawing a block of 1024 values at once and serving them from a Python
list (``list.pop()`` on a reversed block) costs ~50 ns per draw, about 6x less (measured on
the 2-core reference machine, CPython 3.11, numpy 2.4). Deterministic times, the most
common case, never touch the generator at all.

Every sampler consumes its generator value by value in numpy's order, so the sequence of
draws for a given seed does not depend on the block size (each variate uses a fixed
number of generator outputs per value; the empirical sampler always draws with explicit
probabilities, one uniform per value, for that reason). A test checks this.

Specs are duck-typed (``.dist`` plus named float parameters, see docs/scenario-format.md);
a plain number is taken as a deterministic time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

DISTS = (
    "deterministic", "exponential", "uniform", "triangular", "normal",
    "lognormal", "gamma", "erlang", "weibull", "empirical",
)


class Sampler(Protocol):
    """What the engine needs from a sampler."""

    spec: Any
    mean: float

    def draw(self) -> float: ...


class Constant:
    """A deterministic 'sampler': draw() returns the value, no random numbers used."""

    __slots__ = ("mean", "spec", "value")

    def __init__(self, spec: Any, value: float) -> None:
        self.spec = spec
        self.value = float(value)
        self.mean = self.value

    def draw(self) -> float:
        """The constant value."""
        return self.value

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"


class BlockSampler:
    """Serves draws from a block of ``block`` numpy variates, refilled when empty."""

    __slots__ = ("_block", "_buf", "_fill", "mean", "spec")

    def __init__(self, spec: Any, mean: float, fill: Callable[[int], np.ndarray],
                 block: int = 1024) -> None:
        if block < 1:
            raise ValueError("block must be >= 1")
        self.spec = spec
        self.mean = float(mean)
        self._fill = fill
        self._block = int(block)
        self._buf: list[float] = []

    def draw(self) -> float:
        """The next value of the stream."""
        try:
            return self._buf.pop()
        except IndexError:
            self._buf = self._fill(self._block)[::-1].tolist()
            return self._buf.pop()

    def __repr__(self) -> str:
        return f"BlockSampler({getattr(self.spec, 'dist', '?')}, mean={self.mean!r})"


def _cv(spec: Any) -> float:
    """Coefficient of variation of a lognormal spec given by cv or by sd."""
    cv = getattr(spec, "cv", None)
    if cv is None:
        return float(spec.sd) / float(spec.mean)
    return float(cv)


def _weights(spec: Any) -> tuple[np.ndarray, np.ndarray]:
    """Values and normalised probabilities of an empirical spec."""
    values = np.asarray(spec.values, dtype=float)
    w = getattr(spec, "weights", None)
    p = np.ones(len(values)) if w is None else np.asarray(w, dtype=float)
    if len(p) != len(values) or len(values) == 0 or (p < 0).any() or p.sum() <= 0:
        raise ValueError("empirical: values and weights must be non-empty, same length, >= 0")
    return values, p / p.sum()


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _big_phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _clipped_normal_moments(m: float, sd: float) -> tuple[float, float]:
    """E[max(X, 0)] and E[max(X, 0)^2] for X ~ N(m, sd^2)."""
    if sd == 0:
        x = max(m, 0.0)
        return x, x * x
    a = m / sd
    e1 = m * _big_phi(a) + sd * _phi(a)
    e2 = (m * m + sd * sd) * _big_phi(a) + m * sd * _phi(a)
    return e1, e2


def _weibull_scale(spec: Any) -> float:
    return float(spec.mean) / math.gamma(1.0 + 1.0 / float(spec.shape))


def _kind(spec: Any) -> str:
    if isinstance(spec, (int, float)):
        return "number"
    dist = getattr(spec, "dist", None)
    if dist not in DISTS:
        raise ValueError(f"unknown dist {dist!r}; expected one of {', '.join(DISTS)}")
    return dist


def mean_of(spec: Any) -> float:
    """Analytic mean of the values a sampler of ``spec`` returns (normal: after clipping)."""
    kind = _kind(spec)
    if kind == "number":
        return float(spec)
    if kind == "deterministic":
        return float(spec.value)
    if kind == "uniform":
        return (float(spec.low) + float(spec.high)) / 2.0
    if kind == "triangular":
        return (float(spec.low) + float(spec.mode) + float(spec.high)) / 3.0
    if kind == "normal":
        return _clipped_normal_moments(float(spec.mean), float(spec.sd))[0]
    if kind == "empirical":
        values, p = _weights(spec)
        return float(values @ p)
    return float(spec.mean)


def variance_of(spec: Any) -> float:
    """Analytic variance of the values a sampler of ``spec`` returns."""
    kind = _kind(spec)
    if kind in ("number", "deterministic"):
        return 0.0
    if kind == "exponential":
        return float(spec.mean) ** 2
    if kind == "uniform":
        return (float(spec.high) - float(spec.low)) ** 2 / 12.0
    if kind == "triangular":
        a, c, b = float(spec.low), float(spec.mode), float(spec.high)
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0
    if kind == "normal":
        e1, e2 = _clipped_normal_moments(float(spec.mean), float(spec.sd))
        return max(e2 - e1 * e1, 0.0)
    if kind == "lognormal":
        return (float(spec.mean) * _cv(spec)) ** 2
    if kind == "gamma":
        return (float(spec.mean) * float(spec.cv)) ** 2
    if kind == "erlang":
        return float(spec.mean) ** 2 / int(spec.k)
    if kind == "weibull":
        k = float(spec.shape)
        g1, g2 = math.gamma(1.0 + 1.0 / k), math.gamma(1.0 + 2.0 / k)
        return _weibull_scale(spec) ** 2 * (g2 - g1 * g1)
    values, p = _weights(spec)
    mean = float(values @ p)
    return float(((values - mean) ** 2) @ p)


def _fill_function(spec: Any, kind: str, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    """A function n -> n variates of ``spec`` from ``rng``."""
    if kind == "exponential":
        mean = float(spec.mean)
        return lambda n: rng.exponential(mean, n)
    if kind == "uniform":
        low, high = float(spec.low), float(spec.high)
        return lambda n: rng.uniform(low, high, n)
    if kind == "triangular":
        low, mode, high = float(spec.low), float(spec.mode), float(spec.high)
        return lambda n: rng.triangular(low, mode, high, n)
    if kind == "normal":
        mean, sd = float(spec.mean), float(spec.sd)
        return lambda n: np.maximum(rng.normal(mean, sd, n), 0.0)
    if kind == "lognormal":
        sigma2 = math.log1p(_cv(spec) ** 2)
        mu, sigma = math.log(float(spec.mean)) - sigma2 / 2.0, math.sqrt(sigma2)
        return lambda n: rng.lognormal(mu, sigma, n)
    if kind in ("gamma", "erlang"):
        if kind == "gamma":
            cv2 = float(spec.cv) ** 2
            shape, scale = 1.0 / cv2, float(spec.mean) * cv2
        else:
            shape = float(int(spec.k))
            scale = float(spec.mean) / shape
        return lambda n: rng.gamma(shape, scale, n)
    if kind == "weibull":
        shape, scale = float(spec.shape), _weibull_scale(spec)
        return lambda n: scale * rng.weibull(shape, n)
    values, p = _weights(spec)
    return lambda n: rng.choice(values, n, p=p)


def make_sampler(spec: Any, rng: np.random.Generator | None,
                 block: int = 1024) -> Constant | BlockSampler:
    """A sampler for ``spec`` drawing from ``rng`` (unused, may be None, if deterministic)."""
    kind = _kind(spec)
    if kind == "number":
        return Constant(spec, float(spec))
    if kind == "deterministic":
        return Constant(spec, float(spec.value))
    if rng is None:
        raise ValueError(f"a {kind} sampler needs a random generator")
    return BlockSampler(spec, mean_of(spec), _fill_function(spec, kind, rng), block)
