"""Golden counts: regression guards for the hot loop, not evidence of correctness.

docs/design.md §5: "Same seed, same streams: a refactor of the hot loop must reproduce vehicle
counts exactly, not only within noise. Keep such golden counts as regression tests."
The numbers in GOLDEN were recorded from the engine at commit 721c034 (sim/engine as of
"Engine: a cycle stream per distinct distribution"). They say nothing about whether the
engine is right; that is what the theory and exact-arithmetic tests (tests/engine:
test_machine, station, paced, source, properties; tests/verify/test_cases) are for. They
only say that a change which was meant to be a pure refactor (speed, tidying) did not
change a single draw or event order.

Updating them is a deliberate act: when a change is *meant* to alter the simulation
(a semantic fix, a new stream name, a different draw order), run

    .venv/bin/python tests/engine/test_golden.py

which prints the current values, paste them into GOLDEN, and say in the commit message
why the goldens moved and that the correctness tests still pass. Never update them to
silence a refactor that was supposed to be exact.

The scenarios avoid the shapes with known open engine bugs (a backlogged arrivals/plan
source feeding a paced line or a multi-server assembly), so fixing those should not move
these numbers.
"""

from __future__ import annotations

from typing import Any

import pytest
from scenario_builder import run, shift

GOLDEN: dict[str, dict[str, float]] = {
    "calendar_line": {
        "completed": 5513, "scrapped": 0, "released": 5516, "lost": 527, "wip_end": 7,
        "ramp_dropped": 0, "t_done_sum": 3452870821.148, "jobs.press": 5514, "jobs.weld": 5513,
    },
    "paced_line": {
        "completed": 3999, "scrapped": 48, "released": 4073, "lost": 0, "wip_end": 26,
        "ramp_dropped": 0, "t_done_sum": 522029026.93, "jobs.body": 4072, "jobs.trim": 4048,
        "jobs.check": 4400,
    },
    "plan_assembly": {
        "completed": 5797, "scrapped": 0, "released": 11598, "lost": 0, "wip_end": 3,
        "ramp_dropped": 701, "t_done_sum": 1880778838.652, "jobs.paint": 5798,
        "jobs.packshop": 5799, "jobs.marry": 5797,
    },
    "reference_line": {
        "completed": 7618, "scrapped": 0, "released": 7630, "lost": 0, "wip_end": 12,
        "ramp_dropped": 0, "t_done_sum": 2317531536.851, "jobs.s1": 7629, "jobs.s2": 7625,
        "jobs.s3": 7625, "jobs.s4": 7624, "jobs.s5": 7618,
    },
}


# Station seconds per state and buffer mean levels (after warm-up) of the same runs,
# recorded at commit 2244196 and equal, float for float, at the revision before it: a
# refactor of the statistics (e.g. accounting by remainder) must keep them (regression
# goldens, same rules as GOLDEN; `python tests/engine/test_golden.py --stats` prints them).
GOLDEN_STATS: dict[str, dict[str, float]] = {
    "calendar_line": {
        "b0.mean_level": 1.50356, "b1.mean_level": 0.644584, "press.blocked": 7952.498185,
        "press.failed": 23858.828598, "press.off_shift": 672000.0,
        "press.starved": 99216.229921, "press.working": 320172.443296, "weld.blocked": 0.0,
        "weld.failed": 29678.375344, "weld.off_shift": 1343669.645312,
        "weld.starved": 283496.173801, "weld.working": 589555.805544, "wip_mean": 4.69913,
    },
    "paced_line": {
        "b0.mean_level": 0.0, "b1.mean_level": 4.624337, "b2.mean_level": 0.655743,
        "body.blocked": 51602.175452, "body.failed": 0.0, "body.off_shift": 0.0,
        "body.starved": 0.0, "body.working": 207597.824548, "check.blocked": 0.0,
        "check.failed": 0.0, "check.off_shift": 0.0, "check.starved": 30255.173875,
        "check.working": 228944.826125, "trim.blocked": 0.0, "trim.failed": 10671.293219,
        "trim.off_shift": 0.0, "trim.starved": 110.061161, "trim.working": 248418.64562,
        "wip_mean": 26.771007,
    },
    "plan_assembly": {
        "bodies.mean_level": 0.003623, "body_in.mean_level": 1.168331, "marry.blocked": 0.0,
        "marry.failed": 0.0, "marry.off_shift": 0.0, "marry.starved": 169955.430769,
        "marry.working": 434844.569231, "pack_in.mean_level": 1.94989,
        "packs.mean_level": 16.622582, "packshop.blocked": 4990.038741, "packshop.failed": 0.0,
        "packshop.off_shift": 0.0, "packshop.starved": 125293.233151,
        "packshop.working": 474516.728107, "paint.blocked": 0.0, "paint.failed": 24161.52257,
        "paint.off_shift": 0.0, "paint.starved": 114746.954353, "paint.working": 465891.523077,
        "wip_mean": 22.066522,
    },
    "reference_line": {
        "b1.mean_level": 0.0, "b2.mean_level": 3.291654, "b3.mean_level": 2.887869,
        "b4.mean_level": 2.390445, "b5.mean_level": 1.85799, "s1.blocked": 134702.688385,
        "s1.failed": 4116.586697, "s1.off_shift": 0.0, "s1.starved": 0.0,
        "s1.working": 465980.724919, "s2.blocked": 99507.387429, "s2.failed": 12649.045001,
        "s2.off_shift": 0.0, "s2.starved": 38853.330359, "s2.working": 453790.237211,
        "s3.blocked": 77831.73817, "s3.failed": 2741.289378, "s3.off_shift": 0.0,
        "s3.starved": 57583.791667, "s3.working": 466643.180785, "s4.blocked": 44807.762757,
        "s4.failed": 5958.038642, "s4.off_shift": 0.0, "s4.starved": 89811.928413,
        "s4.working": 464222.270189, "s5.blocked": 0.0, "s5.failed": 9711.008266,
        "s5.off_shift": 0.0, "s5.starved": 128680.863678, "s5.working": 466408.128056,
        "wip_mean": 14.90724,
    },
}


