"""The tally: KPIs from completions folded slice by slice, against the per-vehicle rows.

A run that keeps no rows (`vehicles=False`: sweeps) must report what a run that keeps them
reports: every KPI equal (sums to rounding), the lead-time quantiles within the sketch's
stated error. The sketch itself is checked against numpy's percentiles on random data.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import ROOT
from scenario_builder import line, scenario

from sim.analysis.kpi import daily_counts, run_kpis
from sim.engine import tally as tally_module
from sim.engine.buffer import CompletionLog
from sim.engine.model import build
from sim.engine.records import COLUMNS, NoVehicleRecords
from sim.engine.run import run_once
from sim.engine.tally import ALPHA, Sketch, TallyLog
from sim.spec.loader import load_scenario

QUANTILES = ("lead_time_p50_h", "lead_time_p95_h", "lead_time_on_shift_p50_h")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e7)), min_size=1, max_size=300),
       st.floats(0.0, 1.0))
def test_a_sketch_quantile_is_numpys_within_alpha(values: list[float], q: float) -> None:
    x = np.array(values)
    sk = Sketch()
    for part in np.array_split(x, 3):  # added in slices, as the tally does
        sk.add(part)
    got = sk.freeze().quantile(q)
    want = float(np.percentile(x, 100.0 * q))
    assert got == pytest.approx(want, rel=ALPHA * 1.0001, abs=1e-12)


def test_an_empty_sketch_has_no_quantile() -> None:
    assert math.isnan(Sketch().freeze().quantile(0.5))


def _same_kpis(kept: dict[str, float], tallied: dict[str, float]) -> None:
    assert kept.keys() == tallied.keys()
    for key, want in kept.items():
        got = tallied[key]
        if math.isnan(want):
            assert math.isnan(got), key
        elif key in QUANTILES or (key.startswith("lead_time.") and key.endswith(".p50_h")):
            assert got == pytest.approx(want, rel=ALPHA * 1.0001), key
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-12), key


def _douai_kpis_both_ways(path: Path) -> None:
    sc = load_scenario(path)
    kept = run_once(sc, 0)
    lean = run_once(sc, 0, vehicles=False)
    assert lean.log is None and kept.log is not None
    _same_kpis(run_kpis(kept), run_kpis(lean))
    assert lean.stalls == kept.stalls and lean.lockup == kept.lockup
    np.testing.assert_array_equal(daily_counts(lean), daily_counts(kept))
    with pytest.raises(NoVehicleRecords, match="per-vehicle records were not kept"):
        _ = lean.completions


@pytest.mark.slow
@pytest.mark.parametrize("path", ["scenarios/douai/2024.yaml", "scenarios/douai/2025.yaml"])
def test_a_douai_run_without_rows_reports_the_kpis_of_one_with_rows(path: str) -> None:
    """A plant year: shifts, milestones, reporting windows, scrap, assembly, call-off,
    demand: every KPI from the tally, as from the rows."""
    _douai_kpis_both_ways(ROOT / path)


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_folding_in_small_slices_changes_nothing(monkeypatch, chunk: int) -> None:
    """Slices smaller than a day's output: the rows are dropped many times over, and the
    KPIs, stalls and daily counts are still those of the kept rows."""
    monkeypatch.setattr(tally_module, "CHUNK", chunk)
    d = line(["50 s", {"cycle": {"dist": "exponential", "mean": "55 s"},
                       "failures": {"mtbf": "1 h", "mttr": "20 min"}}], 2,
             duration="3 d", warmup="2 h", seed=4)
    d["run"]["stall_after"] = "30 min"
    sc = scenario(d)
    kept, lean = run_once(sc, 0), run_once(sc, 0, vehicles=False)
    assert kept.stalls and lean.stalls == kept.stalls
    _same_kpis(run_kpis(kept), run_kpis(lean))
    assert lean.tally is not None and kept.tally is not None
    np.testing.assert_array_equal(lean.tally.daily, kept.tally.daily)
    np.testing.assert_array_equal(lean.tally.lead.index, kept.tally.lead.index)
    np.testing.assert_array_equal(lean.tally.lead.count, kept.tally.lead.count)


@pytest.mark.pure  # it watches the log by patching a method: compiled code calls it directly
def test_a_run_without_rows_holds_at_most_one_slice(monkeypatch) -> None:
    monkeypatch.setattr(tally_module, "CHUNK", 100)
    sc = scenario(line(["10 s", "10 s"], 2, duration="1 d"))
    held = []
    add = TallyLog.add

    def watch(self, part, sink, t):
        add(self, part, sink, t)
        held.append(len(self.t_done))

    monkeypatch.setattr(TallyLog, "add", watch)  # before the build: sinks bind it
    model = build(sc, 0, vehicles=False)
    assert isinstance(model.log, TallyLog)
    r = run_once(sc, 0, model=model, vehicles=False)
    assert r.tally is not None and r.tally.rows == len(held) > 8000
    assert max(held) < 100


def test_kpis_from_the_tally_of_a_kept_run_equal_those_from_its_rows() -> None:
    """Same RunResult, rows dropped afterwards: run_kpis switches to the tally."""
    d = line([{"cycle": {"dist": "exponential", "mean": "60 s"}}, "55 s"], 3,
             duration="2 d", warmup="3 h", seed=9)
    r = run_once(scenario(d), 0)
    _same_kpis(run_kpis(r), run_kpis(dataclasses.replace(r, log=None)))


# -- rows kept on disk (a default `run`): SpillLog ---------------------------------------

def test_the_spilled_columns_are_the_logs_columns() -> None:
    log = CompletionLog()
    for name, code, dtype in COLUMNS:
        column = getattr(log, name)
        assert column.typecode == code and column.itemsize == np.dtype(dtype).itemsize


def test_rows_kept_on_disk_are_the_rows_a_run_keeps_in_memory(tmp_path, douai_2024) -> None:
    """Two slices and more, shifts and on-shift lead times (Douai's calendar): the same
    record field for field, the same KPIs, and a record that pickles as its files' place."""
    sc = load_scenario(douai_2024)
    kept = run_once(sc, 0, activity=True)
    spilled = run_once(sc, 0, activity=True, rows=str(tmp_path))
    c, k = spilled.completions, kept.completions
    assert c.spilled is not None and c.spilled.n == len(k) > tally_module.CHUNK
    assert Path(c.spilled.folder).parent == tmp_path  # a folder of its own per run
    for name in (*(n for n, _, _ in COLUMNS), "shift"):
        a, b = getattr(k, name), getattr(c, name)
        assert b.dtype == a.dtype and np.array_equal(a, b) and not b.flags.writeable, name
        if name != "shift":
            assert Path(c.spilled.path(name)).stat().st_size == len(k) * a.itemsize
    for f in dataclasses.fields(kept):
        if f.name not in ("log", "wall_seconds"):
            assert pickle.dumps(getattr(kept, f.name)) == pickle.dumps(getattr(spilled, f.name))
    assert run_kpis(spilled) == run_kpis(kept)
    blob = pickle.dumps(c)
    assert len(blob) < 2 * len(k)  # its place and the shift codes, not 39 bytes a row
    back = pickle.loads(blob)
    c.release()  # the pages go; the rows are read again from the files
    assert np.array_equal(back.t_done, k.t_done) and np.array_equal(c.t_release, k.t_release)


def test_a_run_with_no_completion_spills_no_rows(tmp_path) -> None:
    sc = scenario(line(["2 h"], 2, duration="1 h"))
    r = run_once(sc, 0, rows=str(tmp_path))
    assert r.completions.spilled is not None and len(r.completions) == 0
    assert run_kpis(r)["completed"] == 0
