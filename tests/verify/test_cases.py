"""The engine against analytic theory (`sim.verify.cases`), and the power of the check itself.

The slow tests run every verification scenario with the seeds written in the files and
judge all measures together at family-wise level 99% (Bonferroni: each measure uses a
t interval at level 1 - 0.01/m, m = number of statistical measures), so a correct engine
fails this suite by chance with probability at most 1%. The shift-calendar case is exact.
The negative tests judge the same simulated values against deliberately wrong theory
inputs, which must be detected: a check that passes everything proves nothing.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from factories import HOUR, buffer, make_result, station
from paths import ROOT

from sim.verify import cases as verify
from sim.verify import theory
from sim.verify.cases import CASES, Case, CaseResult, Measure

FAMILY = 0.99


@pytest.fixture(scope="module")
def simulated() -> dict[str, np.ndarray]:
    """Every case, default replications, seeds from the scenario files."""
    return verify.simulate(list(CASES.values()))


def _level() -> float:
    return verify.bonferroni(FAMILY, sum(len(c.measures) for c in CASES.values() if not c.exact))


@pytest.mark.slow
def test_every_case_matches_theory(simulated: dict[str, np.ndarray]) -> None:
    results = [r for c in CASES.values() for r in verify.judge(c, simulated[c.name], _level())]
    table = verify.format_table(results)
    assert len(results) == sum(len(c.measures) for c in CASES.values())
    assert all(r.within for r in results), table
    assert all(r.n == CASES[r.case].replications for r in results)


@pytest.mark.slow
@pytest.mark.parametrize("case,change,detected", [
    ("two_station_buffer", {"mu2": 1.05 / 75.0},
     ["throughput [parts/h]", "mean level of b12", "P(s2 starved)", "P(s1 blocked)"]),
    ("two_station_buffer", {"B": 4},
     ["throughput [parts/h]", "mean level of b12", "P(s2 starved)", "P(s1 blocked)"]),
    ("mm1k", {"K": 6}, ["loss probability", "L (mean in system)", "throughput [parts/h]"]),
])
def test_wrong_theory_inputs_are_detected(simulated: dict[str, np.ndarray], case: str,
                                          change: dict, detected: list[str]) -> None:
    """mu2 off by 5%, or a buffer counted one place too large, falls outside the interval."""
    wrong = verify.with_params(CASES[case], **change)
    results = {r.measure: r for r in verify.judge(wrong, simulated[case], _level())}
    assert [m for m in detected if results[m].within] == []
    assert results["Little L/(lambda W)"].within


def test_cases_cover_the_verify_scenarios() -> None:
    files = sorted(p.stem for p in verify.VERIFY_DIR.glob("*.yaml"))
    assert sorted(verify.case_names()) == files
    for case in CASES.values():
        params = case.theory_params()
        for m in case.measures:
            assert math.isfinite(m.theory(params)), (case.name, m.name)


def test_theory_values_of_the_cases() -> None:
    """The table compares with what the scenario descriptions promise."""
    th = {(c.name, m.name): m.theory(c.theory_params()) for c in CASES.values()
          for m in c.measures}
    assert th[("availability_time", "throughput [parts/h]")] == pytest.approx(6 / 7 * 60)
    assert th[("availability_operation", "failures per day")] == pytest.approx(24 / (7 / 3))
    assert th[("mm1", "W (mean lead time) [s]")] == pytest.approx(300.0)
    assert th[("mm1k", "loss probability")] == pytest.approx(1 / 6)
    assert th[("paced_line", "lead time in segment [s]")] == pytest.approx(1275.0)
    assert th[("shift_calendar", "output [parts]")] == 18000


def _hand_made():
    """Warm-up 1 h, horizon 11 h: four good parts after warm-up (one released before it),
    one before warm-up, one scrapped."""
    rows = [
        (0, 0, 0.0, 1800.0),                   # done in warm-up: ignored
        (0, 0, 3000.0, 4000.0),                # lead 1000
        (1, 0, 5000.0, 8000.0),                # lead 3000
        (2, 1, 5000.0, 9000.0),                # scrap: ignored
        (0, 0, 10000.0, 12000.0),              # lead 2000
        (1, 0, 20000.0, 26000.0),              # lead 6000
    ]
    st = replace(station("s1", working=6 * HOUR, blocked=HOUR, starved=HOUR, failed=2 * HOUR),
                 failures=5)
    return make_result(rows, warmup=HOUR, horizon=11 * HOUR, stations=[st],
                       buffers=[buffer("q", mean_level=1.25)], released=30, lost=10,
                       wip_mean=0.5)


def test_extractors_on_a_hand_made_run() -> None:
    r = _hand_made()
    assert verify.throughput_per_hour(r) == pytest.approx(4 / 10)
    assert verify.completed(r) == 4
    assert verify.lead_time(r) == pytest.approx(3000.0)
    assert verify.wip(r) == 0.5
    assert verify.little_ratio(r) == pytest.approx(0.5 / (4 / (10 * HOUR) * 3000.0))
    assert verify.loss_probability(r) == pytest.approx(10 / 40)
    assert verify.state_fraction("s1", "blocked")(r) == pytest.approx(0.1)
    assert verify.state_fraction("s1", "working")(r) == pytest.approx(0.6)
    assert verify.not_failed("s1")(r) == pytest.approx(6 / 8)
    assert verify.buffer_level("q")(r) == 1.25
    assert verify.failures_per_day("s1")(r) == pytest.approx(5 / (10 / 24))
    with pytest.raises(KeyError, match="s9"):
        verify.state_fraction("s9", "working")(r)


def test_case_extractors_read_the_right_fields() -> None:
    """The registered M/M/1/K case reads loss, WIP, throughput and Little from the run."""
    r = _hand_made()
    got = [m.extract(r) for m in CASES["mm1k"].measures]
    assert got == pytest.approx([0.25, 0.5, 0.4, verify.little_ratio(r)])


def _toy(exact: bool = False) -> Case:
    return Case("toy", verify.VERIFY_DIR / "toy.yaml",
                (Measure("x", verify.wip, lambda p: float(p["x"])),), 4, exact, {"x": 10.0})


def test_judge_uses_the_t_interval_at_the_given_level() -> None:
    values = np.array([[9.0], [11.0], [10.0], [12.0]])      # mean 10.5, sd 1.29
    (res,) = verify.judge(_toy(), values, 0.95)
    sd = float(np.std(values, ddof=1))
    assert res.mean == 10.5 and res.n == 4
    assert res.half_width == pytest.approx(3.182446 * sd / 2, rel=1e-6)
    assert res.allowed == pytest.approx(res.half_width)
    assert res.within
    (far,) = verify.judge(verify.with_params(_toy(), x=12.6), values, 0.95)
    assert not far.within
    (wide,) = verify.judge(verify.with_params(_toy(), x=12.6), values, 0.999)
    assert wide.within and wide.allowed > far.allowed


def test_exact_cases_need_every_replication_equal() -> None:
    (ok,) = verify.judge(_toy(exact=True), np.array([[10.0]] * 3), 0.95)
    assert ok.within and ok.half_width == 0.0 and ok.allowed == 0.0
    (bad,) = verify.judge(_toy(exact=True), np.array([[9.0], [10.0], [11.0]]), 0.95)
    assert bad.mean == 10.0 and not bad.within


def test_bonferroni_level() -> None:
    assert verify.bonferroni(0.95, 25) == pytest.approx(0.998)
    assert verify.bonferroni(0.95, 1) == pytest.approx(0.95)


def test_format_table_shows_verdicts_and_relative_errors() -> None:
    rows = [CaseResult("c", "m1", 2.0, 2.01, 0.02, 10, 0.03, True),
            CaseResult("c", "m2", 4.0, 3.0, 0.1, 10, 0.2, False)]
    text = verify.format_table(rows)
    lines = text.splitlines()
    assert lines[1].split()[-1] == "OK" and "+0.500%" in lines[1] and "2.01 ± 0.02" in lines[1]
    assert lines[2].split()[-1] == "FAIL" and "-25.000%" in lines[2]
    assert "1 FAIL" in lines[-1]


def test_run_cases_refuses_unknown_names_and_single_replications() -> None:
    with pytest.raises(KeyError, match="nope"):
        verify.run_cases(["nope"])
    with pytest.raises(ValueError, match="2 replications"):
        verify.run_cases(["shift_calendar"], replications=1)


def test_shift_calendar_case_runs_exactly() -> None:
    """The one cheap case end to end through run_cases (serial)."""
    (res,) = verify.run_cases(["shift_calendar"], replications=2, workers=1)
    assert res.within and res.mean == theory.calendar_output(1_080_000.0, 60.0)


@pytest.mark.slow
def test_simulate_matches_run_replications() -> None:
    """The shared pool gives the values of `run_replications`, bit for bit."""
    from sim.experiments.replications import run_replications

    case = CASES["hillier_boling_3"]
    got = verify.simulate([case], replications=2, workers=2)[case.name]
    runs = run_replications(case.scenario(), 2, workers=1)
    want = np.array([[m.extract(r) for m in case.measures] for r in runs])
    assert np.array_equal(got, want)


@pytest.mark.slow
def test_validate_runs_a_named_case_from_an_installed_package(tmp_path) -> None:
    """The cases are package data: a wheel installed outside the checkout (no scenarios/
    beside it) still runs `validate NAME`."""
    import os
    import shutil
    import subprocess
    import sys

    root = ROOT
    src = tmp_path / "src"  # a copy: building writes build/ beside the sources
    shutil.copytree(root / "sim", src / "sim",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    target = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                            "--target", str(target), str(src)],
                           capture_output=True, text=True, timeout=600, check=False)
    assert build.returncode == 0, build.stderr
    assert (target / "sim" / "verify" / "scenarios" / "mm1.yaml").is_file()
    assert (target / "sim" / "report" / "templates" / "run.html.j2").is_file()
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", "from sim.cli import entry; entry()",
                          "validate", "mm1", "-n", "2", "-w", "1"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "measures within their intervals" in run.stdout
    import_check = subprocess.run([sys.executable, "-c", "import sim; print(sim.__file__)"],
                                  cwd=tmp_path, env=env, capture_output=True, text=True,
                                  check=True)
    assert import_check.stdout.startswith(str(target))
