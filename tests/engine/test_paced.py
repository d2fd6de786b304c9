"""A paced segment moves as one: one part per takt, N x takt in the segment, stops as one.

The expectations come from the definition in docs/scenario-format.md: a part may enter at
each takt boundary of line movement and leaves after N steps; a failure, the calendar, or
a tail part that cannot leave stops the whole line.
"""

from __future__ import annotations

import numpy as np
import pytest
from scenario_builder import HOUR, deterministic, done, run, shift, station

N, TAKT = 5, 60.0


def _paced(source: dict | None = None, after: str | None = None, duration: str = "1 h",
           failures: dict | None = None, calendar: dict | None = None) -> dict:
    """src -> b0 -> line (5 x 60 s) [-> b1 (capacity 1) -> slow] -> yard."""
    line_spec: dict = {"paced": {"positions": N, "takt": f"{TAKT:g} s"}}
    if failures:
        line_spec["failures"] = failures
    stations = {"line": line_spec}
    buffers = {"b0": {"from": "src", "to": "line", "capacity": 3}}
    if after is None:
        buffers["out"] = {"from": "line", "to": "yard", "capacity": "inf"}
    else:
        stations["slow"] = {"cycle": after}
        buffers["b1"] = {"from": "line", "to": "slow", "capacity": 1}
        buffers["out"] = {"from": "slow", "to": "yard", "capacity": "inf"}
    d = {"run": {"duration": duration}, "sources": {"src": source or {"kind": "saturated"}},
         "stations": stations, "buffers": buffers}
    if calendar:
        d["calendars"] = {"plant": calendar}
        d["run"]["calendar"] = "plant"
    return d


def test_saturated_reliable_line_delivers_one_per_takt_after_its_lead() -> None:
    r = run(_paced())
    t = done(r)
    n = int(np.ceil((3600.0 - N * TAKT) / TAKT))
    np.testing.assert_array_equal(t, N * TAKT + TAKT * np.arange(n))
    lead = r.completions.t_done - r.completions.t_release
    np.testing.assert_array_equal(lead, np.full(n, N * TAKT))
    s = station(r, "line")
    assert s.jobs == n
    assert s.state_seconds["working"] == 3600.0


def test_blocked_exit_stops_the_line_at_the_rate_of_the_slow_station() -> None:
    r = run(_paced(after="90 s", duration="2 h"))
    t = done(r)
    # The first part reaches `slow` at 300; from then on `slow` never waits.
    np.testing.assert_array_equal(t, 390.0 + 90.0 * np.arange(len(t)))
    assert len(t) == int(np.ceil((7200.0 - 390.0) / 90.0))
    s = station(r, "line").state_seconds
    # Exits at 300, 360, 420, 480 find room; from the one at 540 on, every exit waits 30 s
    # for `slow` to take the part ahead: blocked [540 + 90 k, 570 + 90 k], k = 0..73.
    assert s["blocked"] == 30.0 * 74
    assert s["working"] == 7200.0 - 30.0 * 74
    assert s["starved"] == 0.0
    assert station(r, "slow").state_seconds["starved"] == 300.0


def test_starved_line_keeps_moving_with_gaps() -> None:
    arrivals = {"kind": "arrivals", "interarrival": "97 s"}
    r = run(_paced(source=arrivals))
    c = r.completions
    # The line starts with the first part at 97 and, never empty again, keeps its takt
    # boundaries at 97 + 60 j; part i (released at 97 (i + 1)) enters at the first boundary
    # after its release and leaves N steps later.
    i = np.arange(40)
    entry = 97.0 + TAKT * np.ceil(97.0 * i / TAKT)
    exit_ = entry + N * TAKT
    np.testing.assert_array_equal(c.t_done, exit_[exit_ < 3600.0])
    np.testing.assert_array_equal(c.t_release, 97.0 * (i[: len(c)] + 1))
    s = station(r, "line").state_seconds
    assert s["starved"] == 97.0  # empty until the first part; never empty afterwards
    assert s["blocked"] == 0.0


def test_a_failure_stops_the_whole_line() -> None:
    failures = {"uptime": deterministic("250 s"), "repair": deterministic("100 s")}
    r = run(_paced(failures=failures, duration="20 min"))
    # Exit k needs 300 + 60 k s of movement; failures every 250 s of movement add 100 s.
    work = N * TAKT + TAKT * np.arange(20)
    real = work + 100.0 * np.ceil(work / 250.0 - 1)
    np.testing.assert_array_equal(done(r), real[real < 1200.0])
    assert done(r)[0] == 400.0
    s = station(r, "line")
    assert s.failures == 3  # at movement 250, 500, 750: real 250, 600, 950 (next: 1300)
    assert s.state_seconds["failed"] == 300.0


def test_off_shift_the_line_stands_with_its_parts() -> None:
    cal = {"shifts": [shift("day", "08:00", "16:00")]}
    d = _paced(duration="2 d", calendar=cal)
    d["stations"]["line"]["paced"] = {"positions": 2, "takt": "30 min"}
    r = run(d)
    t = done(r) / HOUR
    day1 = np.arange(9.0, 16.01, 0.5)
    day2 = 24 + np.arange(8.5, 16.01, 0.5)
    np.testing.assert_allclose(t, np.concatenate([day1, day2]), rtol=0, atol=1e-9)
    lead = (r.completions.t_done - r.completions.t_release) / HOUR
    assert lead[len(day1)] == pytest.approx(24 + 8.5 - 15.5)  # entered 15:30, left 08:30


