"""One self-contained HTML page per results folder, leading with the answers.

Why: a folder of CSVs and PNGs is complete but not readable at a glance, and a planner
opens the page to learn a few things first: how many vehicles, per model, against which
target or published figure, the milestone dates, the rate of the month that matters, the
orders not built. So each page opens with those answers (units, targets and how far off
they are), then a table of contents, then the figures in the order of the questions they
answer (output by month, demand against what was built, cumulative against the target,
then stations and buffers), then every KPI, the scenario file, the files and the
provenance. The page opens from the file system: no server, no script, no external
style; it only renders what the folder already holds. Pages are Jinja2 templates
(`sim/report/templates/`), autoescaped.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sim.analysis.bottleneck import kpi_shares, rank
from sim.analysis.catalogue import in_summary, is_headline, kind_of, kpi_unit
from sim.analysis.numbers import format_number, mean_pm
from sim.results.stored import (
    ComparisonFile,
    RunSummary,
    SweepSummary,
    read_checked,
    read_object,
)
from sim.spec.clock import date_after, moment_at
from sim.spec.loader import read_yaml
from sim.spec.targets import Target, parse_targets

# (figure file, the question it answers), in the order a planner asks them.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("production_by_month.png", "How much did we build, month by month and model?"),
    ("compare_monthly.png", "How much does each option build, month by month?"),
    ("demand_by_period.png", "Did we build what was ordered?"),
    ("cumulative_vs_target.png", "Are we on track for the target and the order book?"),
    ("cumulative.png", "Are we on track through the year?"),
    ("compare_cumulative.png", "Which option is ahead through the year?"),
    ("compare_difference.png", "When does the difference arise, and is it beyond noise?"),
    ("throughput.png", "What does a working day build?"),
    ("compare_daily.png", "What does a working day build in each option?"),
    ("daily_by_shift.png", "What does each shift build?"),
    ("compare_shifts.png", "What does each shift build in each option?"),
    ("station_states.png", "How do the stations spend their time?"),
    ("compare_stations.png", "Where is the bottleneck in each option?"),
    ("group_utilisation.png", "How busy is each shop?"),
    ("buffers.png", "Which buffers fill up or run empty?"),
    ("buffer_levels.png", "How full are the buffers over time?"),
    ("lead_time.png", "How long does a vehicle take?"),
    ("main_effects.png", "What does each factor do to the output?"),
    ("heatmap.png", "How do the two strongest factors combine?"),
    ("factor_ranking.png", "Which factor matters most?"),
)


@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("sim.report", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


def _pm(e: dict[str, Any]) -> str:
    """`mean ± half-width` to the interval's precision (`sim.analysis.numbers.mean_pm`)."""
    mean, half = e.get("mean"), e.get("half_width")
    finite = isinstance(mean, (int, float)) and math.isfinite(mean)
    return mean_pm({"mean": mean if finite else math.nan,
                    "half_width": half if isinstance(half, (int, float)) else math.nan})


def _figures(folder: Path, captions: dict[str, str]) -> list[dict[str, str]]:
    """Every PNG of the folder: those answering a listed question first, in its order."""
    order = {name: i for i, (name, _) in enumerate(QUESTIONS)}
    asked = dict(QUESTIONS)
    pngs = sorted(folder.glob("*.png"), key=lambda p: (order.get(p.name, len(order)), p.name))
    return [{"name": p.name, "stem": p.stem, "question": asked.get(p.name, ""),
             "caption": captions.get(p.name, "")} for p in pngs]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()
                  if p.suffix in (".csv", ".json", ".yaml", ".txt", ".parquet", ".md", ".xlsx"))


def _provenance(manifest: dict[str, Any]) -> dict[str, Any]:
    files = [(f.get("path") or f.get("file"), f.get("sha256", "")) for f in
             manifest.get("files") or (manifest.get("inputs") or {}).get("files") or []]
    facts = [("command", " ".join(manifest.get("argv") or [])),
             ("seeds", ", ".join(f"{s['replication']}:{s['seed']}"
                                 for s in manifest.get("seeds") or [])),
             ("git", manifest.get("git")), ("written", manifest.get("written")),
             ("versions", ", ".join(f"{k} {v}" for k, v in
                                    (manifest.get("versions") or {}).items()))]
    return {"files": files, "facts": [(k, v) for k, v in facts if v]}


