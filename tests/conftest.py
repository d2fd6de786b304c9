"""Fixtures shared by the test folders, which mirror the packages of `sim/`.

The helpers every folder imports (`scenario_builder`, `factories`, `processes`, `paths`)
stand beside this file; pytest puts this folder on the import path (pyproject.toml) and
imports test files by path (`--import-mode=importlib`), so a test file's name need only
be unique within its folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from paths import DOUAI, EXAMPLES, ROOT


@pytest.fixture
def yaml_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a scenario (YAML text or a dict) into the test's folder; returns its path."""
    def write(content: str | dict[str, Any], name: str = "x.yaml") -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return ROOT


@pytest.fixture(scope="session")
def douai_2024() -> Path:
    """The Douai 2024 baseline scenario."""
    return DOUAI / "2024.yaml"


@pytest.fixture(scope="session")
def two_stations() -> Path:
    """The smallest example scenario (scenarios/examples/two_stations.yaml)."""
    return EXAMPLES / "two_stations.yaml"
