"""A run's results folder, ``results/<name>/``: tables, summary, figures and report.html.

A results folder is evidence: it must say exactly what was run (resolved scenario,
manifest with hashes, seeds and versions); it is written through `sim.results.folder`
(all or nothing). The columns of every table are documented in one dict (``FILES``, in
``sim.report.run_files``) that also orders the CSV headers and generates ``README.txt``,
so the documentation cannot drift from the files. CSVs are formatted column-wise (a single
``%`` over each chunk), fast enough for a year of completions over many replications.
"""

from __future__ import annotations

import functools
import itertools
import math
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import kpi
from sim.analysis.stats import LEVEL, summarise
from sim.engine.records import RunResult
from sim.report.drawing import Drawing
from sim.report.excel import write_workbook
from sim.report.parquet import write_completions, write_trace
from sim.report.run_files import (
    BOTTLENECK_TABLES,
    DEMAND_TABLES,
    EXCEL,
    FILES,
    PLAN_PLOTS,
    VEHICLES_CSV,
)
from sim.results.folder import ResultsWriter, prepare_dir, write_json, write_yaml
from sim.results.manifest import complete_manifest
from sim.spec.clock import when

# Decimals written for float columns (exact integer arithmetic, no float repr noise).
DECIMALS: dict[str, int] = {
    "t_release_s": 3, "t_done_s": 3, "lead_time_h": 4, "seconds": 3, "fraction": 6,
    "mean_level": 6, "t_s": 3, "observed_s": 3, "sole_s": 3, "shifting_s": 3, "sole": 6,
    "shifting": 6,
}


CHUNK_ROWS = 200_000


def write_results(out_dir: Path, results: list[RunResult], resolved: dict, manifest: dict,
                  plots: bool = True, *, overwrite: bool = False,
                  vehicles: str = "parquet", source_text: str | None = None,
                  excel: bool = False) -> Path:
    """Write every file of FILES for these replications; returns the folder written.

    ``out_dir`` is the wished-for folder (``results/<name>``); see ``prepare_dir``.
    ``source_text`` is the scenario file's text as loaded, shown in report.html (the file
    itself is never read again: it may have changed since).
    """
    if not results:
        raise ValueError("write_results needs at least one replication")
    out_dir = Path(out_dir)
    writer = ResultsWriter(prepare_dir(out_dir.parent, out_dir.name, overwrite), overwrite)
    with writer as tmp:
        drawing = Drawing(_figure_jobs(tmp, results, resolved) if plots else [])
        drawing.start()  # a forked child draws a share of the figures meanwhile
        try:
            write_yaml(tmp / "scenario.resolved.yaml", resolved)
            write_json(tmp / "manifest.json", complete_manifest(manifest, results))
            summary = summary_dict(results)
            write_json(tmp / "summary.json", summary)
            write_tables(tmp, results, vehicles)
            if excel:

                write_workbook(tmp / "results.xlsx", results, summary["kpis"])
            (tmp / "README.txt").write_text(readme_text(), encoding="utf-8")
            drawing.finish()
        finally:
            drawing.stop()
        _write_page(tmp, source_text)
    assert writer.final is not None
    return writer.final


def _figure_jobs(folder: Path, results: list[RunResult], resolved: dict) -> list:
    """One call per figure of the run (matplotlib is imported only when drawing)."""
    from sim.report import (  # lazy: matplotlib (0.7 s), only when figures are drawn
        plots,
        plots_plan,
    )

    jobs: list = plots.plot_jobs(folder, results)
    if plots_plan.has_plan(resolved):
        jobs += plots_plan.plan_jobs(folder, results, resolved.get("meta"))
    if results[0].demand:
        from sim.report import plots_demand  # lazy: matplotlib (0.7 s), only when figures are drawn

        jobs.append(functools.partial(plots_demand.plot_demand, results,
                                      folder / "demand_by_period.png"))
    return jobs


def _write_page(folder: Path, text: str | None) -> None:
    """report.html, from what the folder holds, with the text of the scenario file run."""
    from sim.report.html import run_page  # lazy: jinja2, only when report.html is written

    captions = {name: what for name, (what, _) in {**FILES, **DEMAND_TABLES,
                                                   **PLAN_PLOTS}.items()}
    (folder / "report.html").write_text(run_page(folder, text, captions), encoding="utf-8")