def _contents(answers: bool, extra: list[tuple[str, str]], figures: list[Any]
              ) -> list[tuple[str, str]]:
    out = [("answers", "The answers")] if answers else []
    out += extra
    if figures:
        out.append(("figures", "Figures"))
        out += [(f"fig-{f['stem']}", f["question"] or f["name"]) for f in figures]
    return [*out, ("files", "Tables and files"), ("provenance", "Provenance")]


def _render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def _answers(summary: dict[str, Any], targets: dict[str, Target], start: dt.date
             ) -> list[dict[str, str]]:
    rows = []
    for kpi, e in summary["kpis"].items():
        label = kind_of(kpi).label(kpi)
        zero = e["mean"] == 0 and not e.get("half_width") and kpi not in targets
        if label is None or (zero and kpi.startswith(("completed.", "demand.backlog_end."))):
            continue  # a product that builds nothing, or owes nothing, is not an answer
        value, unit = _pm(e), kpi_unit(kpi)
        if kpi.startswith("milestone.") and e["mean"] is not None and math.isfinite(e["mean"]):
            value = date_after(start, e["mean"]).isoformat()
            if e.get("low") is not None and e.get("high") is not None and math.isfinite(
                    e["low"]):
                value += (f" ({date_after(start, e['low'])} .. "
                          f"{date_after(start, e['high'])})")
            unit = "date (95% interval)"
        target, versus, verdict = "", "", ""
        if kpi in targets and e["mean"] is not None and math.isfinite(e["mean"]):
            goal = targets[kpi].value
            target = format_number(goal)
            versus = f"{e['mean'] / goal - 1:+.2%}" if goal else ""
            low, high = e.get("low"), e.get("high")
            inside = low is not None and high is not None and low <= goal <= high
            verdict = "ok" if inside or e["mean"] == goal else "off"
        rows.append({"label": label, "value": value, "unit": unit, "target": target,
                     "versus": versus, "verdict": verdict, "kpi": kpi})
    order = ("vehicles built", "built:", "date of", "orders not", "vehicles per")
    return sorted(rows, key=lambda r: next((i for i, p in enumerate(order)
                                            if r["label"].startswith(p)), len(order)))


def run_page(folder: Path, source_text: str | None, captions: dict[str, str]) -> str:
    """The page of a run's folder (summary.json, manifest.json, figures already written)."""
    summary = read_checked(RunSummary, folder / "summary.json")
    manifest = read_object(folder / "manifest.json")
    resolved = folder / "scenario.resolved.yaml"
    targets = parse_targets(read_yaml(resolved).get("meta")) if resolved.is_file() else {}
    start = dt.date.fromisoformat(summary["window"]["start"])
    warnings = [f"Replication {lk['replication']} locked up: no completion after "
                f"{lk['last_completion']}; the result is not a forecast (summary.json: "
                "lockups)." for lk in summary.get("lockups") or []]
    if summary.get("stalls"):
        warnings.append(f"{len(summary['stalls'])} stall(s) without output while holding "
                        "work (summary.json: stalls).")
    kpis = [{"name": k, "mean": format_number(e["mean"]),
             "half": format_number(e.get("half_width")), "unit": kpi_unit(k)}
            for k, e in summary["kpis"].items() if in_summary(k, e["mean"], e.get("half_width"))]
    figures = _figures(folder, captions)
    bottlenecks = _bottlenecks(summary["kpis"])
    extra = ([("bottleneck", "Where is the bottleneck?")] if bottlenecks else []) + [
        ("kpis", "Every KPI")] + ([("scenario", "The scenario file")] if source_text else [])
    return _render(
        "run.html.j2", title=f"{summary['scenario']}: results",
        subtitle=(f"{summary['replications']} replication(s) from {start}"
                  + _counted_from(start, summary["window"].get("warmup_s", 0.0))
                  + f"; {summary['interval']}"),
        warnings=warnings, answers=_answers(summary, targets, start),
        sources=sorted({f"{k}: {t.source}" for k, t in targets.items() if t.source}),
        contents=_contents(True, extra, figures), kpis=kpis, source_text=source_text,
        figures=figures, files=_files(folder), provenance=_provenance(manifest),
        bottlenecks=bottlenecks)


