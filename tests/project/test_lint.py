"""The code is ruff-clean (rules in pyproject.toml): held in `make test`, not by memory."""

from __future__ import annotations

import subprocess
import sys

from paths import ROOT


def test_ruff_finds_nothing_in_the_code_tests_and_benches() -> None:
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "sim", "tests", "bench",
                          "setup.py", "run_sim.py"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
