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


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Progress:
    """Count finished runs (and failures) out of `total`, `done` of them found done."""

    def __init__(self, label: str, total: int, done: int = 0, *, stream: TextIO | None = None,
                 tty: bool | None = None, every: float = 30.0, enabled: bool = True) -> None:
        self.label, self.total, self.done, self.failed = label, total, done, 0
        self.stream = sys.stderr if stream is None else stream
        self.tty = self.stream.isatty() if tty is None else tty
        self.every, self.enabled = every, enabled
        self.start = time.monotonic()
        self.found = done
        self.last_print = self.start
        self.last_tenth = (10 * done) // max(total, 1)
        self.bar = None
        self.printed = -1
        if enabled and self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=label, unit="run",
                            file=self.stream, dynamic_ncols=True)
        elif enabled:
            self._line(f"{total} runs" + (f", {done} already done" if done else ""))

    def update(self, failed: bool = False) -> None:
        """One more run finished."""
        self.done += 1
        self.failed += failed
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{self.failed} failed" if self.failed else "")
            return
        tenth = (10 * self.done) // max(self.total, 1)
        now = time.monotonic()
        if self.enabled and (tenth > self.last_tenth or now - self.last_print >= self.every):
            self.last_tenth, self.last_print = tenth, now
            self._line(self.status())

    def status(self) -> str:
        """`37/90 runs (41%), 1 failed, 2m05s elapsed, ETA 3m00s`."""
        elapsed = time.monotonic() - self.start
        fresh = self.done - self.found
        text = f"{self.done}/{self.total} runs ({100 * self.done / max(self.total, 1):.0f}%)"
        if self.failed:
            text += f", {self.failed} failed"
        text += f", {_clock(elapsed)} elapsed"
        if 0 < fresh and self.done < self.total:
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