@pytest.mark.parametrize("capacity", [0, 3])
def test_one_entry_per_takt_when_the_source_has_a_backlog(capacity: int) -> None:
    d = _paced(source={"kind": "arrivals", "interarrival": "10 s"}, duration="20 min")
    d["buffers"]["b0"]["capacity"] = capacity
    r = run(d)
    c = r.completions
    np.testing.assert_array_equal(c.t_done, N * TAKT + 10.0 + TAKT * np.arange(len(c)))
    assert (np.diff(c.part) > 0).all()  # first in, first out through buffer and line
    if capacity == 0:  # released straight onto the line: N x takt inside it, exactly
        np.testing.assert_array_equal(c.t_done - c.t_release, N * TAKT)


def test_the_loaded_share_counts_parts_on_positions_not_movement() -> None:
    # Saturated, reliable: 1, 2, 3, 4 parts during the first four takts, then all 5
    # positions loaded: (60 * (1 + 2 + 3 + 4) + 5 * (3600 - 240)) / (3600 * 5).
    r = run(_paced())
    line = station(r, "line")
    assert line.loaded == pytest.approx((60 * 10 + 5 * 3360) / (3600 * 5))
    # Starved half the time (a part every 2 takts): about half the positions loaded,
    # while the line "works" (moves) whenever one part is on it.
    r2 = run(_paced(source={"kind": "arrivals", "interarrival": "120 s"}))
    half = station(r2, "line")
    assert 0.45 < half.loaded < 0.55
    assert half.state_seconds["working"] / 3600 > 0.9


def test_the_load_of_a_shift_is_its_output_over_its_takt_capacity() -> None:
    from sim.analysis.kpi import run_kpis

    # A reliable 60 s paced line on an 8 h shift: 480 takts a day of capacity. Fed every
    # 2 min it builds half of that (after its 5-takt lead on the first day).
    cal = {"shifts": [shift("day", "06:00", "14:00", "mon-fri")]}
    full = run_kpis(run(_paced(duration="1 w", calendar=cal)))
    assert full["shift.day.load"] == pytest.approx((5 * 480 - 4) / (5 * 480))
    half = run_kpis(run(_paced(source={"kind": "arrivals", "interarrival": "120 s"},
                               duration="1 w", calendar=cal)))
    assert half["shift.day.load"] == pytest.approx(0.5, abs=0.02)


def _two_models(sequence: list[str], content: dict | None, speed: float = 1.0) -> dict:
    d = _paced({"kind": "saturated", "sequence": sequence}, duration="2 h")
    d["products"] = {"heavy": {"attrs": {"size": "big"}}, "light": {"attrs": {"size": "small"}}}
    if content is not None:
        d["stations"]["line"]["paced"]["content"] = content
    d["stations"]["line"]["speed"] = speed
    return d


CONTENT = {"by": "size", "values": {"big": 1.5}, "default": 0.5}


def test_work_content_per_model_sets_each_loaded_step() -> None:
    """Saturated, alternating heavy (1.5 takt) and light (0.5 takt): each step lasts the
    content of the part that entered at its start, so exits alternate 90 s and 30 s apart
    and the line moves one part per takt on average; all heavy: one per 1.5 takt."""
    t = done(run(_two_models(["heavy", "light"], CONTENT)))
    gaps = np.diff(t)
    np.testing.assert_allclose(gaps[10:30], np.tile([30.0, 90.0], 10) if gaps[10] == 30.0
                               else np.tile([90.0, 30.0], 10))
    assert len(t) == pytest.approx(7200.0 / TAKT - N, abs=2)
    heavy = done(run(_two_models(["heavy"], CONTENT)))  # first exit after N heavy steps
    np.testing.assert_array_equal(heavy, np.arange(N * 1.5 * TAKT, 7200.0, 1.5 * TAKT))


def test_without_content_every_model_takes_one_takt_and_speed_divides_it() -> None:
    np.testing.assert_allclose(np.diff(done(run(_two_models(["heavy", "light"], None)))), TAKT)
    np.testing.assert_allclose(np.diff(done(run(_two_models(["heavy"], None, speed=1.2)))),
                               TAKT / 1.2)


def test_work_content_is_absorbed_where_the_entrance_is_empty() -> None:
    """Fed one heavy part every 120 s (2 takts), the line is never loaded at its head:
    every step lasts one takt, the run is that of the line without a content table."""
    runs = []
    for content in (CONTENT, None):
        d = _two_models(["heavy"], content)
        d["sources"]["src"] = {"kind": "arrivals", "interarrival": "120 s",
                               "sequence": ["heavy"]}
        runs.append(done(run(d)))
    assert len(runs[0]) > 50
    np.testing.assert_array_equal(runs[0], runs[1])


def test_a_content_table_needs_positive_factors() -> None:
    from pydantic import ValidationError

    bad = _two_models(["heavy"], {"by": "size", "values": {"big": 0}})
    with pytest.raises(ValidationError, match="greater than 0"):
        run(bad)


def test_learning_and_a_dated_takt_change_multiply() -> None:
    """A paced line's speed steps: its learning (0.5 then 1 from day 1) times a takt
    change (twice as fast from 12:00 on day 0)."""
    from sim.engine.model import combined

    assert combined([(0.0, 0.5), (86400.0, 1.0)], [(43200.0, 2.0)]) == [
        (0.0, 0.5), (43200.0, 1.0), (86400.0, 2.0)]
