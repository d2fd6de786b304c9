"""`validate`: the engine against analytic results (queueing theory, availability).

Exit 1 when a case falls outside its interval: the verb is a gate for CI as well as a
report for a reader who wants to know why the engine can be trusted.
"""

from __future__ import annotations

import argparse

from sim.cli.common import EXIT_FAIL, EXIT_OK, Verbs, positive
from sim.errors import UsageError
from sim.verify import cases as verify


def add_parser(verbs: Verbs, debug: argparse.ArgumentParser) -> None:
    validate = verbs.add_parser("validate", parents=[debug],
                                help="check the engine against analytic results")
    validate.add_argument("cases", nargs="*", metavar="CASE", help="case names (default: all)")
    validate.add_argument("--replications", "-n", type=int, help="replications per case")
    validate.add_argument("--workers", "-w", type=int, help="processes")


def cmd_validate(args: argparse.Namespace) -> int:
    """Run the analytic verification cases; exit 1 if any falls outside its interval."""
    positive(args.replications, "--replications")
    positive(args.workers, "--workers")
    if args.replications == 1:
        raise UsageError("--replications must be >= 2: a confidence interval needs two")
    unknown = sorted(set(args.cases) - set(verify.case_names()))
    if unknown:
        raise UsageError(f"unknown case(s) {', '.join(unknown)}; "
                         f"known: {', '.join(verify.case_names())}")
    results = verify.run_cases(names=args.cases or None, replications=args.replications,
                               workers=args.workers)
    print(verify.format_table(results))
    return EXIT_OK if all(c.within for c in results) else EXIT_FAIL
