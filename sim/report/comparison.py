"""A comparison as people read it: the printed table and the comparison folder.

Why separate from `sim.experiments.compare`: that module computes frozen records; this one
only renders them (text for the terminal, CSV and JSON for the folder), so a plot or an
HTML page can be added later from the same records without recomputing anything. The
folder has the guarantees of a run's folder (`sim.results.folder`): a new name, never a
half-written or overwritten one, and a manifest saying what produced it.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.analysis.catalogue import is_headline
from sim.analysis.numbers import format_number, format_signed
from sim.experiments.compare import Comparison, KpiRow, PeriodRow
from sim.report.html import comparison_page
from sim.results.folder import ResultsWriter, prepare_dir, write_json
from sim.results.manifest import complete_manifest

FILES = {
    "compare_*.png": "figures: monthly output, cumulative output, difference over time, "
                     "daily output, station states (sim/report/comparison_plots.py)",
    "comparison.csv": "one row per KPI and scenario: mean and 95% half-width, difference to "
                      "the baseline with its paired 95% half-width, the unpaired (Welch) "
                      "half-width it would have without common random numbers, the relative "
                      "difference, the paired t test p-value, whether the KPI is in the "
                      "tested family, its Holm-adjusted p-value within that family and "
                      "whether it is significant (the family and correction are named in "
                      "comparison.json)",
    "periods.csv": "good completions per calendar month and ISO week: each scenario's mean "
                   "and its difference to the baseline with paired and unpaired half-widths",
    "comparison.json": "the same records, the baseline, the replications and the correction",
    "report.html": "one page: the headline table, the figures and the provenance",
    "manifest.json": "what was compared: inputs (scenario files with SHA-256 or results "
                     "folders), seeds, versions, git revision, command",
}


def format_comparison(c: Comparison, every_kpi: bool = False, weeks: int = 8) -> str:
    """The printed table: headline KPIs (each alternative under the baseline, KPIs that
    are 0 everywhere left out), then the largest weekly differences whose paired interval
    excludes 0."""
    rows = [("KPI", "scenario", "mean ± 95%", "diff ± paired 95%", "relative",
             "unpaired ±", "p (Holm)", "signif.")]
    by_kpi: dict[str, list[KpiRow]] = {}
    for r in c.kpis:
        by_kpi.setdefault(r.kpi, []).append(r)
    shown = [r for group in by_kpi.values() if (every_kpi or is_headline(group[0].kpi)
                                                or group[0].tested)
             and not all(x.mean == 0 and not x.half_width for x in group) for r in group]
    for r in shown:
        if r.scenario == c.baseline:
            rows.append((r.kpi, r.scenario, f"{format_number(r.mean)} ± {format_number(r.half_width)}", "baseline",
                         "", "", "", ""))
            continue
        rows.append((r.kpi, r.scenario, f"{format_number(r.mean)} ± {format_number(r.half_width)}",
                     f"{format_signed(r.diff)} ± {format_number(r.diff_half_width)}", _pct(r.relative),
                     f"± {format_number(r.unpaired_half_width)}", _p(r.p_adjusted) if r.tested else "",
                     ("yes" if r.significant else "no") if r.tested else "not tested"))
    lines = _aligned(rows)
    lines.append(f"{c.replications} paired replications; significance: {c.correction}.")
    for name, (station, share) in c.bottlenecks().items():
        lines.append(f"bottleneck of {name}: {station} ({100 * share:.1f}%: "
                     f"{c.bottleneck_measure()})")
    moved = sorted((p for p in c.periods if p.period == "week" and p.scenario != c.baseline
                    and abs(p.diff) > p.diff_half_width),
                   key=lambda p: -abs(p.diff))[:weeks]
    if moved:
        lines += ["", ("weeks whose output differs (paired 95% interval excludes 0; all "
                       "weeks and months in periods.csv):")]
        lines += _aligned([("week", "from", "scenario", "diff ± paired 95%", "unpaired ±")] + [
            (p.label, p.first_day.isoformat(), p.scenario,
             f"{format_signed(p.diff)} ± {format_number(p.diff_half_width)}", f"± {format_number(p.unpaired_half_width)}")
            for p in sorted(moved, key=lambda p: (p.first_day, p.scenario))])
    return "\n".join(lines)


def _aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def write_comparison(out_dir: Path, c: Comparison, manifest: dict[str, Any],
                     plots: bool = True) -> Path:
    """Write the comparison folder all or nothing; returns the folder written."""
    writer = ResultsWriter(prepare_dir(out_dir.parent, out_dir.name))
    with writer as tmp:
        _csv(tmp / "comparison.csv", c.kpis)
        _csv(tmp / "periods.csv", c.periods)
        write_json(tmp / "comparison.json", {
            "baseline": c.baseline, "scenarios": list(c.scenarios),
            "replications": c.replications, "correction": c.correction,
            "interval": "95% Student t; differences paired by replication (common random "
                        "numbers)",
            "files": FILES,
            "bottlenecks": {k: {"station": s, "share": w, "measure": c.bottleneck_measure()}
                            for k, (s, w) in c.bottlenecks().items()},
            "kpis": [_plain(r) for r in c.kpis], "periods": [_plain(r) for r in c.periods]})
        write_json(tmp / "manifest.json", complete_manifest(manifest, []))
        captions = dict(FILES)
        if plots:
            from sim.report.comparison_plots import (  # lazy: matplotlib (0.7 s), for figures only
                FIGURES,
                write_comparison_plots,
            )

            write_comparison_plots(tmp, c)
            captions.update(FIGURES)
        (tmp / "report.html").write_text(
            comparison_page(tmp, format_comparison(c), captions), encoding="utf-8")
    assert writer.final is not None
    return writer.final


def _plain(row: KpiRow | PeriodRow) -> dict[str, Any]:
    out = dataclasses.asdict(row)
    for k, v in out.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None
        elif not isinstance(v, (int, float, str, bool)) and v is not None:
            out[k] = str(v)
    return out


def _csv(path: Path, rows: tuple[KpiRow, ...] | tuple[PeriodRow, ...]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        fields = [fld.name for fld in dataclasses.fields(rows[0])] if rows else []
        out.writerow(fields)
        for row in rows:
            out.writerow(["" if v is None else v for v in _plain(row).values()])


def _p(x: float) -> str:
    """A p-value: three decimals, or '< 0.001'."""
    if math.isnan(x):
        return "n/a"
    return "< 0.001" if x < 0.001 else f"{x:.3f}"


def _pct(x: float) -> str:
    return "" if math.isnan(x) else f"{100 * x:+.2f}%"
