"""Sequenced call-off: a kit part is released when its order's other part reaches a point."""

from __future__ import annotations

import numpy as np
import pytest
from scenario_builder import run

from sim.analysis.kpi import run_kpis


def _kit(lead: str = "0 s", rework: float = 0.0, duration: str = "1 d") -> dict:
    """Orders -> body line (s1 -> point -> s2) and packs (called off at `point`) -> marriage."""
    s1 = {"cycle": "5 min"}
    buffers = {
        "bodies": {"from": "src", "to": "s1", "capacity": "inf"},
        "point": {"from": "s1", "to": "s2", "capacity": "inf", "trace": True},
        "to_m": {"from": "s2", "to": "m", "capacity": 2},
        "pack_orders": {"from": "src", "to": "pk", "capacity": "inf", "trace": True},
        "packs": {"from": "pk", "to": "m", "capacity": "inf", "trace": True},
        "out": {"from": "m", "to": "yard", "capacity": "inf"},
    }
    if rework:  # a share of the bodies goes back to s1 and passes the point again
        s2 = {"cycle": "2 min", "route": [{"to": "bodies", "p": rework}, {"to": "to_m"}]}
        buffers["bodies"]["from"] = ["src", "s2"]
    else:
        s2 = {"cycle": "2 min"}
    return {
        "run": {"duration": duration, "start": "2025-01-01", "seed": 4},
        "sources": {"src": {"kind": "arrivals", "interarrival": "6 min",
                            "calloff": {"pack_orders": {"at": "point", "lead": lead}}}},
        "stations": {"s1": s1, "s2": s2, "pk": {"cycle": "1 min"},
                     "m": {"cycle": "1 min", "carrier": "to_m", "match": "order"}},
        "buffers": buffers,
    }


def _rises(r, name: str) -> np.ndarray:
    b = next(b for b in r.buffers if b.name == name)
    t, level = np.asarray(b.trace_t), np.asarray(b.trace_level)
    prev = np.concatenate([[0], level[:-1]])
    return t[level > prev]


def test_packs_are_called_off_the_moment_their_body_reaches_the_point() -> None:
    r = run(_kit())
    np.testing.assert_array_equal(_rises(r, "pack_orders"), _rises(r, "point"))
    assert len(_rises(r, "point")) > 200


def test_a_lead_delays_the_call_off_by_exactly_the_lead() -> None:
    r = run(_kit(lead="30 min"))
    bodies = _rises(r, "point")
    calls = _rises(r, "pack_orders")
    due = bodies[bodies + 1800.0 < r.horizon] + 1800.0
    np.testing.assert_allclose(calls, due, rtol=0, atol=1e-9)


def test_every_vehicle_gets_its_own_pack_and_the_pack_buffer_stays_short() -> None:
    r = run(_kit(duration="5 d"))
    k = run_kpis(r)
    assert k["counter.consumed"] == k["completed"]  # one pack absorbed per vehicle
    packs = next(b for b in r.buffers if b.name == "packs")
    assert packs.max_level <= 3  # packs exist only for bodies between the point and m


@pytest.mark.parametrize("p", [0.3])
def test_a_body_passing_the_point_twice_calls_off_one_pack(p: float) -> None:
    r = run(_kit(rework=p, duration="3 d"))
    calls = _rises(r, "pack_orders")
    passes = _rises(r, "point")
    assert len(calls) < len(passes)  # rework loops pass the point again
    k = run_kpis(r)
    assert k["counter.consumed"] == k["completed"]


def test_a_body_waiting_at_a_full_point_calls_off_its_pack() -> None:
    """The feeder of the point is a one-server line station without a calendar that blocks
    at the full point: its body reaches the point when it starts waiting there, so every
    body gets its pack (no lock-up). Such a station is not fused (its job end would block
    as at a plain buffer, unseen by the call-off): the same run either way."""
    from sim.engine.model import build
    from sim.engine.run import run_once
    from sim.engine.station import LineServer

    spec = _kit(duration="2 d")
    spec["buffers"]["point"]["capacity"] = 1
    spec["stations"]["s1"] = {"cycle": "3 min"}
    spec["stations"]["s2"] = {"cycle": "7 min"}  # slower: s1 blocks at the point
    from scenario_builder import scenario

    sc = scenario(spec)
    fused = build(sc, 0)
    assert not isinstance(fused.stations["s1"].servers[0], LineServer)
    r = run_once(sc, 0, model=fused)
    plain = run_once(sc, 0, model=build(sc, 0, fuse=False))
    k = run_kpis(r)
    assert r.lockup is None and k["completed"] > 300
    assert 0 <= k["counter.consumed"] - k["completed"] <= 1  # one pack in m at the end
    assert next(s for s in r.stations if s.name == "s1").state_seconds["blocked"] > 0
    np.testing.assert_array_equal(r.completions.t_done, plain.completions.t_done)
    np.testing.assert_array_equal(_rises(r, "pack_orders"), _rises(plain, "pack_orders"))
