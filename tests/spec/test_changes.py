"""Bad dated changes, calendars, order books and call-offs: one clear error naming the field.

Every case goes through the real loader from a YAML file, as an author's mistake would.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scenario_builder import DAY, line, run, shift, via_yaml

from sim.cli import main
from sim.errors import ScenarioError


def _base() -> dict:
    d = line([{"cycle": "60 s"}, {"paced": {"positions": 4, "takt": "60 s"}}], 3,
             duration="30 d")
    d["run"]["start"] = "2025-01-01"
    return d


def _with(change: dict, base: dict | None = None) -> dict:
    d = copy.deepcopy(base or _base())
    d["changes"] = {"c": {"from": "2025-01-10", **change}}
    return d


BAD_CHANGES = [
    ({"set": {"stations.nope.cycle": "50 s"}}, "changes.c.set.stations.nope.cycle",
     "unknown station"),
    ({"set": {"stations.s1.servers": 2}}, "changes.c.set.stations.s1.servers",
     "cannot change during a run"),
    ({"set": {"stations.s1.cycle": 50}}, "changes.c.set.stations.s1.cycle",
     "expected a duration with a unit"),
    ({"set": {"stations.s2.paced.positions": 9}}, "changes.c.set.stations.s2.paced.positions",
     "only the takt"),
    ({"set": {"stations.s1.failures.mtbf": "2 h"}}, "changes.c.set.stations.s1.failures.mtbf",
     "keeps or lacks failures"),
    ({"set": {"buffers.b0.capacity": -1}}, "changes.c.set.buffers.b0.capacity",
     "capacity must be >= 0"),
    ({"set": {"buffers.out.capacity": 5}}, "changes.c.set.buffers.out.capacity",
     "feeds a sink"),
    ({"set": {"sources.src.mix": {"part": 1.0}}}, "changes.c.set.sources.src.mix",
     "only sources of kind 'arrivals'"),
    ({"set": {"calendars.day.shifts": []}}, "changes.c.set.calendars.day.shifts",
     "calendars.<name>.changes"),
    ({"from": "2025-03-01", "set": {"stations.s1.cycle": "50 s"}}, "changes.c.from",
     "outside the run horizon"),
    ({"set": {}}, "changes.c.set", "at least 1"),
    ({"at": "25:00", "set": {"stations.s1.cycle": "50 s"}}, "changes.c.at", "clock"),
]


@pytest.mark.parametrize(("change", "path", "message"), BAD_CHANGES,
                         ids=[p for _, p, _ in BAD_CHANGES])
def test_a_bad_change_is_one_error_naming_the_field(tmp_path, change, path, message) -> None:
    with pytest.raises(ScenarioError) as e:
        via_yaml(_with(change), tmp_path)
    assert e.value.path == path
    assert message in e.value.message


def test_check_refuses_a_bad_change_with_exit_status_2(tmp_path, capsys) -> None:
    d = _with({"set": {"stations.s1.servers": 2}})
    via_yaml(_base(), tmp_path)  # the base loads
    (tmp_path / "bad.yaml").write_text((tmp_path / "test.yaml").read_text().replace(
        "sinks:", "changes:\n  c: {from: 2025-01-10, set: {stations.s1.servers: 2}}\nsinks:"))
    assert d["changes"]
    assert main(["check", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert "changes.c.set.stations.s1.servers" in err and "Traceback" not in err


def _calendar(changes: list[dict]) -> dict:
    d = _base()
    d["calendars"] = {"plant": {"shifts": [shift("morning", "05:00", "13:00", "mon-fri"),
                                           shift("afternoon", "13:00", "21:00", "mon-fri")],
                                "changes": changes}}
    d["run"]["calendar"] = "plant"
    return d


NIGHT = shift("night", "21:00", "05:00", "mon-fri", rate=0.5)
BAD_CALENDARS = [
    ([{"from": "2025-01-13", "remove": ["nights"]}], "calendars.plant.changes.0.remove.0",
     "no shift 'nights' is in force"),
    ([{"from": "2025-01-13", "add": [shift("morning", "22:00", "23:00")]}],
     "calendars.plant.changes.0.add.0.name", "already in force"),
    ([{"from": "2025-01-13", "add": [shift("late", "20:00", "23:00", "mon-fri")]}],
     "calendars.plant.changes.0.add", "overlap"),
    ([{"from": "2025-01-13", "remove": ["morning", "afternoon"]}],
     "calendars.plant.changes.0.remove", "no shift"),
    ([{"from": "2025-03-13", "add": [NIGHT]}], "calendars.plant.changes.0.from",
     "outside the run horizon"),
    ([{"from": "2025-01-13", "add": [NIGHT], "shifts": [NIGHT]}],
     "calendars.plant.changes.0.shifts", "not both"),
]


@pytest.mark.parametrize(("changes", "path", "message"), BAD_CALENDARS,
                         ids=[p for _, p, _ in BAD_CALENDARS])
def test_a_bad_calendar_change_is_one_error(tmp_path, changes, path, message) -> None:
    with pytest.raises(ScenarioError) as e:
        via_yaml(_calendar(changes), tmp_path)
    assert e.value.path == path
    assert message in e.value.message


def test_adding_a_named_shift_keeps_the_pattern_in_force() -> None:
    r = run(_calendar([{"from": "2025-01-13", "add": [NIGHT]},
                       {"from": "2025-01-20", "remove": ["night"]}]))
    on = r.completions.t_done
    night = (on % DAY < 5 * 3600) | (on % DAY > 21 * 3600)  # a job may end at 21:00
    in_week = (on >= 12 * DAY) & (on < 19 * DAY)
    assert night[in_week].any() and not night[~in_week & (on > 5 * 3600 + DAY)].any()
    day_hours = (on % DAY >= 5 * 3600) & (on % DAY < 21 * 3600)
    assert day_hours[in_week].any()  # the day shifts were kept


def _demand(products: dict, demand: dict) -> dict:
    d = line(["60 s"], 2, duration="31 d")
    d["run"]["start"] = "2025-01-01"
    d["products"] = products
    d["sources"]["src"] = {"kind": "demand", "demand": demand}
    return d


P1 = {"from": "2025-01-01", "to": "2025-01-31", "per_day": {"A": 100}}
BAD_BOOKS = [
    (_demand({"A": {}}, {"periods": [P1, {**P1, "from": "2025-01-20"}]}),
     "sources.src.demand.periods.1.from", "dates out of order"),
    (_demand({"A": {"sop": "2025-01-10"}},
             {"periods": [P1], "ramps": {"A": {"start": "2025-01-05", "duration": "1 w",
                                               "per_day": 100}}}),
     "sources.src.demand.ramps.A.start", "before its start of production"),
    (_demand({"A": {}}, {"periods": [P1], "ramps": {"A": {"start": "2025-01-05",
                                                          "duration": "1 w"}}}),
     "sources.src.demand.ramps.A.per_day", "needs 'per_day'"),
    (_demand({"A": {}}, {"periods": [{**P1, "to": "2025-03-01"}]}),
     "sources.src.demand.periods.0.to", "outside the run horizon"),
    (_demand({"A": {}}, {"periods": [{**P1, "per_day": {"Z": 1}}]}),
     "sources.src.demand.periods.0.per_day.Z", "unknown product"),
    (_demand({"A": {"attrs": {"sop": "2025-01-01"}}}, {"periods": [P1]}),
     "products.A.attrs.sop", "field 'sop'"),
]


@pytest.mark.parametrize(("d", "path", "message"), BAD_BOOKS,
                         ids=[p for _, p, _ in BAD_BOOKS])
def test_a_bad_order_book_is_one_error(tmp_path, d, path, message) -> None:
    with pytest.raises(ScenarioError) as e:
        via_yaml(d, tmp_path)
    assert e.value.path == path
    assert message in e.value.message


def test_a_plan_before_the_sop_is_refused(tmp_path) -> None:
    d = line(["60 s"], 2, duration="31 d")
    d["run"]["start"] = "2025-01-01"
    d["products"] = {"A": {"sop": "2025-01-10"}}
    d["sources"]["src"] = {"kind": "plan", "plan": {"periods": [
        {"from": "2025-01-01", "to": "2025-01-31", "quantities": {"A": 10}}]}}
    with pytest.raises(ScenarioError) as e:
        via_yaml(d, tmp_path)
    assert e.value.path == "sources.src.plan.periods.0.quantities.A"


def _kit(at: str) -> dict:
    return {
        "run": {"duration": "1 d"},
        "sources": {"src": {"kind": "arrivals", "interarrival": "6 min",
                            "calloff": {"pack_orders": {"at": at}}}},
        "stations": {"s1": {"cycle": "5 min"}, "pk": {"cycle": "1 min"},
                     "m": {"cycle": "1 min", "carrier": "b1", "match": "order"}},
        "buffers": {"bodies": {"from": "src", "to": "s1", "capacity": "inf"},
                    "b1": {"from": "s1", "to": "m", "capacity": "inf"},
                    "pack_orders": {"from": "src", "to": "pk", "capacity": "inf"},
                    "packs": {"from": "pk", "to": "m", "capacity": "inf"},
                    "out": {"from": "m", "to": "yard", "capacity": "inf"}},
    }


@pytest.mark.parametrize(("at", "message"), [
    ("packs", "own path"), ("nowhere", "unknown buffer"), ("out", "not a stock"),
])
def test_a_call_off_point_off_the_orders_path_is_refused(tmp_path, at, message) -> None:
    with pytest.raises(ScenarioError) as e:
        via_yaml(_kit(at), tmp_path)
    assert e.value.path == "sources.src.calloff.pack_orders.at"
    assert message in e.value.message


def test_a_call_off_on_the_path_loads(tmp_path) -> None:
    assert via_yaml(_kit("b1"), tmp_path).sources["src"].calloff["pack_orders"].at == "b1"


def test_a_change_of_a_paced_takt_is_written_back_in_the_resolved_scenario(tmp_path) -> None:
    from sim.spec.loader import resolved_dict

    sc = via_yaml(_with({"set": {"stations.s2.paced.takt": "50 s"}}), tmp_path)
    again = resolved_dict(sc)
    assert again["changes"]["c"]["set"] == {"stations.s2.paced.takt": "50 s"}
    np.testing.assert_equal(len(sc.changes), 1)
