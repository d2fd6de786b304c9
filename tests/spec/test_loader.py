"""Loading scenario files: extends, --set, one-line errors, resolved dict, JSON Schema."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from paths import DATA, EXAMPLES

from sim.errors import ScenarioError
from sim.spec.loader import load_dict, load_scenario, resolved_dict, scenario_schema
from sim.spec.scenario import Scenario
from sim.spec.yamlfile import StrictLoader

BASE = DATA / "loader_base.yaml"

GOOD = """\
run: {duration: 10 d}
sources: {src: {kind: saturated}}
stations: {s1: {cycle: 50 s}, s2: {cycle: 1 min}}
buffers:
  feed: {from: src, to: s1, capacity: 1}
  b1: {from: s1, to: s2, capacity: 5}
  out: {from: s2, to: sink, capacity: inf}
sinks: {sink: {}}
"""


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fails(path: Path, overrides: tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def test_error_prints_as_one_line() -> None:
    assert str(ScenarioError("a.yaml", "stations.s1", "bad")) == "a.yaml: stations.s1: bad"
    assert str(ScenarioError("a.yaml", "", "bad")) == "a.yaml: bad"


@pytest.mark.parametrize("name", ["two_stations.yaml", "mixed_line.yaml"])
def test_examples_load(name: str) -> None:
    assert isinstance(load_scenario(EXAMPLES / name), Scenario)


def test_two_stations_example_is_as_specified() -> None:
    s = load_scenario(EXAMPLES / "two_stations.yaml")
    assert (s.run.horizon, s.run.warmup) == (30 * 86400.0, 86400.0)
    assert (s.run.replications, s.run.seed) == (5, 42) and s.description
    assert s.stations["s1"].cycle.dist == "exponential" and s.stations["s1"].cycle.mean == 50
    failures = s.stations["s2"].failures
    assert (failures.uptime.mean, failures.repair.mean) == (8 * 3600.0, 600.0)
    assert s.buffers["b1"].capacity == 5 and s.buffers["b1"].from_ == ("s1",)


def test_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, GOOD, "my_line.yaml")).name == "my_line"
    assert load_scenario(write(tmp_path, "name: named\n" + GOOD)).name == "named"


def test_extends_merges_and_null_removes() -> None:
    s = load_scenario(DATA / "loader_child.yaml")
    assert s.name == "loader_child" and s.description == "base line"
    assert (s.run.replications, s.run.seed) == (4, 3)
    assert s.stations["s1"].cycle.dist == "uniform"
    assert s.stations["s2"].failures is None
    assert s.stations["s2"].cycle.mean == 60.0
    assert s.buffers["b1"].trace and s.buffers["b1"].capacity == 5


def test_load_dict_gives_merged_raw_data() -> None:
    raw = load_dict(DATA / "loader_child.yaml", ["run.seed=9"])
    assert raw["run"] == {"duration": "10 d", "seed": 9, "replications": 4}
    assert "failures" not in raw["stations"]["s2"] and "extends" not in raw


def test_set_overrides() -> None:
    s = load_scenario(BASE, ["run.replications=20", "stations.s1.cycle=70 s",
                             "buffers.b1.capacity=inf", "stations.s1.failures.mtbf=2 h",
                             "stations.s1.failures.mttr=5 min", "stations.s2.failures=null"])
    assert s.run.replications == 20 and s.stations["s1"].cycle.value == 70.0
    assert math.isinf(s.buffers["b1"].capacity)
    assert s.stations["s1"].failures.uptime.mean == 7200.0
    assert s.stations["s2"].failures is None


def test_set_addresses_list_items_and_flow_values() -> None:
    s = load_scenario(EXAMPLES / "mixed_line.yaml", [
        'calendars.two_shift.shifts.1.end="22:00"',
        "stations.final.route=[{to: to_paint, p: 0.1}, {to: done}]",
    ])
    assert s.calendars["two_shift"].shifts[1].end == 22 * 3600.0
    assert s.stations["final"].route[0].p == 0.1


@pytest.mark.parametrize(
    ("override", "path", "words"),
    [
        ("run.replications", "", "expected PATH=VALUE"),
        ("run..seed=1", "run..seed", "empty part"),
        ("run.seed.x=1", "run.seed.x", "run.seed is not a mapping"),
        ("run.seed=[1", "run.seed", "bad --set value"),
        ("run.seed=-1", "run.seed", "must be >= 0 (got -1)"),
    ],
)
def test_bad_overrides(override: str, path: str, words: str) -> None:
    err = fails(BASE, (override,))
    assert (err.file, err.path) == (f"--set {override}", path) and words in err.message


def test_set_out_of_range_list_index() -> None:
    err = fails(EXAMPLES / "mixed_line.yaml", ("calendars.two_shift.shifts.5.end=22:00",))
    assert err.path == "calendars.two_shift.shifts.5.end" and "no list item 5" in err.message


def test_broken_yaml_names_line_and_column() -> None:
    err = fails(DATA / "loader_broken.yaml")
    assert err.path == ""
    assert err.message.startswith("invalid YAML at line 4 column 8: ")


def test_impossible_date_is_a_yaml_error_with_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("duration: 10 d", "start: 2024-02-30, end: 2024-03-01")
    err = fails(write(tmp_path, text))
    assert err.message.startswith("invalid YAML at line 1 column ")
    assert "invalid date '2024-02-30'" in err.message


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    err = fails(write(tmp_path, GOOD + "stations: {s3: {cycle: 1 s}}\n"))
    assert "duplicate key 'stations'" in err.message and "line 9" in err.message


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    assert fails(tmp_path / "nope.yaml").message == "file not found"
    assert "got a list" in fails(write(tmp_path, "- a\n- b\n")).message
    assert "got an empty file" in fails(write(tmp_path, "")).message


def test_extends_cycle_names_the_chain() -> None:
    err = fails(DATA / "loader_cycle_a.yaml")
    assert err.path == "extends"
    assert err.message == ("cycle in extends: loader_cycle_a.yaml -> loader_cycle_b.yaml -> "
                           "loader_cycle_a.yaml")
    assert Path(err.file).name == "loader_cycle_b.yaml"


def test_extends_missing_base(tmp_path: Path) -> None:
    err = fails(write(tmp_path, "extends: gone.yaml\n"))
    assert err.path == "extends" and err.message.startswith("file not found: ")


def test_error_names_the_file_the_key_came_from() -> None:
    err = fails(DATA / "loader_child_bad.yaml")
    assert Path(err.file).name == "loader_child_bad.yaml"
    assert (err.path, err.message) == ("buffers.b1.capacity", "capacity must be >= 0 (got -2)")
    # a value set on the command line is the command line's fault
    err = fails(DATA / "loader_child.yaml", ("stations.s2.cycle.mean=60",))
    assert err.file == "--set stations.s2.cycle.mean=60"
    assert err.path == "stations.s2.cycle.mean"
    err = fails(DATA / "loader_child.yaml", ("stations.s2.cycle={dist: exponential, mean: 6}",))
    assert err.file == "--set stations.s2.cycle={dist: exponential, mean: 6}"
    assert err.path == "stations.s2.cycle.mean"


def test_error_in_an_untouched_base_key_names_the_base(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("cycle: 50 s", "cycle: 50"), "bad_base.yaml")
    child = write(tmp_path, "extends: bad_base.yaml\nrun: {seed: 2}\n", "child.yaml")
    err = fails(child)
    assert Path(err.file).name == "bad_base.yaml" and err.path == "stations.s1.cycle"


BAD_FILES = [
    # (change to GOOD as a --set, expected path, exact message or its start)
    ("stations.s1.cylce=5 s", "stations.s1", "unknown field 'cylce' (did you mean 'cycle'?)"),
    ("stations.s1.servers=two", "stations.s1.servers", "expected a whole number (got 'two')"),
    ("stations.s1.cycle=60", "stations.s1.cycle",
     "expected a duration with a unit, e.g. '60 s' (got 60)"),
    ("stations.s1.cycle=0 s", "stations.s1.cycle", "duration must be > 0 (got '0 s')"),
    ("stations.s1.cycle=-5 s", "stations.s1.cycle", "duration must be > 0 (got '-5 s')"),
    ("buffers.b1.capacity=-1", "buffers.b1.capacity", "capacity must be >= 0 (got -1)"),
    ("buffers.b1.to=s9", "buffers.b1.to",
     "unknown station or sink 's9'; expected one of: s1, s2, sink"),
    ("stations.s1.cycle={dist: gama, mean: 1 s}", "stations.s1.cycle",
     ("unknown distribution 'gama'; expected one of: deterministic, exponential, uniform, "
     "triangular, normal, lognormal, gamma, erlang, weibull, empirical")),
    ("run={start: 2024-02-01, end: 2024-01-15}", "run.end",
     "dates out of order: end 2024-01-15 is before start 2024-02-01"),
    ("sources.src.mix={part: 0.5, Zoe: 0.5}", "sources.src.mix.Zoe",
     "unknown product 'Zoe'; expected one of: part"),
    (("sources.src={kind: plan, plan: {periods: [{from: 2024-01-01, to: 2024-03-01, "
     "quantities: {part: 5}}]}}"), "sources.src.plan.periods.0.to",
     "plan date 2024-03-01 is outside the run horizon 2024-01-01 .. 2024-01-10"),
    ("meta=[1]", "meta", "expected a mapping (got [1])"),
    ("calendars={c: {shifts: [{name: a, days: mon, start: '6:00', end: 780}]}}",
     "calendars.c.shifts.0.end", 'expected a clock time "HH:MM" in quotes'),
]


@pytest.mark.parametrize(("override", "path", "message"), BAD_FILES)
def test_bad_input_gives_path_and_readable_message(tmp_path: Path, override: str, path: str,
                                                   message: str) -> None:
    err = fails(write(tmp_path, GOOD), (override,))
    assert err.path == path
    assert err.message.startswith(message)
    assert str(err) == f"--set {override}: {path}: {err.message}"  # what set the value


@pytest.mark.parametrize(
    "path", [EXAMPLES / "two_stations.yaml", EXAMPLES / "mixed_line.yaml",
             DATA / "loader_full.yaml", DATA / "loader_child.yaml"],
)
def test_resolved_dict_round_trip(tmp_path: Path, path: Path) -> None:
    s = load_scenario(path)
    data = resolved_dict(s)
    assert json.loads(json.dumps(data)) == data
    copy = write(tmp_path, yaml.safe_dump(data, sort_keys=False), "resolved.yaml")
    assert load_scenario(copy) == s


def test_resolved_dict_writes_units_and_aliases() -> None:
    data = resolved_dict(load_scenario(DATA / "loader_full.yaml"))
    assert data["run"]["warmup"] == "2 d" and data["run"]["start"] == "2024-07-01"
    assert data["calendars"]["shifts"]["shutdowns"][0]["from"] == "2024-08-05"
    assert data["calendars"]["shifts"]["shifts"][0]["days"] == "mon-fri"
    assert data["buffers"]["line_buf"]["capacity"] == "inf"
    assert data["stations"]["repair"]["cycle"]["mean"] == "10 min"
    assert data["meta"]["source"]["checked"] == "2024-06-30"


def test_schema_is_json_and_describes_the_input_format() -> None:
    schema = json.loads(json.dumps(scenario_schema()))
    for section in ("run", "products", "calendars", "sources", "stations", "buffers",
                    "sinks", "meta", "extends"):
        assert section in schema["properties"]
    assert "name" not in schema.get("required", [])
    defs = schema["$defs"]
    assert {"mtbf", "mttr", "uptime"} <= set(defs["FailureSpec"]["properties"])
    assert defs["RunSpec"]["properties"]["warmup"]["type"] == "string"
    assert "pattern" in defs["RunSpec"]["properties"]["warmup"]
    assert "from" in defs["BufferSpec"]["properties"]


def test_examples_validate_against_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = scenario_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    for path in (EXAMPLES / "two_stations.yaml", EXAMPLES / "mixed_line.yaml",
                 DATA / "loader_full.yaml", DATA / "loader_child.yaml"):
        raw = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        validator.validate(raw)
    for bad in ({"run": {"duration": "1 d"}},
                {"extends": "b.yaml", "stations": {"s1": {"cylce": "5 s"}}},
                {"extends": "b.yaml", "stations": {"s1": {"cycle": 60}}}):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(bad)


def test_merge_keys_merge_and_the_mappings_own_keys_win(tmp_path: Path) -> None:
    text = GOOD.replace("run: {duration: 10 d}", "defaults: &d {duration: 10 d, seed: 3}\n"
                        "run: {<<: *d, seed: 9}").replace("stations: {s1: {cycle: 50 s}, ",
                                                          "stations: {s1: {<<: *c}, ")
    text = "c_: &c {cycle: 50 s}\n" + text
    data = yaml.load(text, Loader=StrictLoader)
    assert data["run"] == {"duration": "10 d", "seed": 9}
    assert data["stations"]["s1"] == {"cycle": "50 s"}
    many = "a: &a {x: 1}\nb: &b {y: 2}\nc: {<<: [*a, *b], z: 3}\n"
    assert yaml.load(many, Loader=StrictLoader)["c"] == {
        "x": 1, "y": 2, "z": 3}


def test_a_scenario_with_merge_keys_loads(tmp_path: Path) -> None:
    text = GOOD.replace("  b1: {from: s1, to: s2, capacity: 5}",
                        "  b1: {<<: *cap, from: s1, to: s2}").replace(
        "  feed: {from: src, to: s1, capacity: 1}",
        "  feed: {from: src, to: s1, capacity: 1}\n  cap_: &cap {capacity: 5}")
    data = load_dict(write(tmp_path, text))
    assert data["buffers"]["b1"] == {"capacity": 5, "from": "s1", "to": "s2"}


def test_a_duplicate_key_beside_a_merge_key_is_still_refused(tmp_path: Path) -> None:
    text = "a: &a {x: 1}\n" + GOOD.replace("run: {duration: 10 d}",
                                           "run: {<<: *a, duration: 10 d, duration: 2 d}")
    assert "duplicate key 'duration'" in fails(write(tmp_path, text)).message


@pytest.mark.parametrize("name", ["../escaped", "/abs/path", "", ".", "..", ".hidden",
                                  "a/b", "a\\b", "x" * 101, "tab\there"])
def test_a_name_must_be_one_safe_folder_name(tmp_path: Path, name: str) -> None:
    err = fails(write(tmp_path, GOOD + f"name: {json.dumps(name)}\n"))
    assert err.path == "name"
    err = fails(write(tmp_path, GOOD, "y.yaml"), (f"name={json.dumps(name)}",))
    assert err.path == "name"


@pytest.mark.parametrize("name", ["douai-2025", "Douai 2025 base", "a.b_c", "R5+A290"])
def test_plain_names_stay_accepted(tmp_path: Path, name: str) -> None:
    assert load_scenario(write(tmp_path, GOOD + f"name: {json.dumps(name)}\n")).name == name


@pytest.mark.parametrize(("override", "path", "words"), [
    ("stations.paintshop.servers=2", "stations.paintshop",
     "unknown station 'paintshop' (did you mean 'paint'?)"),
    ("buffers.stoer.capacity=5", "buffers.stoer", "unknown buffer 'stoer' (did you mean"),
    ("stations.zzz.servers=2", "stations.zzz", "unknown station 'zzz'; the stations are: "),
    ("sation.paint.servers=2", "sation", "unknown section 'sation' (did you mean 'stations'?)"),
])
def test_a_misspelt_name_in_set_names_the_command_line(tmp_path: Path, override: str,
                                                       path: str, words: str) -> None:
    text = GOOD.replace("s1:", "paint:").replace("to: s1", "to: paint").replace(
        "from: s1", "from: paint").replace("b1:", "store:")
    err = fails(write(tmp_path, text), (override,))
    assert (err.file, err.path) == (f"--set {override}", path), err
    assert words in err.message, err.message


def test_a_whole_new_object_may_still_be_added_by_set(tmp_path: Path) -> None:
    data = load_dict(write(tmp_path, GOOD), ("stations.extra={cycle: 60 s}",))
    assert data["stations"]["extra"] == {"cycle": "60 s"}


def test_a_bad_value_set_on_the_command_line_is_blamed_on_it() -> None:
    err = fails(BASE, ("run.seed=-1",))
    assert err.file == "--set run.seed=-1" and err.path == "run.seed"


def test_a_child_adds_or_removes_list_items_instead_of_restating_the_list(tmp_path: Path
                                                                         ) -> None:
    base = GOOD.replace("run: {duration: 10 d}", "run: {duration: 10 d, calendar: c}") + (
        "calendars:\n  c:\n    shifts: [{name: d, days: mon-fri, start: '06:00', "
        "end: '14:00'}]\n    holidays: [2024-01-03, 2024-01-05]\n"
        "    changes:\n      - {from: 2024-01-08, add: [{name: n, days: mon-fri, "
        "start: '22:00', end: '06:00'}]}\n")
    write(tmp_path, base, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\ncalendars:\n  c:\n"
                            "    holidays+: [2024-01-09]\n    holidays-: [2024-01-03]\n"
                            "    changes-: [{from: 2024-01-08}]\n", "child.yaml")
    sc = load_scenario(child)
    assert [d.isoformat() for d in sc.calendars["c"].holidays] == ["2024-01-05", "2024-01-09"]
    assert sc.calendars["c"].changes == ()
    missing = write(tmp_path, "extends: base.yaml\ncalendars: {c: {holidays-: [2024-02-01]}}\n",
                    "missing.yaml")
    err = fails(missing)
    assert (err.file, err.path) == (str(missing), "calendars.c.holidays-")
    assert "no item of 'holidays' matches" in err.message
    not_list = write(tmp_path, "extends: base.yaml\ncalendars+: [1]\n", "bad.yaml")
    assert "is not a list" in fails(not_list).message
