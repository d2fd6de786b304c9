"""The house by kind: every module in a sub-package, data flowing one way between them.

The layers, lowest first: `errors`, `spec` (the scenario format), `engine` (simulation),
`results` (the results folder and stored records), `analysis` (pure functions of records),
`experiments` (many runs), `report` (tables, figures, pages), `verify` (the engine against
theory), `cli` (the verbs). A module may import its own layer and the layers below, never
one above, at module level or inside a function: an upward import is how loops begin.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
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
