"""Immutable records of one replication.

A run returns records, not printed text: every KPI, table and plot is computed from
these, so a new plot never needs a new simulation hook. Records are frozen dataclasses
holding read-only numpy arrays, built once at the end of a run (docs/design.md §5 rule 4).
"""

from __future__ import annotations

import datetime
import mmap
import os
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class NoVehicleRecords(LookupError):
    """Per-vehicle rows were asked of a run that kept only its tally."""


STATES: tuple[str, ...] = ("working", "blocked", "starved", "failed", "off_shift")


def frozen_array(values: object, dtype: str) -> np.ndarray:
    """A read-only numpy view of the values, so records cannot be changed after a run.

    An `array.array` of the same item type (the engine's logs) is viewed, not copied: a
    year of completions is held once, not twice (the log can no longer grow while the
    view exists: Python refuses to resize an exported buffer)."""
    if isinstance(values, array) and values.itemsize == np.dtype(dtype).itemsize and (
            (values.typecode == "d") == (np.dtype(dtype).kind == "f")):
        arr = np.frombuffer(values, dtype=dtype)
    else:
        arr = np.array(values, dtype=dtype)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class StationRecord:
    """Time per state (seconds after warm-up, summed over servers) and counts."""

    name: str
    servers: int
    state_seconds: dict[str, float]
    jobs: int
    failures: int
    group: str = ""
    waiting: dict[str, float] = field(default_factory=dict)  # assembly: on-shift s per input
    loaded: float | None = None  # paced segment: mean share of positions holding a part


    def fractions(self) -> dict[str, float]:
        total = sum(self.state_seconds.values())
        return {s: (v / total if total > 0 else 0.0) for s, v in self.state_seconds.items()}


@dataclass(frozen=True)
class BufferRecord:
    """Time-average level after warm-up, and the full level trace when asked for."""

    name: str
    capacity: float
    mean_level: float
    max_level: int
    trace_t: np.ndarray | None = None
    trace_level: np.ndarray | None = None
    kind: str = "parts"  # "stock": counted purchased units, not parts


# The per-vehicle columns: name, `array` type code (the run's log), numpy dtype.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("part", "q", "i8"), ("order", "q", "i8"), ("type", "i", "i4"), ("sink", "h", "i2"),
    ("t_release", "d", "f8"), ("t_done", "d", "f8"))


@dataclass(frozen=True)
class SpilledRows:
    """Where a run left its per-vehicle rows: one raw file per column of `COLUMNS` in
    `folder` (which the caller owns and removes), `n` rows each."""

    folder: str
    n: int

    def path(self, column: str) -> str:
        return os.path.join(self.folder, f"{column}.bin")


@dataclass(frozen=True)
class Completions:
    """One row per part that reached a sink during the whole run (warm-up included).

    Rows kept on disk (`spilled`, a default `run`) are mapped, not read: a column costs
    memory only while it is read, and `release()` lets those pages go again. Such a record
    pickles as its files' place, so a worker process hands it over without a copy."""

    part: np.ndarray
    order: np.ndarray
    type: np.ndarray
    sink: np.ndarray
    t_release: np.ndarray
    t_done: np.ndarray
    shift: np.ndarray | None = None  # int8 index into RunResult.shift_names, -1 off shift
    spilled: SpilledRows | None = None
    maps: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.t_done)

    def release(self) -> None:
        """Drop the pages of spilled columns read so far (they are read again if needed)."""
        if hasattr(mmap, "MADV_DONTNEED"):  # not on every platform; then nothing to do
            for m in self.maps:
                m.madvise(mmap.MADV_DONTNEED)

    def __reduce__(self) -> tuple:
        if self.spilled is not None:
            return mapped_completions, (self.spilled, self.shift)
        return Completions, (self.part, self.order, self.type, self.sink, self.t_release,
                             self.t_done, self.shift)


def mapped_completions(rows: SpilledRows, shift: np.ndarray | None = None) -> Completions:
    """The rows a run spilled, mapped read-only from their files."""
    columns: list[np.ndarray] = []
    maps: list[mmap.mmap] = []
    for name, _, dtype in COLUMNS:
        if rows.n == 0:
            arr = np.zeros(0, dtype)
        else:
            with open(rows.path(name), "rb") as f:
                m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            maps.append(m)
            arr = np.frombuffer(m, dtype=dtype, count=rows.n)
        arr.setflags(write=False)
        columns.append(arr)
    part, order, ptype, sink, t_release, t_done = columns
    return Completions(part, order, ptype, sink, t_release, t_done, shift=shift, spilled=rows,
                       maps=tuple(maps))


