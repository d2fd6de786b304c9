"""`own_methods` gives each engine class its own copy of the methods it inherits: same
behaviour, separate code objects (so CPython's specialising caches are not shared)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from paths import TESTS

from sim.engine.buffer import Buffer
from sim.engine.calloff import WatchedBuffer
from sim.engine.kernel import Timed
from sim.engine.machine import Machine
from sim.engine.paced import PacedLine
from sim.engine.percls import own_methods
from sim.engine.source import Port, TimedPort
from sim.engine.station import LineServer, Server
from sim.engine.stock import StockPort


@pytest.mark.pure
def test_code_replace_makes_a_new_code_object():
    """What the whole module relies on: if a CPython returned the same object, every
    class would share its caches again, silently. Fail loudly instead."""
    code = Machine.begin.__code__
    assert code.replace() is not code
    assert code.replace() == code  # same code, only a distinct object


@pytest.mark.pure
def test_engine_classes_have_their_own_copies():
    pairs = [(Server, Machine, "begin"), (PacedLine, Machine, "begin"),
             (LineServer, Timed, "_by_simpy"), (LineServer, Machine, "finish"),
             (WatchedBuffer, Buffer, "take"), (WatchedBuffer, Buffer, "_traced"),
             (Port, TimedPort, "_sleep"), (StockPort, TimedPort, "_sleep")]
    for cls, base, name in pairs:
        mine, theirs = getattr(cls, name), getattr(base, name)
        assert mine is not theirs and mine.__code__ is not theirs.__code__, (cls, name)
        assert mine.__code__ == theirs.__code__ and mine.__qualname__ == theirs.__qualname__
        assert mine.__doc__ == theirs.__doc__
    assert Server.begin.__code__ is not PacedLine.begin.__code__


def test_overrides_are_kept_and_the_mro_decides():
    assert Server.fire.__qualname__ == "Server.fire"
    assert LineServer.fire.__qualname__ == "LineServer.fire"
    assert LineServer.released.__qualname__ == "LineServer.released"
    assert WatchedBuffer.put.__qualname__ == "WatchedBuffer.put"


class _Base:
    def __repr__(self) -> str:
        return "base"

    def hello(self, x: int = 2, *, y: int = 3) -> str:
        return f"base {x} {y}"

    def twice(self) -> int:
        return 2 * self.value()

    def value(self) -> int:
        return 1


class _Middle(_Base):
    def hello(self, x: int = 2, *, y: int = 3) -> str:
        return "middle " + super().hello(x, y=y)

    @property
    def prop(self) -> int:
        return 7


@own_methods
class _Leaf(_Middle):
    def value(self) -> int:
        return 5


def test_copies_behave_as_the_originals():
    leaf = _Leaf()
    assert leaf.hello() == "middle base 2 3"  # zero-argument super() as in the original
    assert leaf.hello(4, y=9) == "middle base 4 9"  # defaults and keyword defaults kept
    assert leaf.twice() == 10  # a copy still dispatches on the instance
    assert leaf.prop == 7  # properties are inherited as they are, not copied
    assert _Leaf.hello is not _Middle.hello and _Leaf.twice is not _Base.twice
    assert "value" in vars(_Leaf) and _Leaf.value.__qualname__ == "_Leaf.value"
    assert "prop" not in vars(_Leaf)
    assert "__repr__" not in vars(_Leaf) and repr(leaf) == "base"  # dunders are not copied


_RUN = """
import sys
from scenario_builder import line, run
from sim.engine.station import Server
d = line([{"cycle": {"dist": "exponential", "mean": "50 s"}}, "55 s"], caps=[1, 3],
         duration="8 h", source={"kind": "arrivals",
                                 "interarrival": {"dist": "exponential", "mean": "45 s"}})
print("begin" in vars(Server), run(d).completions.t_done.tobytes().hex())
"""


def test_switched_off_there_are_no_copies_and_the_same_results():
    tests = str(TESTS)
    out = {}
    for flag in ("1", "0"):
        env = {**os.environ, "DOUAI_SIM_PERCLS": flag, "PYTHONPATH": tests}
        res = subprocess.run([sys.executable, "-c", _RUN], env=env, capture_output=True,
                             text=True, check=True)
        copied, digest = res.stdout.split()
        out[flag] = (copied, digest)
    assert out["1"][0] == "True" and out["0"][0] == "False"
    assert out["1"][1] == out["0"][1] and len(out["1"][1]) > 1000
