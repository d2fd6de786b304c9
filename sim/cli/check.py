"""`check` and `schema`: a scenario looked at without running it, and the file format.

`check` loads, validates and builds (the structural checks of the model) and prints one
line describing the scenario; `schema` prints the JSON Schema editors and CI validate with.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli.common import EXIT_OK, Verbs, add_set, build_model, plausible
from sim.spec.loader import load_scenario, scenario_schema
from sim.spec.scenario import Scenario
from sim.spec.sweep import sweep_schema
from sim.spec.units import format_duration


def add_parsers(verbs: Verbs, debug: argparse.ArgumentParser) -> None:
    check = verbs.add_parser("check", parents=[debug],
                             help="load, validate and build a scenario without running it")
    check.add_argument("file", type=Path, help="scenario YAML file")
    add_set(check)

    schema = verbs.add_parser("schema", parents=[debug],
                              help="print the JSON Schema of the scenario format")
    schema.add_argument("--out", type=Path, help="write the schema to this file")
    schema.add_argument("--sweep", action="store_true",
                        help="the JSON Schema of the sweep file format instead")


def cmd_check(args: argparse.Namespace) -> int:
    """Load, validate and build without running; print a one-line description."""
    scenario = load_scenario(args.file, list(args.overrides))
    plausible(args.file, scenario)
    model = build_model(scenario)
    counts = ", ".join(_plural(len(getattr(scenario, kind)), kind[:-1])
                       for kind in ("stations", "buffers", "sources", "sinks"))
    print(f"OK: {scenario.name}: {counts}, horizon {_horizon(scenario, model.horizon)}")
    return EXIT_OK


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _horizon(scenario: Scenario, seconds: float) -> str:
    """The run length in readable units and its start date."""
    return f"{format_duration(float(seconds))} from {scenario.run.start}"


def cmd_schema(args: argparse.Namespace) -> int:
    """Print or write the JSON Schema (indent 2)."""
    text = json.dumps(sweep_schema() if args.sweep else scenario_schema(), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"schema written to {args.out}")
    return EXIT_OK
