"""The GitHub Actions sweep workflow: valid against the published workflow schema (offline,
check-jsonschema's vendored copy), and its `run:` steps pass when run here, end to end:
every shard of the matrix, the merge, the gates and the summary."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from paths import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "sweep.yml"
CHECK = Path(sys.executable).parent / "check-jsonschema"


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK), "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=120,
                          check=False)


def test_every_workflow_is_valid_against_the_github_schema_offline(tmp_path) -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert WORKFLOW in workflows
    for path in workflows:
        done = _validate(path)
        assert done.returncode == 0, done.stdout + done.stderr
    broken = yaml.safe_load(WORKFLOW.read_text())
    del broken["jobs"]["merge"]["runs-on"]               # the validator does catch mistakes
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(broken))
    assert _validate(bad).returncode != 0


def _expand(command: str, env: dict[str, str], matrix: dict[str, object], total: int) -> str:
    command = command.replace("${{ strategy.job-total }}", str(total))
    for key, value in matrix.items():
        command = command.replace("${{ matrix." + key + " }}", str(value))
    assert "${{" not in command, f"unexpanded expression in {command!r}"
    return command


@pytest.mark.slow
def test_the_workflow_commands_run_shards_merge_and_gate_locally(tmp_path) -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    for name in ("run_sim.py", "scenarios"):
        os.symlink(ROOT / name, tmp_path / name)
    # A secret that is not set expands to "" on GitHub, as it does here.
    secrets = {k: "" for k, v in flow["env"].items() if str(v).startswith("${{ secrets.")}
    env = {**os.environ, **{k: str(v) for k, v in flow["env"].items()}, **secrets,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md")}
    shard_job, merge_job = flow["jobs"]["shard"], flow["jobs"]["merge"]
    assert merge_job["needs"] == "shard"
    shards = shard_job["strategy"]["matrix"]["shard"]

    def steps(job: dict) -> list[str]:  # the `run:` steps, except installing the package
        return [s["run"] for s in job["steps"] if "run" in s and s.get("name") != "install"]

    for shard in shards:
        for command in steps(shard_job):
            line = _expand(command, env, {"shard": shard}, len(shards))
            done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=600, check=False)
            assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
            assert re.search(r"runs \(100%\)", done.stderr), done.stderr  # progress in a log
    found = sorted(p.name for p in (tmp_path / "shards").iterdir())
    assert len(found) == len(shards)
    for command in steps(merge_job):
        done = subprocess.run(["bash", "-c", _expand(command, env, {}, 1)], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    summary = (tmp_path / "step-summary.md").read_text()
    assert summary.startswith("Sweep `douai-2024-ci`: 4 points x 2 replications")
    result = tmp_path / "results" / "sweep"
    for name in ("main_effects.png", "heatmap.png", "factor_ranking.png", "summary.csv",
                 "results.parquet"):
        assert (result / name).is_file(), name
    shutil.rmtree(tmp_path / "shards")
