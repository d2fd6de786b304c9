"""Named streams: reproducible, independent, stable under adding components (CRN)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from paths import ROOT

from sim.engine.streams import Streams, name_key


def draws(streams: Streams, component: str, purpose: str, n: int = 8) -> np.ndarray:
    return streams.rng(component, purpose).random(n)


def test_same_inputs_same_draws() -> None:
    a = draws(Streams(7, 2), "paint", "cycle")
    b = draws(Streams(7, 2), "paint", "cycle")
    assert np.array_equal(a, b)


def test_repeated_calls_restart_the_same_stream() -> None:
    s = Streams(7)
    assert np.array_equal(draws(s, "paint", "cycle"), draws(s, "paint", "cycle"))


@pytest.mark.parametrize(
    "other",
    [("body", "cycle"), ("paint", "failure"), ("cycle", "paint"), ("paintc", "ycle")],
)
def test_different_names_give_different_streams(other: tuple[str, str]) -> None:
    s = Streams(7)
    assert not np.array_equal(draws(s, "paint", "cycle"), draws(s, *other))


def test_adding_components_does_not_change_existing_streams() -> None:
    before = Streams(11, 0)
    mine = draws(before, "paint", "cycle", 100)
    after = Streams(11, 0)
    for name in ("a", "b", "new_station", "zzz"):
        after.rng(name, "cycle").random(1000)
    assert np.array_equal(draws(after, "paint", "cycle", 100), mine)


def test_replications_and_root_seeds_differ() -> None:
    base = draws(Streams(3, 0), "s1", "cycle")
    assert not np.array_equal(base, draws(Streams(3, 1), "s1", "cycle"))
    assert not np.array_equal(base, draws(Streams(4, 0), "s1", "cycle"))


def test_replication_is_the_root_seeds_child() -> None:
    child = np.random.SeedSequence(5).spawn(4)[3]
    ss = Streams(5, 3).seed_sequence("s1", "cycle")
    assert ss.entropy == child.entropy
    assert ss.spawn_key[:1] == child.spawn_key


def test_streams_look_independent() -> None:
    s = Streams(1)
    x = s.rng("s1", "cycle").random(20_000)
    y = s.rng("s2", "cycle").random(20_000)
    # correlation of independent uniforms has sd 1/sqrt(n) ~ 0.007
    assert abs(np.corrcoef(x, y)[0, 1]) < 5 / np.sqrt(20_000)


def test_name_key_is_stable_across_processes() -> None:
    code = "from sim.engine.streams import name_key; print(name_key('paint'))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "123"}, cwd=ROOT,
    )
    assert int(out.stdout) == name_key("paint")


def test_negative_seed_rejected() -> None:
    with pytest.raises(ValueError):
        Streams(-1)
