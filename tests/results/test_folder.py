"""Results folders: never overwritten, never partial, files parse back to the records."""

from __future__ import annotations

import csv
import datetime
import json
import math

import numpy as np
import pytest
import yaml
from factories import DAY, make_result, random_result

import sim.report.plots
from sim.analysis.kpi import run_kpis
from sim.analysis.stats import ci95
from sim.report import run_folder as output
from sim.report.run_folder import FILES, VEHICLES_CSV, write_csv, write_results
from sim.results.folder import ResultsWriter, prepare_dir, write_json

RESOLVED = {"name": "demo", "run": {"start": datetime.date(2024, 1, 1), "seed": 7,
                                    "replications": 3},
            "buffers": {"b2": {"capacity": math.inf}}, "tags": ("a", "b")}
MANIFEST = {"scenario": "demo", "files": [{"path": "x.yaml", "sha256": "0" * 64}],
            "overrides": ["run.seed=7"], "root_seed": 7, "wall_seconds": 1.5}


@pytest.fixture(scope="module")
def results():
    return [random_result(r, n=800, days=5) for r in range(3)]


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _hidden(base):
    return [p.name for p in base.iterdir() if p.name.startswith(".")]


def test_prepare_dir_never_reuses_a_name(tmp_path, capsys):
    assert prepare_dir(tmp_path / "res", "run") == tmp_path / "res" / "run"
    assert not (tmp_path / "res").exists()  # nothing created before the write
    (tmp_path / "res" / "run").mkdir(parents=True)
    assert prepare_dir(tmp_path / "res", "run") == tmp_path / "res" / "run-2"
    assert "run-2" in capsys.readouterr().err
    (tmp_path / "res" / "run-2").mkdir()
    assert prepare_dir(tmp_path / "res", "run").name == "run-3"
    assert prepare_dir(tmp_path / "res", "run", overwrite=True).name == "run"


def test_a_failed_write_removes_the_folders_it_created(tmp_path, results, monkeypatch):
    """Interrupted while writing (Ctrl-C after a fast simulation): no partial results, and
    no empty --out folder either; a folder that was there before stays."""
    from sim.report import run_folder as output

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "write_tables", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_results(tmp_path / "new" / "deeper" / "demo", results, RESOLVED, MANIFEST,
                      plots=False)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()
    with pytest.raises(KeyboardInterrupt):
        write_results(tmp_path / "kept" / "demo", results, RESOLVED, MANIFEST, plots=False)
    assert list(tmp_path.iterdir()) == [tmp_path / "kept"]
    assert list((tmp_path / "kept").iterdir()) == []


def test_second_write_goes_to_dash_2(tmp_path, results):
    first = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False)
    second = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False)
    assert first == tmp_path / "demo" and second == tmp_path / "demo-2"
    assert (first / "summary.json").exists() and (second / "summary.json").exists()
    assert _hidden(tmp_path) == []


def test_failure_leaves_nothing(tmp_path, results, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("plot failed")

    def cheap(results, path):
        path.write_bytes(b"png")
        return path

    for name in ("plot_throughput", "plot_cumulative", "plot_station_states", "plot_buffers"):
        monkeypatch.setattr(sim.report.plots, name, cheap)  # written into the temporary folder
    monkeypatch.setattr(sim.report.plots, "plot_lead_time", boom)
    with pytest.raises(RuntimeError, match="plot failed"):
        write_results(tmp_path / "demo", results, RESOLVED, MANIFEST)
    assert not (tmp_path / "demo").exists()
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_results(tmp_path, results, monkeypatch):
    kept = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False)
    before = sorted(p.name for p in kept.iterdir())
    monkeypatch.setattr(output, "write_tables", lambda *a: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, overwrite=True)
    assert sorted(p.name for p in kept.iterdir()) == before
    assert not (tmp_path / "demo-2").exists() and _hidden(tmp_path) == []


def test_overwrite_replaces_when_asked(tmp_path, results):
    write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False)
    (tmp_path / "demo" / "stale.txt").write_text("old")
    again = write_results(tmp_path / "demo", results[:1], RESOLVED, MANIFEST, plots=False,
                          overwrite=True)
    assert again == tmp_path / "demo" and not (again / "stale.txt").exists()
    assert json.loads((again / "summary.json").read_text())["replications"] == 1
    assert _hidden(tmp_path) == []


