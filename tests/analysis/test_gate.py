"""`gate`: absolute rules on a result's intervals and paired regression rules against a
baseline summary; exit 0 when all pass, 1 when one fails, 2 for a bad gates file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from paths import DOUAI
from scenario_builder import line

from sim.cli import main


def _run(tmp_path: Path, name: str, cycle: str, seed: int = 1) -> Path:
    # A deterministic 2 h line: exactly 119 completions (one a minute from 60 s; the one
    # due at the horizon is not processed), in every replication.
    d = line([cycle], 1, duration="2 h", seed=seed, replications=3)
    d["name"] = name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q", "--no-plots", "-w", "1"]) == 0
    return out / name


def _gates(tmp_path: Path, gates: dict) -> Path:
    path = tmp_path / "gates.yaml"
    path.write_text(yaml.safe_dump({"gates": gates}))
    return path


def test_absolute_gates_pass_and_fail_on_paper_arithmetic(tmp_path, capsys) -> None:
    result = _run(tmp_path, "base", "60 s")
    ok = _gates(tmp_path, {"output": {"kpi": "completed", "at": "low", "min": 119}})
    assert main(["gate", str(ok), str(result)]) == 0
    assert "PASS  output  completed (low) = 119" in capsys.readouterr().out
    bad = _gates(tmp_path, {"output": {"kpi": "completed", "at": "low", "min": 120},
                            "lead": {"kpi": "lead_time_p50_h", "max": 1}})
    assert main(["gate", str(bad), str(result)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  output" in out and "PASS  lead" in out and "1 of 2 gates passed" in out


def test_a_regression_beyond_the_paired_interval_fails(tmp_path, capsys) -> None:
    _run(tmp_path, "base", "60 s")  # the committed baseline: out/base/summary.json
    same = _run(tmp_path, "same", "60 s")
    slower = _run(tmp_path, "slower", "62 s")
    gates = _gates(tmp_path, {"no_drop": {"kpi": "completed",
                                          "baseline": "out/base/summary.json"}})
    assert main(["gate", str(gates), str(same)]) == 0
    assert main(["gate", str(gates), str(slower)]) == 1
    assert "FAIL  no_drop" in capsys.readouterr().out
    tolerant = _gates(tmp_path, {"small_drop_ok": {"kpi": "completed", "tolerance": 5,
                                                   "baseline": "out/base/summary.json"}})
    assert main(["gate", str(tolerant), str(slower)]) == 0  # 119 -> 116 (62 s): within 5


@pytest.mark.parametrize(("gates", "words"), [
    ({"g": {"kpi": "completed", "minimum": 1}}, "unknown field 'minimum'"),
    ({"g": {"kpi": "completed"}}, "one of the two"),
    ({"g": {"kpi": "completed", "min": 1, "baseline": "x.json"}}, "one of the two"),
    ({"g": {"kpi": "nope", "min": 1}}, "no KPI 'nope'"),
    ({"g": {"kpi": "completed", "baseline": "out/other/summary.json"}}, "do not pair"),
])
def test_a_bad_gates_file_or_an_unpaired_baseline_exits_2(tmp_path, capsys, gates,
                                                           words) -> None:
    result = _run(tmp_path, "base", "60 s")
    _run(tmp_path, "other", "60 s", seed=2)
    assert main(["gate", str(_gates(tmp_path, gates)), str(result)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_gates_read_a_comparison_by_scenario(tmp_path, capsys) -> None:
    _run(tmp_path, "base", "60 s")
    a, b = tmp_path / "base.yaml", tmp_path / "slower.yaml"
    d = yaml.safe_load(a.read_text())
    d["name"], d["stations"]["s1"]["cycle"] = "slower", "62 s"
    b.write_text(yaml.safe_dump(d))
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out), "-q", "-w", "1",
                 "--no-plots"]) == 0
    gates = _gates(tmp_path, {"slower_output": {"kpi": "completed", "scenario": "slower",
                                                "min": 117}})
    assert main(["gate", str(gates), str(out / "compare-base")]) == 1  # 116 < 117


@pytest.mark.slow
def test_the_douai_2024_gates_pass_on_the_calibrated_baseline(tmp_path, capsys) -> None:
    root = DOUAI
    out = tmp_path / "out"
    assert main(["run", str(root / "2024.yaml"), "-n", "4", "--out", str(out), "-q",
                 "--no-plots"]) == 0
    assert main(["gate", str(root / "gates-2024.yaml"), str(out / "douai-2024")]) == 0
    assert "4 of 4 gates passed" in capsys.readouterr().out


def _sweep(tmp_path: Path, name: str, fixed: list[str]) -> Path:
    """A sweep of a deterministic 2 h line over s1's cycle, then s2 (10 s): part k leaves
    at k c + 10 s, so floor((7200 - 10) / c) parts: 119 at 60 s, 115 at 62 s."""
    d = line(["60 s", "10 s"], 1, duration="2 h", seed=1, replications=3)
    d["name"] = "line"
    (tmp_path / "line.yaml").write_text(yaml.safe_dump(d))
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "scenario": "line.yaml", "set": fixed, "replications": 3,
        "factors": {"cycle": {"path": "stations.s1.cycle", "values": ["60 s", "62 s"]}},
        "kpis": ["completed", "lockup"]}))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "-q", "-w", "1", "--no-plots"]) == 0
    return out / name


def test_sweep_gates_hold_at_every_point_or_at_the_one_selected(tmp_path, capsys) -> None:
    result = _sweep(tmp_path, "base", [])
    everywhere = _gates(tmp_path, {"output": {"kpi": "completed", "at": "low", "min": 117},
                                   "no_lockup": {"kpi": "lockup", "max": 0}})
    assert main(["gate", str(everywhere), str(result)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  output     completed (low) at point cycle=62 s (worst of 2) = 115" in out
    assert "PASS  no_lockup" in out
    one = _gates(tmp_path, {"output": {"kpi": "completed", "point": {"cycle": "60 s"},
                                       "at": "low", "min": 119}})
    assert main(["gate", str(one), str(result)]) == 0
    bad = _gates(tmp_path, {"g": {"kpi": "completed", "point": {"speed": 1}, "min": 1}})
    assert main(["gate", str(bad), str(result)]) == 2
    assert "no factor 'speed' in the sweep" in capsys.readouterr().err


def test_a_sweep_regression_is_paired_point_by_point_with_a_baseline_sweep(
        tmp_path, capsys) -> None:
    _sweep(tmp_path, "base", [])
    same = _sweep(tmp_path, "same", [])
    slower = _sweep(tmp_path, "slower", ["stations.s2.cycle=61 s"])  # s2 now the bottleneck
    gates = _gates(tmp_path, {"no_drop": {"kpi": "completed",
                                          "baseline": "out/base/summary.json"}})
    assert main(["gate", str(gates), str(same)]) == 0
    assert main(["gate", str(gates), str(slower)]) == 1
    assert "FAIL  no_drop  completed vs baseline at point cycle=60 s" in capsys.readouterr().out


@pytest.mark.parametrize(("gate", "field", "words"), [
    ({"kpi": "complted", "min": 1}, "kpi", "no KPI 'complted' in "),
    ({"kpi": "completed.prat", "min": 1}, "kpi", "(did you mean 'completed.part'?)"),
    ({"kpi": "wip_man", "max": 9}, "kpi", "(did you mean 'wip_mean'?)"),
])
def test_a_misspelt_kpi_or_product_names_the_gates_file_and_the_nearest_name(
        tmp_path, capsys, gate, field, words) -> None:
    result = _run(tmp_path, "base", "60 s")
    gates = _gates(tmp_path, {"g": gate})
    assert main(["gate", str(gates), str(result)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {gates}: gates.g.{field}: ") and words in err, err
    assert err.count("\n") == 1


def test_a_misspelt_scenario_of_a_comparison_names_the_nearest(tmp_path, capsys) -> None:
    _run(tmp_path, "base", "60 s")
    _run(tmp_path, "slower", "62 s")
    out = tmp_path / "out"
    assert main(["compare", str(out / "base"), str(out / "slower"), "--out", str(out),
                 "--name", "c", "--no-plots", "-q"]) == 0
    gates = _gates(tmp_path, {"g": {"kpi": "completed", "scenario": "slowr", "min": 1}})
    assert main(["gate", str(gates), str(out / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {gates}: gates.g.scenario: no scenario 'slowr'")
    assert "(did you mean 'slower'?)" in err
