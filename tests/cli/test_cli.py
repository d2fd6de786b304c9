"""The command line: one-line errors with status 2 and nothing written, verbs, no overwrite."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from paths import ROOT
from processes import children

import sim
from sim import cli
from sim.analysis.catalogue import kpi_unit
from sim.cli import main
from sim.cli import run as cli_run
from sim.experiments.replications import run_replications
from sim.report.summary_text import format_summary
from sim.spec.loader import load_scenario

EXAMPLE = ROOT / "scenarios" / "examples" / "two_stations.yaml"

TINY = """\
name: tiny
run: {duration: 1 d, replications: 2, seed: 3}
sources: {src: {kind: saturated}}
stations:
  s1: {cycle: {dist: exponential, mean: 60 s}}
  s2: {cycle: {dist: exponential, mean: 50 s}}
buffers:
  b0: {from: src, to: s1, capacity: 1}
  b1: {from: s1, to: s2, capacity: 3}
  b2: {from: s2, to: yard, capacity: inf}
sinks: {yard: {}}
"""

# (name, scenario text, a field path the one-line message must name; "" for YAML syntax)
BAD = [
    ("broken_yaml", TINY.replace("s1: {cycle", "s1: [{cycle"), ""),
    ("unknown_key", TINY.replace("s2: {cycle", "s2: {cylce"), "stations.s2"),
    ("negative_time", TINY.replace("mean: 60 s", "mean: -60 s"), "stations.s1.cycle"),
    ("bare_number", TINY.replace("mean: 60 s", "mean: 60"), "stations.s1.cycle"),
    ("unknown_node", TINY.replace("to: yard", "to: nowhere"), "buffers.b2"),
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def one_error_line(err: str, path: Path, field: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}"), err
    assert field in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("name,text,field", BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, name, text,
                                                            field) -> None:
    path = write(tmp_path, name, text)
    out = tmp_path / "out"
    status = main(["run", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    assert status == 2
    one_error_line(capsys.readouterr().err, path, field)
    assert not out.exists()


@pytest.mark.parametrize("override,field", [
    ("run.replications=0", "run.replications"),
    ("stations.s1.cycle=60", "stations.s1.cycle"),
    ("stations.nope.cycle=60 s", "stations.nope"),
])
def test_bad_override_is_a_scenario_error(tmp_path, capsys, override, field) -> None:
    path = write(tmp_path, "tiny", TINY)
    out = tmp_path / "out"
    assert main(["run", str(path), "--set", override, "--out", str(out), "--quiet"]) == 2
    one_error_line(capsys.readouterr().err, Path(f"--set {override}"), field)
    assert not out.exists()


def test_missing_file_is_exit_2(tmp_path, capsys) -> None:
    missing = tmp_path / "missing.yaml"
    assert main(["check", str(missing)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "missing.yaml" in err


def test_subprocess_bad_file_exit_2_single_line_no_traceback(tmp_path) -> None:
    path = write(tmp_path, "negative", BAD[2][1])
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), "run", str(path), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )
    assert proc.returncode == 2
    one_error_line(proc.stderr, path, "stations.s1.cycle")
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_subprocess_ctrl_c_exits_130_and_writes_nothing(tmp_path, workers) -> None:
    # long enough that the interrupt lands while simulating (interrupted while writing:
    # tests/results/test_folder.py::test_a_failed_write_removes_the_folders_it_created)
    path = write(tmp_path, "long", TINY.replace("duration: 1 d", "duration: 2000 w"))
    out = tmp_path / "out"
    scratch = tmp_path / "scratch"  # where the run keeps its rows on disk meanwhile
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sim.py"), "run", str(path), "--out", str(out),
         "--workers", workers],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    # signal once the run says it is simulating: its first tenth in one process (the
    # progress line), both pool workers up in two
    seen = []
    if workers == "1":
        while not any("%" in line for line in seen):
            line = proc.stderr.readline()
            assert line, "the run ended before it reported progress"
            seen.append(line)
    else:
        deadline = time.monotonic() + 60
        while len(children(proc.pid)) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, "no pool started"
            time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen) + err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == (
        "interrupted: nothing written")
    assert not out.exists()
    assert not list(scratch.iterdir())  # the rows' scratch folder went too


@pytest.mark.parametrize("workers", ["1", "2"])
def test_run_keeps_the_rows_on_disk_in_a_scratch_folder_it_removes(tmp_path, monkeypatch,
                                                                    two_stations,
                                                                    workers) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen = []
    real = cli_run.run_replications

    def watch(*args, **kwargs):
        results = real(*args, **kwargs)
        seen.extend(r.completions.spilled for r in results)
        assert [p.name.startswith("douai-sim-rows-") for p in scratch.iterdir()] == [True]
        return results

    monkeypatch.setattr(cli_run, "run_replications", watch)
    assert main(["run", str(two_stations), "-n", "2", "-w", workers, "--no-plots", "-q",
                 "--out", str(tmp_path / "out")]) == 0
    assert len(seen) == 2 and all(s is not None and s.n > 0 for s in seen)
    assert not list(scratch.iterdir())


def test_argument_errors_are_argparse_exit_2(capsys) -> None:
    for argv in (["run"], ["frobnicate"], ["run", "x.yaml", "--replications", "many"], []):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert sim.__version__ in capsys.readouterr().out


def test_schema_prints_valid_json_and_writes_the_same(tmp_path, capsys) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert isinstance(printed, dict) and printed
    target = tmp_path / "schema.json"
    assert main(["schema", "--out", str(target)]) == 0
    assert json.loads(target.read_text()) == printed


def test_check_example(capsys) -> None:
    if not EXAMPLE.exists():
        pytest.skip("scenarios/examples/two_stations.yaml not written yet")
    assert main(["check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ") and "stations" in out and "buffers" in out


def test_check_counts_stations_and_buffers(tmp_path, capsys) -> None:
    path = write(tmp_path, "tiny", TINY)
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.startswith("OK: tiny: 2 stations, 3 buffers")


def run_tiny(tmp_path: Path, *extra: str) -> int:
    path = write(tmp_path, "tiny", TINY)
    return main(["run", str(path), "--set", "run.duration=2 d", "--out",
                 str(tmp_path / "out"), "--workers", "1", "--no-plots", *extra])


def test_run_writes_a_folder_with_summary_and_prints_the_table(tmp_path, capsys) -> None:
    assert run_tiny(tmp_path) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "out" / "tiny"
    summary = json.loads((folder / "summary.json").read_text())
    assert "throughput_per_hour" in out and "± 95%" in out
    assert f"results: {folder}" in out
    scenario = load_scenario(tmp_path / "tiny.yaml", ["run.duration=2 d"])
    expected = [int(r.done_mask().sum()) for r in run_replications(scenario, workers=1)]
    assert summary["kpis"]["completed"]["values"] == expected
    manifest = json.loads((folder / "manifest.json").read_text())
    digest = hashlib.sha256((tmp_path / "tiny.yaml").read_bytes()).hexdigest()
    assert manifest["files"] == [{"path": str(tmp_path / "tiny.yaml"), "sha256": digest}]
    assert manifest["overrides"] == ["run.duration=2 d"]


def test_run_never_overwrites_and_honours_name(tmp_path, capsys) -> None:
    assert run_tiny(tmp_path, "--quiet") == 0
    first = (tmp_path / "out" / "tiny" / "summary.json").read_bytes()
    assert run_tiny(tmp_path, "--quiet") == 0
    assert (tmp_path / "out" / "tiny-2" / "summary.json").exists()
    assert (tmp_path / "out" / "tiny" / "summary.json").read_bytes() == first
    assert run_tiny(tmp_path, "--quiet", "--name", "mine") == 0
    assert (tmp_path / "out" / "mine" / "summary.json").exists()
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        f"results: {tmp_path / 'out' / 'mine'}")


def test_run_seed_and_replications_reach_the_resolved_scenario(tmp_path, capsys,
                                                              monkeypatch) -> None:
    seen = {}

    def fake_write(target, results, resolved, manifest, plots=True, vehicles="parquet",
                   source_text=None, excel=False):
        seen.update(resolved=resolved, manifest=manifest, n=len(results), plots=plots)
        return target

    monkeypatch.setattr("sim.cli.run.write_results", fake_write)
    assert run_tiny(tmp_path, "--seed", "11", "--replications", "3", "--quiet") == 0
    assert seen["n"] == 3 and seen["plots"] is False
    assert seen["resolved"]["run"]["seed"] == 11
    assert seen["resolved"]["run"]["replications"] == 3
    assert seen["manifest"]["root_seed"] == 11
    assert [s["replication"] for s in seen["manifest"]["seeds"]] == [0, 1, 2]


@pytest.mark.parametrize("exc,status,message", [
    (RuntimeError("engine\nexploded"), 3, "internal error: RuntimeError: engine exploded"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_failures_in_the_engine_write_nothing(tmp_path, capsys, monkeypatch, exc, status,
                                              message) -> None:
    def boom(*args, **kwargs):
        raise exc

    monkeypatch.setattr("sim.cli.run.run_replications", boom)
    assert run_tiny(tmp_path) == status
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_debug_reraises(tmp_path, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr("sim.cli.run.run_replications", boom)
    path = write(tmp_path, "tiny", TINY)
    for argv in (["--debug", "run", str(path)], ["run", str(path), "--debug"]):
        with pytest.raises(RuntimeError):
            main([*argv, "--out", str(tmp_path / "out")])


@pytest.mark.parametrize("oks,status", [((True, True), 0), ((True, False), 1)])
def test_validate_exit_status_follows_the_cases(monkeypatch, capsys, oks, status) -> None:
    calls = {}

    def run_cases(names=None, replications=None, workers=None):
        calls.update(names=names, replications=replications, workers=workers)
        return [SimpleNamespace(case=f"c{i}", within=ok) for i, ok in enumerate(oks)]

    fake = SimpleNamespace(run_cases=run_cases, format_table=lambda rs: "TABLE",
                           case_names=lambda: ["c0", "c1"])
    monkeypatch.setattr("sim.cli.validate.verify", fake)
    assert main(["validate", "c0", "--replications", "4", "--workers", "2"]) == status
    assert capsys.readouterr().out.strip() == "TABLE"
    assert calls == {"names": ["c0"], "replications": 4, "workers": 2}
    assert main(["validate", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_summary_table_has_units_half_widths_and_station_states() -> None:
    def est(m: float, h: float) -> SimpleNamespace:
        return SimpleNamespace(mean=m, half_width=h, low=m - h, high=m + h, n=5)

    table = format_summary({
        "throughput_per_hour": est(52.5, 0.25),
        "lead_time_mean_h": est(1.5, 0.1),
        "station.s1.working": est(0.9, 0.01),
        "station.s1.blocked": est(0.1, 0.01),
        "buffer.b1.mean_level": est(2.0, 0.1),
    })
    lines = table.splitlines()
    assert lines[0].split() == ["KPI", "mean", "±", "95%", "unit"]
    assert lines[1].split() == ["throughput_per_hour", "52.5", "±", "0.25", "1/h"]
    assert lines[2].split() == ["lead_time_mean_h", "1.5", "±", "0.1", "h"]
    assert "buffer.b1" not in table
    assert lines[-1].split()[:3] == ["s1", "90.0", "10.0"]


def test_station_shares_are_printed_on_on_shift_time() -> None:
    def est(m: float) -> SimpleNamespace:
        return SimpleNamespace(mean=m, half_width=0.0, low=m, high=m, n=5)

    # 30% working and 10% starved of all time, 60% off shift: 75% / 25% of on-shift time.
    table = format_summary({"station.s1.working": est(0.3), "station.s1.starved": est(0.1),
                            "station.s1.blocked": est(0.0), "station.s1.failed": est(0.0),
                            "station.s1.off_shift": est(0.6)})
    assert table.splitlines()[-1].split() == ["s1", "75.0", "0.0", "25.0", "0.0", "60.0"]


def test_a_milestone_is_printed_as_a_date_with_its_interval() -> None:
    import datetime

    est = SimpleNamespace(mean=324.7, half_width=1.2, low=323.5, high=325.9, n=10)
    table = format_summary({"milestone.r5.day": est}, datetime.date(2025, 1, 1))
    assert "milestone r5: 2025-11-21 (95% CI 2025-11-20 .. 2025-11-22)" in table


def test_units_follow_kpi_names() -> None:
    assert kpi_unit("completed.R5") == "parts"
    assert kpi_unit("station.s1.working") == "fraction"
    assert kpi_unit("counter.rework") == "parts"
    assert cli.EXIT_USAGE == 2


@pytest.mark.parametrize("flags", [["--name", "../escape"], ["--replications", "0"],
                                   ["--workers", "0"]])
def test_bad_run_options_are_exit_2_and_write_nothing(tmp_path, capsys, flags) -> None:
    assert run_tiny(tmp_path, *flags) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "escape").exists()


def test_validate_with_one_replication_is_a_usage_error(capsys) -> None:
    assert main(["validate", "--replications", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--replications must be >= 2" in err[0]


@pytest.mark.parametrize("name", ["../escaped", "/abs/path", "", ".", "..", "a/../../b"])
@pytest.mark.parametrize("verb", ["run", "compare", "sweep", "merge"])
def test_a_name_never_writes_outside_out(tmp_path, capsys, name, verb) -> None:
    scenario = write(tmp_path, "tiny", TINY)
    out = tmp_path / "deep" / "out"
    if verb == "run":
        argv = ["run", str(scenario), "--name", name]
    elif verb == "compare":
        argv = ["compare", str(scenario), str(scenario), "--name", name]
    elif verb == "sweep":
        sweep = tmp_path / "s.yaml"
        sweep.write_text("name: s\nscenario: tiny.yaml\nreplications: 2\n"
                         "factors: {cap: {path: buffers.b1.capacity, values: [1, 2]}}\n")
        argv = ["sweep", str(sweep), "--name", name]
    else:
        argv = ["merge", str(tmp_path / "no-shard"), "--name", name]
    before = sorted(p for p in tmp_path.rglob("*"))
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --name: ") and err.count("\n") == 1, err
    assert sorted(p for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("name", ["../escaped", "/abs/path", "", "."])
def test_a_scenario_name_that_is_a_path_is_refused_before_running(tmp_path, capsys,
                                                                   name) -> None:
    scenario = write(tmp_path, "tiny", TINY)
    out = tmp_path / "deep" / "out"
    assert main(["run", str(scenario), "--set", f"name={json.dumps(name)}",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --set name={json.dumps(name)}: name: ")
    assert err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["tiny.yaml"]


SECRET = "TOP-SECRET-7f3a"


@pytest.mark.parametrize("tamper", ["symlink to a secret", "invalid YAML", "removed"])
def test_provenance_is_what_was_loaded_not_what_the_file_became(tmp_path, capsys,
                                                                monkeypatch, tamper) -> None:
    import sim.experiments.replications as reps

    base = write(tmp_path, "base", TINY)
    top = write(tmp_path, "top", "extends: base.yaml\nname: top\n")
    secret = write(tmp_path, "secret", f"{SECRET}: 1\n")
    loaded = {p: p.read_bytes() for p in (top, base)}
    real = reps.run_replications

    def run_then_tamper(*args, **kwargs):
        results = real(*args, **kwargs)
        for path in (top, base):  # what an editor or an attacker does meanwhile
            path.unlink()
            if tamper == "symlink to a secret":
                path.symlink_to(secret)
            elif tamper == "invalid YAML":
                path.write_text("run: [[[\n")
        return results

    monkeypatch.setattr("sim.cli.run.run_replications", run_then_tamper)
    assert main(["run", str(top), "--set", "run.duration=1 d", "--out", str(tmp_path / "out"),
                 "-q", "--workers", "1"]) == 0
    folder = tmp_path / "out" / "top"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"] == [{"path": str(p), "sha256": hashlib.sha256(b).hexdigest()}
                                 for p, b in loaded.items()]
    page = (folder / "report.html").read_text()
    assert SECRET not in page and "extends: base.yaml" in page



@pytest.mark.slow
def test_sigterm_is_handled_as_ctrl_c_exit_143_and_nothing_written(tmp_path) -> None:
    path = write(tmp_path, "long", TINY.replace("duration: 1 d", "duration: 2000 w"))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sim.py"), "run", str(path), "--out", str(out),
         "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT)
    deadline = time.monotonic() + 60
    while len(children(proc.pid)) < 2:  # simulating: both workers are up
        assert time.monotonic() < deadline and proc.poll() is None, "the pool did not start"
        time.sleep(0.05)
    workers = children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "terminated (SIGTERM): nothing written"
    assert "Traceback" not in err
    assert not out.exists()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() for w in workers):
        assert time.monotonic() < deadline, "a worker outlived the terminated run"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigterm_stops_a_sweep_which_then_resumes(tmp_path) -> None:
    scenario = write(tmp_path, "tiny", TINY.replace("duration: 1 d", "duration: 100 w"))
    sweep = tmp_path / "s.yaml"
    sweep.write_text("name: s\nscenario: tiny.yaml\nreplications: 4\nkpis: [completed]\n"
                     "factors: {cap: {path: buffers.b1.capacity, values: [1, 2, 3]}}\n")
    out = tmp_path / "out"
    argv = [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(sweep), "--out", str(out),
            "-w", "2", "--no-plots", "-q"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    deadline = time.monotonic() + 120
    while not list((out / "s" / "runs").glob("p*.json")):  # the sweep says: a run stored
        assert time.monotonic() < deadline and proc.poll() is None, "no run was stored"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err.startswith("terminated (SIGTERM): ") and "rerun the same command" in err
    assert not (out / "s" / "manifest.json").exists()
    assert scenario.exists()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert len(list((out / "s" / "runs").glob("p*.json"))) == 12


def test_run_prints_progress_lines_in_a_log(tmp_path, capsys) -> None:
    """Off a terminal (a CI log, `make run > log`), a line at each tenth of the work with
    the elapsed time and an ETA, and a last line at 100%."""
    path = write(tmp_path, "tiny", TINY)
    assert main(["run", str(path), "-n", "4", "-w", "1", "--out", str(tmp_path / "out"),
                 "--no-plots"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "tiny: 4 replications"
    assert lines[-1].startswith("tiny: 4/4 replications (100%), ")
    shares = [int(ln.split("(")[1].split("%")[0]) for ln in lines[1:]]
    assert shares == sorted(shares) and len(shares) >= 10  # every tenth at least
    assert all("elapsed" in ln for ln in lines[1:]) and "ETA" in lines[1]
    assert main(["run", str(path), "-n", "2", "-w", "1", "--out", str(tmp_path / "out"),
                 "--no-plots", "-q", "--name", "quiet"]) == 0
    assert capsys.readouterr().err == ""  # --quiet: nothing
