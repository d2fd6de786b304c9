"""One progress display for many runs: a bar on a terminal, dated lines in a CI log.

Why two forms: a carriage-return bar is unreadable in a CI log (one huge line, or a
thousand), while a terminal user wants the bar. So on a terminal tqdm draws it; anywhere
else a line is printed at each tenth of the runs and at most every `every` seconds:

    sweep store-vs-rate: 37/90 runs (41%), 1 failed, 2m05s elapsed, ETA 3m00s

The ETA divides the runs left by this session's rate (a resumed sweep does not count
the runs found done, which took no time now).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Progress:
    """Count finished runs (and failures) out of `total`, `done` of them found done.

    `unit` names what is counted (`runs` of a sweep, `replications` of a run); `advance`
    moves by a fraction of one (a replication simulated in this process reports how far
    it got), so a single long replication still prints its tenths."""

    def __init__(self, label: str, total: int, done: int = 0, *, stream: TextIO | None = None,
                 tty: bool | None = None, every: float = 30.0, enabled: bool = True,
                 unit: str = "runs") -> None:
        self.label, self.total, self.failed = label, total, 0
        self.done: float = done
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.tty = self.stream.isatty() if tty is None else tty
        self.every, self.enabled = every, enabled
        self.start = time.monotonic()
        self.found = done
        self.last_print = self.start
        self.last_tenth = (10 * done) // max(total, 1)
        self.bar = None
        self.printed: float = -1
        if enabled and self.tty:

            self.bar = tqdm(total=total, initial=done, desc=label, unit=unit.rstrip("s"),
                            file=self.stream, dynamic_ncols=True)
        elif enabled:
            self._line(f"{total} {unit}" + (f", {done} already done" if done else ""))

    def update(self, failed: bool = False) -> None:
        """One more run finished."""
        self.failed += failed
        self.advance(1.0)

    def advance(self, amount: float) -> None:
        """`amount` more of the work done (whole runs or a fraction of one)."""
        self.done += amount
        if self.bar is not None:
            self.bar.update(amount)
            self.bar.set_postfix_str(f"{self.failed} failed" if self.failed else "")
            return
        tenth = int(10 * self.done / max(self.total, 1) + 1e-9)
        now = time.monotonic()
        if self.enabled and (tenth > self.last_tenth or now - self.last_print >= self.every):
            self.last_tenth, self.last_print = tenth, now
            self._line(self.status())

    def status(self) -> str:
        """`37/90 runs (41%), 1 failed, 2m05s elapsed, ETA 3m00s`."""
        elapsed = time.monotonic() - self.start
        fresh = self.done - self.found
        done = f"{self.done:.0f}" if self.done == int(self.done) else f"{self.done:.1f}"
        text = (f"{done}/{self.total} {self.unit} "
                f"({100 * self.done / max(self.total, 1):.0f}%)")
        if self.failed:
            text += f", {self.failed} failed"
        text += f", {_clock(elapsed)} elapsed"
        if 0 < fresh and self.done < self.total - 1e-9:
            text += f", ETA {_clock(elapsed / fresh * (self.total - self.done))}"
        return text

    def close(self) -> None:
        """Final state (a last line in a log)."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.printed != self.done:
            self._line(self.status())

    def _line(self, text: str) -> None:
        self.printed = self.done
        print(f"{self.label}: {text}", file=self.stream, flush=True)
