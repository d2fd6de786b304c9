"""Completions tallied as they happen: what the KPIs need, in memory that does not grow
with the length of the run.

Why: a per-vehicle row costs 38 bytes; a year of the reference line is 17 MB of them, and a
sweep of long runs reads only KPIs. So the sinks' log hands its rows to a `Folder` in
slices of `CHUNK`, in time order; each slice is folded into counts, sums, quantile
sketches, daily and per-shift counts, milestones, reporting windows and stalls. A run that
keeps its per-vehicle rows (tables, figures: the `run` verb) folds the same slices at the
end; one that does not (sweeps, calibration, `vehicles=False`) folds each slice as it
fills and drops it. The slices are the same either way, so the tally is too.

`sim.analysis.kpi` computes every KPI from the rows when they are kept, else from the tally: the
same numbers (sums added in another order: equal to rounding), except the lead-time
quantiles, which the sketch gives within `ALPHA` relative error (tests hold both).
"""

from __future__ import annotations

import math
import os
from array import array
from collections.abc import Sequence

import numpy as np

from sim.engine.buffer import CompletionLog
from sim.engine.records import (
    COLUMNS,
    QuantileSketch,
    ReportWindow,
    RunResult,
    SpilledRows,
    Tally,
)
from sim.engine.stalls import StallFold
from sim.spec.units import DAY

CHUNK = 1 << 16   # rows per slice: the most a run that keeps no rows holds at a time
ALPHA = 1e-4      # relative error of a quantile from a sketch
_LOG_GAMMA = math.log((1.0 + ALPHA) / (1.0 - ALPHA))


class Sketch:
    """A growing `QuantileSketch`: dense counts over the bucket numbers seen so far."""

    def __init__(self) -> None:
        self.lo = 0
        self.counts = np.zeros(0, np.int64)
        self.zeros = 0

    def add(self, x: np.ndarray) -> None:
        pos = x > 0.0
        self.zeros += int(len(x) - np.count_nonzero(pos))
        if not pos.any():
            return
        idx = np.ceil(np.log(x[pos]) / _LOG_GAMMA).astype(np.int64)
        lo, hi = int(idx.min()), int(idx.max())
        if not len(self.counts):
            self.lo, self.counts = lo, np.zeros(hi - lo + 1, np.int64)
        elif lo < self.lo or hi >= self.lo + len(self.counts):
            new_lo = min(lo, self.lo)
            grown = np.zeros(max(hi, self.lo + len(self.counts) - 1) - new_lo + 1, np.int64)
            grown[self.lo - new_lo:self.lo - new_lo + len(self.counts)] = self.counts
            self.lo, self.counts = new_lo, grown
        self.counts += np.bincount(idx - self.lo, minlength=len(self.counts))

    def freeze(self) -> QuantileSketch:
        held = np.flatnonzero(self.counts)
        return QuantileSketch(ALPHA, self.zeros, held + self.lo, self.counts[held])


def shift_codes(cal, t_done: np.ndarray) -> tuple[tuple[str, ...], np.ndarray | None]:
    """The run calendar's shift in which each completion happened (-1: off shift).

    Spans are closed at their end: a part finished exactly when a shift ends was made in
    that shift, not in the one starting at the same instant."""
    if cal is None or cal.always_on:
        return (), None
    starts, ends, names = cal.shift_spans()
    labels = tuple(dict.fromkeys(names))
    code = np.array([labels.index(n) for n in names], dtype="i1")
    i = np.searchsorted(starts, t_done, side="left") - 1
    ok = (i >= 0) & (t_done <= ends[np.maximum(i, 0)])
    shift = np.where(ok, code[np.maximum(i, 0)] if len(code) else -1, -1).astype("i1")
    shift.setflags(write=False)
    return labels, shift


def report_windows(sc, cal, horizon: float) -> tuple[ReportWindow, ...]:
    """Reporting windows in seconds, with their working days on the run calendar."""
    out = []
    per_day = None
    if sc.reporting and cal is not None:
        per_day = cal.production_days(int(np.ceil(horizon / DAY)))
    for name, w in sc.reporting.items():
        a = (w.from_ - sc.run.start).days
        b = (w.to - sc.run.start).days + 1
        days = b - a if per_day is None else int((per_day[a:b] > 0).sum())
        days = w.days if w.days is not None else days
        out.append(ReportWindow(name, a * DAY, min(b * DAY, horizon), days,
                                w.products))
    return tuple(out)


