"""`meta.targets`: typed once, checked when the scenario is validated."""

from __future__ import annotations

import pytest
from scenario_builder import line, scenario, via_yaml

from sim.errors import ScenarioError
from sim.spec.targets import Target, parse_targets, target_values


def test_numbers_and_cited_values() -> None:
    meta = {"targets": {"completed": 89527, "completed.R5": {"value": 30171, "source": "x"},
                        "per_day": {"value": 420.5, "note": "plan"}}}
    got = parse_targets(meta)
    assert got == {"completed": Target(89527.0), "completed.R5": Target(30171.0, "x"),
                   "per_day": Target(420.5, "plan")}
    assert target_values(got) == {"completed": 89527.0, "completed.R5": 30171.0,
                                  "per_day": 420.5}
    assert parse_targets({}) == {} and parse_targets(None) == {}


@pytest.mark.parametrize(("targets", "path"), [
    ({"completed": "lots"}, "meta.targets.completed"),
    ({"completed": {"source": "no value"}}, "meta.targets.completed"),
    ({"completed": True}, "meta.targets.completed"),
    ([1, 2], "meta.targets"),
])
def test_a_bad_target_is_an_error_naming_its_path(targets, path: str, tmp_path) -> None:
    d = line(["50 s"])
    d["meta"] = {"targets": targets}
    with pytest.raises(ScenarioError, match=r"test\.yaml: " + path.replace(".", r"\.") + ": "):
        via_yaml(d, tmp_path)


def test_the_scenario_offers_them_typed() -> None:
    d = line(["50 s"])
    d["meta"] = {"targets": {"completed": {"value": 70, "source": "paper"}}}
    assert scenario(d).targets == {"completed": Target(70.0, "paper")}