def _reference_line() -> dict:
    """DESIGN §5's reference line, shortened: 5 stations, exponential cycles and failures."""
    stations = {f"s{i}": {"cycle": {"dist": "exponential", "mean": "60 s"},
                          "failures": {"mtbf": "8 h", "mttr": "10 min"}} for i in range(1, 6)}
    buffers = {f"b{i}": {"from": "src" if i == 1 else f"s{i - 1}", "to": f"s{i}",
                         "capacity": 5} for i in range(1, 6)}
    buffers["out"] = {"from": "s5", "to": "yard", "capacity": "inf"}
    return {"run": {"duration": "1 w", "seed": 11}, "sources": {"src": {"kind": "saturated"}},
            "stations": stations, "buffers": buffers}


def _calendar_line() -> dict:
    """Two shifts with breaks and a holiday; time- and operation-dependent failures."""
    shifts = [shift("morning", "05:00", "13:00", "mon-fri",
                    breaks=[{"start": "09:00", "duration": "20 min"}]),
              shift("afternoon", "13:00", "21:00", "mon-fri", rate=0.9)]
    return {
        "run": {"duration": "2 w", "seed": 5, "calendar": "two_shift", "warmup": "1 d"},
        "calendars": {"two_shift": {"shifts": shifts, "holidays": ["2024-01-03"]}},
        "sources": {"src": {"kind": "arrivals", "when_full": "lose",
                            "interarrival": {"dist": "exponential", "mean": "75 s"}}},
        "stations": {
            "press": {"cycle": {"dist": "lognormal", "mean": "55 s", "cv": 0.3},
                      "failures": {"mtbf": "3 h", "mttr": "15 min", "mode": "time"},
                      "shift_rate": True},
            "weld": {"cycle": {"dist": "gamma", "mean": "100 s", "cv": 0.5}, "servers": 2,
                     "failures": {"mtbf": "6 h", "mttr": "20 min", "repair_off_shift": True},
                     "shift_rate": True},
        },
        "buffers": {"b0": {"from": "src", "to": "press", "capacity": 4},
                    "b1": {"from": "press", "to": "weld", "capacity": 3},
                    "out": {"from": "weld", "to": "yard", "capacity": "inf"}},
    }


