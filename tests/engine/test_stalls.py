"""Lock-ups and stalls are reported, with time and place; healthy runs report none."""

from __future__ import annotations

import types

import pytest
from paths import DOUAI, ROOT
from scenario_builder import DAY, HOUR, deadlocking_loop, line, run

from sim.analysis.kpi import run_kpis
from sim.cli import main
from sim.cli.common import EXIT_MEANINGLESS


def test_a_deadlocked_loop_is_reported_with_its_time_and_place() -> None:
    r = run(deadlocking_loop())
    lk = r.lockup
    assert lk is not None and lk.wip > 0
    last = r.completions.t_done.max() if len(r.completions) else 0.0
    assert lk.t_last == last and lk.hours == pytest.approx((2 * DAY - last) / HOUR)
    stuck = " | ".join(lk.stuck)
    assert "s1: blocked, holding a finished part for the full buffer b1" in stuck
    assert "s2: blocked, holding a finished part for the full buffer b0" in stuck
    assert run_kpis(r)["lockup"] == 1


def test_strict_makes_a_lockup_exit_4_and_it_is_a_warning_otherwise(tmp_path, capsys) -> None:
    import yaml

    path = tmp_path / "loop.yaml"
    path.write_text(yaml.safe_dump({"name": "loop", "sinks": {"yard": {}}, **deadlocking_loop()}))
    out = str(tmp_path / "out")
    assert main(["run", str(path), "--out", out, "-q", "-n", "2", "-w", "1"]) == 0
    assert "warning: replication 0 locked up" in capsys.readouterr().err
    assert main(["run", str(path), "--out", out, "-q", "-n", "2", "-w", "1",
                 "--strict"]) == EXIT_MEANINGLESS == 4


def test_a_supply_stop_is_a_stall_that_recovers_not_a_lockup() -> None:
    # Modules stop for 2 days (48 on-shift hours, 24/7): the assembly holds bodies and
    # builds nothing, then catches up.
    d = {
        "run": {"duration": "6 d", "start": "2025-01-01"},
        "products": {"car": {}, "module": {}},
        "sources": {"src": {"kind": "arrivals", "interarrival": "10 min",
                            "mix": {"car": 1.0}},
                    "sup": {"kind": "arrivals", "interarrival": "1 h", "batch": 10,
                            "mix": {"module": 1.0}}},
        "stations": {"asm": {"cycle": "1 min", "carrier": "bodies",
                             "consume": {"stock": 1}}},
        "buffers": {"bodies": {"from": "src", "to": "asm", "capacity": "inf"},
                    "stock": {"from": "sup", "to": "asm", "capacity": 20, "kind": "stock"},
                    "out": {"from": "asm", "to": "yard", "capacity": "inf"}},
        "changes": {"stop": {"from": "2025-01-03", "set": {"sources.sup.active": False}},
                    "restart": {"from": "2025-01-05", "set": {"sources.sup.active": True}}},
    }
    r = run(d)
    assert r.lockup is None
    assert len(r.stalls) == 1
    s = r.stalls[0]
    assert 2 * DAY <= s.t_from + 3 * HOUR and s.t_to >= 4 * DAY  # around the stop
    assert 40 <= s.hours <= 50


def test_an_idle_plant_waiting_for_orders_does_not_stall() -> None:
    # One order a day on a fast line: long gaps between completions, but nothing inside.
    r = run(line(["1 min"], 1, duration="10 d",
                 source={"kind": "arrivals", "interarrival": "1 d"}))
    assert r.stalls == () and r.lockup is None


_ROOT = ROOT
SHIPPED = sorted(p for d in (_ROOT / "scenarios" / "examples", _ROOT / "sim" / "verify" / "scenarios")
                 for p in d.glob("*.yaml")
                 if p.name != "calibration_example.yaml")  # a calibration file, not a scenario


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_no_shipped_example_locks_up_or_stalls(path) -> None:
    from sim.engine.run import run_once
    from sim.spec.loader import load_scenario

    r = run_once(load_scenario(path), 0)
    assert r.lockup is None and r.stalls == ()


def test_a_kit_with_pack_rework_and_a_small_pack_buffer_locks_and_says_where() -> None:
    # Packs failing their test go back to the pack line's queue, behind later packs: the
    # pack buffer (2 places) fills with packs of later bodies while the assembly waits for
    # the head body's pack, stuck behind the blocked pack line. Locks within the hour.
    d = {"run": {"duration": "10 d", "start": "2025-01-01", "seed": 1},
         "sources": {"src": {"kind": "arrivals",
                             "interarrival": {"dist": "exponential", "mean": "6 min"}}},
         "stations": {"s1": {"cycle": "5 min"},
                      "pk": {"cycle": "2 min", "route": [{"to": "rework", "p": 0.3},
                                                         {"to": "pb"}]},
                      "fix": {"cycle": {"dist": "exponential", "mean": "10 min"}},
                      "asm": {"cycle": "1 min", "carrier": "b1", "match": "order"}},
         "buffers": {"bodies": {"from": "src", "to": "s1", "capacity": "inf"},
                     "b1": {"from": "s1", "to": "asm", "capacity": 5},
                     "packs": {"from": ["src", "fix"], "to": "pk", "capacity": "inf"},
                     "rework": {"from": "pk", "to": "fix", "capacity": "inf"},
                     "pb": {"from": "pk", "to": "asm", "capacity": 2},
                     "out": {"from": "asm", "to": "yard", "capacity": "inf"}}}
    r = run(d)
    assert r.lockup is not None and r.lockup.t_last < HOUR
    stuck = " | ".join(r.lockup.stuck)
    assert "asm: starved, waiting for pb (order" in stuck
    assert "pk: blocked, holding a finished part for the full buffer pb" in stuck
    assert "buffer pb: full (2 of 2)" in stuck


@pytest.mark.slow
def test_the_douai_pack_buffer_limited_to_20_no_longer_locks_with_the_call_off() -> None:
    # Issue 9's recipe locked the plant when packs were called off on a timer; with the
    # just-in-sequence call-off a pack exists only once its body is past paint.
    from sim.engine.run import run_once
    from sim.spec.loader import load_scenario

    path = DOUAI / "2024.yaml"
    r = run_once(load_scenario(path, ["buffers.pack_buffer.capacity=20"]), 0)
    assert r.lockup is None


@pytest.mark.parametrize("chunk", [1, 3, 40])
def test_gaps_are_found_slice_by_slice_as_one_pass_would(chunk: int) -> None:
    """StallFold takes the completion log in slices (as the tally does); any slicing finds
    the gaps a plain loop over consecutive completions finds, across slice edges too."""
    import numpy as np

    from sim.engine.stalls import StallFold, lockup

    rng = np.random.default_rng(7)
    t_done = np.cumsum(rng.exponential(600.0, 40))
    t_release = t_done - rng.uniform(0.0, 3000.0, 40)
    fold = StallFold(None, 1200.0)
    for a in range(0, 40, chunk):
        fold.add(t_done[a:a + chunk], t_release[a:a + chunk])
    want = [(max(t_done[i], t_release[i + 1]), t_done[i + 1]) for i in range(39)
            if t_done[i + 1] - max(t_done[i], t_release[i + 1]) >= 1200.0]
    assert want and [(s.t_from, s.t_to) for s in fold.stalls] == want
    assert fold.prev == t_done[-1]
    model = types.SimpleNamespace(horizon=float(t_done[-1]) + 1199.0,
                                  wip=types.SimpleNamespace(n=3))
    assert lockup(model, fold, float(t_done[-1])) is None  # 1199 s < 1200 s: not yet
