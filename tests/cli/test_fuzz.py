"""Fuzzing the command line with mutants of every shipped scenario.

Each mutant (a key removed, a value replaced by a hostile one, an unknown or misspelt
field, broken or mis-encoded bytes) goes through the real CLI path (`check`, which loads,
validates, runs the plausibility pass and builds the model; and `run` on short horizons).
Whatever the mutant, the tool must end with exit 0 or 2, print one line on error, never
a traceback or an "internal error", and write nothing when it refuses.

The fast profile runs in `make test`; a long one is `FUZZ_EXAMPLES=3000 pytest
tests/cli/test_fuzz.py` (see README).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import SCENARIOS

from sim.cli import main
from sim.spec.loader import load_dict

ROOT = SCENARIOS
CASES = ROOT.parent / "sim" / "verify" / "scenarios"
SHIPPED = sorted([*ROOT.glob("examples/*.yaml"), *CASES.glob("*.yaml"),
                  ROOT / "douai" / "2024.yaml", ROOT / "douai" / "2025.yaml",
                  ROOT / "douai" / "2025-line-rate.yaml"])
SHIPPED = [p for p in SHIPPED if "calibration_example" not in p.name]
RAW = {p: load_dict(p) for p in SHIPPED}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def _profile(examples: int) -> settings:
    """Fixed examples in `make test` (reproducible), random ones in a long profile."""
    return settings(max_examples=examples, deadline=None,
                    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


FUZZ = _profile(EXAMPLES)

HOSTILE = st.sampled_from([
    None, True, False, 0, -1, 1, 3.5, 1e308, -1e308, float("nan"), float("inf"), 10**30,
    "", "x", "60", "60 s", "-5 min", "1e-300 s", "1e30 d", "inf", "nan s", "2024-02-30",
    "25:99", "mon-funday", [], [1, 2], {}, {"dist": "nope"}, {"a": 1}, "𝔘nicode ✓",
    "a" * 300, {"from": "x", "to": "y", "capacity": 1},
])


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a parsed YAML tree."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _parent(tree: Any, path: tuple) -> Any:
    for key in path[:-1]:
        tree = tree[key]
    return tree


def _check_cli(tmp_path: Path, content: bytes, args: list[str], capsys) -> None:
    path = tmp_path / "mutant.yaml"
    path.write_bytes(content)
    out = tmp_path / "out"
    before = set(out.iterdir()) if out.exists() else set()
    code = main([args[0], str(path), *args[1:]] + (["--out", str(out), "-q", "-w", "1"]
                                                    if args[0] == "run" else []))
    captured = capsys.readouterr()
    assert code in (0, 2, 4), (code, captured.err)
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    if code == 2:
        lines = [ln for ln in captured.err.splitlines() if not ln.startswith("warning:")]
        assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
        now = set(out.iterdir()) if out.exists() else set()
        assert now == before  # nothing written
        assert not [p for p in now if p.name.startswith(".")]


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


@FUZZ
@given(data=st.data())
def test_a_mutated_value_or_a_removed_key_is_handled_cleanly(tmp_path_factory, data,
                                                              capsys) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    src = data.draw(st.sampled_from(SHIPPED), label="scenario")
    tree = copy.deepcopy(RAW[src])
    paths = _paths(tree)
    path = data.draw(st.sampled_from(paths), label="path")
    parent = _parent(tree, path)
    action = data.draw(st.sampled_from(["replace", "remove", "unknown", "typo"]))
    key = path[-1]
    if action == "replace":
        parent[key] = data.draw(HOSTILE, label="value")
    elif action == "remove":
        del parent[key]
    elif action == "unknown" and isinstance(parent, dict):
        parent["unknwn_" + str(key)] = 1
    elif action == "typo" and isinstance(parent, dict) and isinstance(key, str) and key:
        parent[key[:-1] + key[-1] * 2] = parent.pop(key)
    _check_cli(tmp, _dump(tree), ["check"], capsys)


@FUZZ
@given(data=st.data())
def test_broken_bytes_and_encodings_are_handled_cleanly(tmp_path_factory, data,
                                                        capsys) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    src = data.draw(st.sampled_from(SHIPPED), label="scenario")
    text = _dump(RAW[src])
    how = data.draw(st.sampled_from(["bytes", "truncate", "latin1", "tabs"]))
    if how == "bytes":
        at = data.draw(st.integers(0, len(text) - 1))
        junk = data.draw(st.binary(min_size=1, max_size=8))
        text = text[:at] + junk + text[at + 1:]
    elif how == "truncate":
        text = text[:data.draw(st.integers(0, len(text)))]
    elif how == "latin1":
        text = text.decode("utf-8").replace("note:", "note: Mégane ·").encode(
            "latin-1", errors="replace")
    else:
        text = text.replace(b"  ", b"\t", 1)
    _check_cli(tmp, text, ["check"], capsys)


SMALL = [p for p in SHIPPED if p.parent.name in ("examples", "scenarios")]


@_profile(max(EXAMPLES // 3, 5))
@given(data=st.data())
def test_a_mutant_that_loads_also_runs_or_is_refused_cleanly(tmp_path_factory, data,
                                                             capsys) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    src = data.draw(st.sampled_from(SMALL), label="scenario")
    tree = copy.deepcopy(RAW[src])
    tree["run"] = {k: v for k, v in tree["run"].items() if k not in ("end", "duration")}
    tree["run"]["duration"] = "1 d"
    tree["run"]["replications"] = 2
    path = data.draw(st.sampled_from(_paths(tree)), label="path")
    if path[0] != "run":
        _parent(tree, path)[path[-1]] = data.draw(HOSTILE, label="value")
    _check_cli(tmp, _dump(tree), ["run", "--no-plots"], capsys)


# --- hostile inputs beyond scenario mutants: files that are not files, deep nesting,
# names that are paths, tampered sweep records ---------------------------------------

NOT_FILES = ["char device", "directory", "symlink to a device", "fifo", "socket"]


def _not_a_file(tmp: Path, kind: str) -> Path:
    import socket

    path = tmp / "input.yaml"
    if kind == "char device":
        return Path("/dev/zero")
    if kind == "directory":
        path.mkdir()
    elif kind == "symlink to a device":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    return path


@pytest.mark.parametrize("kind", NOT_FILES)
@pytest.mark.parametrize("verb", ["check", "run", "sweep", "gate", "calibrate", "compare"])
def test_an_input_that_is_not_a_regular_file_is_refused_by_every_verb(tmp_path, kind,
                                                                       verb) -> None:
    """In a subprocess with a timeout: a FIFO read naively would block forever."""
    import subprocess
    import sys

    path = _not_a_file(tmp_path, kind)
    good = ROOT / "examples" / "two_stations.yaml"
    args = {"check": [str(path)], "run": [str(path), "--out", str(tmp_path / "out")],
            "sweep": [str(path), "--out", str(tmp_path / "out")],
            "gate": [str(path), str(tmp_path)], "calibrate": [str(path)],
            "compare": [str(good), str(path), "--out", str(tmp_path / "out")]}[verb]
    proc = subprocess.run([sys.executable, str(ROOT.parent / "run_sim.py"), verb, *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          cwd=ROOT.parent)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert not (tmp_path / "out").exists()


@FUZZ
@given(data=st.data())
def test_deep_nesting_anywhere_is_refused_cleanly(tmp_path_factory, data, capsys) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    src = data.draw(st.sampled_from(SHIPPED), label="scenario")
    tree = copy.deepcopy(RAW[src])
    path = data.draw(st.sampled_from(_paths(tree)), label="path")
    depth = data.draw(st.integers(50, 3000), label="depth")
    nested: Any = "x"
    for _ in range(min(depth, 120)):  # deeper than any limit; the text below goes further
        nested = [nested]
    _parent(tree, path)[path[-1]] = nested
    text = _dump(tree).replace(b"- x", b"- " + b"[" * depth + b"x" + b"]" * depth, 1)
    _check_cli(tmp, text, ["check"], capsys)


PATHLIKE = st.one_of(
    st.sampled_from(["../x", "../../x", "/tmp/douai-escape", ".", "..", "", "a/b", "a\\b",
                     ".hidden", "x/../../y", "\x00", "con", "a" * 300, " ", "~/x"]),
    st.text(alphabet=st.sampled_from("./\\~ a-\x00\n"), min_size=0, max_size=12))


@_profile(max(EXAMPLES // 3, 5))
@given(name=PATHLIKE)
def test_a_path_like_name_never_writes_outside_out(tmp_path_factory, name, capsys) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    tree = copy.deepcopy(RAW[ROOT / "examples" / "two_stations.yaml"])
    tree["run"] = {**tree["run"], "duration": "2 d", "replications": 2}
    tree["name"] = name
    work = tmp / "deep" / "work"
    work.mkdir(parents=True)
    _check_cli(work, _dump(tree), ["run", "--no-plots"], capsys)
    outside = [p for p in tmp.rglob("*") if work not in (p, *p.parents)
               and p not in (tmp / "deep",)]
    assert outside == []
    out = work / "out"
    if out.exists():
        assert all(p.parent == out for p in out.iterdir())


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> tuple[Path, Path]:
    """Two shard folders of one small sweep, made once."""
    tmp = tmp_path_factory.mktemp("shards")
    spec = {"name": "s", "scenario": str(ROOT / "examples" / "two_stations.yaml"),
            "set": ["run.duration=2 d"], "replications": 2, "kpis": ["completed", "lockup"],
            "factors": {"cap": {"path": "buffers.b1.capacity", "values": [1, 3]}}}
    (tmp / "s.yaml").write_text(yaml.safe_dump(spec))
    for i in (1, 2):
        assert main(["sweep", str(tmp / "s.yaml"), "--out", str(tmp), "--shard", f"{i}/2",
                     "-q", "-w", "1", "--no-plots"]) == 0
    return tmp / "s-shard-1-of-2", tmp / "s-shard-2-of-2"


@FUZZ
@given(data=st.data())
def test_a_tampered_sweep_record_is_refused_on_merge(tmp_path_factory, data, shards,
                                                     capsys) -> None:
    import json
    import shutil

    tmp = tmp_path_factory.mktemp("fuzz")
    copies = [tmp / f.name for f in shards]
    for f, c in zip(shards, copies):
        shutil.copytree(f, c)
    capsys.readouterr()
    record = data.draw(st.sampled_from(sorted(
        p for c in copies for p in (c / "runs").glob("*.json"))), label="record")
    original = json.loads(record.read_text())
    how = data.draw(st.sampled_from(["value", "remove", "add", "bytes"]), label="how")
    if how == "bytes":
        raw = bytearray(record.read_bytes())
        at = data.draw(st.integers(0, len(raw) - 1), label="at")
        raw[at] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]), label="byte")
        record.write_bytes(bytes(raw))
    else:
        tree = copy.deepcopy(original)
        path = data.draw(st.sampled_from(_paths(tree)), label="path")
        parent = _parent(tree, path)
        if how == "value":
            parent[path[-1]] = data.draw(HOSTILE, label="value")
        elif how == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent["extra"] = 1
        record.write_text(json.dumps(tree, allow_nan=True))
    try:
        same = json.loads(record.read_text()) == original
    except ValueError:
        same = False
    code = main(["merge", *map(str, copies), "--out", str(tmp / "m"), "--no-plots"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    if same:
        assert code == 0, err
    else:
        assert code == 2, err
        assert err.startswith(f"error: {record}") and err.count("\n") == 1, err
        assert not (tmp / "m").exists()
