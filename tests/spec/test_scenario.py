"""Scenario models: values as the engine sees them, and every refusal naming its field."""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import pytest
from pydantic import ValidationError
from scipy import integrate, stats

from sim.spec.messages import first_error
from sim.spec.scenario import (
    ByCycle,
    Deterministic,
    Exponential,
    LearningCurve,
    Lognormal,
    Scenario,
    attr_key,
)

DAY = 86400.0


def line() -> dict[str, Any]:
    """A small valid scenario: two products, a source, two stations, a sink."""
    return {
        "name": "t",
        "run": {"start": dt.date(2024, 1, 1), "duration": "10 d"},
        "products": {
            "A": {"attrs": {"platform": "small", "modules": 4}},
            "B": {
                "attrs": {"platform": "medium", "modules": 6},
                "variants": {"x": {"share": 0.7}, "y": {"share": 0.3, "attrs": {"modules": 8}}},
            },
        },
        "calendars": {"cal": {"shifts": [{"name": "d", "days": "mon-fri", "start": "06:00",
                                          "end": "14:00"}]}},
        "sources": {"src": {"kind": "saturated", "mix": {"A": 0.5, "B": 0.5}}},
        "stations": {"s1": {"cycle": "50 s"}, "s2": {"cycle": "60 s"}},
        "buffers": {
            "feed": {"from": "src", "to": "s1", "capacity": 1},
            "b1": {"from": "s1", "to": "s2", "capacity": 5},
            "out": {"from": "s2", "to": "sink", "capacity": "inf"},
        },
        "sinks": {"sink": {}},
    }


