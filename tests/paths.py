"""Where the tests find the repository's files, whatever folder a test stands in."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
DATA = TESTS / "data"
BENCH = ROOT / "bench"
SCENARIOS = ROOT / "scenarios"
DOUAI = SCENARIOS / "douai"
EXAMPLES = SCENARIOS / "examples"
