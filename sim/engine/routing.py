"""Where a finished part goes: probabilistic splits, splits by product, learning curves.

Rules are resolved per part *type* once at build time (which rules can match), so the hot
path is a table look-up plus, only where there is a choice, one uniform draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.engine.buffer import Buffer


class Uniforms:
    """U(0,1) draws served from numpy blocks (docs/design.md §5 rule 6)."""

    __slots__ = ("buf", "i", "rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.buf: list[float] = []
        self.i = 0

    def draw(self) -> float:
        i = self.i
        if i >= len(self.buf):
            self.buf = self.rng.random(1024).tolist()
            i = 0
        self.i = i + 1
        return self.buf[i]


def learning_curve(initial: float, final: float, t0: float, over: float,
                   shape: str) -> Callable[[float], float]:
    """p(t) moving from `initial` at t0 to `final` over `over` seconds."""
    if shape == "linear":
        def p(t: float) -> float:
            if t <= t0:
                return initial
            if t >= t0 + over:
                return final
            return initial + (final - initial) * (t - t0) / over
    else:
        def p(t: float) -> float:
            if t <= t0:
                return initial
            return final + (initial - final) * math.exp(-3.0 * (t - t0) / over)
    return p


class Router:
    """Per-type rule tables: (target, p) with p a float, a curve, or None (remainder)."""

    __slots__ = ("fixed", "tables", "uniforms")

    def __init__(self, tables: list[list[tuple[Any, Any]]], uniforms: Uniforms) -> None:
        self.tables = tables
        self.uniforms = uniforms
        self.fixed = [t[0][0] if len(t) == 1 and t[0][1] is None else None for t in tables]

    def choose(self, ptype: int, t: float) -> Buffer:
        target = self.fixed[ptype]
        if target is not None:
            return target
        u = self.uniforms.draw()
        cum = 0.0
        rules = self.tables[ptype]
        for target, p in rules:
            if p is None:
                return target
            cum += p(t) if callable(p) else p
            if u < cum:
                return target
        return rules[-1][0]