def put(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of data with one field set (None deletes it)."""
    data = copy.deepcopy(data)
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node[int(key)]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return data


def error(data: dict[str, Any]) -> tuple[str, str]:
    """(dotted path, message) of the first validation error of data."""
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    path, message = first_error(info.value, data)
    return ".".join(str(p) for p in path), message


def test_valid_line_values_are_seconds_and_defaults_are_filled() -> None:
    s = Scenario.model_validate(line())
    assert s.run.horizon == 10 * DAY
    assert s.run.warmup == 0.0 and s.run.replications == 1 and s.run.seed == 1
    assert isinstance(s.stations["s1"].cycle, Deterministic)
    assert s.stations["s1"].cycle.value == 50.0
    assert s.buffers["out"].capacity == math.inf
    assert s.buffers["feed"].from_ == ("src",)
    assert s.inputs("s2") == ["b1"] and s.outputs("s1") == ["b1"]


def test_models_are_frozen() -> None:
    s = Scenario.model_validate(line())
    with pytest.raises(ValidationError):
        s.run.seed = 5  # type: ignore[misc]


def test_types_merge_attributes_in_declaration_order() -> None:
    types = Scenario.model_validate(line()).types()
    assert [(t.product, t.variant) for t in types] == [("A", "std"), ("B", "x"), ("B", "y")]
    assert [t.name for t in types] == ["A/std", "B/x", "B/y"]
    assert types[0].attrs == {"platform": "small", "modules": 4, "product": "A",
                              "variant": "std"}
    assert types[2].attrs["modules"] == 8 and types[1].attrs["modules"] == 6
    assert types[0].share == 1.0 and types[1].share + types[2].share == pytest.approx(1.0)


def test_default_product_is_part() -> None:
    s = Scenario.model_validate(put(put(line(), "products", None), "sources.src.mix", None))
    assert [(t.product, t.variant, t.share) for t in s.types()] == [("part", "std", 1.0)]


def test_end_date_is_inclusive() -> None:
    s = Scenario.model_validate(put(put(line(), "run.duration", None), "run.end",
                                    dt.date(2024, 1, 31)))
    assert s.run.horizon == 31 * DAY and s.run.last_day == dt.date(2024, 1, 31)


@pytest.mark.parametrize(
    ("spec", "mean"),
    [
        ("90 s", 90.0),
        ({"dist": "exponential", "mean": "1 min"}, 60.0),
        ({"dist": "uniform", "low": "10 s", "high": "30 s"}, 20.0),
        ({"dist": "triangular", "low": "0 s", "mode": "30 s", "high": "1 min"}, 30.0),
        ({"dist": "lognormal", "mean": "1 h", "cv": 0.5}, 3600.0),
        ({"dist": "gamma", "mean": "2 min", "cv": 2}, 120.0),
        ({"dist": "erlang", "mean": "30 s", "k": 3}, 30.0),
        ({"dist": "weibull", "mean": "8 h", "shape": 1.5}, 28800.0),
        ({"dist": "empirical", "values": ["10 s", "20 s"], "weights": [3, 1]}, 12.5),
        ({"dist": "empirical", "values": ["10 s", "20 s"]}, 15.0),
    ],
)
def test_distribution_means(spec: Any, mean: float) -> None:
    s = Scenario.model_validate(put(line(), "stations.s1.cycle", spec))
    assert s.stations["s1"].cycle.mean_value == pytest.approx(mean, rel=1e-12)


def test_normal_mean_accounts_for_clipping_at_zero() -> None:
    s = Scenario.model_validate(
        put(line(), "stations.s1.cycle", {"dist": "normal", "mean": "1 s", "sd": "2 s"})
    )
    clipped, _ = integrate.quad(lambda x: x * stats.norm.pdf(x, 1.0, 2.0), 0, math.inf)
    assert s.stations["s1"].cycle.mean_value == pytest.approx(clipped, rel=1e-9)


def test_lognormal_stores_cv_and_sd() -> None:
    by_sd = Lognormal.model_validate({"mean": "10 s", "sd": "3 s"})
    by_cv = Lognormal.model_validate({"mean": "10 s", "cv": 0.3})
    assert by_sd.cv == pytest.approx(0.3) and by_cv.sd == pytest.approx(3.0)


def test_mtbf_mttr_shorthand_is_exponential() -> None:
    data = put(line(), "stations.s2.failures", {"mtbf": "8 h", "mttr": "10 min"})
    f = Scenario.model_validate(data).stations["s2"].failures
    assert isinstance(f.uptime, Exponential) and isinstance(f.repair, Exponential)
    assert (f.uptime.mean, f.repair.mean) == (28800.0, 600.0)
    assert f.mode == "operation" and f.repair_off_shift is False


def test_cycle_by_attribute_with_numeric_keys() -> None:
    data = put(line(), "stations.s1.cycle", {"by": "modules", "values": {4: "40 s", 6: "1 min"},
                                             "default": "80 s", "scale_by": "modules"})
    cycle = Scenario.model_validate(data).stations["s1"].cycle
    assert isinstance(cycle, ByCycle) and set(cycle.values) == {"4", "6"}
    assert cycle.spec_for({"modules": 4}).value == 40.0
    assert cycle.spec_for({"modules": 8}).value == 80.0
    assert attr_key(6.0) == attr_key(6) == "6"


@pytest.mark.parametrize(
    ("days", "expected"),
    [("mon-fri", (0, 1, 2, 3, 4)), ("daily", tuple(range(7))), ("sat", (5,)),
     (["wed", "Mon"], (0, 2)), ("fri-mon", (0, 4, 5, 6)), (["mon-wed", "sun"], (0, 1, 2, 6))],
)
def test_shift_days(days: Any, expected: tuple[int, ...]) -> None:
    data = put(line(), "calendars.cal.shifts.0.days", days)
    assert Scenario.model_validate(data).calendars["cal"].shifts[0].days == expected


def test_overnight_shift_and_break_by_end_time() -> None:
    shift = {"name": "n", "days": "mon-thu", "start": "22:00", "end": "06:00",
             "breaks": [{"start": "02:00", "end": "02:30"}]}
    cal = Scenario.model_validate(put(line(), "calendars.cal.shifts", [shift])).calendars["cal"]
    assert cal.shifts[0].length == 8 * 3600.0
    assert (cal.shifts[0].breaks[0].start, cal.shifts[0].breaks[0].duration) == (7200.0, 1800.0)


def test_learning_curve_values() -> None:
    lc = LearningCurve.model_validate({"initial": 0.3, "final": 0.1, "from": "2024-01-01",
                                       "over": "10 d", "shape": "linear"})
    assert lc.value(-1.0) == 0.3 and lc.value(5 * DAY) == pytest.approx(0.2)
    assert lc.value(20 * DAY) == 0.1
    expo = lc.model_copy(update={"shape": "exponential"})
    assert expo.value(10 * DAY) == pytest.approx(0.1 + 0.2 * math.exp(-3.0))


NIGHT = {"name": "n", "days": "sun", "start": "22:00", "end": "07:00"}
ROUTE2 = [{"to": "b1", "p": 0.1}, {"to": "b2"}]
PLAN = {"kind": "plan", "plan": {"periods": [{"from": "2024-01-01", "to": "2024-01-05",
                                              "quantities": {"A": 10}}]}}
BAD_CASES = [
    # (path to change, value, expected error path, words the message must contain)
    ("run.end", "2024-01-05", "run.duration", "'end' or 'duration', not both"),
    ("run.duration", None, "run", "give the run length"),
    ("run.warmup", "10 d", "run.warmup", "must be shorter than the run"),
    ("run.replications", 0, "run.replications", "must be >= 1 (got 0)"),
    ("run.seed", "x", "run.seed", "expected a whole number (got 'x')"),
    ("stations.s1.cycle", 60, "stations.s1.cycle", "expected a duration with a unit"),
    ("stations.s1.cycle", "0 s", "stations.s1.cycle", "duration must be > 0 (got '0 s')"),
    ("stations.s1.cycle", "-3 min", "stations.s1.cycle", "duration must be > 0"),
    ("stations.s1.cycle", {"dist": "gama", "mean": "1 s"}, "stations.s1.cycle",
     "unknown distribution 'gama'; expected one of: deterministic, exponential, uniform"),
    ("stations.s1.cycle", {"mean": "1 s"}, "stations.s1.cycle", "missing 'dist'"),
    ("stations.s1.cycle", {"dist": "uniform", "low": "5 s", "high": "2 s"},
     "stations.s1.cycle.high", "low < high"),
    ("stations.s1.cycle", {"dist": "erlang", "mean": "5 s", "k": 0}, "stations.s1.cycle.k",
     "must be >= 1"),
    ("stations.s1.cycle", {"dist": "lognormal", "mean": "5 s", "cv": 0.5, "sd": "1 s"},
     "stations.s1.cycle.sd", "disagree"),
    ("stations.s1.cycle", {"dist": "empirical", "values": ["1 s"], "weights": [1, 2]},
     "stations.s1.cycle.weights", "1 values but 2 weights"),
    ("stations.s1.cylce", "5 s", "stations.s1", "unknown field 'cylce' (did you mean 'cycle'?)"),
    ("stations.s1.servers", "two", "stations.s1.servers", "expected a whole number"),
    ("stations.s1.paced", {"positions": 3, "takt": "1 min"}, "stations.s1.paced",
     "'cycle' or 'paced', not both"),
    ("stations.s1.failures", {"mtbf": "1 h"}, "stations.s1.failures", "'mttr' or 'repair'"),
    ("stations.s1.failures", {"mtbf": "1 h", "uptime": "1 h", "mttr": "1 min"},
     "stations.s1.failures.mtbf", "'mtbf' or 'uptime', not both"),
    ("buffers.b1.capacity", -1, "buffers.b1.capacity", "capacity must be >= 0 (got -1)"),
    ("buffers.b1.capacity", 2.5, "buffers.b1.capacity", "whole number of parts (got 2.5)"),
    ("buffers.b1.capacity", None, "buffers.b1", "missing required field 'capacity'"),
    ("buffers.b1.to", "s9", "buffers.b1.to", "unknown station or sink 's9'; expected one of"),
    ("buffers.b1.from", ["s1", "sink"], "buffers.b1.from", "unknown source or station 'sink'"),
    ("buffers.s1", {"from": "s1", "to": "s2", "capacity": 1}, "buffers.s1", "already used"),
    ("sinks.9lives", {}, "sinks.9lives", "bad name '9lives'"),
    ("buffers.out", None, "stations.s2", "no output buffer"),
    ("buffers.feed.to", "s2", "stations.s1", "no input buffer"),
    ("buffers.b2", {"from": "s1", "to": "sink", "capacity": 1}, "stations.s1.route",
     "2 output buffers (b1, b2) and needs 'route'"),
    ("stations.s1.route", [{"to": "out"}], "stations.s1.route.0.to",
     "unknown output buffer 'out'"),
    ("stations.s1.route", [{"to": "b1", "when": {"platform": "small"}}], "stations.s1.route",
     "product type B/x matches no route rule"),
    ("stations.s1.route", [{"to": "b1", "when": {"colour": "red"}}],
     "stations.s1.route.0.when.colour", "unknown attribute 'colour'"),
    ("stations.s1.route", [{"to": "b1", "when": {"platform": "large"}}],
     "stations.s1.route.0.when.platform", "no product type has platform = 'large'"),
    ("stations.s1.route", [{"to": "b1", "p": 0.5}], "stations.s1.route", "sum to 0.5, not 1"),
    ("stations.s1.route", [{"to": "b1", "p": 1.5}], "stations.s1.route.0.p", "must be <= 1"),
    ("stations.s1.carrier", "b1", "stations.s1.carrier", "unknown input buffer 'b1'"),
    ("stations.s1.consume", {"feed": "platform"}, "stations.s1.consume.feed",
     "'platform' must be a number"),
    ("stations.s1.cycle", {"by": "platform", "values": {"small": "1 s"}}, "stations.s1.cycle",
     "no cycle time for product type B/x (platform = 'medium')"),
    ("stations.s1.cycle", {"by": "platform", "values": {"big": "1 s"}, "default": "2 s"},
     "stations.s1.cycle.values.big", "no product type has platform = 'big'"),
    ("stations.s1.cycle", {"by": "colour", "default": "2 s"}, "stations.s1.cycle.by",
     "unknown attribute 'colour'"),
    ("stations.s1.cycle", {"by": "product", "default": "2 s", "scale_by": "platform"},
     "stations.s1.cycle.scale_by", "must be a number"),
    ("stations.s1.calendar", "nights", "stations.s1.calendar", "unknown calendar 'nights'"),
    ("run.calendar", "nights", "run.calendar", "expected one of: cal"),
    ("sources.src.mix", {"A": 0.5, "Zoe": 0.5}, "sources.src.mix.Zoe",
     "unknown product 'Zoe'; expected one of: A, B"),
    ("sources.src.mix", {"A": 0.5}, "sources.src.mix", "sum to 1 (got 0.5)"),
    ("sources.src.sequence", ["A"], "sources.src.sequence", "'mix' or 'sequence', not both"),
    ("sources.src.kind", "arrivals", "sources.src", "needs 'interarrival'"),
    ("sources.src.leads", {"b1": "1 h"}, "sources.src.leads.b1", "unknown output buffer"),
    ("sources.extra", {"kind": "saturated"}, "sources.extra", "feeds no buffer"),
    ("sources.src", put(PLAN, "plan.periods.0.to", "2024-02-01"),
     "sources.src.plan.periods.0.to", "outside the run horizon 2024-01-01 .. 2024-01-10"),
    ("sources.src", put(PLAN, "plan.periods.0.quantities", {"Zoe": 1}),
     "sources.src.plan.periods.0.quantities.Zoe", "unknown product 'Zoe'"),
    ("sources.src", put(PLAN, "plan.periods.0.to", "2023-12-01"),
     "sources.src.plan.periods.0.to", "dates out of order: to 2023-12-01 is before from"),
    ("sources.src", put(PLAN, "plan.sequencing", {"max_consecutive": {"attr": "platform",
                                                                      "value": "x", "n": 2}}),
     "sources.src.plan.sequencing.max_consecutive.value", "no product type has platform"),
    ("calendars.cal.shifts.0.start", 780, "calendars.cal.shifts.0.start", 'write "13:00"'),
    ("calendars.cal.shifts.0.days", "weekdays", "calendars.cal.shifts.0.days",
     "unknown day 'weekdays'"),
    ("calendars.cal.shifts.0.breaks", [{"start": "15:00", "duration": "10 min"}],
     "calendars.cal.shifts.0.breaks.0", "is not inside the shift 06:00-14:00"),
    ("calendars.cal.shifts", [line()["calendars"]["cal"]["shifts"][0],
                              NIGHT | {"days": "sun-mon", "end": "06:30"}],
     "calendars.cal.shifts", "shifts 'n' and 'd' overlap on mon"),
    ("calendars.cal.shutdowns", [{"from": "2024-03-02", "to": "2024-03-01"}],
     "calendars.cal.shutdowns.0.to", "dates out of order"),
    ("products.B.variants.x.share", 0.5, "products.B.variants", "sum to 1 (got 0.8)"),
    ("products.A.attrs.product", "A", "products.A.attrs.product", "reserved"),
]


@pytest.mark.parametrize(("where", "value", "path", "words"), BAD_CASES)
def test_bad_input_names_the_field(where: str, value: Any, path: str, words: str) -> None:
    data = put(line(), where, value)
    got_path, message = error(data)
    assert got_path == path
    assert words in message


def test_plan_source_within_the_horizon_is_valid() -> None:
    s = Scenario.model_validate(put(line(), "sources.src", PLAN | {"calendar": "cal"}))
    assert s.sources["src"].plan.periods[0].quantities == {"A": 10}
    assert s.sources["src"].plan.sequencing.rule == "spread"


def test_back_to_back_shifts_and_sunday_night_into_monday_do_not_overlap() -> None:
    shifts = [{"name": "a", "days": "mon-fri", "start": "07:00", "end": "15:00"},
              {"name": "b", "days": "mon-fri", "start": "15:00", "end": "23:00"},
              NIGHT]
    Scenario.model_validate(put(line(), "calendars.cal.shifts", shifts))


def test_paced_segment_takes_one_input() -> None:
    data = put(line(), "stations.s2", {"paced": {"positions": 3, "takt": "1 min"}})
    data = put(data, "buffers.b0", {"from": "src", "to": "s2", "capacity": 1})
    assert error(data)[0] == "stations.s2.paced"


def test_an_assembly_fed_only_by_its_own_downstream_is_dead() -> None:
    # s2 marries s1's part with one from b_back, which only s2's own output feeds
    data = put(line(), "buffers.b_back", {"from": "s3", "to": "s2", "capacity": 1})
    data = put(data, "stations.s3", {"cycle": "30 s"})
    data = put(data, "buffers.out", {"from": "s2", "to": "s3", "capacity": 5})
    data = put(data, "buffers.done", {"from": "s3", "to": "sink", "capacity": "inf"})
    data = put(data, "stations.s3.route", [{"to": "b_back", "p": 0.5},
                                           {"to": "done", "p": 0.5}])
    path, message = error(data)
    assert path == "stations.s2" and "can never start" in message and "b_back" in message


def test_a_sink_with_no_input_is_dead() -> None:
    path, message = error(put(line(), "sinks.scrap", {}))
    assert path == "sinks.scrap" and "no input buffer" in message


def test_a_station_behind_a_dead_one_is_named_and_a_rework_loop_is_alive() -> None:
    loop = put(line(), "stations.s3", {"cycle": "30 s"})
    loop = put(loop, "buffers.feed", {"from": ["src", "s3"], "to": "s1", "capacity": 1})
    loop = put(loop, "buffers.b1", {"from": "s1", "to": "s2", "capacity": 5})
    loop = put(loop, "buffers.rework", {"from": "s2", "to": "s3", "capacity": 2})
    loop = put(loop, "stations.s2.route", [{"to": "rework", "p": 0.1},
                                           {"to": "out", "p": 0.9}])
    Scenario.model_validate(loop)  # a loop back to an input that a source also feeds lives
    island = put(loop, "buffers.feed", {"from": "src", "to": "s1", "capacity": 1})
    island = put(island, "buffers.ring", {"from": "s3", "to": "s4", "capacity": 1})
    island = put(island, "stations.s4", {"cycle": "30 s"})
    island = put(island, "buffers.rework", {"from": "s4", "to": "s3", "capacity": 2})
    island = put(island, "buffers.b_ring_out", {"from": "s3", "to": "sink", "capacity": 1})
    island = put(island, "stations.s3.route", [{"to": "ring", "p": 0.5},
                                               {"to": "b_ring_out", "p": 0.5}])
    island = put(island, "stations.s2.route", None)
    path, message = error(island)
    assert path in ("stations.s3", "stations.s4") and "can never start" in message
