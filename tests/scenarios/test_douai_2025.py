"""The Douai 2025 scenario set: its calendar, order book, variants, and what they answer.

Expected values come from the facts (French holidays 2025, the night shift date), from the
files' own stated arithmetic (daily rates x working days), or from the model's structure
(the call-off bounds the pack buffer); never from a previous run.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import yaml
from paths import DOUAI

from sim.analysis.kpi import run_kpis
from sim.engine.calendar import Calendar
from sim.engine.records import RunResult
from sim.engine.run import run_once
from sim.spec.loader import load_scenario

HERE = DOUAI
VARIANTS = ("2025-no-night.yaml", "2025-night-sep.yaml", "2025-line-rate.yaml",
            "2025-new-models-late.yaml", "2025-supply-late.yaml", "2025-r5-demand-30.yaml")
START = dt.date(2025, 1, 1)     # the statistics start
SIM = dt.date(2024, 12, 2)      # the run start: December 2024 is the warm-up (warm start)
WARM = (START - SIM).days       # 30 days
DAY = 86400.0
HOLIDAYS_2025 = ("2024-12-25", "2025-01-01", "2025-04-21", "2025-05-01", "2025-05-08", "2025-05-29",
                 "2025-06-09", "2025-07-14", "2025-08-15", "2025-11-11", "2025-12-25")


def _t(day: dt.date) -> float:
    return (day - SIM).days * DAY


@pytest.mark.parametrize("name", ("2025.yaml", *VARIANTS))
def test_every_2025_file_loads_and_is_a_2025_run(name: str) -> None:
    sc = load_scenario(HERE / name)
    assert sc.run.start == SIM and sc.run.last_day == dt.date(2025, 12, 31)
    assert sc.run.warmup == WARM * DAY  # statistics from 1 Jan 2025
    assert sc.sources["orders"].kind == "demand"


def test_2025_inherits_nothing_of_2024() -> None:
    data = yaml.safe_load((HERE / "2025.yaml").read_text())
    assert data["extends"] == "plant.yaml"
    sc = load_scenario(HERE / "2025.yaml")
    assert sc.sources["orders"].plan is None and "targets" not in sc.meta
    assert sc.sources["orders"].demand.scale == {}


@pytest.mark.parametrize("name", VARIANTS)
def test_each_variant_is_a_few_lines_on_the_base(name: str) -> None:
    text = (HERE / name).read_text()
    assert yaml.safe_load(text)["extends"] == "2025.yaml"
    assert len([ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]) <= 25


def _line_calendar(name: str = "2025.yaml") -> Calendar:
    sc = load_scenario(HERE / name)
    return Calendar.build(sc.calendars["line_2shift"], SIM, sc.run.horizon)


def test_2025_has_229_working_days_and_the_french_holidays() -> None:
    sc = load_scenario(HERE / "2025.yaml")
    assert {d.isoformat() for d in sc.calendars["line_2shift"].holidays} == set(HOLIDAYS_2025)
    cal = _line_calendar("2025-no-night.yaml")
    per_day = cal.on_per_day(WARM + 365)[WARM:]
    assert int((per_day > 0).sum()) == 229
    assert set(np.round(per_day[per_day > 0] / 3600, 4)) == {round(2 * (8 - 35 / 60), 4)}


def test_the_night_shift_runs_at_half_rate_from_13_october_only() -> None:
    cal = _line_calendar()
    night = [s for s in zip(*cal.shift_spans()) if s[2] == "night"]
    first = min(a for a, _, _ in night)
    assert first == pytest.approx(_t(dt.date(2025, 10, 13)) + 21 * 3600)
    s, _ = cal.windows()
    rates = cal.rates()
    at_night = (s % DAY >= 21 * 3600) | (s % DAY < 5 * 3600)
    assert set(rates[~at_night]) == {1.0}
    # the new crew learns: 0.5 x (0.8 + 0.2 x time since 13 Oct 00:00 / 6 weeks) at each
    # night's start, then 0.5 from six weeks on
    learned = _t(dt.date(2025, 10, 13)) + 42 * DAY
    late = s[at_night] >= learned + DAY / 2  # pieces after the first fully learned night began
    assert set(rates[at_night][late]) == {0.5}
    first_night = 0.5 * (0.8 + 0.2 * 21 / (42 * 24))
    assert rates[at_night][~late].min() == pytest.approx(first_night)
    assert np.all(np.diff(rates[at_night][~late]) >= -1e-12)
    weeks = {SIM + dt.timedelta(seconds=a) for a, _, _ in night}
    assert {d.weekday() for d in weeks} == {6, 0, 1, 2, 3}  # Sunday to Thursday nights


def test_the_order_book_is_daily_rates_times_working_days() -> None:
    sc = load_scenario(HERE / "2025.yaml")
    per_day = _line_calendar("2025-no-night.yaml").on_per_day(WARM + 365) > 0
    warm, *year = sc.sources["orders"].demand.periods
    assert warm.to < START and int(per_day[:WARM].sum()) == 15  # 2-20 Dec 2024
    for period in year:
        m = re.match(r"(\d+) days x ([\d / ]+)", period.note)
        assert m, period.note
        days, rates = int(m.group(1)), [int(x) for x in m.group(2).split(" / ")]
        a, b = (period.from_ - SIM).days, (period.to - SIM).days + 1
        assert days == int(per_day[a:b].sum()), period.from_
        assert list(period.quantities.values()) == [r * days for r in rates]


def test_ramps_start_at_the_new_models_sop() -> None:
    for name in ("2025.yaml", "2025-new-models-late.yaml"):
        sc = load_scenario(HERE / name)
        for model in ("Micra", "EclipseCross"):
            assert sc.sources["orders"].demand.ramps[model].start == sc.products[model].sop


# -- slow: one replication of the base and of each variant, common random numbers --------

@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[object, RunResult]]:
    out = {}
    for name in ("2025.yaml", *VARIANTS):
        sc = load_scenario(HERE / name)
        out[name] = (sc, run_once(sc, 0))
    return out


def _built(r: RunResult, product: str | None = None) -> np.ndarray:
    good = r.done_mask()
    if product is not None:
        good &= np.array(r.type_product)[r.completions.type] == product
    return np.sort(r.completions.t_done[good])


@pytest.mark.slow
def test_the_call_off_bounds_the_pack_buffer_by_the_bodies_ahead_of_the_marriage(runs) -> None:
    # A pack exists only once its body reached the store: in it, or finished in paint and
    # waiting at its entrance (at most one per paint carrier), on trim, or before marriage.
    for name, (sc, r) in runs.items():
        ahead = (sc.buffers["painted_body_store"].capacity + sc.stations["paint"].servers
                 + sc.stations["trim"].paced.positions + sc.buffers["to_marriage"].capacity + 1)
        packs = next(b for b in r.buffers if b.name == "pack_buffer")
        assert packs.max_level <= ahead, name


@pytest.mark.slow
def test_nothing_is_built_beyond_the_order_book_and_no_model_before_its_sop(runs) -> None:
    for name, (sc, r) in runs.items():
        k = run_kpis(r)
        assert k["completed"] <= k["demand.released"] <= k["demand.due"], name
        for model in ("Micra", "EclipseCross"):
            built = _built(r, model)
            assert built.size and built[0] >= _t(sc.products[model].sop), (name, model)


@pytest.mark.slow
def test_no_2025_scenario_locks_up_and_the_base_never_stalls(runs) -> None:
    assert all(r.lockup is None for _, r in runs.values())
    assert runs["2025.yaml"][1].stalls == ()
    stop = runs["2025-supply-late.yaml"][1].stalls  # the LG stop is a stall, and reported
    assert any(s.t_from < _t(dt.date(2025, 5, 17)) < s.t_to + DAY for s in stop)


@pytest.mark.slow
def test_the_milestone_is_the_day_the_100000th_r5_is_built(runs) -> None:
    sc, r = runs["2025.yaml"]
    k = run_kpis(r)
    r5 = _built(r, "R5")
    day = k["milestone.r5_100k.day"]
    assert r5[100000 - sc.products["R5"].built_before - 1] / DAY == pytest.approx(day)


@pytest.mark.slow
def test_variants_move_output_the_way_their_question_says(runs) -> None:
    base = runs["2025.yaml"][1]
    k = {name: run_kpis(r) for name, (_, r) in runs.items()}
    late = runs["2025-new-models-late.yaml"][1]
    assert _built(late, "Micra")[0] >= _t(dt.date(2025, 12, 1))
    assert k["2025-new-models-late.yaml"]["demand.backlog_end"] > k["2025.yaml"][
        "demand.backlog_end"]
    nights = [_built(r) for r in (base, runs["2025-no-night.yaml"][1])]
    hour = [(t % DAY) / 3600 for t in nights]
    at_night = [((h > 22) | (h < 4)) & (t > _t(dt.date(2025, 10, 13))) for h, t in
                zip(hour, nights)]
    assert at_night[0].sum() > 1000 and at_night[1].sum() == 0
    assert k["2025-r5-demand-30.yaml"]["completed.R5"] > k["2025.yaml"]["completed.R5"]
    stop = runs["2025-supply-late.yaml"][1]
    fri = (dt.date(2025, 5, 16) - SIM).days
    per_day = [np.bincount((_built(x) // DAY).astype(int), minlength=WARM + 365)[fri]
               for x in (base, stop)]
    assert per_day[1] < 0.1 * per_day[0]  # no LG modules: no medium packs, no marriage


@pytest.mark.parametrize("name", ("2025.yaml", *VARIANTS))
def test_every_2025_file_validates_against_the_json_schema(name: str) -> None:
    import json

    import jsonschema

    from sim.spec.loader import scenario_schema

    schema = scenario_schema()
    raw = json.loads(json.dumps(yaml.safe_load((HERE / name).read_text()), default=str))
    jsonschema.validators.validator_for(schema)(schema).validate(raw)


@pytest.mark.parametrize("name", ("2025.yaml", "2025-line-rate.yaml", "2025-supply-late.yaml"))
def test_the_resolved_2025_scenario_loads_back_equal(tmp_path, name: str) -> None:
    from sim.spec.loader import resolved_dict

    sc = load_scenario(HERE / name)
    path = tmp_path / "resolved.yaml"
    path.write_text(yaml.safe_dump(resolved_dict(sc), sort_keys=False), encoding="utf-8")
    assert load_scenario(path) == sc


@pytest.mark.parametrize("name", ["2025.yaml", "2025-night-sep.yaml", "2025-no-night.yaml"])
def test_per_day_divides_by_the_229_working_days_whatever_the_nights(name: str) -> None:
    """Sunday nights belong to Monday's production: a night shift adds no working day
    (per_day counted 239 days for the base and 245 with nights from September before)."""
    from sim.engine.run import working_mask

    sc = load_scenario(HERE / name)
    cal = Calendar.build(sc.calendars[sc.run.calendar], SIM, sc.run.horizon)
    assert int(working_mask(cal, sc.run.horizon)[WARM:].sum()) == 229


@pytest.mark.slow
def test_2025_starts_warm_not_empty(runs) -> None:
    """The December 2024 warm-up carries the plant's WIP over the Christmas shutdown: the
    first working day of 2025 builds about what a mid-January day does (an empty plant
    built 177 on 2 Jan: the body, paint and trim lead times, ~8 h, before the first car),
    and nothing of December counts in the 2025 KPIs."""
    _, r = runs["2025.yaml"]
    daily = np.bincount((_built(r) // DAY).astype(int), minlength=WARM + 365)
    jan2, mid = WARM + 1, WARM + 14  # Thu 2 Jan, Wed 15 Jan 2025
    assert daily[jan2] > 0.75 * daily[mid]
    assert run_kpis(r)["completed"] == int(((_built(r) >= WARM * DAY)).sum())
