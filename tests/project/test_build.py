"""`pip install .` where the engine cannot be compiled still installs a working package.

setup.py compiles the engine with mypyc; where there is no C compiler (here: `CC=false`,
a compiler that always fails) or `DOUAI_SIM_PURE=1` is set, the wheel carries the same
code as `.py` files only, and that install runs. The compiled build itself is what the
compiled leg of `make test` installs and tests (tests/engine/test_compiled.py).
Each build runs on a copy of the files a wheel is made of, so the tree's `build/` is left
alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT

RUN = """
import sim.engine
from sim.spec.loader import load_scenario
from sim.engine.run import run_once
r = run_once(load_scenario(sys.argv[1]), 0, vehicles=False)
print(sim.engine.build(), r.counters["completed"])
"""


def _install(tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    src, target = tmp / "src", tmp / "target"
    src.mkdir()
    for name in ("sim", "setup.py", "pyproject.toml", "README.md"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, src / name)
    return subprocess.run([sys.executable, "-m", "pip", "install", "-v", "--no-deps",
                           "--no-build-isolation", "--target", str(target), "."], cwd=src,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=600, check=False)


def _runs(target: Path, scenario: Path) -> list[str]:
    env = {**os.environ, "PYTHONSAFEPATH": "1", "PYTHONPATH": str(target)}
    env.pop("DOUAI_SIM_PURE", None)
    out = subprocess.run([sys.executable, "-c", "import sys\n" + RUN, str(scenario)],
                         env=env, capture_output=True, text=True, check=True, cwd=target)
    return out.stdout.split()


def _source_tree_count(scenario: Path) -> str:
    out = subprocess.run([sys.executable, "-c", "import sys\n" + RUN, str(scenario)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.split()[1]


@pytest.mark.slow
def test_without_a_compiler_the_install_is_pure_python_and_runs(tmp_path) -> None:
    done = _install(tmp_path, CC="false")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "building the pure-Python engine (the C build failed" in done.stdout + done.stderr
    target = tmp_path / "target"
    assert not list(target.rglob("*.so")) and not list(target.rglob("*.pyd"))
    scenario = ROOT / "scenarios" / "examples" / "two_stations.yaml"
    build, completed = _runs(target, scenario)
    assert build == "pure" and completed == _source_tree_count(scenario)


def test_douai_sim_pure_at_build_time_skips_mypyc(tmp_path) -> None:
    done = _install(tmp_path, DOUAI_SIM_PURE="1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "building the pure-Python engine (DOUAI_SIM_PURE=1)" in done.stdout + done.stderr
    assert not list((tmp_path / "target").rglob("*.so"))
    assert (tmp_path / "target" / "sim" / "engine" / "station.py").is_file()