class Folder:
    """Folds slices of completion rows (in time order) into the running tally."""

    def __init__(self, warmup: float, type_products: Sequence[str], sink_scrap: Sequence[bool],
                 cal, stalls: StallFold, horizon: float,
                 milestones: Sequence[tuple[str | None, int]] = (),
                 reports: Sequence[ReportWindow] = ()) -> None:
        """`milestones`: (product or None, units still needed after those built before)."""
        self.warmup = warmup
        prods = list(dict.fromkeys(type_products))
        self.type_prod = np.array([prods.index(p) for p in type_products], np.int64)
        self.n_prod = len(prods)
        self.scrap = np.array(sink_scrap, bool)
        self.cal = None if cal is None or cal.always_on else cal
        self.n_days = max(1, int(np.ceil(horizon / DAY)))
        self.rows = 0
        self.good_by_type = np.zeros(len(type_products), np.int64)
        self.scrapped = 0
        self.lead_sum = self.depart_sum = self.on_shift_sum = 0.0
        self.lead, self.on_shift = Sketch(), Sketch()
        self.by_product = [Sketch() for _ in prods]
        self.shift_labels, _ = shift_codes(self.cal, np.zeros(0))
        self.shift_good = np.zeros(len(self.shift_labels), np.int64)
        self.daily = np.zeros(self.n_days * self.n_prod, np.int64)
        self.milestones = [[-1 if p is None else prods.index(p), need]
                           for p, need in milestones]  # (product index or -1, still needed)
        self.milestone_t = [math.nan] * len(self.milestones)
        self.reports = tuple(reports)
        self.windows = [(w.t_from, w.t_to, np.isin(np.array(prods)[self.type_prod],
                                                   list(w.products)) if w.products else None)
                        for w in self.reports]
        self.window_good = [0] * len(self.windows)
        self.stalls = stalls
        self.last_done = 0.0

    @classmethod
    def for_scenario(cls, sc, types, sink_scrap: Sequence[bool], cal, stalls: StallFold,
                     horizon: float) -> Folder:
        """The folder of a scenario's run: its milestones and reporting windows."""
        needs = []
        for m in sc.milestones.values():
            before = (sum(p.built_before for p in sc.products.values()) if m.product is None
                      else sc.products[m.product].built_before)
            needs.append((m.product, m.count - before))
        return cls(sc.run.warmup, [t.product for t in types], sink_scrap, cal, stalls, horizon,
                   needs, report_windows(sc, cal, horizon))

    def fold(self, ptype: np.ndarray, sink: np.ndarray, t_release: np.ndarray,
             t_done: np.ndarray) -> None:
        """Add one slice of rows (every row later than the previous slice's)."""
        if not len(t_done):
            return
        self.rows += len(t_done)
        ptype = ptype.astype(np.int64)
        ok = ~self.scrap[sink]                       # good, whole run
        after = t_done >= self.warmup
        good, scrap = ok & after, ~ok & after
        self.good_by_type += np.bincount(ptype[good], minlength=len(self.good_by_type))
        self.scrapped += int(np.count_nonzero(scrap))
        sojourn = t_done - t_release
        lead = sojourn[good]
        self.lead_sum += float(lead.sum())
        self.depart_sum += float(sojourn[good | scrap].sum())
        self.lead.add(lead)
        prod = self.type_prod[ptype]
        for p, sketch in enumerate(self.by_product):
            sketch.add(lead[prod[good] == p])
        if self.cal is not None:
            on = (self.cal.on_upto(t_done[good]) - self.cal.on_upto(t_release[good]))
            self.on_shift_sum += float(on.sum())
            self.on_shift.add(on)
            _, code = shift_codes(self.cal, t_done[good])
            if code is not None:
                self.shift_good += np.bincount(code[code >= 0].astype(np.int64),
                                               minlength=len(self.shift_good))
        day = np.clip(np.floor(t_done[ok] / DAY).astype(np.int64), 0, self.n_days - 1)
        self.daily += np.bincount(day * self.n_prod + prod[ok], minlength=len(self.daily))
        for i, (p, need) in enumerate(self.milestones):
            if need <= 0 or not math.isnan(self.milestone_t[i]):
                continue
            counted = ok & after  # built_before counts what was built before the window
            times = t_done[counted] if p < 0 else t_done[counted & (prod == p)]
            if need <= len(times):
                self.milestone_t[i] = float(times[need - 1])
            self.milestones[i][1] = need - len(times)
        for i, (a, b, of_type) in enumerate(self.windows):
            mask = good & (t_done >= a) & (t_done < b)
            if of_type is not None:
                mask &= of_type[ptype]
            self.window_good[i] += int(np.count_nonzero(mask))
        self.stalls.add(t_done, t_release)
        self.last_done = float(t_done[-1])

    def record(self) -> Tally:
        return Tally(
            self.rows, self.good_by_type, self.scrapped, self.lead_sum, self.depart_sum,
            self.lead.freeze(), tuple(s.freeze() for s in self.by_product),
            self.on_shift_sum, self.on_shift.freeze() if self.cal is not None else None,
            self.shift_good, self.daily.reshape(self.n_days, self.n_prod),
            tuple(self.milestone_t), tuple(self.window_good), self.last_done)


