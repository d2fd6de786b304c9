"""What produced a result: package versions, the git revision, the platform.

Every results folder carries a manifest (docs/design.md: reproducible); this module is its
one owner, for runs, comparisons and sweeps alike.
"""

from __future__ import annotations

import datetime
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import sim
from sim.engine import build
from sim.engine.records import RunResult

PACKAGES: tuple[str, ...] = ("simpy", "numpy", "scipy", "pydantic", "PyYAML", "matplotlib",
                             "pyarrow", "distributed")



def git_revision(where: Path) -> str | None:
    """Commit of the checkout holding `where`, suffixed `-dirty` if tracked files changed."""
    head = _git(where, "rev-parse", "HEAD")
    if head is None:
        return None
    status = _git(where, "status", "--porcelain", "--untracked-files=no")
    return head + ("-dirty" if status else "")


def _git(where: Path, *args: str) -> str | None:
    """Output of a git command (None if git is missing or fails)."""
    try:
        out = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def package_versions() -> dict[str, str]:
    """Versions of Python, this package and the libraries that shape results."""
    versions = {"python": platform.python_version(), "douai-sim": sim.__version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def complete_manifest(manifest: dict, results: list[RunResult]) -> dict[str, Any]:
    """The caller's manifest with what it lacks filled in (seeds, versions, git, platform)."""
    out = dict(manifest)
    out.setdefault("replications", len(results))
    out.setdefault("seeds", [{"replication": r.replication, "seed": r.seed} for r in results])
    if "versions" not in out or "git" not in out:
        out.setdefault("versions", package_versions())
        out.setdefault("git", git_revision(Path(__file__).resolve().parent))
    out.setdefault("engine", build())  # compiled (mypyc) or pure: same results, other speed
    out.setdefault("platform", {"system": platform.platform(), "machine": platform.machine(),
                                "python": sys.version.split()[0]})
    out.setdefault("written", datetime.datetime.now(datetime.UTC)
                   .isoformat(timespec="seconds"))
    return out