VEHICLES = ("parquet", "csv", "none")


def write_tables(folder: Path, results: list[RunResult], vehicles: str = "parquet") -> None:
    """All tables; traces only for replication 0 and only when a buffer is traced."""
    if vehicles not in VEHICLES:
        raise ValueError(f"vehicles must be one of {VEHICLES} (got {vehicles!r})")
    builders = {"daily.csv": kpi.daily_table, "stations.csv": kpi.station_table,
                "buffers.csv": kpi.buffer_table}
    for name, build in builders.items():
        write_csv(folder / name, list(FILES[name][1]),
                  (_with_replication(build(r), r.replication) for r in results))
    if vehicles == "csv":
        write_csv(folder / "completions.csv", list(VEHICLES_CSV["completions.csv"][1]),
                  (_with_replication(kpi.completions_table(r), r.replication)
                   for r in results))
    elif vehicles == "parquet":

        write_completions(folder / "completions.parquet", results)
    if results[0].bottleneck is not None:
        write_csv(folder / "bottleneck.csv", list(BOTTLENECK_TABLES["bottleneck.csv"][1]),
                  (_with_replication(kpi.bottleneck_table(r), r.replication) for r in results))
    if results[0].demand:
        write_csv(folder / "demand.csv", list(DEMAND_TABLES["demand.csv"][1]),
                  (_with_replication(kpi.demand_table(r), r.replication) for r in results))
    trace = kpi.trace_table(results[0])
    if len(trace["t_s"]):

        write_trace(folder / "buffer_trace.parquet", trace, results[0].replication)


def _with_replication(table: kpi.Table, replication: int) -> kpi.Table:
    n = len(next(iter(table.values()))) if table else 0
    return {"replication": np.full(n, replication, dtype=np.int64), **table}


