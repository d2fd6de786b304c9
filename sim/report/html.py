"""One self-contained HTML page per results folder: what a planner opens first.

Why: a folder of CSVs and PNGs is complete but not readable at a glance. The page puts
the headline numbers, the figures, what the scenario changes relative to its base and
where the numbers come from (files, hashes, seeds, versions) on one page that opens from
the file system: no server, no script, no external style; images and tables are linked
by relative names, so the folder can be moved or zipped whole. The page only renders what
the folder already holds (summary, manifest, comparison records, figures).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;
padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}pre{background:#f6f6f6;padding:.8em;
overflow:auto;font-size:90%}figcaption{color:#555;font-size:90%}.small{color:#666;
font-size:90%}"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows]
    return "\n".join(out) + "</table>"


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _figures(folder: Path, captions: dict[str, str]) -> list[str]:
    out = ["<h2>Figures</h2>"]
    for png in sorted(folder.glob("*.png")):
        caption = captions.get(png.name, "")
        out.append(f"<figure><img src=\"{_e(png.name)}\" alt=\"{_e(png.stem)}\">"
                   f"<figcaption>{_e(png.name)}: {_e(caption)}</figcaption></figure>")
    return out


def _files(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.iterdir()
                   if p.suffix in (".csv", ".json", ".yaml", ".txt", ".parquet"))
    links = ", ".join(f"<a href=\"{_e(n)}\">{_e(n)}</a>" for n in names)
    return [f"<h2>Tables and files</h2><p>{links}</p>"]


def _provenance(manifest: dict[str, Any]) -> list[str]:
    rows = [(f.get("path") or f.get("file"), f.get("sha256", "")) for f in
            manifest.get("files") or (manifest.get("inputs") or {}).get("files") or []]
    out = ["<h2>Provenance</h2>"]
    if rows:
        out.append(_table(("file", "SHA-256"), rows))
    facts = [("command", " ".join(manifest.get("argv") or [])),
             ("seeds", ", ".join(f"{s['replication']}:{s['seed']}"
                                 for s in manifest.get("seeds") or [])),
             ("git", manifest.get("git")), ("written", manifest.get("written")),
             ("versions", ", ".join(f"{k} {v}" for k, v in
                                    (manifest.get("versions") or {}).items()))]
    out.append(_table(("what", "value"), [(k, v) for k, v in facts if v]))
    return out


def run_page(folder: Path, source_text: str | None, captions: dict[str, str]) -> str:
    """The page of a run's folder (summary.json, manifest.json, figures already written)."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    start = dt.date.fromisoformat(summary["window"]["start"])
    name = summary["scenario"]
    body = [f"<h1>{_e(name)}</h1>",
            (f"<p class=\"small\">{summary['replications']} replication(s); "
            f"{_e(summary['interval'])}</p>")]
    rows = []
    for kpi, e in summary["kpis"].items():
        if kpi.startswith(("station.", "buffer.")) or (
                e["mean"] == 0 and not e.get("half_width") and (
                    kpi.startswith(("counter.", "completed.")))):
            continue
        value = _num(e["mean"])
        if kpi.startswith("milestone.") and kpi.endswith(".day") and e["mean"] is not None:
            value += f" ({start + dt.timedelta(days=math.floor(e['mean']))})"
        rows.append((kpi, value, "± " + _num(e.get("half_width"))))
    body += ["<h2>Headline KPIs</h2>", _table(("KPI", "mean", "95% half-width"), rows)]
    if source_text:
        body += ["<h2>The scenario file (what it changes relative to its base)</h2>",
                 f"<pre>{_e(source_text)}</pre>"]
    body += _figures(folder, captions) + _files(folder) + _provenance(manifest)
    return _page(f"{name}: results", body)


def comparison_page(folder: Path, table_text: str, captions: dict[str, str]) -> str:
    """The page of a comparison folder (comparison.json, manifest.json, figures)."""
    c = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    body = [f"<h1>Comparison against {_e(c['baseline'])}</h1>",
            (f"<p class=\"small\">{c['replications']} paired replications; "
            f"{_e(c['interval'])}; significance: {_e(c['correction'])}.</p>"),
            "<h2>Headline</h2>", f"<pre>{_e(table_text)}</pre>"]
    body += _figures(folder, captions) + _files(folder) + _provenance(manifest)
    return _page(f"comparison: {c['baseline']}", body)
