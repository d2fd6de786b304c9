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
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for key, value in attrs:
            if key in ("src", "href") and value:
                self.refs.append(value)
            if key == "id" and value:
                self.ids.append(value)

    def resolves(self, folder: Path) -> bool:
        """Every link is a file of the folder or an anchor of the page."""
        return all(ref[1:] in self.ids if ref.startswith("#") else (folder / ref).is_file()
                   for ref in self.refs)

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
    assert page.refs and page.resolves(out / "a")
    assert {"throughput.png", "summary.json", "daily.csv"} <= set(page.refs)
    text = " ".join(page.text)
    assert "completed" in text and "mean: 55 s" in text  # headline and the scenario file


def test_the_comparison_page_parses_and_names_only_files_of_its_folder(tmp_path) -> None:
    out = tmp_path / "out"
    a, b = _scenario(tmp_path, "a", "55 s"), _scenario(tmp_path, "b", "58 s")
    assert main(["compare", str(a), str(b), "--out", str(out), "-q", "-w", "1"]) == 0
    folder = out / "compare-a"
    page = _parsed(folder / "report.html")
    assert page.refs and page.resolves(folder)
    assert "compare_difference.png" in page.refs and "comparison.csv" in page.refs
    assert "paired" in " ".join(page.text)


def _sections(page: Path) -> list[str]:
    """The ids of the page's h2 sections, in order."""
    import re

    return re.findall(r'<h2 id="([^"]+)"', page.read_text(encoding="utf-8"))


def test_the_run_page_leads_with_the_answers_against_their_targets(tmp_path) -> None:
    out = tmp_path / "out"
    path = _scenario(tmp_path, "a", "55 s")
    d = yaml.safe_load(path.read_text())
    d["meta"] = {"targets": {"completed": {"value": 4000, "source": "the plan <2025>"}}}
    path.write_text(yaml.safe_dump(d))
    assert main(["run", str(path), "--out", str(out), "-q", "-w", "1"]) == 0
    page = out / "a" / "report.html"
    assert _sections(page)[0] == "answers"
    html = page.read_text()
    answers = html[html.index('id="answers"'):html.index("</table>", html.index('id="answers"'))]
    assert "vehicles built" in answers and "4,000" in answers and "parts" in answers
    assert "the plan &lt;2025&gt;" in html and "<2025>" not in html  # escaped
    first_figure = html.index("<figure")
    assert html.index('id="answers"') < html.index("Contents") < first_figure
    order = [html.index(f'src="{n}"') for n in ("cumulative.png", "throughput.png",
                                                 "station_states.png", "lead_time.png")]
    assert order == sorted(order)  # figures in the order of the questions they answer


def test_a_sweep_has_a_page_too(tmp_path) -> None:
    scenario = _scenario(tmp_path, "a", "55 s")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(yaml.safe_dump({
        "name": "s", "scenario": str(scenario), "replications": 2, "kpis": ["completed"],
        "factors": {"cap": {"path": "buffers.b1.capacity", "values": [1, 3]}}}))
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out"), "-q", "-w", "1"]) == 0
    folder = tmp_path / "out" / "s"
    page = _parsed(folder / "report.html")
    assert page.resolves(folder) and "main_effects.png" in page.refs
    assert _sections(folder / "report.html")[0] == "answers"
    assert "Factors ranked by effect size" in " ".join(page.text)


def test_the_run_page_says_when_statistics_start_after_a_warm_up() -> None:
    import datetime as dt

    from sim.report.html import _counted_from

    start = dt.date(2024, 12, 2)
    assert _counted_from(start, 30 * 86400.0) == ", statistics from 2025-01-01 (after the warm-up)"
    assert _counted_from(start, 3600.0) == ", statistics from 2024-12-02 01:00 (after the warm-up)"
    assert _counted_from(start, 0.0) == ""
