"""Calibration: convergence on a tiny plan-driven line, the written file, failures.

The example line scraps 4% of A and 8% of B and drains completely after its plan ends,
so the good output is about (1 - scrap) x plan x scale: the fitted scales must be near
target / ((1 - scrap) x plan), which is not 1.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from paths import EXAMPLES

from sim.analysis.kpi import run_kpis
from sim.analysis.stats import summarise
from sim.errors import ScenarioError
from sim.experiments.calibrate import (
    CalibrationResult,
    calibrate,
    nested,
    propose,
    run_command,
    write_calibrated,
)
from sim.experiments.replications import run_replications
from sim.spec.calibration import load_spec, lookup
from sim.spec.loader import load_scenario

PLAN = {"A": 1500, "B": 1000}
SCRAP = {"A": 0.04, "B": 0.08}


def example_spec(tmp: Path, **changes: Any) -> Path:
    """The example calibration file and its base copied into `tmp`, with top-level changes."""
    shutil.copy(EXAMPLES / "calibration_line.yaml", tmp / "calibration_line.yaml")
    data = yaml.safe_load((EXAMPLES / "calibration_example.yaml").read_text())
    data.update(changes)
    path = tmp / "calibration.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[CalibrationResult, Path]:
    tmp = tmp_path_factory.mktemp("cal")
    result = calibrate(example_spec(tmp), workers=1)
    return result, write_calibrated(result)


def test_converges_to_the_targets_in_few_iterations(
        fitted: tuple[CalibrationResult, Path]) -> None:
    result, _ = fitted
    assert result.ok, result.message
    assert len(result.iterations) <= 4
    spec = result.spec
    for p in spec.parameters:
        assert abs(result.final.error(p.target, spec.targets[p.target].value)) <= spec.tolerance
    assert result.iterations[0].values == {p.path: 1.0 for p in spec.parameters}


def test_fitted_scales_match_the_scrap_arithmetic(fitted: tuple[CalibrationResult, Path]) -> None:
    result, _ = fitted
    for product in ("A", "B"):
        target = result.spec.targets[f"completed.{product}"].value
        expected = target / ((1 - SCRAP[product]) * PLAN[product])
        assert result.final.values[f"sources.orders.plan.scale.{product}"] == pytest.approx(
            expected, rel=0.03)
    assert result.final.values["sources.orders.plan.scale.A"] > 1.1
    assert result.final.values["sources.orders.plan.scale.B"] < 0.95


def test_written_file_loads_and_reproduces_the_targets(
        fitted: tuple[CalibrationResult, Path]) -> None:
    result, written = fitted
    scenario = load_scenario(written)
    assert dict(scenario.sources["orders"].plan.scale) == {
        "A": result.final.values["sources.orders.plan.scale.A"],
        "B": result.final.values["sources.orders.plan.scale.B"]}
    runs = run_replications(scenario, result.replications, result.seed, workers=1)
    again = summarise([run_kpis(r) for r in runs])
    for name, target in result.spec.targets.items():
        assert again[name].mean == result.final.estimates[name].mean
        if name in ("completed.A", "completed.B"):
            assert abs(again[name].mean / target.value - 1) <= result.spec.tolerance


def test_written_file_says_what_when_and_how(fitted: tuple[CalibrationResult, Path]) -> None:
    result, written = fitted
    text = written.read_text()
    data = yaml.safe_load(text)
    assert data == {"extends": "calibration_line.yaml", "sources": {"orders": {"plan": {
        "scale": {"A": result.final.values["sources.orders.plan.scale.A"],
                  "B": result.final.values["sources.orders.plan.scale.B"]}}}}}
    comments = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", comments)
    for needle in ("sources.orders.plan.scale.A", "completed.B: target 850",
                   "example target: 1,700 good A", f"{result.replications} replications",
                   f"seed {result.seed}", "Reproduce: python run_sim.py calibrate",
                   "(reported, not fitted)", "check assembly_busy", "# Note: "):
        assert needle in comments
    assert [p.name for p in written.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_parameter_needing_to_leave_its_bounds_fails_clearly(tmp_path: Path) -> None:
    spec = example_spec(tmp_path)
    data = yaml.safe_load(spec.read_text())
    data["parameters"][0]["bounds"] = [0.5, 1.1]
    spec.write_text(yaml.safe_dump(data))
    result = calibrate(spec, workers=1)
    assert result.status == "bound" and not result.ok
    assert "sources.orders.plan.scale.A" in result.message and "upper bound 1.1" in result.message
    assert result.final.values["sources.orders.plan.scale.A"] == 1.1
    assert run_command(spec, workers=1) == 1
    assert not (tmp_path / "calibration_line_fitted.yaml").exists()


def test_max_iterations_without_convergence_is_a_failure(tmp_path: Path) -> None:
    result = calibrate(example_spec(tmp_path, max_iterations=1), workers=1)
    assert result.status == "max_iterations" and len(result.iterations) == 1


def test_dry_run_prints_the_table_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = example_spec(tmp_path, replications=1, tolerance=0.05)
    assert run_command(spec, workers=1, dry_run=True) == 0
    out = capsys.readouterr().out
    assert "sources.orders.plan.scale.B" in out and "completed.B" in out and "error" in out
    assert not (tmp_path / "calibration_line_fitted.yaml").exists()


@pytest.mark.parametrize("change, path, words", [
    ({"tolerence": 0.1}, "", "unknown field 'tolerence'"),
    ({"replications": 0}, "replications", ">= 1"),
    ({"parameters": [{"path": "sources.orders.plan.scale.A", "target": "completed.A",
                      "bounds": [0.00001, 2.0]}]}, "parameters.0.bounds", "4 decimals"),
    ({"parameters": [{"path": "sources.orders.plan.scale.A", "target": "completed.A",
                      "bounds": [2.0, 0.5]}]}, "parameters.0.bounds", "low < high"),
    ({"parameters": [{"path": "sources.orders.plan.scale.A", "target": "completed.C",
                      "bounds": [0.5, 2.0]}]}, "parameters.0.target", "'completed.C'"),
    ({"parameters": [{"path": "sources.orders.plan.scale.A", "target": "completed.A",
                      "bounds": [0.5, 2.0]}] * 2}, "parameters.1", "own path"),
])
def test_bad_calibration_file_names_the_field(
        tmp_path: Path, change: dict[str, Any], path: str, words: str) -> None:
    spec = example_spec(tmp_path, **change)
    with pytest.raises(ScenarioError) as err:
        load_spec(spec)
    assert err.value.file == str(spec) and err.value.path == path
    assert words in err.value.message


def test_bad_parameter_path_and_unknown_kpi_name_the_field(tmp_path: Path) -> None:
    spec = example_spec(tmp_path, parameters=[
        {"path": "sources.orders.plan.scael.A", "target": "completed.A", "bounds": [0.5, 2]}])
    with pytest.raises(ScenarioError) as err:
        calibrate(spec, workers=1)
    assert err.value.path == "parameters.0.path" and "scael" in err.value.message
    spec = example_spec(tmp_path, replications=1, targets={"completed.C": 10}, parameters=[
        {"path": "sources.orders.plan.scale.A", "target": "completed.C", "bounds": [0.5, 2]}])
    with pytest.raises(ScenarioError) as err:
        calibrate(spec, workers=1)
    assert err.value.path == "targets.completed.C" and "unknown KPI" in err.value.message
    with pytest.raises(ScenarioError, match="file not found"):
        calibrate(example_spec(tmp_path, scenario="missing.yaml"))
    spec = example_spec(tmp_path, parameters=[
        {"path": "sources.orders.plan", "target": "completed.A", "bounds": [0.5, 2]}])
    with pytest.raises(ScenarioError) as err:
        calibrate(spec, workers=1)
    assert err.value.path == "parameters.0.path" and "not a number" in err.value.message


def test_bound_finer_than_the_resolution_still_stops_at_the_bound(tmp_path: Path) -> None:
    spec = example_spec(tmp_path, replications=1, parameters=[
        {"path": "sources.orders.plan.scale.A", "target": "completed.A",
         "bounds": [0.5, 1.100004]}])
    result = calibrate(spec, workers=1)
    assert result.status == "bound" and len(result.iterations) == 2


def test_propose_steps() -> None:
    assert propose([(1.0, 900.0)], 1000.0, 1.0) == pytest.approx(1000 / 900)
    assert propose([(1.0, 900.0)], 1000.0, 0.5) == pytest.approx((1000 / 900) ** 0.5)
    # linear response s = 1000 p - 100: the secant lands on the root 1.1 exactly
    assert propose([(1.0, 900.0), (1.05, 950.0)], 1000.0, 1.0) == pytest.approx(1.1)
    # a slope far from proportional (noise) falls back to the multiplicative step
    assert propose([(1.0, 900.0), (1.0001, 950.0)], 1000.0, 1.0) == pytest.approx(1000 / 950
                                                                                 * 1.0001)
    assert propose([(0.8, 0.0)], 10.0, 1.0) == 1.6


def test_lookup_and_nested() -> None:
    data = {"sources": {"o": {"plan": {"scale": {"R5.E": 1.2}}}}}
    assert lookup(data, "sources.o.plan.scale.R5.E") == (
        ("sources", "o", "plan", "scale", "R5.E"), 1.2)
    assert lookup(data, "sources.o.plan.scale.X") == (
        ("sources", "o", "plan", "scale", "X"), None)
    assert nested({("a", "b"): 1.0, ("a", "c"): 2.0, ("d",): 3.0}) == {
        "a": {"b": 1.0, "c": 2.0}, "d": 3.0}


def test_cli_verb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    spec = example_spec(tmp_path, replications=1, tolerance=0.05)
    assert main(["calibrate", str(spec), "--dry-run", "-w", "1"]) == 0
    assert "converged" in capsys.readouterr().out
    assert main(["calibrate", str(spec), "-w", "1", "-n", "2"]) == 0
    written = tmp_path / "calibration_line_fitted.yaml"
    assert "--replications 2" in written.read_text()
    assert main(["calibrate", str(example_spec(tmp_path, seed=-1))]) == 2
    assert "calibration.yaml: seed: must be >= 0" in capsys.readouterr().err


def test_committed_example_output_extends_its_base() -> None:
    scenario = load_scenario(EXAMPLES / "calibration_line_fitted.yaml")
    assert set(scenario.sources["orders"].plan.scale) == {"A", "B"}
    assert yaml.safe_load((EXAMPLES / "calibration_line_fitted.yaml").read_text())[
        "extends"] == "calibration_line.yaml"


def test_targets_default_to_the_base_meta_and_output_name_is_written(tmp_path: Path) -> None:
    spec = example_spec(tmp_path, replications=1, tolerance=0.05, output_name="line-fitted")
    data = yaml.safe_load(spec.read_text())
    del data["targets"], data["checks"]
    spec.write_text(yaml.safe_dump(data))
    base = tmp_path / "calibration_line.yaml"
    base.write_text(base.read_text() + yaml.safe_dump({"meta": {"targets": {
        "completed.A": {"value": 1700, "source": "meta source", "tolerance": 0.03},
        "completed.B": 850}}}))
    loaded = load_spec(spec)
    assert loaded.targets["completed.A"].source == "meta source"
    assert loaded.targets["completed.B"].value == 850
    result = calibrate(spec, workers=1)
    assert result.ok
    written = write_calibrated(result)
    assert load_scenario(written).name == "line-fitted"
    assert "meta source" in written.read_text()
    base.write_text(base.read_text().replace("value: 1700", "value: -1"))
    with pytest.raises(ScenarioError) as err:
        load_spec(spec)
    assert err.value.file == str(base) and err.value.path == "meta.targets.completed.A.value"


def test_no_targets_anywhere_is_an_error(tmp_path: Path) -> None:
    spec = example_spec(tmp_path)
    data = yaml.safe_load(spec.read_text())
    del data["targets"]
    spec.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="no targets"):
        load_spec(spec)
