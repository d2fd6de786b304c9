"""Figures are valid, non-blank PNGs; edge cases still draw; traces are downsampled."""

from __future__ import annotations

import datetime

import matplotlib.dates as mdates
import matplotlib.image as mpimg
import numpy as np
import pytest
from factories import DAY, buffer, make_result, random_result
from pictures import assert_png

from sim.report import plots
from sim.report.plots import datenum, downsample_steps, write_plots

NAMES = ["throughput.png", "cumulative.png", "station_states.png", "buffers.png",
         "lead_time.png"]


def test_write_plots_makes_every_png(tmp_path):
    results = [random_result(r, n=1500, days=14) for r in range(3)]
    paths = write_plots(tmp_path, results)
    assert [p.name for p in paths] == NAMES
    for p in paths:
        assert_png(p)


def test_edge_cases_still_draw(tmp_path):
    bare = make_result([], horizon=2 * DAY)  # no completions, stations or buffers
    paths = write_plots(tmp_path, [bare])
    for p in paths:
        assert_png(p)


def test_short_trace_drawn_as_steps(tmp_path):
    r = make_result(buffers=[buffer("b1", 3, 1.2, 3, ([0.0, 3600.0, 7200.0], [1, 3, 0]))])
    assert_png(plots.plot_buffers([r], tmp_path / "buffers.png"))


def test_write_plots_needs_results(tmp_path):
    with pytest.raises(ValueError):
        write_plots(tmp_path, [])


def test_downsample_keeps_envelope():
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 1e6, 200_000))
    lv = rng.integers(0, 50, t.size)
    lv[123_456] = 99
    ts, ls = downsample_steps(t, lv)
    assert len(ts) == len(ls) <= 5000
    assert ls.max() == 99 and ls.min() == lv.min()
    assert np.all(np.diff(ts) >= 0) and ts[0] == t[0]


def test_downsample_leaves_short_traces():
    t, lv = np.array([0.0, 1.0, 2.0]), np.array([1, 2, 1])
    ts, ls = downsample_steps(t, lv)
    assert list(ts) == [0.0, 1.0, 2.0] and list(ls) == [1, 2, 1]


def test_datenum_maps_seconds_to_dates():
    x = datenum(datetime.date(2024, 3, 1), np.array([0.0, 1.5 * DAY]))
    got = mdates.num2date(x[1]).replace(tzinfo=None)
    assert got == datetime.datetime(2024, 3, 2, 12, 0)


def test_long_tailed_lead_times_draw(tmp_path):
    rows = [(0, 0, 0.0, 0.2 * 3600 + i) for i in range(200)] + [(1, 0, 0.0, 50 * 3600.0)]
    r = make_result(rows, horizon=3 * DAY)
    assert_png(plots.plot_lead_time([r], tmp_path / "lead_time.png"))


def test_stocks_get_an_axis_of_their_own(tmp_path):
    import dataclasses

    from sim.engine.records import BufferRecord

    r = make_result([(0, 0, 0.0, 3600.0)], buffers=[
        BufferRecord("b1", 5.0, 2.0, 5), BufferRecord("modules", 8000.0, 4000.0, 8000,
                                                      kind="stock")])
    path = plots.plot_buffers([r, dataclasses.replace(r, replication=1)], tmp_path / "b.png")
    fig_height = mpimg.imread(path).shape[0]
    only_parts = make_result([(0, 0, 0.0, 3600.0)], buffers=[BufferRecord("b1", 5.0, 2.0, 5)])
    small = mpimg.imread(plots.plot_buffers([only_parts], tmp_path / "p.png")).shape[0]
    assert fig_height > small  # a second axis for the stock


def test_every_numeric_axis_gets_thousands_separators(tmp_path) -> None:
    from sim.report.plots import _figure, _save, _thousands

    assert [_thousands(v) for v in (89527.0, 1000.0, 999.0, 2.5, 0.25, -1500.0)] == [
        "89,527", "1,000", "999", "2.5", "0.25", "-1,500"]
    fig, (ax,) = _figure(4, 3)
    ax.plot([0, 5000], [0, 150000])
    _save(fig, tmp_path / "x.png")
    assert ax.yaxis.get_major_formatter()(150000, 0) == "150,000"
    assert ax.xaxis.get_major_formatter()(5000, 0) == "5,000"