@dataclass(frozen=True)
class ActivityRecord:
    """Active periods of every station on the plant's on-shift clock (seconds of the run
    calendar's on-shift time since the start; off shift takes no time), for the
    active-period bottleneck method (`sim.engine.activity`, `sim.analysis.bottleneck`).
    `bins` label spans of that clock: each named shift held and each calendar month."""

    stations: tuple[str, ...]
    starts: tuple[np.ndarray, ...]
    ends: tuple[np.ndarray, ...]
    observed: tuple[float, float]  # the post-warm-up window on the on-shift clock
    shift_bins: tuple[tuple[str, float, float], ...]
    month_bins: tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class BottleneckRecord:
    """One replication's bottlenecks by the active-period method: on-shift seconds each
    station was the sole or a shifting bottleneck, in all and per bin (`shift:<name>`,
    `month:<YYYY-MM>`), and the on-shift seconds observed (of all, of each bin)."""

    stations: tuple[str, ...]
    observed: float
    sole: np.ndarray               # [station]
    shifting: np.ndarray           # [station]
    bins: tuple[str, ...]
    bin_seconds: np.ndarray        # [bin]
    sole_by_bin: np.ndarray        # [station, bin]
    shifting_by_bin: np.ndarray    # [station, bin]
    idle: float = 0.0              # observed seconds with no station active
    idle_by_bin: np.ndarray | None = None  # [bin]


@dataclass(frozen=True)
class DemandRecord:
    """An order book's periods and what was released from it (one demand source)."""

    source: str
    products: tuple[str, ...]
    period_from: tuple[datetime.date, ...]
    period_to: tuple[datetime.date, ...]
    planned: np.ndarray          # orders per [period, product], after scale
    release_t: np.ndarray        # time of each release (whole run)
    release_product: np.ndarray  # index into products of each release
    due_end: np.ndarray          # orders due by the horizon per product (after sop, drops)


@dataclass(frozen=True)
class QuantileSketch:
    """Counts of positive values in log buckets (DDSketch's): bucket i holds the values in
    (gamma^(i-1), gamma^i], gamma = (1 + alpha) / (1 - alpha), so a bucket's representative
    2 gamma^i / (gamma + 1) is within `alpha` (relative) of every value in it. Zeros (and
    negatives) are counted apart. Memory grows with the spread of the values, not their
    number."""

    alpha: float
    zeros: int
    index: np.ndarray  # bucket numbers holding values, increasing
    count: np.ndarray  # values in each of those buckets

    @property
    def n(self) -> int:
        return self.zeros + int(self.count.sum())

    def _ranked(self, k: int) -> float:
        """The k-th smallest value (0-based), within `alpha`."""
        if k < self.zeros:
            return 0.0
        j = int(np.searchsorted(np.cumsum(self.count), k - self.zeros, side="right"))
        gamma = (1.0 + self.alpha) / (1.0 - self.alpha)
        return 2.0 * gamma ** float(self.index[j]) / (gamma + 1.0)

    def quantile(self, q: float) -> float:
        """numpy's default ("linear") percentile q (0-1) of the values, each order statistic
        within `alpha` relative error; nan when empty."""
        n = self.n
        if n == 0:
            return float("nan")
        h = (n - 1) * q
        lo = int(np.floor(h))
        a = self._ranked(lo)
        b = self._ranked(min(lo + 1, n - 1))
        return a + (h - lo) * (b - a)


