"""What each file of a run's results folder holds, column by column.

Why a table of its own: the same text orders the CSV headers, generates the folder's
README.txt and captions the figures in report.html, so the documentation cannot drift
from the files (`sim.report.run_folder` writes them).
"""

from __future__ import annotations

# The columns the per-vehicle table has in either format (Parquet or CSV).
_VEHICLE_COLUMNS: dict[str, str] = {
    "replication": "replication index (0-based)",
    "part": "part id (unique within a replication)",
    "order": "order number (the parts of one kit share it)",
    "type": "product/variant",
    "product": "product name",
    "sink": "sink the part reached",
}

# File name -> (what it holds, {column: meaning and unit}); CSV headers follow this order.
FILES: dict[str, tuple[str, dict[str, str]]] = {
    "README.txt": ("This file: every file of the folder and its columns.", {}),
    "report.html": (
        ("One page to open first: headline KPIs, the figures, the scenario file and the "
        "provenance (files, hashes, seeds, versions); opens from the file system."), {}),
    "scenario.resolved.yaml": (
        ("The scenario as run: extends merged, --set applied, defaults filled in. "
        "Load it to rerun exactly this case."), {}),
    "manifest.json": (
        ("How the run was made: scenario file(s) with SHA-256, --set overrides, root seed and "
        "per-replication seeds, package versions, git revision ('-dirty' when tracked files "
        "were modified), platform, times, wall time."), {}),
    "summary.json": (
        ("Headline KPIs over [warm-up, horizon] across replications: mean, half_width of the "
        "95% Student t interval (n - 1 degrees of freedom), low, high, sd, n, and the "
        "per-replication values. null = undefined (e.g. no interval from one replication)."),
        {}),
    "completions.parquet": (
        ("One row per part that reached a sink, whole run (warm-up included), every "
        "replication, sorted by replication and part (Parquet, zstd; `--vehicles csv` "
        "writes completions.csv instead, `--vehicles none` neither). Lead time in hours: "
        "(t_done_ms - t_release_ms) / 3,600,000."), {
            **_VEHICLE_COLUMNS,
            "scrap": "true if that sink is a scrap sink",
            "t_release_ms": "release time, milliseconds from run start at 00:00 (integer)",
            "t_done_ms": "time the part reached the sink, milliseconds from run start",
            "date_done": "calendar date of t_done_ms",
        }),
    "daily.csv": (
        ("Good (non-scrap) completions per replication, date and product: every day of the "
        "run (warm-up days included), zero rows included."), {
            "replication": "replication index (0-based)",
            "date": "calendar date (YYYY-MM-DD)",
            "product": "product name",
            "completed": "parts of that product reaching a non-scrap sink that day",
        }),
    "stations.csv": (
        "Time per station and state after warm-up, every state listed.", {
            "replication": "replication index (0-based)",
            "station": "station name",
            "state": "working | blocked | starved | failed | off_shift",
            "seconds": "server-seconds in that state after warm-up (summed over servers)",
            "fraction": "share of the station's server-seconds after warm-up (0-1)",
        }),
    "buffers.csv": (
        "Buffer levels after warm-up.", {
            "replication": "replication index (0-based)",
            "buffer": "buffer name",
            "capacity": "parts it can hold (inf = unlimited)",
            "mean_level": "time-average number of parts over [warm-up, horizon]",
            "max_level": "largest number of parts held after warm-up",
        }),
    "buffer_trace.parquet": (
        ("Every level change of the buffers with `trace: true`, replication 0 only, whole "
        "run (absent when no buffer is traced; Parquet, zstd)."), {
            "replication": "replication index (always 0)",
            "buffer": "buffer name",
            "t_ms": "time of the change, milliseconds from run start (integer)",
            "level": "number of parts in the buffer after the change",
        }),
    "throughput.png": (
        ("Good completions per day by product (replication mean), stacked, with the 7-day "
        "moving average of the total (daily.csv)."), {}),
    "cumulative.png": (
        ("Cumulative good completions: mean and min-max band across replications "
        "(daily.csv)."), {}),
    "station_states.png": (
        ("State shares per station on its on-shift time, replication mean, with the "
        "off-shift share of all time (stations.csv)."), {}),
    "buffers.png": (
        ("Mean and max level per buffer with capacity; level over time of traced buffers in "
        "replication 0 (buffers.csv, buffer_trace.csv)."), {}),
    "lead_time.png": (
        ("Histogram of lead times of good completions after warm-up, all replications, with "
        "mean, median and 95th percentile (completions.csv)."), {}),
}

