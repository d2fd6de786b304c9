"""The result files of a sweep, computed from its plan record and run records alone.

Why only from the stored records: an unsharded sweep, a resumed one and N merged shards
must give the same files bit for bit, so nothing here may depend on who ran a record or
when (wall times stay in the manifest). Floats are written with `repr` (exact round
trip), rows in point-major order, KPIs in name order.

The tidy table (one row per point x replication x KPI) is Parquet: a 500-point sweep
with 150 KPIs is millions of rows, which CSV holds badly. The per-point summary with
95% intervals, the main effects and the ranking are small CSVs a reviewer can diff.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import effects
from sim.analysis.numbers import mean_pm
from sim.analysis.stats import ci95

FILES: dict[str, str] = {
    "README.txt": "This file: what each file of the sweep folder holds.",
    "sweep.json": ("The plan: sweep file, scenario, factors, every point's levels, --set "
                   "overrides and root seed, and the fingerprint that ties runs, shards "
                   "and resumed runs to it."),
    "runs/": ("The append-only store: one JSON record per (point, replication), written "
              "atomically when the run finished: status ok|failed, message, the kept "
              "KPIs, events, wall seconds."),
    "results.parquet": ("Tidy table, one row per point x replication x KPI of the runs "
                        "that succeeded: point, replication, seed, one column per factor "
                        "(the level as written), kpi, value (Parquet, zstd)."),
    "summary.csv": ("Per point and KPI: the factor levels, n (successful replications), "
                    "mean, half_width of the 95% Student t interval (n - 1 degrees of "
                    "freedom), low, high, sd."),
    "summary.json": ("The same per point, with per-replication values (read by `gate`)."),
    "failures.csv": ("Every failed run: point, replication, seed, levels, message (header "
                     "only when none failed)."),
    "effects.csv": ("Main effects per plotted KPI and factor level: mean over the level's "
                    "points per replication, then the 95% t interval over replications."),
    "ranking.csv": "Factors per plotted KPI, ranked by effect size (range of main effects).",
    "summary.md": ("The plotted KPIs per point (mean ± 95% half-width) and the factor "
                   "ranking, as Markdown tables to paste into a README."),
    "main_effects.png": "Main effect of each factor on the plotted KPIs, with 95% bands.",
    "heatmap.png": ("Two-factor grids: mean KPI per cell of the two most influential "
                    "factors, averaged over the others."),
    "factor_ranking.png": "Effect size of each factor on the first plotted KPI.",
    "report.html": ("One page to open first: the plotted KPIs per point, the factor "
                    "ranking, the figures and the provenance."),
    "manifest.json": ("How it was made: sweep and scenario files with SHA-256, executor, "
                      "workers, shards, runs done now and found done, versions, git, wall "
                      "time. Written last: a folder without it is a sweep in progress."),
}


def _f(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(float(x))


def kpi_names(runs: dict[tuple[int, int], dict[str, Any]]) -> list[str]:
    """Every KPI kept by a successful run, in name order."""
    return sorted({k for r in runs.values() if r.get("status") == "ok" for k in r["kpis"]})


def plot_kpis(state: dict[str, Any], names: list[str]) -> list[str]:
    """The KPIs to plot: the sweep's `plot` list, else `completed`, else the first."""
    wanted = [k for k in state["spec"].get("plot", []) if k in names]
    if wanted:
        return wanted
    return ["completed"] if "completed" in names else names[:1]


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_parquet(path: Path, state: dict[str, Any],
                  runs: dict[tuple[int, int], dict[str, Any]]) -> int:
    """The tidy table; returns its row count."""
    import pyarrow as pa  # lazy: pyarrow (0.2 s), only when Parquet is written
    import pyarrow.parquet as pq  # lazy: pyarrow (0.2 s), only when Parquet is written

    factors = state["factors"]
    cols: dict[str, list[Any]] = {"point": [], "replication": [], "seed": [],
                                  **{f: [] for f in factors}, "kpi": [], "value": []}
    for p in state["points"]:
        for r in range(state["replications"]):
            record = runs.get((p["point"], r))
            if record is None or record.get("status") != "ok":
                continue
            for name in sorted(record["kpis"]):
                cols["point"].append(p["point"])
                cols["replication"].append(r)
                cols["seed"].append(record["seed"])
                for f in factors:
                    cols[f].append(p["labels"][f])
                cols["kpi"].append(name)
                cols["value"].append(float(record["kpis"][name]))
    types = {"point": pa.int32(), "replication": pa.int32(), "seed": pa.int64(),
             "kpi": pa.dictionary(pa.int32(), pa.string()), "value": pa.float64()}
    table = pa.table({name: pa.array(values, type=types.get(name, pa.string()))
                      for name, values in cols.items()})
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


