"""Replications: serial and parallel runs agree bit for bit; seeds and order are honoured."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sim.spec.loader")
pytest.importorskip("sim.engine.run")

from sim.experiments.replications import (
    _run_one,
    default_workers,
    run_manifest,
    run_replications,
    with_seed,
)
from sim.spec.loader import load_scenario, load_with_sources

TINY = """\
name: tiny
run: {duration: 1 d, replications: 3, seed: 7}
sources: {src: {kind: saturated}}
stations:
  s1: {cycle: {dist: exponential, mean: 60 s}}
  s2:
    cycle: {dist: exponential, mean: 50 s}
    failures: {mtbf: 4 h, mttr: 10 min}
buffers:
  b0: {from: src, to: s1, capacity: 1}
  b1: {from: s1, to: s2, capacity: 3}
  b2: {from: s2, to: yard, capacity: inf}
sinks: {yard: {}}
"""


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scen") / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def tiny(tiny_file: Path):
    return load_scenario(tiny_file)


def same_completions(a, b) -> bool:
    ca, cb = a.completions, b.completions
    return all(
        np.array_equal(getattr(ca, f), getattr(cb, f))
        for f in ("part", "order", "type", "sink", "t_release", "t_done")
    )


@pytest.fixture(scope="module")
def serial(tiny):
    return run_replications(tiny, workers=1)


def test_serial_and_parallel_runs_are_identical(tiny, serial) -> None:
    parallel = run_replications(tiny, workers=2)
    assert [r.replication for r in serial] == [0, 1, 2]
    assert [r.replication for r in parallel] == [0, 1, 2]
    for a, b in zip(serial, parallel):
        assert len(a.completions) > 0
        assert same_completions(a, b)
        assert a.stations == b.stations
        assert (a.released, a.wip_mean, a.events) == (b.released, b.wip_mean, b.events)
        assert not b.completions.t_done.flags.writeable


def test_a_model_built_beforehand_as_the_check_runs_the_same_replication(tiny, serial) -> None:
    from sim.engine.model import build

    first = build(tiny, 0)
    again = run_replications(tiny, workers=1, first=first)
    assert first.env.now > 0  # replication 0 ran on that model, not on a second build
    for a, b in zip(serial, again):
        assert same_completions(a, b) and a.stations == b.stations and a.events == b.events
    other = run_replications(tiny, 1, seed=99, workers=1, first=build(tiny, 0))
    assert other[0].seed != serial[0].seed  # a model of other seeds is not reused


def test_a_replication_alone_equals_the_same_one_in_a_batch(tiny, serial) -> None:
    assert same_completions(_run_one(tiny, 2), serial[2])


def test_replications_draw_different_numbers(serial) -> None:
    a, b = serial[0].completions.t_done, serial[1].completions.t_done
    assert len(a) != len(b) or not np.array_equal(a, b)


def test_replications_default_to_the_scenario_and_can_be_overridden(tiny) -> None:
    assert len(run_replications(tiny, replications=1, workers=1)) == 1


def test_seed_override_equals_a_scenario_with_that_seed(tiny, serial) -> None:
    by_arg = run_replications(tiny, replications=1, seed=99, workers=1)[0]
    by_copy = run_replications(with_seed(tiny, 99), replications=1, workers=1)[0]
    assert same_completions(by_arg, by_copy)
    assert not same_completions(by_arg, serial[0])


def test_with_seed_copies_without_touching_the_original(tiny) -> None:
    assert with_seed(tiny, None) is tiny
    assert with_seed(tiny, tiny.run.seed) is tiny
    other = with_seed(tiny, 12345)
    assert other.run.seed == 12345
    assert tiny.run.seed == 7
    assert other.stations == tiny.stations


@pytest.mark.parametrize("kwargs", [{"replications": 0}, {"workers": 0}])
def test_nonsense_counts_are_refused(tiny, kwargs) -> None:
    with pytest.raises(ValueError):
        run_replications(tiny, **kwargs)


def test_default_workers_never_exceed_replications() -> None:
    assert default_workers(1) == 1
    assert 1 <= default_workers(1000) <= 1000


def test_forced_progress_draws_a_bar_on_stderr(tiny, capsys) -> None:
    run_replications(tiny, replications=1, workers=1, progress=True)
    assert "tiny" in capsys.readouterr().err
    run_replications(tiny, replications=1, workers=1, progress=False)
    assert capsys.readouterr().err == ""


def test_manifest_records_files_seeds_and_versions(tiny, tiny_file, serial) -> None:
    _, sources = load_with_sources(tiny_file)
    m = run_manifest(tiny, sources, serial, overrides=["run.seed=7"], workers=1)
    assert m["files"][0]["sha256"] == hashlib.sha256(tiny_file.read_bytes()).hexdigest()
    assert m["root_seed"] == 7
    assert [s["replication"] for s in m["seeds"]] == [0, 1, 2]
    assert m["replications"] == 3
    assert m["overrides"] == ["run.seed=7"]
    assert {"python", "numpy", "simpy"} <= set(m["versions"])


def test_the_loader_snapshots_every_file_of_the_extends_chain(tmp_path) -> None:
    (tmp_path / "base").mkdir()
    root = tmp_path / "base" / "root.yaml"
    root.write_text(TINY)
    (tmp_path / "mid.yaml").write_text("extends: base/root.yaml\n")
    (tmp_path / "top.yaml").write_text("extends: mid.yaml\nname: top\n")
    _, sources = load_with_sources(tmp_path / "top.yaml")
    assert [Path(s.path) for s in sources] == [tmp_path / "top.yaml", tmp_path / "mid.yaml",
                                               tmp_path / "base/root.yaml"]
    assert sources[2].data == root.read_bytes()
    root.write_text("changed after the load\n")
    assert sources[2].sha256 == hashlib.sha256(TINY.encode()).hexdigest()
