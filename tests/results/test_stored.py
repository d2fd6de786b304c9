"""Stored results read back: run records sealed to their content and plan, every stored
JSON file checked on read (one line naming file and field, exit 2), merges that copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from paths import ROOT

from sim.cli import main
from sim.errors import UsageError
from sim.results.seal import KEY_ENV, check_seal, plan_digest, seal

TWO = ROOT / "scenarios" / "examples" / "two_stations.yaml"


def _sweep(tmp_path: Path, name: str = "s", values: tuple = (1, 4)) -> Path:
    spec = {"name": name, "scenario": str(TWO), "set": ["run.duration=2 d"],
            "replications": 2, "kpis": ["completed", "throughput_per_hour"],
            "factors": {"zeta": {"path": "buffers.b1.capacity", "values": list(values)},
                        "alpha": {"path": "stations.s1.cycle.mean",
                                  "values": ["40 s", "50 s"]}}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _shards(tmp_path: Path, sweep: Path, out: Path) -> list[Path]:
    for i in (1, 2):
        assert main(["sweep", str(sweep), "--out", str(out), "--shard", f"{i}/2", "-q",
                     "-w", "1", "--no-plots"]) == 0
    return [out / f"{sweep.stem}-shard-{i}-of-2" for i in (1, 2)]


def _two_runs(tmp_path: Path, capsys) -> Path:
    """Two 2-day runs of the two-station line, `out/a` and `out/b`, paired by seed."""
    out = tmp_path / "out"
    for name in ("a", "b"):
        assert main(["run", str(TWO), "--set", "run.duration=2 d", "-n", "2", "--out", str(out),
                     "--name", name, "-q", "--no-plots", "-w", "1"]) == 0
    capsys.readouterr()
    return out


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_seal_detects_an_edit_another_plan_and_a_missing_digest(tmp_path) -> None:
    record = {"point": 0, "replication": 1, "seed": 3, "status": "ok", "message": "",
              "kpis": {"completed": 812.0}}
    plan = plan_digest({"name": "s", "points": [], "shard": {"index": 1, "count": 2}})
    sealed = seal(record, plan)
    check_seal(sealed, plan, tmp_path / "r.json")
    # every shard of one sweep shares the plan digest
    assert plan == plan_digest({"name": "s", "points": [], "shard": {"index": 2, "count": 2}})
    for bad, words in [({**sealed, "kpis": {"completed": 813.0}}, "does not match"),
                       (sealed, "does not match"),
                       ({k: v for k, v in sealed.items() if k != "digest"}, "no digest")]:
        other = plan if bad is not sealed else plan_digest({"name": "other"})
        with pytest.raises(UsageError, match=words):
            check_seal(bad, other, tmp_path / "r.json")


def test_a_keyed_seal_cannot_be_forged_without_the_key(tmp_path, monkeypatch) -> None:
    record = {"point": 0, "replication": 0, "seed": 3, "status": "ok", "message": "",
              "kpis": {"completed": 1.0}}
    plan = plan_digest({"name": "s"})
    monkeypatch.setenv(KEY_ENV, "ci-secret")
    sealed = seal(record, plan)
    assert sealed["digest"].startswith("hmac-sha256:")
    check_seal(sealed, plan, tmp_path / "r.json")
    monkeypatch.setenv(KEY_ENV, "")
    forged = seal({**record, "kpis": {"completed": 2.0}}, plan)  # recomputed without key
    monkeypatch.setenv(KEY_ENV, "ci-secret")
    with pytest.raises(UsageError, match="not sealed with the key"):
        check_seal(forged, plan, tmp_path / "r.json")
    monkeypatch.setenv(KEY_ENV, "a guess")
    with pytest.raises(UsageError, match="does not match"):
        check_seal(sealed, plan, tmp_path / "r.json")
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(UsageError, match="set DOUAI_SIM_RECORD_KEY"):
        check_seal(sealed, plan, tmp_path / "r.json")


def test_an_edited_number_is_refused_on_resume_and_on_merge(tmp_path, capsys) -> None:
    sweep = _sweep(tmp_path)
    one, two = _shards(tmp_path, sweep, tmp_path / "shards")
    record = min((two / "runs").glob("*.json"))
    data = json.loads(record.read_text())
    data["kpis"]["completed"] += 1000
    record.write_text(json.dumps(data, indent=1, sort_keys=True))
    assert main(["merge", str(one), str(two), "--out", str(tmp_path / "m")]) == 2
    assert f"{record}: the record does not match its digest" in _error(capsys)
    assert not (tmp_path / "m").exists()
    (two / "manifest.json").unlink()  # in progress: a rerun resumes it
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "shards"), "--shard", "2/2",
                 "-q", "-w", "1", "--no-plots"]) == 2
    assert f"{record}: the record does not match its digest" in _error(capsys)


def test_a_forged_fingerprint_does_not_let_another_sweeps_shard_merge(tmp_path,
                                                                      capsys) -> None:
    one, _ = _shards(tmp_path, _sweep(tmp_path), tmp_path / "a")
    _, other = _shards(tmp_path, _sweep(tmp_path, "s", (2, 3)), tmp_path / "b")
    state = json.loads((other / "sweep.json").read_text())
    state["fingerprint"] = json.loads((one / "sweep.json").read_text())["fingerprint"]
    (other / "sweep.json").write_text(json.dumps(state, indent=1, sort_keys=True))
    assert main(["merge", str(one), str(other), "--out", str(tmp_path / "m")]) == 2
    assert "another plan (an edited sweep.json?)" in _error(capsys)
    # and a record copied from the other sweep into a true shard is refused too
    _, two = _shards(tmp_path, _sweep(tmp_path), tmp_path / "c")
    name = min((two / "runs").glob("*.json")).name
    (two / "runs" / name).write_bytes((other / "runs" / name).read_bytes())
    assert main(["merge", str(one), str(two), "--out", str(tmp_path / "m")]) == 2
    assert f"{two / 'runs' / name}: the record does not match" in _error(capsys)


def test_merged_records_are_copies_not_links(tmp_path) -> None:
    one, two = _shards(tmp_path, _sweep(tmp_path), tmp_path / "shards")
    assert main(["merge", str(one), str(two), "--out", str(tmp_path), "--name", "m",
                 "--no-plots"]) == 0
    for path in (tmp_path / "m" / "runs").glob("*.json"):
        assert path.stat().st_nlink == 1
        source = next(f / "runs" / path.name for f in (one, two)
                      if (f / "runs" / path.name).exists())
        assert path.read_bytes() == source.read_bytes()


@pytest.mark.parametrize(("edit", "words"), [
    (lambda r: r.pop("kpis"), "missing required field 'kpis'"),
    (lambda r: r["kpis"].update(completed="lots"), "kpis.completed: expected a number"),
    (lambda r: r.update(point="0"), "point: expected a whole number"),
    (lambda r: r.update(status="fine"), "status"),
])
def test_a_malformed_record_is_one_line_naming_file_and_field(tmp_path, capsys, edit,
                                                               words) -> None:
    sweep = _sweep(tmp_path)
    one, two = _shards(tmp_path, sweep, tmp_path / "shards")
    record = min((one / "runs").glob("*.json"))
    data = json.loads(record.read_text())
    edit(data)
    record.write_text(json.dumps(data))
    assert main(["merge", str(one), str(two), "--out", str(tmp_path / "m")]) == 2
    err = _error(capsys)
    assert err.startswith(f"error: {record}: ") and words in err, err


@pytest.mark.parametrize(("edit", "words"), [
    (lambda s: s.pop("kpis"), "missing required field 'kpis'"),
    (lambda s: s["kpis"]["completed"].update(mean="lots"), "kpis.completed.mean"),
    (lambda s: s["kpis"]["completed"].update(values=["x"]), "kpis.completed.values.0"),
    (lambda s: s["window"].pop("start"), "window: missing required field 'start'"),
    (lambda s: s.update(runs=[]), "runs"),
])
@pytest.mark.parametrize("verb", ["gate", "compare"])
def test_a_malformed_summary_is_one_line_for_gate_and_compare(tmp_path, capsys, edit, words,
                                                              verb) -> None:
    out = _two_runs(tmp_path, capsys)
    path = out / "b" / "summary.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    gates = tmp_path / "gates.yaml"
    gates.write_text("gates: {enough: {kpi: completed, min: 1}}\n")
    argv = (["gate", str(gates), str(out / "b")] if verb == "gate" else
            ["compare", str(out / "a"), str(out / "b"), "--out", str(tmp_path / "c"), "-q"])
    assert main(argv) == 2
    err = _error(capsys)
    assert err.startswith(f"error: {path}: ") and words in err, err


def test_a_summary_that_is_not_json_or_too_deep_is_one_line(tmp_path, capsys) -> None:
    folder = tmp_path / "r"
    folder.mkdir()
    gates = tmp_path / "gates.yaml"
    gates.write_text("gates: {enough: {kpi: completed, min: 1}}\n")
    for text in ("{not json", "[" * 100_000 + "]" * 100_000, "[1, 2]"):
        (folder / "summary.json").write_text(text)
        assert main(["gate", str(gates), str(folder)]) == 2
        assert f"{folder / 'summary.json'}: " in _error(capsys)


@pytest.mark.parametrize("row", ["2023-12-31,0,5", "2024-01-01,7,5", "2024-01-01,0,lots"])
def test_a_damaged_daily_table_is_one_line_for_compare(tmp_path, capsys, row) -> None:
    out = _two_runs(tmp_path, capsys)
    daily = out / "b" / "daily.csv"
    header = daily.read_text().splitlines()[0].split(",")
    cells = dict(zip(("date", "replication", "completed"), row.split(",")))
    line = ",".join(cells.get(c, "0") for c in header)
    daily.write_text(daily.read_text() + line + "\n")
    assert main(["compare", str(out / "a"), str(out / "b"), "--out", str(tmp_path / "c")]) == 2
    assert f"{daily}: line " in _error(capsys)


def test_resumed_and_merged_sweeps_keep_the_files_factor_order(tmp_path) -> None:
    """Factors not in alphabetical order (zeta before alpha): summary.json of a merged
    and of a resumed sweep are byte-identical to the sweep run at once."""
    sweep = _sweep(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--name", "whole", "-q", "-w", "1",
                 "--no-plots"]) == 0
    one, two = _shards(tmp_path, sweep, tmp_path / "shards")
    assert main(["merge", str(one), str(two), "--out", str(out), "--name", "merged",
                 "--no-plots"]) == 0
    assert main(["sweep", str(sweep), "--out", str(out), "--name", "resumed", "-q", "-w", "1",
                 "--no-plots"]) == 0
    (out / "resumed" / "manifest.json").unlink()
    for record in sorted((out / "resumed" / "runs").glob("*.json"))[::2]:
        record.unlink()
    assert main(["sweep", str(sweep), "--out", str(out), "--name", "resumed", "-q", "-w", "1",
                 "--no-plots"]) == 0
    whole = (out / "whole" / "summary.json").read_bytes()
    assert list(json.loads(whole)["points"][0]["labels"]) == ["zeta", "alpha"]
    for name in ("merged", "resumed"):
        for table in ("summary.json", "summary.csv", "summary.md", "effects.csv"):
            assert (out / name / table).read_bytes() == (out / "whole" / table).read_bytes()


def test_level_labels_reach_summary_md_as_text_not_markup(tmp_path) -> None:
    spec = {"name": "s", "scenario": str(TWO), "set": ["run.duration=2 d"],
            "replications": 2, "kpis": ["completed"],
            "factors": {"cap": {"levels": {
                "<img src=x onerror=alert(1)>": {"buffers.b1.capacity": 1},
                "a|b": {"buffers.b1.capacity": 2},
                "*bold* [link](http://x) `code`": {"buffers.b1.capacity": 3}}}}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["sweep", str(path), "--out", str(tmp_path), "-q", "-w", "1",
                 "--no-plots"]) == 0
    text = (tmp_path / "s" / "summary.md").read_text()
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "| a\\|b |" in text
    assert "\\*bold\\* \\[link\\](http://x) \\`code\\`" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    cells = {len(_split_cells(line)) for line in rows[:4]}
    assert cells == {3}  # point, cap, completed: no extra column from the '|'


def _split_cells(line: str) -> list[str]:
    """Cells of a Markdown table row, as GitHub splits them (an escaped '|' stays)."""
    import re

    return re.split(r"(?<!\\)\|", line.strip())[1:-1]
