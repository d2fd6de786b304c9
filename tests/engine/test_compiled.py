"""The compiled engine (setup.py: mypyc) and the pure one give the same results to the bit.

Run by the compiled leg of `make test` (marker `compiled`), where `sim` is the installed
build with extension modules: each scenario runs once compiled and once with
`DOUAI_SIM_PURE=1`, each engine in a fresh interpreter, and every field of the two
`RunResult`s (per-vehicle rows, stations, buffers, tally, active periods, stalls...) must
pickle to the same bytes. The scenarios cover what the engine can build: the Douai plant
(call-offs, demand, plans, changes, shifts, packs), the analytic cases and the examples.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest
from paths import BENCH, DOUAI, EXAMPLES, ROOT

import sim
import sim.engine
from sim.engine.machine import Machine
from sim.engine.percls import own_methods

pytestmark = pytest.mark.compiled
ROOT_OF_BUILD = Path(sim.__file__).parent  # the installed build, not the source tree

CHILD = """
import dataclasses, hashlib, json, pickle, sys
import sim.engine
from sim.spec.loader import load_scenario
from sim.engine.run import run_once
out = {}
for arg in sys.argv[1:]:
    path, _, override = arg.partition("::")
    r = run_once(load_scenario(path, [override] if override else []), 0, activity=True)
    out[arg] = {f.name: hashlib.sha256(pickle.dumps(getattr(r, f.name), 5)).hexdigest()
                for f in dataclasses.fields(r) if f.name != "wall_seconds"}
    out[arg]["completed"] = r.counters["completed"]
print(json.dumps({"build": sim.engine.build(), "runs": out}))
"""

SCENARIOS = [str(DOUAI / "2024.yaml"), str(DOUAI / "2025.yaml"),
             str(DOUAI / "2024-plan.yaml"), str(DOUAI / "2025-supply-late.yaml"),
             f"{BENCH / 'reference_line.yaml'}::run.duration=60 d",
             *sorted(str(p) for p in (ROOT / "sim" / "verify" / "scenarios").glob("*.yaml")),
             *sorted(str(p) for p in EXAMPLES.glob("*.yaml")
                     if p.name != "calibration_example.yaml")]  # a calibration, not a line


def _start(pure: bool) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DOUAI_SIM_PURE"}
    if pure:
        env["DOUAI_SIM_PURE"] = "1"
    return subprocess.Popen([sys.executable, "-c", CHILD, *SCENARIOS], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _digests(child: subprocess.Popen) -> dict:
    out, err = child.communicate()
    assert child.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_this_leg_runs_the_compiled_engine():
    """A build that fell back to pure Python must not pass for the compiled leg."""
    assert sim.engine.build() == "mypyc"
    assert Machine.begin.__class__.__name__ != "function"  # a native method, not bytecode


def test_own_methods_leaves_a_compiled_class_as_it_is():
    """Per-class copies are for bytecode; a compiled class has none to copy."""
    before = dict(vars(Machine))
    assert own_methods(Machine) is Machine and dict(vars(Machine)) == before


def test_compiled_and_pure_give_identical_results():
    children = _start(pure=False), _start(pure=True)  # side by side: two cores
    compiled, pure = _digests(children[0]), _digests(children[1])
    assert compiled["build"] == "mypyc" and pure["build"] == "pure"
    assert set(compiled["runs"]) == set(SCENARIOS)
    for scenario in SCENARIOS:
        assert compiled["runs"][scenario]["completed"] > 0, scenario
        assert compiled["runs"][scenario] == pure["runs"][scenario], scenario


def test_every_engine_module_but_the_switch_and_the_records_is_compiled():
    """setup.py's PYTHON_ONLY: the import switch and the pickled result records."""
    engine = ROOT_OF_BUILD / "engine"
    compiled = {p.name.partition(".")[0] for p in engine.iterdir()
                if p.name.endswith(tuple(EXTENSION_SUFFIXES))}
    sources = {p.stem for p in engine.glob("*.py")}
    assert sources - compiled == {"__init__", "records"}
    assert "_core__mypyc" in compiled  # the one shared library of the group