def point_summaries(state: dict[str, Any], runs: dict[tuple[int, int], dict[str, Any]],
                    names: list[str]) -> list[dict[str, Any]]:
    """Per point: levels, seed and per-KPI estimate with the per-replication values."""
    out = []
    for p in state["points"]:
        kpis = {}
        for name in names:
            values = effects.matrix([p], runs, name, state["replications"])[0]
            ok = values[~np.isnan(values)]
            kpis[name] = {**ci95(ok).as_dict(),
                          "values": [None if math.isnan(v) else float(v) for v in values]}
        # In the sweep file's factor order, whatever key order sweep.json was stored in.
        labels = {f: p["labels"][f] for f in state["factors"]}
        out.append({"point": p["point"], "labels": labels, "seed": p["seed"], "kpis": kpis})
    return out


_MD_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|",
                              "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_",
                              "[": "\\[", "]": "\\]", "~": "\\~", "\n": " ", "\r": " "})


def md(text: object) -> str:
    """Text for a Markdown table cell shown as written: HTML and Markdown characters escaped
    (a level label like `<img onerror=...>` or `a|b` reaches a CI job summary as text)."""
    return str(text).translate(_MD_ESCAPES)


def markdown(state: dict[str, Any], summaries: list[dict[str, Any]], names: list[str],
             rank_rows: list[list[Any]]) -> str:
    """Per-point table of the plotted KPIs and the ranking, in Markdown."""
    factors = state["factors"]
    kpis = plot_kpis(state, names)
    lines = [(f"Sweep `{state['name'].replace('`', '')}`: {len(summaries)} points x "
              f"{state['replications']} replications, mean ± 95% half-width (Student t)."), "",
             "| " + " | ".join(md(c) for c in ["point", *factors, *kpis]) + " |",
             "|" + "---|" * (1 + len(factors) + len(kpis))]
    for s in summaries:
        lines.append("| " + " | ".join([str(s["point"]), *(md(s["labels"][f]) for f in factors),
                                        *(mean_pm(s["kpis"][k]) for k in kpis)]) + " |")
    lines += ["", "Factors ranked by effect size (largest minus smallest main-effect mean):",
              "", "| KPI | rank | factor | effect |", "|---|---|---|---|"]
    for kpi_name, rank, factor, size in rank_rows[1:]:
        value = float(size) if size != "" else math.nan
        lines.append(f"| {md(kpi_name)} | {rank} | {md(factor)} | {value:,.4g} |")
    return "\n".join(lines) + "\n"