def _counted_from(start: dt.date, warmup_s: float) -> str:
    """`, statistics from <date> (warm-up)` when the run warms up, else nothing."""
    if not warmup_s:
        return ""
    when = moment_at(start, warmup_s)
    shown = when.date().isoformat() if when.time() == dt.time() else f"{when:%Y-%m-%d %H:%M}"
    return f", statistics from {shown} (after the warm-up)"


def _bottlenecks(kpis: dict[str, Any]) -> list[dict[str, str]]:
    """Rows of the bottleneck table: stations by sole share, then shifting (Roser)."""

    shares = kpi_shares(kpis, lambda e: e["mean"])
    out = [{"station": st, "sole": _pm(kpis[f"bottleneck.{st}.sole"]),
            "shifting": _pm(kpis[f"bottleneck.{st}.shifting"])} for st in rank(shares)
           if (shares[st][0] or 0.0) + (shares[st][1] or 0.0) > 0]
    if out and "bottleneck_none" in kpis:
        out.append({"station": "(none active: the plan or the supply)",
                    "sole": _pm(kpis["bottleneck_none"]), "shifting": ""})
    return out


def comparison_page(folder: Path, table_text: str, captions: dict[str, str]) -> str:
    """The page of a comparison folder (comparison.json, manifest.json, figures)."""
    c = read_checked(ComparisonFile, folder / "comparison.json")
    manifest = read_object(folder / "manifest.json")
    rows = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in c["kpis"]:
        groups.setdefault(r["kpi"], []).append(r)
    shown = [r for kpi, group in groups.items() if (is_headline(kpi) or any(
        x.get("tested") for x in group)) and not all(x["mean"] == 0 and not x.get(
            "half_width") for x in group) for r in group]  # a KPI, then its options
    for r in shown:
        base = r["scenario"] == c["baseline"]
        mean = {"mean": r["mean"], "half_width": r.get("half_width")}
        diff = {"mean": r.get("diff"), "half_width": r.get("diff_half_width")}
        p = r.get("p_adjusted")
        rows.append({
            "kpi": r["kpi"], "scenario": r["scenario"], "mean": _pm(mean),
            "diff": "baseline" if base else ("+" if (r.get("diff") or 0) > 0 else "")
            + _pm(diff),
            "relative": "" if base or r.get("relative") is None else f"{r['relative']:+.2%}",
            "p": "" if base or p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}"),
            "significant": "" if base else ("yes" if r.get("significant") else
                                            "no" if r.get("tested") else "not tested"),
            "verdict": "ok" if r.get("significant") else ""})
    figures = _figures(folder, captions)
    return _render(
        "comparison.html.j2", title=f"Comparison against {c['baseline']}",
        subtitle=", ".join(c["scenarios"]), rows=rows, replications=c["replications"],
        interval=c["interval"], correction=c["correction"], table_text=table_text,
        contents=_contents(True, [("table", "The printed table")], figures),
        figures=figures, files=_files(folder), provenance=_provenance(manifest))


def sweep_page(folder: Path, state: dict[str, Any], kpis: list[str],
               manifest: dict[str, Any], captions: dict[str, str]) -> str:
    """The page of a sweep folder (summary.json, ranking.csv and figures written)."""
    summary = read_checked(SweepSummary, folder / "summary.json")
    with (folder / "ranking.csv").open(encoding="utf-8") as f:
        ranking = [row for row in csv.reader(f)][1:]
    ranking = [[k, rank, factor, format_number(float(size)) if size else "n/a"]
               for k, rank, factor, size in ranking]
    points = [{"point": p["point"], "levels": [p["labels"][f] for f in summary["factors"]],
               "cells": [_pm(p["kpis"][k]) for k in kpis]} for p in summary["points"]]
    figures = _figures(folder, captions)
    return _render(
        "sweep.html.j2", title=f"Sweep {state['name']}",
        subtitle=(f"{len(points)} points x {state['replications']} replications; "
                  f"{summary['interval']}"),
        factors=summary["factors"], kpis=kpis, points=points, ranking=ranking,
        failures=len(summary.get("failures") or []),
        contents=_contents(True, [], figures), figures=figures, files=_files(folder),
        provenance=_provenance(manifest))
