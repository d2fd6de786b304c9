"""Apply KPI gates to a result folder: frozen verdicts, no simulation.

Why a pure function of files: CI gates a build on results that were computed elsewhere
(a run, a comparison, later a merged sweep), and the verdict must be reproducible from
the files alone. A run folder's `summary.json` holds every KPI's mean, 95% interval and
per-replication values; a comparison folder's `comparison.json` holds one row per KPI
and scenario. A regression rule pairs the result with a baseline summary replication by
replication, which requires the same seeds (refused otherwise).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import UsageError
from sim.spec.gates import Gate, GatesFile
from sim.stats import paired_diff


@dataclass(frozen=True)
class Verdict:
    """One gate applied: the value compared, the bound, and whether it passed."""

    name: str
    kpi: str
    value: float
    bound: str
    passed: bool


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: not found") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object")
    return data


def _estimate(result: dict[str, Any], gate: Gate, where: Path) -> dict[str, Any]:
    """The KPI's estimate (mean, low, high, values) in a run or comparison record."""
    if "kpis" in result and isinstance(result["kpis"], dict):
        if gate.kpi not in result["kpis"]:
            raise UsageError(f"{where}: no KPI {gate.kpi!r} in the result")
        return dict(result["kpis"][gate.kpi])
    rows = [r for r in result.get("kpis", []) if r.get("kpi") == gate.kpi
            and r.get("scenario") == (gate.scenario or result.get("baseline"))]
    if not rows:
        raise UsageError(f"{where}: no KPI {gate.kpi!r} for scenario "
                         f"{gate.scenario or result.get('baseline')!r} in the comparison")
    row = rows[0]
    half = row.get("half_width") or 0.0
    return {"mean": row["mean"], "low": row["mean"] - half, "high": row["mean"] + half}


def apply_gates(gates: GatesFile, result_dir: Path, gates_dir: Path) -> list[Verdict]:
    """Every gate of the file applied to the result folder (run or comparison)."""
    summary, comparison = result_dir / "summary.json", result_dir / "comparison.json"
    source = summary if summary.is_file() else comparison
    if not source.is_file():
        raise UsageError(f"{result_dir}: not a results folder (no summary.json or "
                         "comparison.json)")
    result = _read(source)
    out = []
    for name, gate in gates.gates.items():
        estimate = _estimate(result, gate, source)
        if gate.baseline is None:
            value = estimate[gate.at]
            value = math.nan if value is None else float(value)
            ok = not math.isnan(value)
            bounds = []
            if gate.min is not None:
                ok = ok and value >= gate.min
                bounds.append(f">= {gate.min:g}")
            if gate.max is not None:
                ok = ok and value <= gate.max
                bounds.append(f"<= {gate.max:g}")
            out.append(Verdict(name, f"{gate.kpi} ({gate.at})", value, " and ".join(bounds),
                               ok))
            continue
        out.append(_regression(name, gate, result, estimate, gates_dir / gate.baseline,
                               source))
    return out


def _regression(name: str, gate: Gate, result: dict[str, Any], estimate: dict[str, Any],
                path: Path, source: Path) -> Verdict:
    base = _read(path)
    if "values" not in estimate or gate.kpi not in base.get("kpis", {}):
        raise UsageError(f"{path}: a regression rule needs run summaries with the KPI "
                         f"{gate.kpi!r} per replication")
    if base.get("runs") != result.get("runs"):
        raise UsageError(f"{source}: its seeds and replications do not pair with the "
                         f"baseline {path}")
    d = paired_diff(estimate["values"], base["kpis"][gate.kpi]["values"])
    if gate.lower_is_better:
        ok = d.low <= gate.tolerance
        bound = f"paired 95% low of (result - baseline) <= {gate.tolerance:g}"
    else:
        ok = d.high >= -gate.tolerance
        bound = f"paired 95% high of (result - baseline) >= {-gate.tolerance:g}"
    return Verdict(name, f"{gate.kpi} vs baseline", d.mean, f"{bound} (diff "
                   f"{d.mean:+.4g} ± {d.half_width:.4g})", bool(ok))