def write_tables(folder: Path, state: dict[str, Any],
                 runs: dict[tuple[int, int], dict[str, Any]]) -> dict[str, Any]:
    """Every table of FILES into `folder`; returns counts for the manifest and the CLI."""

    factors = state["factors"]
    names = kpi_names(runs)
    rows = write_parquet(folder / "results.parquet", state, runs)
    summaries = point_summaries(state, runs, names)
    table: list[list[Any]] = [["point", *factors, "kpi", "n", "mean", "half_width", "low",
                               "high", "sd"]]
    for s in summaries:
        for name in names:
            e = s["kpis"][name]
            table.append([s["point"], *(s["labels"][f] for f in factors), name, e["n"],
                          *(_f(e[k]) for k in ("mean", "half_width", "low", "high", "sd"))])
    (folder / "summary.csv").write_text(_csv(table), encoding="utf-8")
    failures = [runs[k] for k in sorted(runs) if runs[k].get("status") != "ok"]
    by_point = {p["point"]: p for p in state["points"]}
    fail_rows: list[list[Any]] = [["point", "replication", "seed", *factors, "message"]]
    for record in failures:
        labels = by_point[record["point"]]["labels"]
        fail_rows.append([record["point"], record["replication"], record["seed"],
                          *(labels[f] for f in factors), record["message"]])
    (folder / "failures.csv").write_text(_csv(fail_rows), encoding="utf-8")
    summary = {"sweep": state["name"], "fingerprint": state["fingerprint"],
               "replications": state["replications"], "factors": factors,
               "interval": "95% Student t, n - 1 degrees of freedom",
               "points": summaries,
               "failures": [{k: r[k] for k in ("point", "replication", "seed", "message")}
                            for r in failures]}
    (folder / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=True) + "\n",
                                         encoding="utf-8")
    effect_rows: list[list[Any]] = [["kpi", "factor", "level", "x", "n", "mean", "low",
                                     "high"]]
    rank_rows: list[list[Any]] = [["kpi", "rank", "factor", "effect"]]
    for name in plot_kpis(state, names):
        values = effects.matrix(state["points"], runs, name, state["replications"])
        for f in factors:
            for lv in effects.main_effects(state["points"], values, f):
                effect_rows.append([name, f, lv.label, _f(lv.x) if lv.x is not None else "",
                                    lv.n, _f(lv.mean), _f(lv.low), _f(lv.high)])
        for i, (f, size) in enumerate(effects.ranking(state["points"], values, factors), 1):
            rank_rows.append([name, i, f, _f(size)])
    (folder / "summary.md").write_text(markdown(state, summaries, names, rank_rows),
                                       encoding="utf-8")
    (folder / "effects.csv").write_text(_csv(effect_rows), encoding="utf-8")
    (folder / "ranking.csv").write_text(_csv(rank_rows), encoding="utf-8")
    (folder / "README.txt").write_text(
        "A sweep's results folder.\n\n" + "".join(f"{k}\n    {v}\n" for k, v in FILES.items()),
        encoding="utf-8")
    return {"rows": rows, "kpis": len(names), "failures": len(failures),
            "ok": sum(1 for r in runs.values() if r.get("status") == "ok")}


def publish(folder: Path, state: dict[str, Any], runs: dict[tuple[int, int], dict[str, Any]],
            manifest: dict[str, Any], plots: bool = True) -> dict[str, Any]:
    """Write tables, figures and (last) the manifest into `folder`, each file renamed into
    place whole, so a crash mid-way leaves the previous files or none, never half a file."""

    tmp = folder / f".out.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        counts = write_tables(tmp, state, runs)
        if plots:
            from sim.report.sweep_plots import write_sweep_plots  # lazy: matplotlib

            write_sweep_plots(tmp, state, runs, plot_kpis(state, kpi_names(runs)))
        manifest = {**manifest, "results": counts}
        from sim.report.html import sweep_page  # lazy: jinja2, only when report.html is written

        (tmp / "report.html").write_text(
            sweep_page(tmp, state, plot_kpis(state, kpi_names(runs)), manifest, FILES),
            encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, allow_nan=True)
                                           + "\n", encoding="utf-8")
        for path in sorted(tmp.iterdir()):
            if path.name != "manifest.json":
                os.replace(path, folder / path.name)
        os.replace(tmp / "manifest.json", folder / "manifest.json")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return counts