@dataclass(frozen=True)
class Tally:
    """What the KPIs need of the completions, folded as they happen (`sim.engine.tally`):
    the same numbers as the per-vehicle rows give (sums to rounding), in memory that does
    not grow with the run's length. Counts are after warm-up unless said otherwise."""

    rows: int                      # completions over the whole run (scrap included)
    good_by_type: np.ndarray       # good completions per type
    scrapped: int
    lead_sum: float                # seconds, release -> done, good completions
    depart_sum: float              # seconds, good and scrap completions (Little's law)
    lead: QuantileSketch           # seconds, good completions
    lead_by_product: tuple[QuantileSketch, ...]
    on_shift_sum: float            # on-shift seconds of the lead times (run calendar)
    on_shift: QuantileSketch | None
    shift_good: np.ndarray         # good completions per shift of RunResult.shift_names
    daily: np.ndarray              # [days, products]: good completions, whole run
    milestone_t: tuple[float, ...]  # when each milestone's count was reached; nan: not
    window_good: tuple[int, ...]   # good completions in each reporting window
    last_done: float               # time of the last completion (0 if none)


@dataclass(frozen=True)
class Milestone:
    """The date the `count`-th unit of `product` (None: every product) is built."""

    name: str
    product: str | None
    count: int


@dataclass(frozen=True)
class ReportWindow:
    """Days [t_from, t_to) to report on, and how many of them had on-shift time."""

    name: str
    t_from: float
    t_to: float
    working_days: int
    products: tuple[str, ...] = ()  # empty: every product


@dataclass(frozen=True)
class Stall:
    """On-shift hours without a completion while the plant held work (sim.engine.stalls)."""

    t_from: float   # from when a part was held without any completion, seconds
    t_to: float     # next completion
    hours: float    # on-shift hours of the gap


@dataclass(frozen=True)
class LockUp:
    """No completion from t_last to the horizon while parts were inside: a meaningless
    result, with what each station and buffer was stuck on."""

    t_last: float
    hours: float    # on-shift hours from t_last to the horizon
    wip: int
    stuck: tuple[str, ...]


@dataclass(frozen=True)
class RunResult:
    """Everything one replication produced."""

    scenario: str
    replication: int
    seed: int
    start: datetime.date
    warmup: float
    horizon: float
    types: tuple[str, ...]
    type_product: tuple[str, ...]
    sinks: tuple[str, ...]
    sink_scrap: tuple[bool, ...]
    log: Completions | None        # per-vehicle rows; None when the run did not keep them
    stations: tuple[StationRecord, ...]
    buffers: tuple[BufferRecord, ...]
    released: int
    lost: int
    wip_mean: float
    wip_end: int
    events: int
    wall_seconds: float
    counters: dict[str, int] = field(default_factory=dict)
    shift_names: tuple[str, ...] = ()
    scheduled_seconds: float = 0.0  # on-shift time of the run calendar in [warmup, horizon]
    working_days: int = 0  # production days of [warmup, horizon] (all days if 24/7)
    working_mask: np.ndarray | None = None  # per day from the start: a production day?
    shift_seconds: dict[str, float] = field(default_factory=dict)  # on-shift s per shift
    shift_capacity: dict[str, float] = field(default_factory=dict)  # takt steps per shift
    lead_on_shift: np.ndarray | None = None  # on-shift seconds release -> done, per row
    demand: tuple[DemandRecord, ...] = ()
    built_before: dict[str, int] = field(default_factory=dict)  # units built before start
    milestones: tuple[Milestone, ...] = ()
    reporting: tuple[ReportWindow, ...] = ()
    stalls: tuple[Stall, ...] = ()
    lockup: LockUp | None = None
    tally: Tally | None = None     # the completions folded for the KPIs (engine runs)
    activity: ActivityRecord | None = None  # active periods, when the run logged them
    bottleneck: BottleneckRecord | None = None  # their analysis (sim.analysis.bottleneck)

    @property
    def completions(self) -> Completions:
        """The per-vehicle rows (tables, figures, exact quantiles)."""
        if self.log is None:
            raise NoVehicleRecords(
                f"{self.scenario} replication {self.replication}: per-vehicle records were "
                "not kept (run with vehicles kept for tables and figures)")
        return self.log

    @property
    def observed_seconds(self) -> float:
        """Length of the statistics window [warmup, horizon]."""
        return self.horizon - self.warmup

    def done_mask(self) -> np.ndarray:
        """Completions after warm-up into non-scrap sinks."""
        c = self.completions
        good = ~np.array(self.sink_scrap, dtype=bool)[c.sink] if len(c) else np.zeros(0, bool)
        return good & (c.t_done >= self.warmup)
