"""The `gate` verb: KPI rules on a result folder; exit 1 when one fails (CI gating)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.analysis.gate import apply_gates
from sim.errors import UsageError
from sim.spec.gates import GatesFile
from sim.spec.loader import load_validated


def add_parser(verbs: argparse._SubParsersAction, debug: argparse.ArgumentParser) -> None:
    """The `gate` sub-command."""
    p = verbs.add_parser("gate", parents=[debug],
                         help="apply KPI gates to a results folder (exit 1 if one fails)")
    p.add_argument("gates", type=Path, help="gates file (YAML)")
    p.add_argument("result", type=Path, help="results folder of run or compare")


def cmd_gate(args: argparse.Namespace) -> int:
    """Load the gates (exit 2 when bad), apply them, print each verdict."""
    gates = load_validated(GatesFile, args.gates)
    if not args.result.is_dir():
        raise UsageError(f"{args.result}: not a results folder")
    verdicts = apply_gates(gates, args.result, args.gates)
    width = max(len(v.name) for v in verdicts)
    for v in verdicts:
        print(f"{'PASS' if v.passed else 'FAIL'}  {v.name.ljust(width)}  {v.kpi} = "
              f"{v.value:,.6g}; required {v.bound}")
    failed = [v.name for v in verdicts if not v.passed]
    print(f"{len(verdicts) - len(failed)} of {len(verdicts)} gates passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