def test_target_appearing_meanwhile_is_not_overwritten(tmp_path):
    writer = ResultsWriter(tmp_path / "demo")
    with writer as tmp:
        (tmp / "new.txt").write_text("new")
        (tmp_path / "demo").mkdir()
        (tmp_path / "demo" / "other.txt").write_text("someone else's")
    assert writer.final == tmp_path / "demo-2"
    assert (tmp_path / "demo" / "other.txt").exists() and (tmp_path / "demo-2" / "new.txt").exists()


def test_every_file_written(tmp_path, results):
    out = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_summary_has_intervals(tmp_path, results):
    out = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False)

    def strict(token):
        raise ValueError(f"non-standard JSON token {token}")

    summary = json.loads((out / "summary.json").read_text(), parse_constant=strict)
    per_run = [run_kpis(r) for r in results]
    for name in ("throughput_per_hour", "completed", "lead_time_p95_h", "station.s1.working"):
        entry = summary["kpis"][name]
        e = ci95([k[name] for k in per_run])
        assert entry["values"] == pytest.approx([k[name] for k in per_run])
        assert entry["n"] == 3
        assert entry["mean"] == pytest.approx(e.mean)
        assert entry["half_width"] == pytest.approx(e.half_width)
        assert entry["low"] <= entry["mean"] <= entry["high"]


def test_single_replication_summary_uses_null(tmp_path, results):
    out = write_results(tmp_path / "one", results[:1], RESOLVED, MANIFEST, plots=False)
    entry = json.loads((out / "summary.json").read_text())["kpis"]["completed"]
    assert entry["n"] == 1 and entry["half_width"] is None and entry["low"] is None


def test_manifest_and_resolved_scenario(tmp_path, results):
    out = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False)
    m = json.loads((out / "manifest.json").read_text())
    assert m["files"] == MANIFEST["files"] and m["overrides"] == ["run.seed=7"]
    assert m["seeds"] == [{"replication": r.replication, "seed": r.seed} for r in results]
    assert {"python", "numpy", "simpy"} <= set(m["versions"])
    assert "git" in m and "platform" in m and "written" in m
    back = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert list(back) == ["name", "run", "buffers", "tags"]  # order kept, not sorted
    assert back["run"]["start"] == datetime.date(2024, 1, 1)
    assert back["buffers"]["b2"]["capacity"] == math.inf and back["tags"] == ["a", "b"]


def test_csv_headers_follow_the_docs(tmp_path, results):
    out = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False)
    for name, (_, columns) in FILES.items():
        if name.endswith(".csv"):
            assert _read(out / name)[0] == list(columns), name
    readme = (out / "README.txt").read_text()
    for name, (_, columns) in FILES.items():
        assert name in readme and all(c in readme for c in columns)


