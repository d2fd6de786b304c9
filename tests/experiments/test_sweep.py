"""The `sweep` and `merge` verbs end to end: identical results whatever the executor,
resume after `kill -9`, shards merged equal to one sweep, failures isolated and retried,
and the folder guarantees of `run` (new folder, manifest last, never an overwrite)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from paths import ROOT
from scenario_builder import deadlocking_loop

from sim.cli import main
from sim.results.seal import plan_digest, seal

TWO = ROOT / "scenarios" / "examples" / "two_stations.yaml"
SAME = ("summary.csv", "results.parquet", "effects.csv", "ranking.csv", "summary.md",
        "failures.csv", "summary.json")


def _sweep(tmp_path: Path, name: str = "grid", duration: str = "10 d", **body) -> Path:
    spec = {"name": name, "scenario": str(TWO), "set": [f"run.duration={duration}"],
            "replications": 3,
            "factors": {"cap": {"path": "buffers.b1.capacity", "values": [1, 4]},
                        "cycle": {"path": "stations.s2.cycle.mean",
                                  "range": {"from": "50 s", "to": "60 s", "step": "10 s"}}},
            "kpis": ["completed", "station.*.working", "lockup"], **body}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _same_files(a: Path, b: Path) -> None:
    for name in SAME:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


@pytest.mark.slow
def test_a_grid_and_a_latin_hypercube_give_the_same_files_on_every_executor(tmp_path) -> None:
    grid = _sweep(tmp_path)
    lhs = _sweep(tmp_path, "lhs", design="lhs", samples=5, design_seed=4,
                 factors={"cap": {"path": "buffers.b1.capacity",
                                  "range": {"from": 1, "to": 12, "integer": True}},
                          "cycle": {"path": "stations.s2.cycle.mean",
                                    "range": {"from": "50 s", "to": "60 s"}}})
    out = tmp_path / "out"
    for path in (grid, lhs):
        stem = path.stem
        assert main(["sweep", str(path), "--out", str(out), "--name", f"{stem}-serial", "-q",
                     "-w", "1", "--no-plots"]) == 0
        assert main(["sweep", str(path), "--out", str(out), "--name", f"{stem}-procs", "-q",
                     "-w", "2"]) == 0
        # Dask as a user runs it: its own process (a real LocalCluster of 2 worker
        # processes), which also leaves no Dask thread behind in this one
        dask = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "sweep", str(path),
                               "--out", str(out), "--name", f"{stem}-dask", "-q",
                               "--cluster", "local:2", "--no-plots"], capture_output=True,
                              text=True, timeout=600, check=False)
        assert dask.returncode == 0, dask.stderr
        _same_files(out / f"{stem}-serial", out / f"{stem}-procs")
        _same_files(out / f"{stem}-serial", out / f"{stem}-dask")
        assert _manifest(out / f"{stem}-dask")["executor"] == "dask local:2"
    table = pq.read_table(out / "grid-procs" / "results.parquet")
    assert table.column_names == ["point", "replication", "seed", "cap", "cycle", "kpi",
                                  "value"]
    assert table.num_rows == 4 * 3 * 4  # points x replications x KPIs kept
    for png in ("main_effects.png", "factor_ranking.png", "heatmap.png"):
        assert (out / "grid-procs" / png).read_bytes()[:4] == b"\x89PNG"
    assert not (out / "lhs-procs" / "heatmap.png").exists()  # heatmaps are for grids


def test_replication_r_of_every_point_shares_its_seed_and_the_summary_is_exact(
        tmp_path) -> None:
    out = tmp_path / "out"
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out), "-q", "-w", "1",
                 "--no-plots"]) == 0
    summary = json.loads((out / "grid" / "summary.json").read_text())
    seeds = {p["seed"] for p in summary["points"]}
    assert seeds == {42}  # the scenario's root seed: common random numbers
    runs = {p.name: json.loads(p.read_text()) for p in (out / "grid" / "runs").iterdir()}
    assert len(runs) == 12 and all(r["status"] == "ok" for r in runs.values())
    point0 = [runs[f"p00000-r000{r}.json"]["kpis"]["completed"] for r in range(3)]
    assert summary["points"][0]["kpis"]["completed"]["values"] == point0
    assert summary["points"][0]["kpis"]["completed"]["mean"] == pytest.approx(sum(point0) / 3)


def _files(folder: Path) -> int:
    return len(list((folder / "runs").glob("p*.json"))) if (folder / "runs").is_dir() else 0


@pytest.mark.slow
def test_a_sweep_killed_with_sigkill_resumes_losing_and_repeating_nothing(tmp_path) -> None:
    path = _sweep(tmp_path, "slow", duration="120 d")
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(path), "--out",
               str(out), "-w", "2", "--no-plots"]
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _files(out / "slow") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    stored = _files(out / "slow")
    assert 3 <= stored < 12, "the kill came too late to test a resume"
    assert not (out / "slow" / "manifest.json").exists()
    before = {p.name: p.read_bytes() for p in (out / "slow" / "runs").glob("p*.json")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert f"resuming, {stored} of 12 runs already stored" in done.stderr
    m = _manifest(out / "slow")
    assert (m["runs_found_done"], m["runs_done_now"]) == (stored, 12 - stored)
    for name, data in before.items():  # nothing finished was lost or redone
        assert (out / "slow" / "runs" / name).read_bytes() == data
    assert main(["sweep", str(path), "--out", str(out), "--name", "clean", "-q", "-w", "2",
                 "--no-plots"]) == 0
    _same_files(out / "slow", out / "clean")



def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
def test_a_worker_killed_by_the_os_costs_only_its_runs_which_a_retry_recovers(
        tmp_path) -> None:
    path = _sweep(tmp_path, "oom", duration="120 d")
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(path), "--out",
               str(out), "-w", "2", "--no-plots"]
    sweep = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 120
    while (_files(out / "oom") < 2 or not _children(sweep.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(_children(sweep.pid)[0], signal.SIGKILL)   # as the OOM killer would
    _, err = sweep.communicate(timeout=300)
    assert sweep.returncode == 4, err
    records = [json.loads(p.read_text()) for p in (out / "oom" / "runs").glob("p*.json")]
    lost = [r for r in records if r["status"] != "ok"]
    assert len(records) == 12 and 1 <= len(lost) <= 4        # only the runs in flight
    assert all("a worker process died" in r["message"] for r in lost)
    assert "a worker process died" in (out / "oom" / "failures.csv").read_text()
    assert main(["sweep", str(path), "--out", str(out), "-q", "-w", "2", "--no-plots",
                 "--retry-failed"]) == 0
    assert main(["sweep", str(path), "--out", str(out), "--name", "clean", "-q", "-w", "2",
                 "--no-plots"]) == 0
    _same_files(out / "oom", out / "clean")

def test_two_shards_merged_equal_the_unsharded_sweep_and_bad_sets_are_refused(
        tmp_path, capsys) -> None:
    path = _sweep(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "-q", "-w", "1"]) == 0
    for i in (1, 2):
        assert main(["sweep", str(path), "--out", str(out / "shards"), "--shard", f"{i}/2",
                     "-q", "-w", "1"]) == 0
    one, two = out / "shards" / "grid-shard-1-of-2", out / "shards" / "grid-shard-2-of-2"
    assert (_files(one), _files(two)) == (6, 6)
    assert main(["merge", str(two), str(one), "--out", str(out), "--name", "merged"]) == 0
    _same_files(out / "grid", out / "merged")
    capsys.readouterr()
    assert main(["merge", str(one), "--out", str(out)]) == 2
    assert "missing shard(s) 2/2 of 2" in capsys.readouterr().err
    assert main(["merge", str(one), str(one), str(two), "--out", str(out)]) == 2
    assert "shard 1/2 given twice" in capsys.readouterr().err
    other = _sweep(tmp_path, "other", replications=2)
    assert main(["sweep", str(other), "--out", str(out / "shards"), "--shard", "2/2", "-q",
                 "-w", "1"]) == 0
    assert main(["merge", str(one), str(out / "shards" / "other-shard-2-of-2"),
                 "--out", str(out)]) == 2
    assert "a shard of another sweep" in capsys.readouterr().err
    (two / "manifest.json").unlink()  # as if that shard's job had died
    assert main(["merge", str(one), str(two), "--out", str(out)]) == 2
    assert "an unfinished shard" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(out), "--shard", "3/2"]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["grid", "merged", "shards"]


def _loop(tmp_path: Path) -> Path:
    """A rework loop that locks up within minutes, unless its rework route is removed."""
    scenario = {"name": "loop", "sinks": {"yard": {}}, **deadlocking_loop()}
    (tmp_path / "loop.yaml").write_text(yaml.safe_dump(scenario))
    path = tmp_path / "loop-sweep.yaml"
    path.write_text(yaml.safe_dump({
        "name": "loop-sweep", "scenario": "loop.yaml", "replications": 2,
        "factors": {"rework": {"levels": {"none": {"stations.s2.route": None,
                                                   "buffers.b0.from": "src"},
                                          "half": {}}}},
        "kpis": ["completed", "lockup"]}, sort_keys=False))
    return path


def test_a_failing_point_is_isolated_reported_and_retried_alone(tmp_path, capsys) -> None:
    path = _loop(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "-q", "-w", "1"]) == 4
    err = capsys.readouterr().err
    assert "2 run(s) failed" in err and "point 1 replication 0: locked up" in err
    folder = out / "loop-sweep"
    failures = (folder / "failures.csv").read_text().splitlines()
    assert failures[0] == "point,replication,seed,rework,message" and len(failures) == 3
    assert all(',half,"locked up: no completion' in line for line in failures[1:])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["points"][0]["kpis"]["completed"]["n"] == 2      # the healthy point
    assert summary["points"][1]["kpis"]["completed"]["n"] == 0      # left out, not zero
    # A run lost to a crashed worker is a failure record too: --retry-failed reruns only
    # the failed runs, and the healthy one comes back bit for bit.
    record = folder / "runs" / "p00000-r0001.json"
    good = record.read_bytes()
    state = json.loads((folder / "sweep.json").read_text())
    record.write_text(json.dumps(seal({**json.loads(good), "status": "failed", "kpis": {},
                                       "message": "worker died"}, plan_digest(state))))
    assert main(["sweep", str(path), "--out", str(out), "-q", "-w", "1",
                 "--retry-failed"]) == 4
    m = _manifest(folder)
    assert (m["runs_done_now"], m["runs_found_done"]) == (3, 1)
    assert json.loads(record.read_text())["kpis"] == json.loads(good)["kpis"]
    assert sorted(p.name for p in out.iterdir()) == ["loop-sweep"]  # same folder, updated


def test_results_folders_are_never_overwritten_and_bad_outputs_are_refused(
        tmp_path, capsys) -> None:
    path = _sweep(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "-q", "-w", "1", "--no-plots"]) == 0
    first = (out / "grid" / "manifest.json").read_bytes()
    assert main(["sweep", str(path), "--out", str(out), "-w", "1", "--no-plots",
                 "--progress-every", "0"]) == 0
    err = capsys.readouterr().err
    assert "exists (a finished or different sweep); writing to" in err
    assert (out / "grid" / "manifest.json").read_bytes() == first
    assert (out / "grid-2" / "manifest.json").is_file()
    # progress reads as lines in a log (stderr is not a terminal here), with an ETA
    assert "sweep grid: 12 runs" in err and "12/12 runs (100%)" in err and "ETA" in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["sweep", str(path), "--out", str(blocker), "-q"]) == 2
    assert "the output folder is a file" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(out), "--name", "nothing", "-q",
                 "--retry-failed"]) == 2
    assert main(["sweep", str(path), "--out", str(out), "-q", "--cluster", "local:0"]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["grid", "grid-2"]


HOLDER = """
import os, sys, time
from pathlib import Path
from sim.experiments.sweep import Workspace
ws = Workspace(Path(sys.argv[1]), {}, False)
ws.lock()
if os.fork() == 0:      # a worker forked after the lock, as a process pool's are
    time.sleep(30)
    os._exit(0)