# The per-vehicle table as CSV, written only with `--vehicles csv`.
VEHICLES_CSV: dict[str, tuple[str, dict[str, str]]] = {
    "completions.csv": (
        ("With `--vehicles csv` only: the rows of completions.parquet as text, with "
        "times in seconds and the lead time in hours."), {
            **_VEHICLE_COLUMNS,
            "scrap": "1 if that sink is a scrap sink, else 0",
            "t_release_s": "release time, seconds from run start at 00:00 (ms precision)",
            "t_done_s": "time the part reached the sink, seconds from run start",
            "lead_time_h": "t_done_s - t_release_s, hours (4 decimals)",
            "date_done": "calendar date of t_done_s (YYYY-MM-DD)",
        }),
}

# Tables written only for scenarios with an order-book (demand) source.
# Written when the runs logged active periods (`run`, not sweeps).
BOTTLENECK_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "bottleneck.csv": (
        ("Bottlenecks by the active-period method (Roser et al. 2002): per replication, "
        "station and bin, the on-shift time each station was the sole bottleneck (its "
        "active period the longest, overlapping no other bottleneck's) or a shifting one "
        "(the overlap of two successive bottlenecks' active periods). A station is active "
        "while it works or is repaired mid-job, not while starved or blocked; a station of "
        "several servers while all are; a paced segment while it moves with a part waiting "
        "at its entrance. Time is the run calendar's on-shift time after warm-up. "
        "`douai-sim bottleneck` reads it with intervals over replications."), {
            "replication": "replication index (0-based)",
            "station": "station name",
            "bin": "all | shift:<name> | month:<YYYY-MM> (of the run calendar)",
            "observed_s": "on-shift seconds of the bin after warm-up",
            "sole_s": "seconds the station was the sole bottleneck",
            "shifting_s": "seconds the station was a shifting bottleneck",
            "sole": "sole_s / observed_s (0-1)",
            "shifting": "shifting_s / observed_s (0-1)",
        }),
}

DEMAND_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "demand.csv": (
        ("Order-book (demand) sources only: per replication, source, period and product, the "
        "orders planned, released and built; the backlog is what was planned but not "
        "released (absent without a demand source)."), {
            "replication": "replication index (0-based)",
            "source": "demand source name",
            "period_from": "first day of the order-book period (YYYY-MM-DD)",
            "period_to": "last day of the period (YYYY-MM-DD)",
            "product": "product name",
            "planned": "orders of the period (quantities + per_day x working days, x scale)",
            "released": "orders of that product the source released in the period's days",
            "completed": "good completions of that product in the period's days (all sinks)",
        }),
    "demand_by_period.png": (
        ("Order books only: planned, released and built orders per period (all products, "
        "replication mean) and the backlog at each period's end, cumulative planned minus "
        "cumulative released (demand.csv)."), {}),
}

# Planner figures (sim.report.plots_plan), written only for scenarios with a plan source.
PLAN_PLOTS: dict[str, tuple[str, dict[str, str]]] = {
    "production_by_month.png": (
        ("Plan scenarios: good completions per calendar month by product, replication mean, "
        "stacked, with a table of the numbers (daily.csv summed by month)."), {}),
    "cumulative_vs_target.png": (
        ("Plan scenarios: cumulative good completions, mean and min-max band, per product and "
        "in total, against meta.targets of the scenario when given (daily.csv)."), {}),
    "daily_by_shift.png": (
        ("Plan scenarios: good completions per day split by the run calendar's shift, "
        "replication 0 (absent without shifts)."), {}),
    "group_utilisation.png": (
        ("Plan scenarios: state shares per station group, server-seconds summed over the "
        "group's stations, replication mean (absent when no station has a group)."), {}),
    "buffer_levels.png": (
        ("Plan scenarios: level over time of each traced buffer, one panel each, "
        "replication 0 (buffer_trace.csv; absent when no buffer is traced)."), {}),
}

# With `run --excel`: one workbook, a sheet per table (the sheet names are the "columns").
EXCEL: dict[str, tuple[str, dict[str, str]]] = {
    "results.xlsx": (
        ("With --excel: the planner's tables in one workbook (replication means; the "
         "intervals are in summary.json)."),
        {"KPIs": "headline KPIs: name, mean, 95% half-width, unit",
         "completed by month": "good completions per month (rows) and product (columns), "
                               "with the total",
         "orders planned": "order books: orders per period (rows) and product (columns)",
         "orders released": "order books: releases per period and product",
         "orders completed": "order books: good completions per period and product"}),
}
