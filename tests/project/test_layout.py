"""The house by kind: every module in a sub-package, data flowing one way between them.

The layers, lowest first: `errors`, `spec` (the scenario format), `engine` (simulation),
`results` (the results folder and stored records), `analysis` (pure functions of records),
`experiments` (many runs), `report` (tables, figures, pages), `verify` (the engine against
theory), `cli` (the verbs). A module may import its own layer and the layers below, never
one above, at module level or inside a function: an upward import is how loops begin.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT

SIM = ROOT / "sim"
LAYERS = ("errors", "spec", "engine", "results", "analysis", "experiments", "report",
          "verify", "cli")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SIM.rglob("*.py")):
        parts = path.relative_to(SIM.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "sim" else None


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim":
            if node.module == "sim":
                found += [(node.lineno, f"sim.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("sim.")]
    return found


def test_no_module_stands_flat_beside_the_sub_packages() -> None:
    flat = sorted(p.name for p in SIM.glob("*.py"))
    assert flat == ["__init__.py", "errors.py"]
    packages = sorted(p.name for p in SIM.iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted(set(LAYERS) - {"errors"})


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_a_module_imports_only_its_layer_and_those_below(module: str, path: Path) -> None:
    mine = _layer(module)
    if mine is None:
        return
    upward = [f"line {line}: {target}" for line, target in _imports(path)
              if (other := _layer(target)) in LAYERS and LAYERS.index(other) > LAYERS.index(mine)]
    assert not upward, f"{module} ({mine}) imports upward: {'; '.join(upward)}"


def test_the_layering_test_catches_an_upward_import(tmp_path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from sim.cli import main\n    import sim.report.html\n")
    assert [t for _, t in _imports(bad)] == ["sim.cli", "sim.report.html"]


# What a lazy import may defer: a library whose import costs a tenth of a second or more
# (measured with `python -X importtime`, 2 cores: matplotlib 0.7 s, scipy.stats 1.0 s,
# scipy.special 0.3 s, dask.distributed 0.7 s, openpyxl 0.3 s, pyarrow 0.2 s, jinja2
# 0.12 s) and only some paths need. Everything else is imported at the top.
HEAVY = ("matplotlib", "scipy", "dask", "distributed", "openpyxl", "pyarrow", "jinja2")


def _lazy_imports() -> list[tuple[str, int, str, str]]:
    """(file, line, module imported, the line's text) of every import inside a function."""
    out = []
    for _, path in _modules():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for fn in ast.walk(ast.parse(text)):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.module:
                    subs = [f"{node.module}.{a.name}" for a in node.names
                            if (SIM.parent / Path(*node.module.split("."), f"{a.name}.py")
                                ).is_file()]
                    target = subs[0] if subs else node.module
                elif isinstance(node, ast.Import):
                    target = node.names[0].name
                else:
                    continue
                out.append((path.name, node.lineno, target, lines[node.lineno - 1]))
    return out


def _pulls_heavy(modules: list[str]) -> dict[str, list[str]]:
    """The heavy libraries each module brings in, measured in one fresh interpreter each."""
    code = ("import importlib, json, sys; importlib.import_module(sys.argv[1]); "
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))")
    found = {}
    for m in modules:
        out = subprocess.run([sys.executable, "-c", code, m], capture_output=True, text=True,
                             check=True, cwd=SIM.parent)
        found[m] = json.loads(out.stdout)
    return found


def test_imports_stand_at_the_top_unless_a_heavy_library_is_deferred() -> None:
    lazy = _lazy_imports()
    assert lazy, "the scan found the known lazy imports"
    unlabelled = [f"{f}:{n}" for f, n, _, text in lazy if "# lazy:" not in text]
    assert not unlabelled, f"a lazy import says why (`# lazy: ...`): {unlabelled}"
    heavy = _pulls_heavy(sorted({t for _, _, t, _ in lazy if t.split(".")[0] == "sim"}))
    needless = [f"{f}:{n} {t}" for f, n, t, _ in lazy
                if (t.split(".")[0] == "sim" and not heavy[t])
                or (t.split(".")[0] != "sim" and t.split(".")[0] not in HEAVY)]
    assert not needless, f"imports that could stand at the top: {needless}"


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    """`douai-sim check` or `--help` should not pay for plotting, statistics or Dask."""
    assert _pulls_heavy(["sim.cli"])["sim.cli"] == []


def test_the_tests_mirror_the_packages() -> None:
    """tests/<package>/ for every package of sim/, plus the project's own checks, the
    benchmarks' and the shipped scenarios'; no test file left flat in tests/."""
    tests = SIM.parent / "tests"
    folders = sorted(p.name for p in tests.iterdir() if p.is_dir() and any(p.glob("test_*.py")))
    assert folders == sorted({*LAYERS, "project", "bench", "scenarios"} - {"errors"})
    assert not list(tests.glob("test_*.py"))
