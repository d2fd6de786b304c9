"""What every verb shares: exit statuses, common options and the checks before a run.

Why: each verb is its own module (`sim/cli/<verb>.py`), but all of them must answer bad
input the same way (one line, exit 2) and check a scenario's plausibility before they
simulate; that is written once here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from sim.engine.model import Model, build
from sim.errors import ScenarioError, UsageError
from sim.spec.plausibility import check_plausible
from sim.spec.scenario import Scenario

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED = 143  # SIGTERM, 128 + 15
EXIT_PIPE = 141  # the output's reader closed it (SIGPIPE), 128 + 13
EXIT_MEANINGLESS = 4  # --strict: a replication locked up or stalled


def add_set(parser: argparse.ArgumentParser) -> None:
    """The `--set PATH=VALUE` override option."""
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE", help="override one field, e.g. run.duration='2 d'")


def positive(value: int | None, flag: str) -> None:
    """Refuse a count option below 1 (one line, exit 2)."""
    if value is not None and value < 1:
        raise UsageError(f"{flag} must be >= 1 (got {value})")


def plausible(file: Path, scenario: Scenario, force: bool = False) -> None:
    """Warn on suspicious inputs; refuse implausible ones (ScenarioError) unless forced."""
    refusals, warnings = check_plausible(scenario)
    for path, message in warnings:
        print(f"warning: {file}: {path}: {message}", file=sys.stderr)
    if refusals and not force:
        path, message = refusals[0]
        raise ScenarioError(str(file), path, message)


def rows_scratch() -> tempfile.TemporaryDirectory:
    """Where runs keep their per-vehicle rows on disk meanwhile (`run_replications(rows=)`):
    a folder in the system's temporary folder, removed on leaving, error or Ctrl-C
    included, so that a verb's memory stays flat in the horizon and the replications."""
    return tempfile.TemporaryDirectory(prefix="douai-sim-rows-")


def build_model(scenario: Scenario, activity: bool = False, rows: str | None = None) -> Model:
    """The model of replication 0 (building it runs the structural checks)."""
    return build(scenario, replication=0, activity=activity, rows=rows)


def debug_parent() -> argparse.ArgumentParser:
    """The `--debug` option every verb accepts."""
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks of unexpected errors")
    return debug


Verbs = Any  # argparse's private _SubParsersAction