def _paced_line() -> dict:
    """A paced segment with failures between a body shop and an inspection with rework."""
    return {
        "run": {"duration": "3 d", "seed": 2},
        "sources": {"src": {"kind": "saturated"}},
        "stations": {
            "body": {"cycle": {"dist": "exponential", "mean": "50 s"}},
            "trim": {"paced": {"positions": 20, "takt": "60 s"},
                     "failures": {"mtbf": "4 h", "mttr": "8 min"}},
            "check": {"cycle": {"dist": "triangular", "low": "30 s", "mode": "45 s",
                                "high": "80 s"},
                      "route": [{"to": "b2", "p": 0.08}, {"to": "scrap_out", "p": 0.01},
                                {"to": "out"}]},
        },
        "buffers": {
            "b0": {"from": "src", "to": "body", "capacity": 2},
            "b1": {"from": "body", "to": "trim", "capacity": 6},
            "b2": {"from": ["trim", "check"], "to": "check", "capacity": 8},
            "out": {"from": "check", "to": "yard", "capacity": "inf"},
            "scrap_out": {"from": "check", "to": "scrap", "capacity": "inf"},
        },
        "sinks": {"yard": {}, "scrap": {"scrap": True}},
    }


def _plan_assembly() -> dict:
    """A sequenced plan with a ramp releasing kits; packs matched by order at marriage."""
    products = {"R5": {"attrs": {"platform": "small"}},
                "Megane": {"attrs": {"platform": "medium"},
                           "variants": {"long": {"share": 0.7}, "short": {"share": 0.3}}}}
    plan = {"periods": [{"from": "2024-01-01", "to": "2024-01-07",
                         "quantities": {"R5": 2500, "Megane": 4000}}],
            "sequencing": {"rule": "spread",
                           "max_consecutive": {"attr": "platform", "value": "medium", "n": 3}},
            "ramps": {"R5": {"start": "2024-01-01", "duration": "5 d", "initial": 0.2}}}
    return {
        "run": {"duration": "1 w", "seed": 9},
        "products": products,
        "sources": {"plan": {"kind": "plan", "plan": plan, "leads": {"pack_in": "30 min"}}},
        "stations": {
            "paint": {"cycle": {"by": "platform", "values": {"small": "70 s", "medium": "85 s"}},
                      "failures": {"mtbf": "5 h", "mttr": "12 min"}},
            "packshop": {"cycle": {"dist": "exponential", "mean": "80 s"}},
            "marry": {"cycle": "75 s", "match": "order", "carrier": "bodies"},
        },
        "buffers": {
            "body_in": {"from": "plan", "to": "paint", "capacity": 10},
            "pack_in": {"from": "plan", "to": "packshop", "capacity": 10},
            "bodies": {"from": "paint", "to": "marry", "capacity": 12},
            "packs": {"from": "packshop", "to": "marry", "capacity": 30},
            "out": {"from": "marry", "to": "yard", "capacity": "inf"},
        },
    }


SCENARIOS = {"reference_line": _reference_line, "calendar_line": _calendar_line,
             "paced_line": _paced_line, "plan_assembly": _plan_assembly}


def measure(name: str) -> dict[str, float]:
    """The golden quantities of one scenario, from a fresh run."""
    r = run(SCENARIOS[name]())
    jobs = {f"jobs.{s.name}": s.jobs for s in r.stations}
    return {"completed": r.counters["completed"], "scrapped": r.counters["scrapped"],
            "released": r.released, "lost": r.lost, "wip_end": r.wip_end,
            "ramp_dropped": r.counters["ramp_dropped"],
            "t_done_sum": round(float(r.completions.t_done.sum()), 3), **jobs}


def measure_stats(name: str) -> dict[str, float]:
    """Station seconds per state, buffer mean levels and the mean WIP of a fresh run."""
    r = run(SCENARIOS[name]())
    out = {f"{s.name}.{k}": v for s in r.stations for k, v in s.state_seconds.items()}
    out.update({f"{b.name}.mean_level": b.mean_level for b in r.buffers})
    out["wip_mean"] = r.wip_mean
    return out


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_statistics(name: str) -> None:
    got = measure_stats(name)
    want = GOLDEN_STATS[name]
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-6), key


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_counts(name: str) -> None:
    got: dict[str, Any] = measure(name)
    want = GOLDEN[name]
    assert {k: v for k, v in got.items() if k != "t_done_sum"} == {
        k: v for k, v in want.items() if k != "t_done_sum"}
    assert got["t_done_sum"] == pytest.approx(want["t_done_sum"], abs=0.01)


if __name__ == "__main__":
    import pprint
    import sys

    probe = measure_stats if "--stats" in sys.argv else measure
    pprint.pprint({name: probe(name) for name in sorted(SCENARIOS)}, sort_dicts=False)
