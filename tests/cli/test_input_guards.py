"""Hostile and absurd input: one clear line, exit status 2, nothing written, fast.

Each case is a file or a command an author could produce by mistake (or a tester on
purpose): a Latin-1 file, a YAML alias bomb, a typo in a field name, `true` for a number,
durations far below the results' resolution or beyond any horizon, an output folder that
cannot be written. All are refused before anything is simulated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import bottleneck as cli_bottleneck
from sim.cli import capacity as cli_capacity
from sim.cli import compare as cli_compare
from sim.cli import main
from sim.cli import run as cli_run

GOOD = """\
run: {duration: 1 d}
sources: {src: {kind: saturated}}
stations: {s1: {cycle: 50 s}}
buffers:
  feed: {from: src, to: s1, capacity: 1}
  out: {from: s1, to: sink, capacity: inf}
sinks: {sink: {}}
"""


def _check(tmp_path: Path, text: str | bytes, capsys) -> str:
    path = tmp_path / "x.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_latin1_file_names_the_byte_and_its_position(tmp_path, capsys) -> None:
    err = _check(tmp_path, GOOD.replace("run:", "# Mégane\nrun:").encode("latin-1"), capsys)
    assert "not UTF-8 text: byte 0xe9 at position 3" in err


def _count_walk(monkeypatch) -> dict[str, int]:
    """Count the nodes the size guard (`yamlfile.bounded`) looks at, through the one
    builtin it calls per node: a bound on its work instead of a wall time."""
    import builtins

    from sim.spec import yamlfile

    visits = {"n": 0}

    def counting(obj, kinds):
        if kinds == (dict, list):
            visits["n"] += 1
        return builtins.isinstance(obj, kinds)

    monkeypatch.setattr(yamlfile, "isinstance", counting, raising=False)
    return visits


def test_an_alias_bomb_is_refused_after_work_bounded_by_the_file(tmp_path, capsys,
                                                                  monkeypatch) -> None:
    bomb = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    text = GOOD + "meta:\n" + "\n".join("  " + line for line in bomb) + "\n"
    visits = _count_walk(monkeypatch)
    err = _check(tmp_path, text, capsys)
    assert "expands to more than 1,000,000 values" in err
    assert visits["n"] < 10_000  # work bounded by the file (aliases counted once), not 10^9


def test_deep_nesting_is_refused(tmp_path, capsys) -> None:
    text = GOOD + "meta: " + "[" * 100 + "]" * 100 + "\n"
    assert "nested deeper than 64" in _check(tmp_path, text, capsys)


def test_a_near_miss_field_name_gets_its_correction(tmp_path, capsys) -> None:
    err = _check(tmp_path, GOOD.replace("capacity: 1}", "capacty: 1}"), capsys)
    assert "buffers.feed: unknown field 'capacty' (did you mean 'capacity'?)" in err


def test_a_field_of_another_section_is_not_corrected_into_itself(tmp_path, capsys) -> None:
    err = _check(tmp_path, GOOD.replace("stations: {s1: {cycle: 50 s}}",
                                        "stations: {s1: {cycle: 50 s, changes: 1}}"), capsys)
    assert "unknown field 'changes' here" in err and "did you mean" not in err


@pytest.mark.parametrize(("old", "new", "words"), [
    ("capacity: 1}", "capacity: 1}\n  x: {from: s1, to: sink, capacity: 1}", None),
    ("{cycle: 50 s}", "{cycle: 50 s, servers: true}", "expected a whole number (got true)"),
    ("{cycle: 50 s}", "{cycle: 50 s, failures: {mtbf: 1e-300 s, mttr: 1 s}}",
     "at least 1 ms"),
    ("duration: 1 d", "duration: 1e30 d", "at most 1e12 s"),
    ("{cycle: 50 s}", "{cycle: 1e308 s}", "at most 1e12 s"),
])
def test_absurd_numbers_are_refused(tmp_path, capsys, old, new, words) -> None:
    if words is None:  # the control: a plausible variation still loads
        path = tmp_path / "ok.yaml"
        path.write_text(GOOD, encoding="utf-8")
        assert main(["check", str(path)]) == 0
        return
    assert words in _check(tmp_path, GOOD.replace(old, new), capsys)


@pytest.mark.parametrize("where", ["file", "file/sub"])
def test_an_output_folder_that_cannot_be_written_fails_before_simulating(
        tmp_path, capsys, monkeypatch, where) -> None:
    # (A read-only parent is refused the same way, by os.access; CI runs as root, for whom
    # nothing is read-only, so that case is not exercised here.)
    path = tmp_path / "x.yaml"
    path.write_text(GOOD.replace("1 d", "3650 d"), encoding="utf-8")  # would take a while
    (tmp_path / "file").write_text("not a folder")
    _never_simulate(monkeypatch)  # refused before the 10-year run
    assert main(["run", str(path), "--out", str(tmp_path / where), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and "file" in err


def _never_simulate(monkeypatch) -> None:
    """Fail the test if a verb gets as far as simulating."""
    def refuse(*args, **kwargs):
        raise AssertionError("simulated although the input or output was refused")

    for verb in (cli_run, cli_compare, cli_capacity, cli_bottleneck):  # where it is called
        monkeypatch.setattr(verb, "run_replications", refuse)
    monkeypatch.setattr("sim.experiments.sweep.execute", refuse)


def _out_cases(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "at-all")
    return {"symlink loop": tmp_path / "loop1", "dangling symlink": tmp_path / "dangling",
            "under a dangling symlink": tmp_path / "dangling" / "sub",
            "pseudo file system": Path("/sys/douai-sim-test"),
            "under /proc": Path("/proc/douai-sim-test")}


@pytest.mark.parametrize("case", ["symlink loop", "dangling symlink",
                                  "under a dangling symlink", "pseudo file system",
                                  "under /proc"])
@pytest.mark.parametrize("verb", ["run", "sweep"])
def test_an_output_folder_that_cannot_exist_is_refused_before_simulating(
        tmp_path, capsys, monkeypatch, case, verb) -> None:
    out = _out_cases(tmp_path)[case]
    if case == "pseudo file system" and not Path("/sys").is_dir():
        pytest.skip("no /sys on this platform")
    scenario = tmp_path / "x.yaml"
    scenario.write_text(GOOD, encoding="utf-8")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("name: s\nscenario: x.yaml\nreplications: 1\n"
                     "factors: {cap: {path: buffers.feed.capacity, values: [1, 2]}}\n")
    _never_simulate(monkeypatch)
    args = (["run", str(scenario)] if verb == "run" else ["sweep", str(sweep)])
    assert main([*args, "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}") and err.count("\n") == 1, err
    assert not (tmp_path / "nowhere").exists()


def test_a_device_is_refused_without_reading_it(tmp_path, capsys) -> None:
    assert main(["check", "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and err.count("\n") == 1


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, capsys) -> None:
    import os

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert main(["check", str(fifo)]) == 2  # would block forever on a plain open()
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["[" * 1000, "{a: " * 1000, "\n  " + "- " * 1000 + "x"])
def test_deep_nesting_is_refused_while_parsing(tmp_path, capsys, text) -> None:
    err = _check(tmp_path, GOOD + "meta: " + text + "\n", capsys)
    assert "nested deeper than 64" in err


def test_a_deep_set_value_is_refused_while_parsing(tmp_path, capsys) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["check", str(path), "--set", "meta.x=" + "[" * 1000]) == 2
    err = capsys.readouterr().err
    assert "nested deeper than 64" in err and "RecursionError" not in err


def test_nesting_at_the_limit_still_loads(tmp_path, capsys) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD + "meta: {x: " + "[" * 60 + "]" * 60 + "}\n", encoding="utf-8")
    assert main(["check", str(path)]) == 0
