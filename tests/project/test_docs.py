"""The documentation points only at what exists: every relative link of the Markdown files
names a file of the repository and, with `#anchor`, a heading in it; no file points to a
file outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from paths import ROOT

MARKDOWN = sorted(p for p in ROOT.rglob("*.md")
                  if not any(part.startswith(".") or part in ("results",)
                             for part in p.relative_to(ROOT).parts))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#{1,6}\s+(.*)", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
            out.add(text.replace(" ", "-"))
    return out


@pytest.mark.parametrize("doc", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+://|^mailto:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        assert path.exists(), f"{doc.name}: {target}: no such file"
        assert ROOT in path.parents or path == ROOT, f"{doc.name}: {target} leaves the repo"
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path), f"{doc.name}: {target}: no such heading"


def test_no_tracked_file_points_outside_the_repository() -> None:
    out = subprocess.run(["git", "grep", "-nE", r"\.\./shared/|DESIGN\.md|STYLE\.md"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode == 128:
        pytest.skip("not a git checkout")
    assert out.stdout == ""
