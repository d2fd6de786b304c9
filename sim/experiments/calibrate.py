"""Fit a few scenario parameters so that simulated KPIs meet published targets.

Why: some inputs of a plant model are not public (Douai's monthly production plan) while
its outputs are (yearly production by model). A calibration file names the uncertain
parameters, pairs each with the target it mainly drives, gives plausible bounds, and this
module finds the values and writes them as a small scenario that `extends` the base, with a
comment header saying what was fitted, to what, when and how to reproduce it.

How, and why so:

- **Common random numbers.** Every iteration runs the same replications with the same
  seed, so the simulated KPI is a deterministic, nearly smooth function of the parameters;
  differences between iterations are the parameters' effect, not sampling noise.
- **Damped multiplicative fixed point, then secant.** The parameters are multipliers of
  plan quantities, to which counts respond almost proportionally, so
  ``p <- p * (target / simulated) ** damping`` lands close to the answer in one step. Once
  a parameter has two points, a secant step is used when its slope is plausible (positive,
  within a factor 4 of the proportional slope ``simulated / p``); otherwise (noise, a
  saturated line) the multiplicative step. Parameters whose target is met stay put, so a
  parameter coupled to the others (shared capacity) is corrected only when needed.
- **Bounds mean plausibility.** A step beyond a bound is clamped and simulated once; if
  the target is still out of reach from the bound, calibration fails (exit 1): the model
  cannot meet the target with a plausible input, which is a finding, not a tuning problem.
- **What is simulated is what is written.** Values are rounded to 4 decimals before each
  evaluation, so the file reproduces exactly the last simulated values.

Targets not paired with a parameter, and ``checks`` (``{kpi, min, max, note}`` or free
text), are reported at the final point but do not decide convergence. The file format is
in `sim.spec.calibration`.
"""

from __future__ import annotations

import datetime
import difflib
import os
import shlex
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.analysis.kpi import run_kpis
from sim.analysis.numbers import format_number
from sim.analysis.stats import Estimate, summarise
from sim.errors import ScenarioError
from sim.experiments.replications import run_replications
from sim.spec.calibration import (
    DECIMALS,
    CalibrationSpec,
    Check,
    Parameter,
    load_spec,
    lookup,
)
from sim.spec.loader import load_dict, load_scenario

DEFAULT_VALUE = 1.0  # a multiplier the base leaves unset


@dataclass(frozen=True)
class Iteration:
    """One evaluation: parameter values (by path) and KPI estimates (by name)."""

    index: int
    values: dict[str, float]
    estimates: dict[str, Estimate]

    def error(self, kpi: str, target: float) -> float:
        """Relative error (simulated - target) / target."""
        return (self.estimates[kpi].mean - target) / target


@dataclass(frozen=True)
class CalibrationResult:
    """Iterations and outcome of a calibration (``ok`` only when converged)."""

    spec: CalibrationSpec
    spec_path: Path
    base_path: Path
    output_path: Path
    replications: int
    seed: int
    iterations: tuple[Iteration, ...]
    status: str  # converged | bound | max_iterations | stalled
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "converged"

    @property
    def final(self) -> Iteration:
        return self.iterations[-1]


def _rounded(x: float) -> float:
    return round(float(x), DECIMALS)


def _bounds(p: Parameter) -> tuple[float, float]:
    """The bounds at the resolution of the values (so a clamped value equals its bound)."""
    return _rounded(p.bounds[0]), _rounded(p.bounds[1])


def _initial(spec: CalibrationSpec, file: str, base: Path) -> dict[str, float]:
    """Starting values: `initial`, else the base's value, else 1 (an unset multiplier)."""

    data = load_dict(base)
    values = {}
    for i, p in enumerate(spec.parameters):
        value = p.initial if p.initial is not None else lookup(data, p.path)[1]
        if value is None:
            value = DEFAULT_VALUE
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(file, f"parameters.{i}.path",
                                f"{p.path!r} is not a number in {base} (got {value!r})")
        low, high = _bounds(p)
        values[p.path] = min(max(_rounded(value), low), high)
    return values


def _scenario(base: Path, values: dict[str, float]) -> Any:

    return load_scenario(base, [f"{path}={v!r}" for path, v in values.items()])


def _check_paths(spec: CalibrationSpec, file: str, base: Path, values: dict[str, float]) -> None:
    """Each parameter path must be a field the base scenario accepts."""

    load_scenario(base)
    for i, p in enumerate(spec.parameters):
        try:
            _scenario(base, {p.path: values[p.path]})
        except ScenarioError as err:
            raise ScenarioError(file, f"parameters.{i}.path",
                                f"{p.path!r} is not a settable field of {base}: "
                                f"{err.path}: {err.message}") from None


