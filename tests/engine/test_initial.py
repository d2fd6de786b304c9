"""Stated WIP: a run may start with parts in its buffers and units in its stocks, instead
of an empty plant (the other warm start is a warm-up: run.warmup)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from scenario_builder import done, line, run, scenario, via_yaml

from sim.errors import ScenarioError


def _line(initial: dict) -> dict:
    d = line(["60 s", "30 s"], [20, 5], duration="1 h",
             source={"kind": "arrivals", "interarrival": "2 h"})
    d["products"] = {"A": {"variants": {"x": {"share": 0.5}, "y": {"share": 0.5}}}, "B": {}}
    d["buffers"]["b0"]["initial"] = initial
    return d


def test_initial_parts_are_worked_from_time_zero() -> None:
    """10 parts waiting before a 60 s station (the source sends none within the hour):
    they leave the 30 s station at 90, 150, ... 630 s, and count as WIP, not releases."""
    r = run(_line({"A": 6, "B": 4}))
    np.testing.assert_allclose(done(r), 90.0 + 60.0 * np.arange(10))
    assert r.released == 0 and r.wip_end == 0
    names = np.array(r.type_product)[r.completions.type]
    assert (names == "A").sum() == 6 and (names == "B").sum() == 4


@pytest.mark.parametrize(("initial", "says"), [
    ({"A": 30}, "more than its capacity"),
    (5, "parts start as"),
])
def test_bad_initial_parts_are_refused(initial, says) -> None:
    with pytest.raises(ValidationError, match=says):
        scenario(_line(initial))


def test_an_unknown_product_or_a_part_with_no_kit_partner_is_refused(tmp_path) -> None:
    """One error naming the file and the field (the loader's ScenarioError)."""
    with pytest.raises(ScenarioError, match=r"buffers\.b0\.initial\.C: unknown product"):
        via_yaml(_line({"C": 1}), tmp_path)
    d = _line({"A": 1})
    d["stations"]["s2"] = {"cycle": "30 s", "match": "order"}
    d["sources"]["kits"] = {"kind": "saturated"}
    d["buffers"]["k"] = {"from": "kits", "to": "s2", "capacity": 2}
    with pytest.raises(ScenarioError, match=r"buffers\.b0\.initial: .*order-matched assembly"):
        via_yaml(d, tmp_path, "kit")
