"""The package type-checks: mypy reports no error in `sim/` (configured in pyproject.toml).

Why a test: type hints that are not checked drift into documentation that lies. Held in
`make test`, a new Optional attribute used without its check fails here, not in a run.
"""

from __future__ import annotations

import subprocess
import sys

from paths import ROOT


def test_mypy_finds_no_error_in_the_package() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
