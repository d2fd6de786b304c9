"""`run --excel`: one workbook whose numbers are the folder's own (checked against
summary.json and demand.csv), a sheet a table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from openpyxl import load_workbook
from scenario_builder import table_files as _files

from sim.cli import main


def test_the_workbook_holds_the_folders_numbers(tmp_path) -> None:
    path = _files(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q", "--no-plots", "-n", "2", "-w",
                 "1", "--excel"]) == 0
    folder = out / "s"
    book = load_workbook(folder / "results.xlsx", read_only=True)
    assert book.sheetnames == ["KPIs", "completed by month", "orders planned",
                               "orders released", "orders completed"]
    summary = json.loads((folder / "summary.json").read_text())["kpis"]
    kpis = {row[0]: row[1:] for row in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert kpis["completed"][0] == summary["completed"]["mean"]
    assert kpis["completed"][2] == "parts"
    months = list(book["completed by month"].iter_rows(values_only=True))
    assert months[0][1:] == ("A", "B", "(all)")
    assert sum(row[3] for row in months[1:]) == summary["completed"]["mean"]
    with (folder / "demand.csv").open() as f:
        rows = list(csv.DictReader(f))
    planned = list(book["orders planned"].iter_rows(values_only=True))
    by_product = dict(zip(planned[0][1:], planned[1][1:]))
    first = [r for r in rows if r["replication"] == "0" and r["period_from"] == "2025-01-01"]
    assert {r["product"]: float(r["planned"]) for r in first} == by_product
    assert "results.xlsx" in (folder / "README.txt").read_text()


def test_no_workbook_without_the_flag(tmp_path) -> None:
    path = _files(tmp_path)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q", "--no-plots", "-n",
                 "2", "-w", "1"]) == 0
    assert not (Path(tmp_path / "out" / "s") / "results.xlsx").exists()
