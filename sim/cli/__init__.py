"""The command line: `python run_sim.py <verb> ...` (also the `douai-sim` console script).

Why: planners run scenarios from a shell or CI and must get either results or one clear
line saying what is wrong, never a traceback and never a half-written results folder
(docs/design.md §8). So every verb loads and validates everything first, runs, and only then
writes; scenario errors exit with status 2, unexpected ones with 3 (`--debug` re-raises),
Ctrl-C with 130.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

import sim
from sim.cli import bottleneck, calibrate, capacity, check, compare, gate, run, sweep, validate
from sim.cli.common import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_PIPE,
    EXIT_TERMINATED,
    EXIT_USAGE,
    debug_parent,
)
from sim.engine import build
from sim.errors import ScenarioError, Terminated, UsageError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its verbs, one module each."""
    debug = debug_parent()
    parser = argparse.ArgumentParser(
        prog="douai-sim", parents=[debug],
        description="Discrete-event production-line simulator driven by scenario YAML files.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {sim.__version__} (engine: {build()})")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    run.add_parser(verbs, debug)
    check.add_parsers(verbs, debug)
    validate.add_parser(verbs, debug)
    calibrate.add_parser(verbs, debug)
    compare.add_parser(verbs, debug)
    gate.add_parser(verbs, debug)
    bottleneck.add_parser(verbs, debug)
    capacity.add_parser(verbs, debug)
    sweep.add_parsers(verbs, debug)
    return parser


COMMANDS = {"run": run.cmd_run, "check": check.cmd_check, "schema": check.cmd_schema,
            "validate": validate.cmd_validate, "calibrate": calibrate.cmd_calibrate,
            "compare": compare.cmd_compare, "gate": gate.cmd_gate,
            "bottleneck": bottleneck.cmd_bottleneck, "capacity": capacity.cmd_capacity,
            "sweep": sweep.cmd_sweep, "merge": sweep.cmd_merge}


def _on_sigterm(main_pid: int) -> Any:
    """A SIGTERM handler: in this process, raise Terminated (handled as Ctrl-C is); in a
    process forked from it that kept the handler, die of SIGTERM as by default."""
    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != main_pid:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated()

    return handler


def _pipe_closed() -> int:
    """The output's reader went away (`... | head`): say nothing more, and point stdout at
    /dev/null so that no flush at exit fails again (the recipe of Python's signal docs)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_PIPE


def entry() -> None:
    """Process entry point (`run_sim.py`, the `douai-sim` script): exit with main's status.

    SIGTERM is handled as Ctrl-C is (nothing partial written, workers stopped), with exit
    status 143. After either the process ends at once (`os._exit`): its workers are stopped
    and nothing partial was written, while the interpreter's exit hook would join the
    process pool's management thread, which can wait forever on a worker terminated
    mid-message."""
    signal.signal(signal.SIGTERM, _on_sigterm(os.getpid()))
    code = main()
    try:
        sys.stdout.flush()  # what is still buffered, while a closed pipe can be handled
    except BrokenPipeError:
        code = _pipe_closed()
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default sys.argv[1:]), run the verb, return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    debug = getattr(args, "debug", False)
    try:
        return COMMANDS[args.verb](args)
    except ScenarioError as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        print(f"error: {err.filename}: {err.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print("terminated (SIGTERM): nothing written", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("interrupted: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _pipe_closed()
    except Exception as err:
        if debug:
            raise
        message = " ".join(str(err).split()) or "(no message)"
        print(f"internal error: {type(err).__name__}: {message} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