def write_csv(path: Path, columns: list[str], chunks: Iterable[kpi.Table]) -> None:
    """CSV with the given columns (header first) from tables of numpy columns."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(columns) + "\n")
        for table in chunks:
            missing = set(columns) - set(table)
            if missing:
                raise KeyError(f"{path.name}: table lacks columns {sorted(missing)}")
            n = len(table[columns[0]])
            for lo in range(0, n, CHUNK_ROWS):
                part = {c: table[c][lo:lo + CHUNK_ROWS] for c in columns}
                fh.write(_format_rows(part, columns))


def _format_rows(table: kpi.Table, columns: list[str]) -> str:
    """Rows of a chunk as CSV text, one `%` operation over the whole chunk."""
    n = len(table[columns[0]])
    if n == 0:
        return ""
    fmts: list[str] = []
    values: list[list[Any]] = []
    for c in columns:
        fmt, vals = _column(np.asarray(table[c]), DECIMALS.get(c))
        fmts.append(fmt)
        values.extend(vals)
    row = ",".join(fmts) + "\n"
    return (row * n) % tuple(itertools.chain.from_iterable(zip(*values)))


def _column(col: np.ndarray, decimals: int | None) -> tuple[str, list[list[Any]]]:
    """The printf format of one column and its value lists (one per placeholder).

    A constant column becomes a literal in the row template; categorical columns (strings,
    dates) print their few distinct labels; fixed-decimal floats print as an integer part
    and a looked-up fraction (much faster than float formatting).
    """
    kind = col.dtype.kind
    if len(col) > 1 and kind != "f" and bool((col == col[0]).all()):
        fmt, one = _column(col[:1], decimals)
        return (fmt % tuple(v[0] for v in one)).replace("%", "%%"), []
    if kind in "iub":
        return "%d", [col.astype(np.int64).tolist()]
    if kind == "f" and decimals is not None and decimals <= 4 and _fixed_ok(col, decimals):
        whole, frac = np.divmod(np.rint(col * 10.0**decimals).astype(np.int64), 10**decimals)
        return "%d%s", [whole.tolist(), _fractions(decimals)[frac].tolist()]
    if kind == "f":
        fmt = "%s" if decimals is None else f"%.{decimals}f"
        values: list[Any] = ([_num(x) for x in col.tolist()] if decimals is None
                             else col.tolist())
        return fmt, [values]
    if kind == "M":
        uniq, inv = np.unique(col, return_inverse=True)
        labels: list[Any] = np.array(uniq.astype(str).tolist(), dtype=object)[inv].tolist()
        return "%s", [labels]
    vals: list[str] = col.astype(str).tolist()
    if _needs_quotes("\x00".join(vals)):
        vals = [_quote(v) for v in vals]
    return "%s", [list(vals)]


def _fractions(decimals: int) -> np.ndarray:
    """'.000', '.001', ... as an object array indexed by the fractional digits."""
    return np.array([f".{i:0{decimals}d}" for i in range(10**decimals)], dtype=object)


def _fixed_ok(col: np.ndarray, decimals: int) -> bool:
    """True when every value is finite, >= 0 and fits int64 once scaled."""
    if not len(col):
        return True
    return (bool(np.isfinite(col).all()) and float(col.min()) >= 0.0
            and float(col.max()) * 10.0**decimals < 2.0**62)


def _num(x: float) -> str:
    """A float for CSV/README: integral values without '.0', inf/nan spelled out."""
    if math.isfinite(x) and x == int(x) and abs(x) < 2**53:
        return str(int(x))
    return repr(x)


def _needs_quotes(text: str) -> bool:
    return any(ch in text for ch in ',"\n\r')


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if _needs_quotes(text) else text


def summary_dict(results: list[RunResult]) -> dict[str, Any]:
    """Per-KPI estimate across replications plus the per-replication values."""
    per_run = [kpi.run_kpis(r) for r in results]
    estimates = summarise(per_run)
    r0 = results[0]
    return {
        "scenario": r0.scenario,
        "replications": len(results),
        "runs": [{"replication": r.replication, "seed": r.seed} for r in results],
        "window": {"start": r0.start.isoformat(), "warmup_s": r0.warmup,
                   "horizon_s": r0.horizon},
        "interval": f"{LEVEL:.0%} Student t, n - 1 degrees of freedom",
        "lockups": [{"replication": r.replication,
                     "last_completion": when(r.start, r.lockup.t_last),
                     "on_shift_hours_without_output": r.lockup.hours, "wip": r.lockup.wip,
                     "stuck": list(r.lockup.stuck)} for r in results if r.lockup],
        "stalls": [{"replication": r.replication, "from": when(r.start, s.t_from),
                    "to": when(r.start, s.t_to), "on_shift_hours": s.hours}
                   for r in results for s in r.stalls],
        "kpis": {  # "values" follow the order of "runs"
            name: {**e.as_dict(), "values": [run.get(name) for run in per_run]}
            for name, e in estimates.items()
        },
    }


def readme_text() -> str:
    """README.txt: every file and column from FILES, then the KPI definitions of sim.analysis.kpi."""
    intro = ("Results folder written by douai-sim (python run_sim.py run ...). Times are "
             "seconds from the run start date at 00:00 unless a column says otherwise; dates "
             "are calendar days (YYYY-MM-DD).")
    lines = [*textwrap.wrap(intro, 92, break_on_hyphens=False), ""]
    for name, (what, columns) in {**FILES, **VEHICLES_CSV, **BOTTLENECK_TABLES, **DEMAND_TABLES,
                                  **PLAN_PLOTS, **EXCEL}.items():
        lines.append(name)
        lines.extend(textwrap.wrap(what, 92, initial_indent="    ", subsequent_indent="    ",
                                   break_on_hyphens=False))
        width = max((len(c) for c in columns), default=0)
        lines.extend(f"    {c.ljust(width)}  {doc}" for c, doc in columns.items())
        lines.append("")
    lines.append("summary.json: KPI definitions (from sim/analysis/kpi.py; nan is written as null)")
    definitions = "Definitions" + (kpi.__doc__ or "").partition("Definitions")[2]
    lines.extend("    " + ln if ln.strip() else "" for ln in definitions.splitlines())
    return "\n".join(lines).rstrip() + "\n"

