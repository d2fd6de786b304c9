"""report.html of a run and of a comparison: it parses, and every image and link it names
is a file of its folder (so the page opens from the file system)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import yaml
from scenario_builder import line

from sim.cli import main


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for key, value in attrs:
            if key in ("src", "href") and value:
                self.refs.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _scenario(tmp_path: Path, name: str, mean: str) -> Path:
    d = line([{"cycle": {"dist": "exponential", "mean": "50 s"}},
              {"cycle": {"dist": "exponential", "mean": mean}}], 3, duration="3 d",
             replications=3)
    d["name"] = name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    return path


def test_the_run_page_parses_and_names_only_files_of_its_folder(tmp_path) -> None:
    out = tmp_path / "out"
    path = _scenario(tmp_path, "a", "55 s")
    assert main(["run", str(path), "--out", str(out), "-q", "-w", "1"]) == 0
    page = _parsed(out / "a" / "report.html")
    assert "table" in page.tags and "img" in page.tags
    assert page.refs and all((out / "a" / ref).is_file() for ref in page.refs)
    assert {"throughput.png", "summary.json", "daily.csv"} <= set(page.refs)
    text = " ".join(page.text)
    assert "completed" in text and "mean: 55 s" in text  # headline and the scenario file


def test_the_comparison_page_parses_and_names_only_files_of_its_folder(tmp_path) -> None:
    out = tmp_path / "out"
    a, b = _scenario(tmp_path, "a", "55 s"), _scenario(tmp_path, "b", "58 s")
    assert main(["compare", str(a), str(b), "--out", str(out), "-q", "-w", "1"]) == 0
    folder = out / "compare-a"
    page = _parsed(folder / "report.html")
    assert page.refs and all((folder / ref).is_file() for ref in page.refs)
    assert "compare_difference.png" in page.refs and "comparison.csv" in page.refs
    assert "paired" in " ".join(page.text)
