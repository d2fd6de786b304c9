"""Apply KPI gates to a result folder: frozen verdicts, no simulation.

Why a pure function of files: CI gates a build on results that were computed elsewhere
(a run, a comparison, later a merged sweep), and the verdict must be reproducible from
the files alone. A run folder's `summary.json` holds every KPI's mean, 95% interval and
per-replication values; a comparison folder's `comparison.json` holds one row per KPI
and scenario. A regression rule pairs the result with a baseline summary replication by
replication, which requires the same seeds (refused otherwise).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.catalogue import lower_is_better
from sim.analysis.stats import paired_diff
from sim.errors import ScenarioError, UsageError
from sim.results.stored import ComparisonFile, RunSummary, SweepSummary, checked, read_object
from sim.spec.gates import Gate, GatesFile


@dataclass(frozen=True)
class Verdict:
    """One gate applied: the value compared, the bound, and whether it passed."""

    name: str
    kpi: str
    value: float
    bound: str
    passed: bool


class _Missing(UsageError):
    """A gate names a KPI, scenario, factor or point the result does not have: the gates
    file's fault, reported as `GATES: gates.NAME.FIELD: ...`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _hint(name: object, known: list[str]) -> str:
    """` (did you mean 'x'?)` for a near miss among `known`, else a short list of them."""
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    return f" (it has: {shown})" if known else ""


def _estimate(result: dict[str, Any], gate: Gate, where: Path) -> dict[str, Any]:
    """The KPI's estimate (mean, low, high, values) in a run or comparison record."""
    if "kpis" in result and isinstance(result["kpis"], dict):
        if gate.kpi not in result["kpis"]:
            raise _Missing("kpi", f"no KPI {gate.kpi!r} in {where}"
                           + _hint(gate.kpi, sorted(result["kpis"])))
        return dict(result["kpis"][gate.kpi])
    scenario = gate.scenario or result.get("baseline")
    if scenario not in result.get("scenarios", []):
        raise _Missing("scenario", f"no scenario {scenario!r} in {where}"
                       + _hint(scenario, list(result.get("scenarios", []))))
    rows = [r for r in result.get("kpis", []) if r.get("kpi") == gate.kpi
            and r.get("scenario") == scenario]
    if not rows:
        known = sorted({r["kpi"] for r in result.get("kpis", [])})
        raise _Missing("kpi", f"no KPI {gate.kpi!r} for scenario {scenario!r} in {where}"
                       + _hint(gate.kpi, known))
    row = rows[0]
    half = row.get("half_width") or 0.0
    return {"mean": row["mean"], "low": row["mean"] - half, "high": row["mean"] + half}


def apply_gates(gates: GatesFile, result_dir: Path, gates_file: Path) -> list[Verdict]:
    """Every gate of the file applied to the result folder (run, comparison or sweep); a
    gate naming what the result does not have is a ScenarioError naming the gates file,
    the gate's field and the nearest name the result has."""
    out = []
    for name, gate in gates.gates.items():
        try:
            out.append(_apply(name, gate, result_dir, gates_file.parent))
        except _Missing as missing:
            raise ScenarioError(str(gates_file), f"gates.{name}.{missing.field}",
                                str(missing)) from None
    return out


def _apply(name: str, gate: Gate, result_dir: Path, gates_dir: Path) -> Verdict:
    """One gate applied to the result folder."""
    summary, comparison = result_dir / "summary.json", result_dir / "comparison.json"
    source = summary if summary.is_file() else comparison
    if not source.is_file():
        raise UsageError(f"{result_dir}: not a results folder (no summary.json or "
                         "comparison.json)")
    result = read_result(source)
    if "points" in result:
        return _sweep(name, gate, result, source, gates_dir)
    estimate = _estimate(result, gate, source)
    if gate.baseline is None:
        value = estimate[gate.at]
        value = math.nan if value is None else float(value)
        ok, bound = _absolute(value, gate)
        return Verdict(name, f"{gate.kpi} ({gate.at})", value, bound, ok)
    return _regression(name, gate, result, estimate, gates_dir / gate.baseline, source)


def read_result(path: Path) -> dict[str, Any]:
    """A stored result, its shape checked: a run's or a sweep's summary.json, or a
    comparison.json (UsageError naming the file and field when damaged)."""
    data = read_object(path)
    if path.name == "comparison.json":
        return checked(ComparisonFile, data, path)
    return checked(SweepSummary if "points" in data else RunSummary, data, path)


def _absolute(value: float, gate: Gate) -> tuple[bool, str]:
    """(passed, bound text) of an absolute rule."""
    ok = not math.isnan(value)
    bounds = []
    if gate.min is not None:
        ok = ok and value >= gate.min
        bounds.append(f">= {gate.min:g}")
    if gate.max is not None:
        ok = ok and value <= gate.max
        bounds.append(f"<= {gate.max:g}")
    return ok, " and ".join(bounds)


def _label(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point["labels"].items())


