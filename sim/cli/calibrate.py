"""`calibrate`: fit a scenario's named parameters to named targets (a calibration file).

The work is `sim.experiments.calibrate`; this verb checks the options and passes them on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import Verbs, positive
from sim.experiments.calibrate import run_command


def add_parser(verbs: Verbs, debug: argparse.ArgumentParser) -> None:
    calibrate = verbs.add_parser("calibrate", parents=[debug],
                                 help="fit scenario parameters to targets (calibration file)")
    calibrate.add_argument("file", type=Path, help="calibration YAML file")
    calibrate.add_argument("--workers", "-w", type=int, help="processes")
    calibrate.add_argument("--replications", "-n", type=int,
                           help="replications per iteration (default: the file's)")
    calibrate.add_argument("--dry-run", action="store_true",
                           help="print the iterations, do not write the calibrated file")


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the calibration file's parameters; exit 1 if they cannot meet the targets."""
    positive(args.replications, "--replications")
    positive(args.workers, "--workers")
    return run_command(args.file, workers=args.workers, replications=args.replications,
                       dry_run=args.dry_run)