class TallyLog(CompletionLog):
    """A completion log that keeps no rows: every `CHUNK` rows are folded, then dropped."""

    __slots__ = ("folder",)

    def __init__(self) -> None:
        super().__init__()
        self.folder: Folder | None = None

    def add(self, part, sink: int, t: float) -> None:
        super().add(part, sink, t)
        if len(self.t_done) >= CHUNK:
            self.spill()

    def spill(self) -> None:
        """Fold the rows held and forget them."""
        assert self.folder is not None, "the build attaches the folder"
        self.folder.fold(np.array(self.type, np.int64), np.array(self.sink, np.int64),
                         np.array(self.t_release), np.array(self.t_done))
        for column in (self.part, self.order, self.type, self.sink, self.t_release,
                       self.t_done):
            del column[:]


class SpillLog(TallyLog):
    """A completion log that keeps its rows on disk: every `CHUNK` rows are folded, as a
    `TallyLog` folds them, appended to one raw file per column in `folder`, then dropped.
    What a default `run` keeps: every row, in memory flat in the run's length."""

    __slots__ = ("files", "n", "where")

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where
        self.n = 0
        self.files = [open(os.path.join(where, f"{name}.bin"), "wb")  # noqa: SIM115
                      for name, _, _ in COLUMNS]

    def spill(self) -> None:
        columns: tuple[array, ...] = (self.part, self.order, self.type, self.sink,
                                      self.t_release, self.t_done)
        for f, column in zip(self.files, columns):
            column.tofile(f)
        self.n += len(self.t_done)
        super().spill()

    def close(self) -> SpilledRows:
        """Spill what is left and close the files: the rows, all on disk."""
        self.spill()
        for f in self.files:
            f.close()
        return SpilledRows(self.where, self.n)


def fold_rows(folder: Folder, ptype: np.ndarray, sink: np.ndarray, t_release: np.ndarray,
              t_done: np.ndarray) -> None:
    """Fold kept rows slice by slice, the slices a `TallyLog` would have folded."""
    for a in range(0, len(t_done), CHUNK):
        folder.fold(ptype[a:a + CHUNK], sink[a:a + CHUNK], t_release[a:a + CHUNK],
                    t_done[a:a + CHUNK])


def fold_result(r: RunResult) -> Tally:
    """The tally of a result that kept its rows but carries none (one made by hand in a
    test): its rows, in time order, through the same fold as an engine run's."""
    def before(product: str | None) -> int:
        return (sum(r.built_before.values()) if product is None
                else r.built_before.get(product, 0))
    folder = Folder(r.warmup, r.type_product, r.sink_scrap, None, StallFold(None, math.inf),
                    r.horizon, [(m.product, m.count - before(m.product)) for m in r.milestones],
                    r.reporting)
    c = r.completions
    order = np.argsort(c.t_done, kind="stable")
    fold_rows(folder, c.type[order], c.sink[order], c.t_release[order], c.t_done[order])
    return folder.record()