def _points(result: dict[str, Any], gate: Gate, where: Path) -> list[dict[str, Any]]:
    """The sweep points a rule reads: the selected one, or all."""
    if gate.point is None:
        return list(result["points"])
    wanted = {k: str(v) for k, v in gate.point.items()}
    unknown = sorted(set(wanted) - set(result.get("factors", [])))
    if unknown:
        raise _Missing("point", f"no factor {unknown[0]!r} in the sweep {where}"
                       + _hint(unknown[0], list(result.get("factors", []))))
    found = [p for p in result["points"]
             if all(str(p["labels"].get(k)) == v for k, v in wanted.items())]
    if not found:
        levels = {k: list(dict.fromkeys(str(p["labels"].get(k)) for p in result["points"]))
                  for k in wanted}
        factor = next((k for k, v in wanted.items() if v not in levels[k]), next(iter(wanted)))
        raise _Missing("point", f"no point with {wanted} in {where}"
                       + _hint(wanted[factor], levels[factor]))
    return found


def _sweep(name: str, gate: Gate, result: dict[str, Any], source: Path,
           gates_dir: Path) -> Verdict:
    """A rule on a sweep: every selected point must pass; the verdict shows the worst."""
    points = _points(result, gate, source)
    for p in points:
        if gate.kpi not in p["kpis"]:
            raise _Missing("kpi", f"no KPI {gate.kpi!r} in the sweep {source}"
                           + _hint(gate.kpi, sorted(p["kpis"])))
    if gate.baseline is None:
        rows = []
        for p in points:
            v = p["kpis"][gate.kpi][gate.at]
            value = math.nan if v is None else float(v)
            ok, bound = _absolute(value, gate)
            rows.append((ok, -value if gate.min is not None else value, value, bound, p))
        ok_all = all(r[0] for r in rows)
        worst = max(rows, key=lambda r: (not r[0], np.nan_to_num(r[1], nan=np.inf)))
        scope = f"point {_label(worst[4])}" + (f" (worst of {len(points)})"
                                                 if len(points) > 1 else "")
        return Verdict(name, f"{gate.kpi} ({gate.at}) at {scope}",
                       worst[2], worst[3], ok_all)
    base = read_result(gates_dir / gate.baseline)
    if "points" not in base:
        raise UsageError(f"{gates_dir / gate.baseline}: a sweep's regression baseline must "
                         "be a sweep summary.json")
    verdicts: list[tuple[bool, Any, dict[str, Any]]] = []
    for p in points:
        match = [b for b in base["points"] if b["labels"] == p["labels"]]
        if not match or gate.kpi not in match[0]["kpis"]:
            raise UsageError(f"{gates_dir / gate.baseline}: no point {_label(p)} with KPI "
                             f"{gate.kpi!r}")
        if match[0]["seed"] != p["seed"]:
            raise UsageError(f"{source}: point {_label(p)} has other seeds than the baseline")
        pairs = [(a, b) for a, b in zip(p["kpis"][gate.kpi]["values"],
                                        match[0]["kpis"][gate.kpi]["values"])
                 if a is not None and b is not None]
        d = paired_diff([a for a, _ in pairs], [b for _, b in pairs])
        ok = d.low <= gate.tolerance if _lower(gate) else d.high >= -gate.tolerance
        verdicts.append((bool(ok), d, p))
    judged = min(verdicts, key=lambda v: (v[0], v[1].mean * (-1 if _lower(gate)
                                                             else 1)))
    d = judged[1]
    side = "low" if _lower(gate) else "high"
    limit = gate.tolerance if _lower(gate) else -gate.tolerance
    scope = f"point {_label(judged[2])}" + (f" (worst of {len(points)})"
                                           if len(points) > 1 else "")
    return Verdict(name, f"{gate.kpi} vs baseline at {scope}", d.mean, f"paired 95% {side} of (result - baseline) "
                   f"{'<=' if _lower(gate) else '>='} {limit:g} (diff {d.mean:+.4g} "
                   f"± {d.half_width:.4g})", all(v[0] for v in verdicts))


def _regression(name: str, gate: Gate, result: dict[str, Any], estimate: dict[str, Any],
                path: Path, source: Path) -> Verdict:
    base = read_result(path)
    if "values" not in estimate or gate.kpi not in base.get("kpis", {}):
        raise UsageError(f"{path}: a regression rule needs run summaries with the KPI "
                         f"{gate.kpi!r} per replication")
    if base.get("runs") != result.get("runs"):
        raise UsageError(f"{source}: its seeds and replications do not pair with the "
                         f"baseline {path}")
    d = paired_diff(estimate["values"], base["kpis"][gate.kpi]["values"])
    if _lower(gate):
        ok = d.low <= gate.tolerance
        bound = f"paired 95% low of (result - baseline) <= {gate.tolerance:g}"
    else:
        ok = d.high >= -gate.tolerance
        bound = f"paired 95% high of (result - baseline) >= {-gate.tolerance:g}"
    return Verdict(name, f"{gate.kpi} vs baseline", d.mean, f"{bound} (diff "
                   f"{d.mean:+.4g} ± {d.half_width:.4g})", bool(ok))


def _lower(gate: Gate) -> bool:
    """Whether the rule's KPI is better lower: as the gate says, else the KPI catalogue's
    direction (lead times, backlogs, stalls are better lower)."""
    return gate.lower_is_better if gate.lower_is_better is not None else lower_is_better(gate.kpi)
