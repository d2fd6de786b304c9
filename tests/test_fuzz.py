"""Fuzzing the command line with mutants of every shipped scenario.

Each mutant (a key removed, a value replaced by a hostile one, an unknown or misspelt
field, broken or mis-encoded bytes) goes through the real CLI path (`check`, which loads,
validates, runs the plausibility pass and builds the model; and `run` on short horizons).
Whatever the mutant, the tool must end with exit 0 or 2, print one line on error, never
a traceback or an "internal error", and write nothing when it refuses.

The fast profile runs in `make test`; a long one is `FUZZ_EXAMPLES=3000 pytest
tests/test_fuzz.py` (see README).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.loader import load_dict

ROOT = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("verify/*.yaml"),
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


SMALL = [p for p in SHIPPED if p.parent.name in ("examples", "verify")]


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