print("locked", flush=True)
time.sleep(30)
"""


def test_the_sweep_lock_dies_with_its_process_not_with_its_workers(tmp_path) -> None:
    from sim.errors import UsageError
    from sim.experiments.sweep import Workspace

    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(UsageError, match="another process is running this sweep"):
            Workspace(tmp_path, {}, False).lock(wait=0.3)
        holder.kill()   # SIGKILL the sweep process; its forked worker lives on
        holder.wait()
        again = Workspace(tmp_path, {}, False)
        again.lock(wait=2.0)   # free at once all the same
    finally:
        os.killpg(holder.pid, signal.SIGKILL)


_LOSE_A_WORKER = """
import json, os, signal, sys
import dask
from dask.distributed import Client, LocalCluster
from sim.experiments.design import plan_sweep
from sim.experiments.executors import run_dask

plan = plan_sweep(sys.argv[1])
tasks = [(plan.scenarios[p], p, r, ("completed",)) for p, r in plan.runs]
with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \\
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                     dashboard_address=None) as cluster, Client(cluster) as client:
    pids = list(client.run(os.getpid).values())
    records = []
    for record in run_dask(iter(tasks), client):
        records.append(record)
        if len(records) == 2:
            os.kill(pids[0], signal.SIGKILL)   # a worker dies with a run in flight
