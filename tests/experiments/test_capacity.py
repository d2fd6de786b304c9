"""The capacity envelope on a line whose saturated rate is known by construction, and
the refusals of the `capacity` verb."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from scenario_builder import scenario

from sim.analysis.kpi import run_kpis
from sim.cli import main
from sim.errors import ScenarioError
from sim.experiments.capacity import Window, base_mix, saturated, share_curve
from sim.experiments.replications import run_replications

START = dt.date(2024, 1, 1)


def _plant() -> dict:
    """orders (a demand book) -> b0 -> paced line (5 x 60 s; heavy 1.5, light 0.5 takt)."""
    return {
        "name": "cap",
        "run": {"start": "2024-01-01", "end": "2024-01-10", "replications": 1},
        "products": {"heavy": {"attrs": {"size": "big"}}, "light": {"attrs": {"size": "small"}}},
        "sources": {"orders": {"kind": "demand", "demand": {"periods": [
            {"from": "2024-01-01", "to": "2024-01-10", "quantities": {"heavy": 100, "light": 300}}]}}},
        "stations": {"line": {"paced": {"positions": 5, "takt": "60 s", "content": {
            "by": "size", "values": {"big": 1.5, "small": 0.5}}}}},
        "buffers": {"b0": {"from": "orders", "to": "line", "capacity": 3},
                    "out": {"from": "line", "to": "yard", "capacity": "inf"}},
        "sinks": {"yard": {}},
    }


WINDOW = Window(dt.date(2024, 1, 3), 7)


def _rate(mix: dict[str, float]) -> float:
    twin = saturated(scenario(_plant()), mix, WINDOW)
    return run_kpis(run_replications(twin, 1, workers=1)[0])["per_day"]


@pytest.mark.parametrize("light", [0.5, 0.75, 1.0])
def test_the_saturated_rate_follows_the_mean_work_content_of_the_mix(light: float) -> None:
    """Saturated, a step lasts the content of the part entering: one part per 60 s x
    (1.5 heavy + 0.5 light) / 2 at 50/50, so 1,440 a day; 1,920 at 75% light; 2,880
    all light. The spread rule keeps the mix exact to a part."""
    mean = 1.5 * (1 - light) + 0.5 * light
    assert _rate({"heavy": 1 - light, "light": light}) == pytest.approx(1440 / mean, abs=2)


def test_the_base_mix_is_the_books_and_a_curve_keeps_the_others_in_proportion() -> None:
    sc = scenario(_plant())
    assert base_mix(sc, WINDOW) == pytest.approx({"heavy": 0.25, "light": 0.75})
    three = {"a": 0.5, "b": 0.3, "c": 0.2}
    curve = share_curve(three, "a", [0.0, 0.8])
    assert curve[0] == pytest.approx({"a": 0.0, "b": 0.6, "c": 0.4})
    assert curve[1] == pytest.approx({"a": 0.8, "b": 0.12, "c": 0.08})


def test_the_twin_keeps_the_plant_and_replaces_only_the_order_book() -> None:
    sc = scenario(_plant())
    twin = saturated(sc, {"heavy": 0.5, "light": 0.5}, WINDOW)
    assert twin.stations == sc.stations and twin.buffers == sc.buffers
    assert twin.run.warmup == 2 * 86400.0 and twin.run.end == dt.date(2024, 1, 9)
    (period,) = twin.sources["orders"].demand.periods
    assert period.per_day == {"heavy": 2500.0, "light": 2500.0}


@pytest.mark.parametrize(("mix", "window", "field", "says"), [
    ({"heavy": 0.5, "ghost": 0.5}, WINDOW, "--mix", "unknown product 'ghost'"),
    ({"heavy": 0.5, "light": 0.6}, WINDOW, "--mix", "must sum to 1"),
    ({"heavy": 1.0}, Window(START, 3), "--from", "after the run start"),
    ({"heavy": 1.0}, Window(dt.date(2024, 1, 8), 7), "--from", "must lie in the run"),
])
def test_a_bad_mix_or_window_is_refused(mix, window, field, says) -> None:
    with pytest.raises(ScenarioError, match=says) as err:
        saturated(scenario(_plant()), mix, window)
    assert err.value.path == field


def test_a_product_not_started_by_the_window_is_refused() -> None:
    d = _plant()
    d["products"]["heavy"]["sop"] = "2024-01-05"
    with pytest.raises(ScenarioError, match="starts on 2024-01-05"):
        saturated(scenario(d), {"heavy": 0.5, "light": 0.5}, WINDOW)


@pytest.fixture
def plant_file(tmp_path) -> Path:
    path = tmp_path / "cap.yaml"
    path.write_text(yaml.safe_dump(_plant()), encoding="utf-8")
    return path


def test_the_verb_prints_a_curve(plant_file, capsys) -> None:
    assert main(["capacity", str(plant_file), "--from", "2024-01-03", "--days", "7",
                 "--share", "light=0.5:1:0.25", "-w", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("heavy", "light"))]
    assert len(rows) == 3
    assert "1,440" in rows[0] and "2,880" in rows[2]


@pytest.mark.parametrize(("args", "says"), [
    (["--share", "light=0.9:0.1:0.1"], "--share"),
    (["--share", "light"], "--share"),
    (["--mix", "light=x"], "--mix"),
    (["--mix", "light=0.5,ghost=0.5"], "unknown product"),
    (["--from", "2023-12-01"], "--from"),
])
def test_bad_options_are_one_line_exit_2(plant_file, capsys, args, says) -> None:
    argv = ["capacity", str(plant_file), "--from", "2024-01-03", "--days", "7", "-w", "1", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1