def test_the_parquet_tables_hold_the_records_exactly(tmp_path, results):
    import pyarrow.parquet as pq

    out = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False)
    assert not (out / "completions.csv").exists()
    table = pq.read_table(out / "completions.parquet")
    assert table.column_names == list(FILES["completions.parquet"][1])
    assert table.num_rows == sum(len(r.completions) for r in results)
    rows = table.to_pydict()
    for r in results:
        mine = [i for i, rep in enumerate(rows["replication"]) if rep == r.replication]
        c = r.completions
        by_part = np.argsort(c.part, kind="stable")          # rows are sorted by part
        assert [rows["part"][i] for i in mine] == c.part[by_part].tolist()
        assert [rows["t_done_ms"][i] for i in mine] == np.rint(
            c.t_done[by_part] * 1000).astype(np.int64).tolist()
        assert [rows["t_release_ms"][i] for i in mine] == np.rint(
            c.t_release[by_part] * 1000).astype(np.int64).tolist()
        k = mine[17]
        j = by_part[17]
        assert rows["type"][k] == r.types[c.type[j]]
        assert rows["product"][k] == r.type_product[c.type[j]]
        assert rows["scrap"][k] == bool(r.sink_scrap[c.sink[j]])
        assert rows["date_done"][k] == r.start + datetime.timedelta(days=int(c.t_done[j] // DAY))
    trace = pq.read_table(out / "buffer_trace.parquet").to_pydict()
    assert set(trace["replication"]) == {0}  # replication 0 only
    b0 = results[0].buffers[0]
    assert trace["t_ms"][:len(b0.trace_t)] == np.rint(np.asarray(b0.trace_t) * 1000).astype(
        np.int64).tolist()
    assert trace["level"][:len(b0.trace_t)] == list(b0.trace_level)
    none = write_results(tmp_path / "none", results, RESOLVED, MANIFEST, plots=False,
                         vehicles="none")
    assert not (none / "completions.parquet").exists()


def test_csv_rows_match_the_records(tmp_path, results):
    out = write_results(tmp_path / "demo", results, RESOLVED, MANIFEST, plots=False,
                        vehicles="csv")
    rows = _read(out / "completions.csv")[1:]
    assert len(rows) == sum(len(r.completions) for r in results)
    r1 = results[1]
    mine = [row for row in rows if row[0] == "1"]
    c = r1.completions
    got_done = np.array([float(row[8]) for row in mine])
    assert np.abs(got_done - c.t_done).max() <= 0.0005 + 1e-9
    got_lead = np.array([float(row[9]) for row in mine])
    assert np.abs(got_lead - (c.t_done - c.t_release) / 3600).max() <= 0.00005 + 1e-12
    k = 17
    assert mine[k][3] == r1.types[c.type[k]] and mine[k][4] == r1.type_product[c.type[k]]
    assert mine[k][6] == str(int(r1.sink_scrap[c.sink[k]]))
    assert mine[k][10] == str(r1.start + datetime.timedelta(days=int(c.t_done[k] // DAY)))
    daily = _read(out / "daily.csv")[1:]
    assert len(daily) == 3 * 5 * 2  # replications x days x products, zeros included
    good = sum(int((~np.array(r.sink_scrap)[r.completions.sink]).sum()) for r in results)
    assert sum(int(row[3]) for row in daily) == good
    assert len(_read(out / "stations.csv")) == 1 + 3 * 2 * 5
    buffers = _read(out / "buffers.csv")
    assert buffers[2] == ["0", "b2", "inf", "7.000000", "30"]


def test_no_trace_file_without_traced_buffers(tmp_path):
    res = [random_result(0, n=100, days=2, trace=False)]
    out = write_results(tmp_path / "demo", res, RESOLVED, MANIFEST, plots=False)
    assert not (out / "buffer_trace.parquet").exists()


def test_empty_run_writes_headers_only(tmp_path):
    import pyarrow.parquet as pq

    out = write_results(tmp_path / "demo", [make_result()], RESOLVED, MANIFEST, plots=False,
                        vehicles="csv")
    assert _read(out / "completions.csv") == [list(VEHICLES_CSV["completions.csv"][1])]
    out = write_results(tmp_path / "pq", [make_result()], RESOLVED, MANIFEST, plots=False)
    assert pq.read_table(out / "completions.parquet").num_rows == 0


def test_write_csv_formats(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1e7, 1000)
    table = {
        "name": np.array(["plain", 'with "quote", comma'] * 500),
        "same": np.full(1000, "const%s"),
        "t_s": x,
        "fraction": rng.uniform(-1, 1, 1000),
        "other": np.where(np.arange(1000) % 2 == 0, math.inf, 2.0),
        "day": np.datetime64("2024-02-28") + (np.arange(1000) % 3).astype("timedelta64[D]"),
    }
    path = tmp_path / "t.csv"
    write_csv(path, list(table), [table])
    rows = _read(path)
    assert rows[0] == list(table) and len(rows) == 1001
    assert rows[2][0] == 'with "quote", comma' and rows[1][1] == "const%s"
    assert np.abs(np.array([float(r[2]) for r in rows[1:]]) - x).max() <= 0.0005 + 1e-9
    assert all(len(r[2].split(".")[1]) == 3 for r in rows[1:])
    back = np.array([float(r[3]) for r in rows[1:]])
    assert np.abs(back - table["fraction"]).max() <= 5e-7 + 1e-12
    assert [r[4] for r in rows[1:3]] == ["inf", "2"]
    assert [r[5] for r in rows[1:4]] == ["2024-02-28", "2024-02-29", "2024-03-01"]


def test_write_csv_rejects_missing_columns(tmp_path):
    with pytest.raises(KeyError):
        write_csv(tmp_path / "t.csv", ["a", "b"], [{"a": np.arange(3)}])


def test_json_is_strict_and_plain(tmp_path):
    data = {"a": np.int64(3), "b": float("nan"), "c": (1.5, math.inf), "d": datetime.date(2024, 5, 1),
            "e": np.arange(2), "f": tmp_path}
    write_json(tmp_path / "x.json", data)
    text = (tmp_path / "x.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": 3, "b": None, "c": [1.5, None], "d": "2024-05-01",
                                "e": [0, 1], "f": str(tmp_path)}