print(json.dumps({"runs": plan.runs, "records": records}))
"""


@pytest.mark.slow
def test_a_dask_task_that_loses_its_worker_is_a_failed_run_not_a_crash(tmp_path) -> None:
    """In a process of its own (a real LocalCluster; this one keeps no Dask thread)."""
    path = _sweep(tmp_path, "lost", duration="200 d")
    child = subprocess.run([sys.executable, "-c", _LOSE_A_WORKER, str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=600, check=False)
    assert child.returncode == 0, child.stderr
    out = json.loads(child.stdout.strip().splitlines()[-1])
    records = out["records"]
    plan_runs = [tuple(x) for x in out["runs"]]
    assert sorted((r["point"], r["replication"]) for r in records) == sorted(plan_runs)
    lost = [r for r in records if r["status"] != "ok"]
    # Every run in flight on the killed worker is a failed run recorded as the cluster's
    # failure; which exception Dask raises for a run that was being moved when the worker
    # died depends on timing under load (KilledWorker for most), so the type is not pinned.
    messages = [r["message"] for r in lost]
    assert lost and all(m.startswith("the Dask task failed: ") for m in messages), messages
    assert any("KilledWorker" in m for m in messages), messages
    assert len(lost) < len(records)  # the rest ran on the surviving and restarted workers


def test_an_engine_error_is_a_failed_run_with_its_message(tmp_path, capsys,
                                                          monkeypatch) -> None:
    # The engine raises for no valid scenario today, so the error is injected: the runs of
    # the points with b1 capacity 1 raise in the engine call; the sweep records them, goes on.
    import sim.engine.run as engine_run

    real = engine_run.run_once

    def flaky(scenario, replication=0, *args, **kwargs):
        if scenario.buffers["b1"].capacity == 1:
            raise RuntimeError("boom in the engine")
        return real(scenario, replication, *args, **kwargs)

    monkeypatch.setattr("sim.experiments.executors.run_once", flaky)
    out = tmp_path / "out"
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out), "-q", "-w", "1",
                 "--no-plots"]) == 4
    assert "point 0 replication 0: RuntimeError: boom in the engine" in capsys.readouterr().err
    failures = (out / "grid" / "failures.csv").read_text().splitlines()[1:]
    assert len(failures) == 6 and all("RuntimeError: boom in the engine" in f
                                      for f in failures)   # points 0 and 1 (cap 1) x 3
    summary = json.loads((out / "grid" / "summary.json").read_text())
    assert [p["kpis"]["completed"]["n"] for p in summary["points"]] == [0, 0, 3, 3]