def _check_kpis(spec: CalibrationSpec, file: str, estimates: dict[str, Estimate]) -> None:
    for name in spec.targets:
        if name not in estimates:
            close = difflib.get_close_matches(name, list(estimates), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ScenarioError(file, f"targets.{name}", f"unknown KPI {name!r}{hint}")


def propose(history: list[tuple[float, float]], target: float, damping: float) -> float:
    """Next value from (value, simulated) points: secant if plausible, else multiplicative."""
    p, s = history[-1]
    if s <= 0:
        return 2.0 * p
    step = p * (target / s) ** damping
    if len(history) >= 2:
        p0, s0 = history[-2]
        if p != p0:
            slope = (s - s0) / (p - p0)
            if 0.25 <= slope / (s / p) <= 4.0:
                return p + damping * (target - s) / slope
    return step


def calibrate(
    spec_path: str | Path,
    workers: int | None = None,
    progress: bool | None = False,
    replications: int | None = None,
    report: Callable[[Iteration], None] | None = None,
) -> CalibrationResult:
    """Run the calibration described by `spec_path` (nothing is written).

    `replications` overrides the file's; `report` is called after each iteration;
    `progress` as in `run_replications` (True: a bar per iteration, None: on a terminal).
    """

    spec_path = Path(spec_path)
    spec, file = load_spec(spec_path), str(spec_path)
    base = spec_path.parent / spec.scenario
    if not base.is_file():
        raise ScenarioError(file, "scenario", f"file not found: {base}")
    n = replications or spec.replications
    seed = spec.seed if spec.seed is not None else load_scenario(base).run.seed
    values = _initial(spec, file, base)
    _check_paths(spec, file, base, values)
    history: dict[str, list[tuple[float, float]]] = {p.path: [] for p in spec.parameters}
    iterations: list[Iteration] = []
    status, message = "max_iterations", ""
    for k in range(1, spec.max_iterations + 1):
        results = run_replications(_scenario(base, values), n, seed, workers, progress)
        estimates = summarise([run_kpis(r) for r in results])
        if k == 1:
            _check_kpis(spec, file, estimates)
        it = Iteration(k, dict(values), estimates)
        iterations.append(it)
        if report is not None:
            report(it)
        status, message, values = _step(spec, it, history, values)
        if status != "continue":
            break
    else:
        status = "max_iterations"
        message = (f"not within {spec.tolerance:.3%} after {spec.max_iterations} iterations; "
                   "raise max_iterations or the tolerance")
    return CalibrationResult(spec, spec_path, base, spec_path.parent / spec.output, n, seed,
                             tuple(iterations), status, message)


def _step(spec: CalibrationSpec, it: Iteration, history: dict[str, list[tuple[float, float]]],
          values: dict[str, float]) -> tuple[str, str, dict[str, float]]:
    """Convergence test and the next values: (status, message, values)."""
    new = dict(values)
    pending = False
    for p in spec.parameters:
        target = spec.targets[p.target].value
        est = it.estimates[p.target]
        history[p.path].append((values[p.path], est.mean))
        if abs(it.error(p.target, target)) <= spec.tolerance:
            continue
        pending = True
        proposal = propose(history[p.path], target, spec.damping)
        low, high = _bounds(p)
        for bound, beyond in ((low, proposal < low), (high, proposal > high)):
            if beyond and values[p.path] == bound:
                side = "lower" if bound == low else "upper"
                return "bound", (
                    f"{p.path} is at its {side} bound {bound:g} and {p.target} is "
                    f"{est.mean:,.1f} against the target {target:,.6g} "
                    f"({it.error(p.target, target):+.2%}): the model cannot meet the target "
                    "with this parameter in its plausible range (check the model or the "
                    "bounds)"), values
        new[p.path] = _rounded(min(max(proposal, low), high))
    if not pending:
        return "converged", f"every fitted target within {spec.tolerance:.3%}", values
    if new == values:
        return "stalled", (f"the next step is below the {DECIMALS}-decimal resolution of the "
                           "parameters; loosen the tolerance or add replications"), values
    return "continue", "", new


def nested(data_keys: dict[tuple[str, ...], float]) -> dict[str, Any]:
    """Nested mapping from key paths to values."""
    out: dict[str, Any] = {}
    for keys, value in data_keys.items():
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return out


def _wrap(text: str, indent: str = "#     ") -> list[str]:
    return textwrap.wrap(" ".join(text.split()), 95, initial_indent=indent,
                         subsequent_indent=indent)


def _estimate(e: Estimate) -> str:
    hw = "n/a" if e.half_width != e.half_width else f"{e.half_width:,.1f}"
    return f"{e.mean:,.1f} ± {hw}"


def header(result: CalibrationResult, command: str) -> list[str]:
    """The comment lines on top of the written file."""
    spec, it = result.spec, result.final
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    how = (f"# How: {result.replications} replications, seed {result.seed} (common random "
           f"numbers), tolerance {spec.tolerance:.3%}, {len(result.iterations)} iteration(s).")
    lines = ["# Calibrated scenario, written by the `calibrate` verb; do not edit by hand.",
             f"# When: {now}. Base: {spec.scenario}. Calibration file: {result.spec_path.name}.",
             how]
    lines += _wrap(f"Note: {spec.note}", "# ") if spec.note else []
    lines.append("# Fitted parameters (value, bounds):")
    for p in spec.parameters:
        lines.append(f"#   {p.path} = {it.values[p.path]:g}  in [{p.bounds[0]:g}, "
                     f"{p.bounds[1]:g}]")
        lines += _wrap(f"why: {p.why}") if p.why else []
    lines.append("# Targets (simulated mean ± 95% half-width, relative error):")
    fitted = {p.target for p in spec.parameters}
    for name, t in spec.targets.items():
        tag = "" if name in fitted else "  (reported, not fitted)"
        lines.append(f"#   {name}: target {t.value:,.6g}, simulated {_estimate(it.estimates[name])}"
                     f" ({it.error(name, t.value):+.3%}){tag}")
        lines += _wrap(f"source: {t.source}") if t.source else []
    checks = check_lines(result)
    lines += ["# Checks (reported, not fitted):"] if checks else []
    for line in checks:
        lines += _wrap(line, "#   ")
    lines.append(f"# Reproduce: {command}")
    return lines


def check_lines(result: CalibrationResult) -> list[str]:
    """One line per check, evaluated at the final point."""
    lines = []
    for name, c in result.spec.checks.items():
        if isinstance(c, str):
            lines.append(f"check {name}: {c}")
            continue
        est = result.final.estimates.get(c.kpi)
        if est is None:
            lines.append(f"check {name}: unknown KPI {c.kpi!r}")
            continue
        ok = (c.min is None or est.mean >= c.min) and (c.max is None or est.mean <= c.max)
        lines.append(f"check {name}: {c.kpi} = {format_number(est.mean)}, expected {_range(c)}: "
                     f"{'ok' if ok else 'OUT OF RANGE'}" + (f" ({c.note})" if c.note else ""))
    return lines


def _range(c: Check) -> str:
    if c.min is not None and c.max is not None:
        return f"in [{c.min:g}, {c.max:g}]"
    if c.min is not None:
        return f">= {c.min:g}"
    return "any value" if c.max is None else f"<= {c.max:g}"


def write_calibrated(result: CalibrationResult, path: str | Path | None = None,
                     command: str | None = None) -> Path:
    """Write the fitted values as a scenario extending the base (atomically); return it."""

    out = Path(path) if path is not None else result.output_path
    command = command or reproduce_command(result)
    data = load_dict(result.base_path)
    fitted = {lookup(data, p.path)[0]: result.final.values[p.path]
              for p in result.spec.parameters}
    base = result.base_path.resolve()
    far = os.path.commonpath([base, out.parent.resolve()]) == base.anchor
    relative = Path(os.path.relpath(base, out.parent.resolve())).as_posix()
    body: dict[str, Any] = {"extends": str(base) if far else relative}
    if result.spec.output_name:
        body["name"] = result.spec.output_name
    body.update(nested(fitted))
    text = "\n".join(header(result, command)) + "\n" + yaml.safe_dump(
        body, sort_keys=False, default_flow_style=False, allow_unicode=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def reproduce_command(result: CalibrationResult) -> str:
    """The command line that reruns this calibration."""
    words = ["python", "run_sim.py", "calibrate", _shown_path(result.spec_path)]
    if result.replications != result.spec.replications:
        words += ["--replications", str(result.replications)]
    return shlex.join(words)


def _shown_path(path: Path) -> str:
    try:
        shown = Path(os.path.relpath(path)).as_posix()
    except ValueError:
        return str(path)
    return str(Path(path).resolve()) if shown.startswith("../") else shown


def format_iteration(it: Iteration, spec: CalibrationSpec) -> str:
    """Rows of the iteration table: one per parameter (iteration number on the first)."""
    rows = []
    for i, p in enumerate(spec.parameters):
        t = spec.targets[p.target].value
        rows.append(f"{it.index if i == 0 else '':>4}  {p.path:<40} {it.values[p.path]:>8.4f}  "
                    f"{p.target:<22} {_estimate(it.estimates[p.target]):>22} "
                    f"{t:>12,.6g} {it.error(p.target, t):>+9.3%}")
    return "\n".join(rows)


TABLE_HEAD = (f"{'iter':>4}  {'parameter':<40} {'value':>8}  {'target KPI':<22} "
              f"{'simulated ± 95%':>22} {'target':>12} {'error':>9}")


def run_command(spec_path: Path, workers: int | None = None, replications: int | None = None,
                dry_run: bool = False) -> int:
    """The `calibrate` verb: print the iteration table, write the file; 0 ok, 1 failed."""
    spec = load_spec(spec_path)
    print(TABLE_HEAD)
    result = calibrate(spec_path, workers=workers, progress=None, replications=replications,
                       report=lambda it: print(format_iteration(it, spec), flush=True))
    for line in check_lines(result):
        print(line)
    if not result.ok:
        print(f"calibration failed ({result.status}): {result.message}", file=sys.stderr)
        return 1
    print(f"converged: {result.message}")
    if dry_run:
        print(f"dry run: {result.output_path} not written")
    else:
        print(f"written: {write_calibrated(result)}")
    return 0
