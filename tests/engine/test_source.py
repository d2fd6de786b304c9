"""Sources: arrivals, losses, limits, kits with leads, and plans turned into releases.

Plans are checked against their definition (release k of N at on-shift offset
(k + 0.5)/N of the period, quantities exact, sequencing rules as stated); random parts
(mixes, ramps) against binomial bounds derived from the stated probabilities.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scenario_builder import DAY, HOUR, line, run, shift

PLAN_DAYS = {"from": "2024-01-01", "to": "2024-01-02"}


def _arrivals(every: str, **extra) -> dict:
    return {"kind": "arrivals", "interarrival": every, **extra}


def _release_order(r) -> list[str]:
    """Products in release order (ties broken by part id)."""
    c = r.completions
    order = np.lexsort((c.part, c.t_release))
    return [r.type_product[k] for k in c.type[order]]


# -- arrivals -----------------------------------------------------------------------------

def test_when_full_lose_counts_every_arrival_it_cannot_take() -> None:
    # Arrivals every 40 s, a 110 s station, one place in the buffer.
    r = run(line(["110 s"], caps=[1], source=_arrivals("40 s", when_full="lose")))
    arrivals = math.ceil(3600.0 / 40.0) - 1  # 40, 80, ... 3560
    assert r.lost + r.released == arrivals
    assert r.released == len(r.completions) + r.wip_end
    assert len(r.completions) == math.ceil((3600.0 - 150.0) / 110.0)  # never starved from 40 s
    assert r.lost > 0


def test_when_full_block_never_loses() -> None:
    r = run(line(["110 s"], caps=[1], source=_arrivals("40 s")))
    assert r.lost == 0
    assert r.released == len(r.completions) + r.wip_end
    assert r.released < math.ceil(3600.0 / 40.0) - 1  # the rest waits at the source


def test_lose_into_a_direct_hand_over_feeds_an_idle_station() -> None:
    r = run(line(["100 s"], caps=[0], source=_arrivals("250 s", when_full="lose")))
    assert r.lost == 0
    assert r.released == 14


@pytest.mark.parametrize("source, n", [
    ({"kind": "saturated", "limit": 5}, 5),
    (_arrivals("1 min", limit=7), 7),
    (_arrivals("1 min", limit=4, batch=3), 12),
])
def test_limit_stops_releases_exactly(source: dict, n: int) -> None:
    r = run(line(["10 s"], caps=[2], source=source))
    assert r.released == n == len(r.completions)


def test_batches_arrive_together() -> None:
    r = run(line(["1 s"], caps=["inf"], source=_arrivals("10 min", batch=3)))
    t = r.completions.t_release
    np.testing.assert_array_equal(t, np.repeat(600.0 * np.arange(1, 6), 3))


def test_arrivals_on_a_calendar_count_on_shift_time() -> None:
    cal = {"plant": {"shifts": [shift("day", "08:00", "16:00")]}}
    r = run(line(["1 s"], caps=["inf"], source=_arrivals("1 h"), duration="2 d",
                 calendar="plant", calendars=cal))
    hours = [h + d * 24 for d in (0, 1) for h in range(9, 17)]
    assert r.released == len(hours)
    # The release at 16:00 on day 2 waits in the line for the next shift.
    np.testing.assert_array_equal(r.completions.t_release, np.array(hours[:-1]) * HOUR)


def test_sequence_is_cyclic_and_mix_is_binomial() -> None:
    products = {"A": {}, "B": {}}
    d = line(["1 s"], caps=[1], source={"kind": "saturated", "sequence": ["A", "A", "B"]})
    d["products"] = products
    r = run(d)
    assert _release_order(r)[:9] == ["A", "A", "B"] * 3
    d["sources"]["src"] = {"kind": "saturated", "mix": {"A": 0.7, "B": 0.3}}
    r = run(d)
    n = len(r.completions)
    a = _release_order(r).count("A")
    assert abs(a - 0.7 * n) <= 4 * math.sqrt(n * 0.7 * 0.3)


def test_a_lead_releases_the_kit_part_earlier() -> None:
    d = {
        "run": {"duration": "4 h"},
        "sources": {"src": _arrivals("10 min", leads={"packs": "1 h"})},
        "stations": {"body": {"cycle": "1 s"}, "pack": {"cycle": "1 s"}},
        "buffers": {
            "bodies": {"from": "src", "to": "body", "capacity": "inf"},
            "packs": {"from": "src", "to": "pack", "capacity": "inf"},
            "out1": {"from": "body", "to": "yard", "capacity": "inf"},
            "out2": {"from": "pack", "to": "packs_done", "capacity": "inf"},
        },
        "sinks": {"yard": {}, "packs_done": {}},
    }
    r = run(d)
    c = r.completions
    body = {o: t for o, t, s in zip(c.order, c.t_release, c.sink) if r.sinks[s] == "yard"}
    pack = {o: t for o, t, s in zip(c.order, c.t_release, c.sink) if r.sinks[s] != "yard"}
    shared = sorted(set(body) & set(pack))
    assert len(shared) >= 20
    for o in shared:
        assert body[o] == 600.0 * (o + 1)
        assert pack[o] == max(body[o] - HOUR, 0.0)


# -- plans --------------------------------------------------------------------------------

def _plan(quantities: dict | list[dict], sequencing: dict | None = None,
          ramps: dict | None = None, calendar: bool = True, duration: str = "2 d",
          periods: list[dict] | None = None) -> dict:
    plan: dict = {"periods": periods or [{**PLAN_DAYS, "quantities": quantities}]}
    if sequencing:
        plan["sequencing"] = sequencing
    if ramps:
        plan["ramps"] = ramps
    cal = {"plant": {"shifts": [shift("day", "08:00", "16:00")]}} if calendar else None
    d = line(["1 s"], caps=["inf"], source={"kind": "plan", "plan": plan},
             duration=duration, calendars=cal, **({"calendar": "plant"} if calendar else {}))
    d["products"] = {"M": {"attrs": {"platform": "medium"}},
                     "M2": {"attrs": {"platform": "medium"}},
                     "S": {"attrs": {"platform": "small"}}}
    return d


def test_plan_releases_the_quantities_evenly_in_on_shift_time() -> None:
    r = run(_plan({"M": 30, "S": 10}))
    order = _release_order(r)
    assert order.count("M") == 30 and order.count("S") == 10
    # Release k of 40 at on-shift offset (k + 0.5)/40 of the 16 on-shift hours.
    offset = (np.arange(40) + 0.5) / 40 * 16 * HOUR
    day = offset // (8 * HOUR)
    expected = day * DAY + 8 * HOUR + offset % (8 * HOUR)
    np.testing.assert_allclose(np.sort(r.completions.t_release), expected, rtol=0, atol=1e-6)


def test_spread_chases_the_ideal_mix() -> None:
    r = run(_plan({"M": 30, "S": 10}))
    is_m = np.array([p == "M" for p in _release_order(r)])
    ideal = np.arange(1, 41) * 30 / 40
    assert np.abs(np.cumsum(is_m) - ideal).max() <= 1.0


def _longest_run(seq: list[str], members: set[str]) -> int:
    return max((len(list(g)) for k, g in itertools.groupby(seq, lambda p: p in members) if k),
               default=0)


def test_spread_never_exceeds_max_consecutive() -> None:
    # Unconstrained goal chasing would release S, M, M2, ...: two mediums in a row.
    mc = {"rule": "spread", "max_consecutive": {"attr": "platform", "value": "medium", "n": 1}}
    r = run(_plan({"M": 10, "M2": 10, "S": 20}, mc))
    order = _release_order(r)
    assert (order.count("M"), order.count("M2"), order.count("S")) == (10, 10, 20)
    assert _longest_run(order, {"M", "M2"}) == 1


def test_max_consecutive_holds_across_periods() -> None:
    mc = {"rule": "spread", "max_consecutive": {"attr": "platform", "value": "medium", "n": 1}}
    periods = [{"from": "2024-01-01", "to": "2024-01-01", "quantities": {"S": 2, "M": 2}},
               {"from": "2024-01-02", "to": "2024-01-02", "quantities": {"M": 3, "S": 3}}]
    r = run(_plan({}, mc, periods=periods))
    assert _longest_run(_release_order(r), {"M"}) == 1


def test_batch_rule_releases_each_product_in_one_block() -> None:
    r = run(_plan({"M": 12, "S": 5}, {"rule": "batch"}))
    assert _release_order(r) == ["M"] * 12 + ["S"] * 5


def test_random_rule_keeps_the_quantities_and_shuffles() -> None:
    d = _plan({"M": 20, "S": 20}, {"rule": "random"})
    first = _release_order(run(d))
    d["run"]["seed"] = 2
    second = _release_order(run(d))
    for seq in (first, second):
        assert seq.count("M") == 20 and seq.count("S") == 20
        assert seq not in (["M"] * 20 + ["S"] * 20, ["S", "M"] * 20, ["M", "S"] * 20)
    assert first != second


def test_ramp_drops_the_share_the_s_curve_implies() -> None:
    # A ramp from 10 % over the whole (uniformly released) period keeps on average
    # 0.1 + 0.9 x 1/2: the logistic is symmetric about the middle of the ramp.
    n = 800
    ramps = {"S": {"start": "2024-01-01", "duration": "4 d", "initial": 0.1}}
    periods = [{"from": "2024-01-01", "to": "2024-01-04", "quantities": {"S": n, "M": 100}}]
    r = run(_plan({}, ramps=ramps, calendar=False, duration="4 d", periods=periods))
    order = _release_order(r)
    kept = order.count("S")
    assert order.count("M") == 100
    assert kept + r.counters["ramp_dropped"] == n
    assert abs(kept - 0.55 * n) <= 4 * math.sqrt(n * 0.25)
    # Early releases are mostly dropped, late ones mostly kept.
    t = np.sort(r.completions.t_release[[r.type_product[k] == "S" for k in r.completions.type]])
    assert (t < 2 * DAY).sum() < (t >= 2 * DAY).sum() / 2


def test_ramp_starting_later_drops_everything_before_it() -> None:
    ramps = {"S": {"start": "2024-01-05", "duration": "1 w", "initial": 0.5}}
    r = run(_plan({"M": 7, "S": 9}, ramps=ramps))
    assert r.counters["ramp_dropped"] == 9
    assert _release_order(r) == ["M"] * 7


def test_a_plan_release_into_a_full_buffer_waits_in_plan_order() -> None:
    fast = run(_plan({"M": 30, "S": 10}))
    d = _plan({"M": 30, "S": 10}, duration="2 d")
    d["stations"]["s1"]["cycle"] = "30 min"  # slower than one release per 24 on-shift min
    d["buffers"]["b0"]["capacity"] = 1
    slow = run(d)
    assert slow.lost == 0
    assert slow.released == len(slow.completions) + slow.wip_end
    # The backlog releases later than planned but in the planned sequence.
    n = len(slow.completions)
    assert _release_order(slow) == _release_order(fast)[:n]
    assert (slow.completions.t_release[1:] > np.sort(fast.completions.t_release)[1:n]).any()


def test_plan_releases_follow_the_capacity_of_each_shift() -> None:
    # A day shift at rate 1 and a night shift of the same length at rate 0.5: the plan's
    # releases are spread over capacity-weighted time, so the night gets a third of them.
    d = _plan({"M": 30, "S": 30})
    d["calendars"]["plant"]["shifts"].append(shift("night", "20:00", "04:00", rate=0.5))
    r = run(d)
    hour = (r.completions.t_release % DAY) / HOUR
    night = (hour >= 20) | (hour < 4)
    assert int(night.sum()) == 20 and len(hour) == 60


def test_the_order_book_forgets_orders_every_reader_has_passed() -> None:
    from types import SimpleNamespace

    from sim.engine.source import OrderBook

    n = [0]

    def next_order(last: float):
        n[0] += 1
        return (float(n[0]), n[0] % 7)

    book = OrderBook(next_order)
    book.KEEP = 100
    a, b = SimpleNamespace(k=0), SimpleNamespace(k=0)
    book.read_by(a)
    book.read_by(b)
    for k in range(5000):
        a.k = k
        assert book.get(k) == (float(k + 1), (k + 1) % 7)
        if k % 3 == 0:
            b.k = k  # the slower reader
    assert book.base > 0 and len(book.times) <= 4 * book.KEEP
    assert book.get(b.k) == (float(b.k + 1), (b.k + 1) % 7)  # still readable by the laggard
    calloff = OrderBook(next_order)
    calloff.KEEP = 100
    calloff.read_by(SimpleNamespace(k=0), sequential=False)
    for k in range(1000):
        calloff.get(k)
    assert calloff.base == 0 and len(calloff.times) == 1000  # a look-back reader keeps all


def test_forgetting_orders_changes_nothing_in_a_run(monkeypatch) -> None:
    from sim.engine.source import OrderBook

    d = line(["1 s", "1 s", "1 s"], 2, duration="2 d", seed=4)
    monkeypatch.setattr(OrderBook, "KEEP", 1 << 40)  # never forget
    keep_all = run(d)
    monkeypatch.setattr(OrderBook, "KEEP", 1 << 10)  # forget often during this run
    forgetting = run(d)
    assert len(keep_all.completions) > 150_000
    assert np.array_equal(keep_all.completions.t_done, forgetting.completions.t_done)
    assert np.array_equal(keep_all.completions.order, forgetting.completions.order)
    assert keep_all.stations == forgetting.stations


def _ramped(ramp: list[dict], duration: str = "30 d") -> np.ndarray:
    from scenario_builder import done, line, run

    d = line(["1 s"], "inf", duration=duration, start="2024-01-01",
             source={"kind": "arrivals", "interarrival": "1 h", "ramp": ramp})
    return done(run(d))


def test_a_ramp_of_steps_scales_the_arrival_rate_and_zero_stops_it() -> None:
    """Nominal one an hour; rate 1 for days 0-10, 0 for days 10-20, 2 from day 20: one an
    hour, then none (the arrival drawn at 239 h lands at 240 h), then two an hour."""
    t = _ramped([{"from": "2024-01-01", "rate": 1.0}, {"from": "2024-01-11", "rate": 0.0},
                 {"from": "2024-01-21", "rate": 2.0}]) - 1.0  # the station's 1 s
    day = t / 86400.0
    assert np.sum(day < 10) == 239
    assert np.sum((day >= 10) & (day < 20)) == 1
    np.testing.assert_allclose(np.diff(t[day >= 20]), 1800.0)
    assert t[day >= 20][0] == 20 * 86400.0 + 1800.0


def test_a_linear_ramp_delivers_its_integral() -> None:
    """Rate from 0.5 to 1.5 over 10 days, then 1.5: 10 days at a mean of 1.0 (240) and 5
    days at 1.5 (180); the rate is taken at each previous arrival, so within a few."""
    t = _ramped([{"from": "2024-01-01", "rate": 0.5, "to_next": "linear"},
                 {"from": "2024-01-11", "rate": 1.5}], duration="15 d")
    day = t / 86400.0
    assert abs(np.sum(day < 10) - 240) <= 3
    assert abs(len(t) - 420) <= 4


def test_a_ramp_is_only_for_arrivals_and_its_dates_must_rise() -> None:
    from pydantic import ValidationError
    from scenario_builder import line, scenario

    with pytest.raises(ValidationError, match="dates out of order"):
        scenario(line(["1 s"], source={"kind": "arrivals", "interarrival": "1 h", "ramp": [
            {"from": "2024-02-01", "rate": 1}, {"from": "2024-01-01", "rate": 2}]}))
    with pytest.raises(ValidationError, match="only for kind 'arrivals'"):
        scenario(line(["1 s"], source={"kind": "saturated", "ramp": [
            {"from": "2024-01-01", "rate": 1}]}))
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        scenario(line(["1 s"], source={"kind": "arrivals", "interarrival": "1 h", "ramp": [
            {"from": "2024-01-01", "rate": -1}]}))
