"""The plausibility pass: an upper bound of events from the scenario alone, refusals of
what cannot finish in reasonable time, warnings on what is suspicious."""

from __future__ import annotations

import pytest
from scenario_builder import line, scenario

from sim.cli import main
from sim.cli.common import plausible
from sim.errors import ScenarioError
from sim.spec.plausibility import MAX_EVENTS, check_plausible, estimated_events

GOOD = """\
run: {duration: 1 d}
sources: {src: {kind: saturated}}
stations: {s1: {cycle: 60 s}, s2: {cycle: 30 s, failures: {mtbf: 2 h, mttr: 5 min}}}
buffers:
  feed: {from: src, to: s1, capacity: 1}
  mid: {from: s1, to: s2, capacity: 1}
  out: {from: s2, to: sink, capacity: inf}
sinks: {sink: {}}
"""


def test_the_event_bound_is_paper_arithmetic() -> None:
    d = line(["60 s", {"cycle": "30 s", "failures": {"mtbf": "2 h", "mttr": "5 min"}}], 1,
             duration="1 d")
    # 1,440 + 2,880 jobs, and a failure and a repair every 2 h: 2 x 12.
    assert estimated_events(scenario(d)) == pytest.approx(1440 + 2880 + 24)


@pytest.mark.parametrize(("edits", "words"), [
    ({"cycle: 60 s": "cycle: 1 ms", "duration: 1 d": "duration: 4 d"},
     "events per replication"),
    ({"duration: 1 d": "duration: 200 w"}, None),     # the control: four years is fine
    ({"duration: 1 d": "duration: 5300 w"}, "the limit is 100 years"),
])
def test_implausible_runs_are_refused_before_simulating(tmp_path, capsys, edits,
                                                        words, yaml_file) -> None:
    text = GOOD
    for old, new in edits.items():
        text = text.replace(old, new)
    path = yaml_file(text)
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    if words is None:
        assert code == 0
        return
    assert code == 2 and words in err and "Traceback" not in err
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert not (tmp_path / "o").exists()


def test_force_lets_a_refused_run_through_the_pass(yaml_file) -> None:
    from sim.spec.loader import load_scenario

    path = yaml_file(GOOD.replace("cycle: 60 s", "cycle: 1 ms").replace("1 d", "4 d"))
    sc = load_scenario(path)
    assert estimated_events(sc) > MAX_EVENTS
    with pytest.raises(ScenarioError):
        plausible(path, sc)
    plausible(path, sc, force=True)  # no error: the user asked for it


def test_suspicious_inputs_are_warnings_not_errors(yaml_file, capsys) -> None:
    path = yaml_file(GOOD.replace("mtbf: 2 h", "mtbf: 10 s"))
    assert main(["check", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "stations.s2.failures" in err and "shorter than a cycle" in err
    refusals, warnings = check_plausible(scenario(line(["60 s"], 1, duration="1 d")))
    assert refusals == [] and warnings == []
