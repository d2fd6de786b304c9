"""Order books and plans read from CSV or Excel tables: the same periods as YAML, errors
naming the table, the row and the column, and the table in the run's provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from scenario_builder import TABLE_CSV as CSV
from scenario_builder import TABLE_SCENARIO as SCENARIO
from scenario_builder import table_files as _files

from sim.cli import main
from sim.errors import ScenarioError
from sim.spec.loader import load_scenario, load_with_sources


def test_csv_periods_equal_the_same_periods_written_in_yaml(tmp_path) -> None:
    from_table = load_scenario(_files(tmp_path))
    written = tmp_path / "w.yaml"
    written.write_text(SCENARIO.replace(
        "{table: book.csv}", "[{from: 2025-01-01, to: 2025-01-07, quantities: {A: 700}, "
        "note: week 1}, {from: 2025-01-08, to: 2025-01-14, per_day: {B: 90.5}}]"))
    assert from_table.sources == load_scenario(written).sources


def test_an_excel_order_book_reads_its_dates_and_the_named_sheet(tmp_path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "notes"
    ws = book.create_sheet("2025")
    ws.append(["from", "to", "A", "B per day"])
    ws.append([dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 7), 700, None])
    ws.append([dt.datetime(2025, 1, 8), dt.datetime(2025, 1, 14), None, 90.5])
    book.save(tmp_path / "book.xlsx")
    sc = load_scenario(_files(tmp_path, scenario=SCENARIO.replace(
        "{table: book.csv}", "{table: book.xlsx, sheet: '2025'}")))
    periods = sc.sources["orders"].demand.periods
    assert [(p.from_, p.to, p.quantities, p.per_day) for p in periods] == [
        (dt.date(2025, 1, 1), dt.date(2025, 1, 7), {"A": 700}, {}),
        (dt.date(2025, 1, 8), dt.date(2025, 1, 14), {}, {"B": 90.5})]
    with pytest.raises(ScenarioError, match="no sheet 'Q1'"):
        load_scenario(_files(tmp_path, scenario=SCENARIO.replace(
            "{table: book.csv}", "{table: book.xlsx, sheet: Q1}")))


@pytest.mark.parametrize(("table", "where", "words"), [
    (CSV.replace("2025-01-07", "7 Jan"), "row 2, column 'to'", "expected an ISO date"),
    (CSV.replace("700", "lots"), "row 2, column 'A'", "expected a number (got 'lots')"),
    ("to,A\n2025-01-07,1\n", "row 1", "no column 'from'"),
    ("", "", "the table is empty"),
])
def test_a_bad_cell_names_the_table_row_and_column(tmp_path, table, where, words) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_files(tmp_path, table))
    err = info.value
    assert err.file == str(tmp_path / "book.csv") and err.path == where, err
    assert words in err.message


def test_a_value_the_scenario_refuses_is_blamed_on_the_table(tmp_path, capsys) -> None:
    path = _files(tmp_path, CSV.replace("700", "-5"))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'book.csv'}: sources.orders.demand.periods.0")


def test_the_table_is_in_the_run_provenance_as_read(tmp_path) -> None:
    path = _files(tmp_path)
    _, sources = load_with_sources(path)
    assert [Path(s.path).name for s in sources] == ["s.yaml", "book.csv"]
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q", "--no-plots",
                 "-n", "2", "-w", "1"]) == 0
    manifest = json.loads((tmp_path / "out" / "s" / "manifest.json").read_text())
    assert manifest["files"][1]["sha256"] == hashlib.sha256(CSV.encode()).hexdigest()


def test_a_table_that_is_not_a_regular_file_is_refused(tmp_path) -> None:
    import os

    path = _files(tmp_path)
    (tmp_path / "book.csv").unlink()
    os.mkfifo(tmp_path / "book.csv")
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(path)
