"""Sweep files: designs expand as written, every point is validated before anything runs,
and every mistake is one error naming the sweep file, the field (or factor) and the point."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import ROOT

from sim.cli import main
from sim.errors import ScenarioError
from sim.experiments.design import expand, load_sweep, plan_sweep
from sim.spec.sweep import SweepSpec, sweep_schema

TWO = ROOT / "scenarios" / "examples" / "two_stations.yaml"


def _write(tmp_path: Path, body: dict, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"name": "s", "scenario": str(TWO), **body}))
    return path


def _spec(**body) -> SweepSpec:
    return SweepSpec.model_validate({"name": "s", "scenario": "x.yaml", **body})


def test_a_grid_is_every_combination_last_factor_fastest() -> None:
    spec = _spec(factors={"a": {"path": "x.a", "values": [1, 2]},
                          "b": {"path": "x.b", "range": {"from": "50 s", "to": "60 s",
                                                         "step": "5 s"}}})
    points = expand(spec, 7)
    assert [(p.labels["a"], p.labels["b"]) for p in points] == [
        ("1", "50 s"), ("1", "55 s"), ("1", "60 s"), ("2", "50 s"), ("2", "55 s"),
        ("2", "60 s")]
    assert points[1].sets == ("x.a=1", 'x.b="55 s"')
    assert points[1].numbers == {"a": 1.0, "b": 55.0}
    assert {p.seed for p in points} == {7}  # common random numbers: one root seed


def test_named_levels_set_several_paths_and_a_list_design_runs_the_points_written() -> None:
    spec = _spec(design="list",
                 factors={"rate": {"levels": {"52": {"s.t.takt": "69 s", "s.f.takt": "69 s"},
                                              "60": {"s.t.takt": "60 s"}}},
                          "cap": {"path": "b.c"}},
                 points=[{"rate": 60, "cap": 5}, {"rate": "52", "cap": "inf"}])
    points = expand(spec, 1)
    assert points[0].sets == ('s.t.takt="60 s"', "b.c=5")
    assert points[1].sets == ('s.t.takt="69 s"', 's.f.takt="69 s"', 'b.c="inf"')


def test_independent_seeds_per_point_when_common_random_numbers_are_off() -> None:
    spec = _spec(common_random_numbers=False, factors={"a": {"path": "x", "values": [1, 2, 3]}})
    seeds = [p.seed for p in expand(spec, 5)]
    assert len(set(seeds)) == 3
    assert seeds == [p.seed for p in expand(spec, 5)]  # and reproducible


@settings(max_examples=25, deadline=None)
@given(samples=st.integers(2, 40), seed=st.integers(0, 10_000))
def test_a_latin_hypercube_puts_one_point_in_each_stratum(samples: int, seed: int) -> None:
    spec = _spec(design="lhs", samples=samples, design_seed=seed,
                 factors={"x": {"path": "p.x", "range": {"from": 10, "to": 20}},
                          "c": {"path": "p.c", "values": ["a", "b"]}})
    points = expand(spec, 1)
    x = np.array([p.numbers["x"] for p in points])
    strata = np.floor((x - 10) / 10 * samples).astype(int)
    assert sorted(strata) == list(range(samples))      # the defining LHS property
    counts = [sum(p.labels["c"] == v for p in points) for v in "ab"]
    assert abs(counts[0] - counts[1]) <= 1              # listed levels by stratum, balanced
    assert [p.labels for p in expand(spec, 1)] == [p.labels for p in points]


@pytest.mark.parametrize(("body", "where", "words"), [
    ({"factors": {"a": {"path": "x", "values": [1], "range": {"from": 1, "to": 2}}}},
     "factors.a", "one of 'values', 'range' or 'levels'"),
    ({"factors": {"a": {"values": [1]}}}, "factors.a.path", "needs a 'path'"),
    ({"factors": {"a": {"path": "x", "range": {"from": "1 s", "to": 2, "step": 1}}}},
     "factors.a.range", "all be numbers or all durations"),
    ({"factors": {"a": {"path": "x", "range": {"from": 3, "to": 2, "step": 1}}}},
     "factors.a.range", "'to' must be larger"),
    ({"factors": {"a": {"path": "x", "range": {"from": 1, "to": 2}}}},
     "factors.a", "a grid factor needs values, levels or a range with a step"),
    ({"design": "lhs", "factors": {"a": {"path": "x", "values": [1]}}}, "samples",
     "needs 'samples'"),
    ({"design": "list", "factors": {"a": {"path": "x"}}, "points": [{"b": 1}]}, "points.0",
     "unknown factor 'b'"),
    ({"factors": {"a": {"path": "x", "values": [1]}}, "replications": 0}, "replications",
     "must be >= 1 (got 0)"),
    ({"factors": {"a": {"path": "x", "values": [1]}}, "seeds": 3}, "",
     "unknown field 'seeds'"),
])
def test_a_bad_sweep_file_is_one_error_naming_the_field(tmp_path, capsys, body, where,
                                                       words) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_sweep(path)
    assert err.value.file == str(path) and err.value.path == where
    assert words in err.value.message
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    prefix = f"error: {path}: {where}: " if where else f"error: {path}: "
    assert capsys.readouterr().err.startswith(prefix)
    assert not (tmp_path / "out").exists()


def test_a_bad_level_names_the_sweep_the_factor_and_the_point_and_nothing_runs(
        tmp_path, capsys) -> None:
    path = _write(tmp_path, {"factors": {
        "cap": {"path": "buffers.b1.capacity", "values": [3, -1]},
        "cycle": {"path": "stations.s2.cycle.mean", "values": ["60 s"]}}})
    with pytest.raises(ScenarioError) as err:
        plan_sweep(path)
    assert err.value.file == str(path) and err.value.path == "factors.cap"
    assert err.value.message.startswith("point 1 (cap=-1, cycle=60 s): buffers.b1.capacity")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "-q"]) == 2
    assert "factors.cap: point 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_scenario_file_is_named(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "scenario": "nowhere.yaml",
                                    "factors": {"a": {"path": "x", "values": [1]}}}))
    with pytest.raises(ScenarioError, match="scenario: file not found: nowhere.yaml"):
        plan_sweep(path)


def test_the_fingerprint_follows_the_runs_not_the_comments(tmp_path) -> None:
    body = {"factors": {"cap": {"path": "buffers.b1.capacity", "values": [3, 5]}}}
    a = plan_sweep(_write(tmp_path, body, "a.yaml"))
    b = plan_sweep(_write(tmp_path, {**body, "note": "a comment"}, "b.yaml"))
    c = plan_sweep(_write(tmp_path, {**body, "replications": 4}, "c.yaml"))
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_the_shipped_sweep_files_match_the_schema_and_the_schema_verb_prints_it(
        tmp_path, capsys) -> None:
    schema = sweep_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    files = sorted(f for f in (ROOT / "scenarios").rglob("sweeps/*.yaml")
                   if "gates" not in f.stem)
    assert len(files) >= 2, "no example sweep files"
    for f in files:
        jsonschema.validate(yaml.safe_load(f.read_text()), schema)
        plan_sweep(f)  # and every point of every shipped sweep is a valid scenario
    assert main(["schema", "--sweep"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "douai-sim sweep file"


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"design": "lhs", "samples": 100_000_000,
      "factors": {"a": {"path": "buffers.b1.capacity", "values": [1, 2]}}},
     "samples", "100,000,000 points, over the limit of 20,000"),
    ({"replications": 1_000_000_000,
      "factors": {"a": {"path": "buffers.b1.capacity", "values": [1, 2]}}},
     "replications", "2,000,000,000 runs, over the limit of 1,000,000"),
    ({"factors": {"a": {"path": "buffers.b1.capacity", "range": {"from": 1, "to": 200,
                                                                 "step": 1, "integer": True}},
                  "b": {"path": "buffers.feed.capacity", "range": {"from": 1, "to": 200,
                                                                   "step": 1,
                                                                   "integer": True}}}},
     "factors", "40,000 points, over the limit of 20,000"),
])
def test_a_sweep_too_large_to_hold_is_refused_before_expanding(tmp_path, capsys, body, field,
                                                               words) -> None:
    path = _write(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: {field}: ") and words in err, err
    assert not (tmp_path / "out").exists()


def test_a_sweep_over_the_event_budget_is_refused_and_sharding_is_the_way(tmp_path, capsys,
                                                                        monkeypatch) -> None:
    monkeypatch.setattr("sim.cli.sweep.MAX_SWEEP_EVENTS", 1e5)  # ~32,000 events a 10-day run
    path = _write(tmp_path, {"set": ["run.duration=10 d"], "replications": 2,
                             "factors": {"a": {"path": "buffers.b1.capacity",
                                               "values": [1, 2]}}})
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: replications: " in err and "--shard" in err
    assert not (tmp_path / "out").exists()
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--shard", "1/4", "-q",
                 "-w", "1", "--no-plots"]) == 0  # one run of four: within the budget


def test_a_misspelt_name_in_a_factor_path_names_the_factor_and_the_nearest_name(
        tmp_path, capsys) -> None:
    path = _write(tmp_path, {"factors": {"cap": {"path": "buffers.b1x.capacity",
                                                 "values": [1, 2]}}})
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: factors.cap: point 0 (cap=1): buffers.b1x: "
                          "unknown buffer 'b1x' (did you mean 'b1'?)"), err
    assert not (tmp_path / "out").exists()
