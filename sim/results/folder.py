"""The results folder as evidence: made whole or not at all, never silently replaced.

Everything a verb writes goes into a hidden temporary sibling (``.<name>.tmp-<pid>``) and is
renamed into place at the end (`ResultsWriter`); an existing folder is kept and the new
one goes to ``<name>-2``, ``-3``, ... The output base and folder name are checked before
anything runs (`check_output`, `target_folder`). Strict JSON and ordered YAML writers.
"""

from __future__ import annotations

import datetime
import errno
import json
import math
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import yaml

from sim.errors import UsageError
from sim.spec.base import folder_name_problem


def check_output(base: Path) -> None:
    """Before any simulation: `base` must be (or can become) a writable folder.

    Raises UsageError naming the path, so a long run is never lost to an output folder
    that cannot be written: a file in the way, a dangling symlink or a symlink loop, a
    read-only parent, a pseudo file system (/sys, /proc). What it proves it proves by
    doing: a probe folder with a file in it is made and removed in the deepest folder
    that exists."""

    base = Path(base)
    existing = base
    while True:
        try:
            mode = os.stat(existing).st_mode
            break
        except FileNotFoundError:
            if os.path.islink(existing):
                raise UsageError(f"{base}: cannot create the output folder ({existing} is a "
                                 "symlink to nothing)") from None
            existing = existing.parent
        except OSError as exc:
            what = "a symlink loop" if exc.errno == errno.ELOOP else exc.strerror
            raise UsageError(f"{base}: cannot use the output folder ({existing}: {what})"
                             ) from None
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{base}: the output folder is a file" if existing == base else
                         f"{base}: cannot create the output folder ({existing} is a file)")
    try:
        probe = tempfile.mkdtemp(prefix=".probe-", dir=existing)
        try:
            with open(os.path.join(probe, "probe"), "wb") as fh:
                fh.write(b"probe")
        finally:
            shutil.rmtree(probe, ignore_errors=True)
    except OSError as exc:
        raise UsageError(f"{base}: cannot write there ({existing}: {exc.strerror})") from None


def target_folder(base: Path, name: str, what: str) -> Path:
    """`base/name`, when `name` is one safe folder name (else a UsageError naming `what`,
    the option or file field it came from): a results folder never lands outside `base`."""

    problem = folder_name_problem(name)
    if problem:
        raise UsageError(f"{what}: {problem}")
    return Path(base) / name


def prepare_dir(base: Path, name: str, overwrite: bool = False) -> Path:
    """The folder to write: ``base/name``, or the first free ``name-2``, ``-3``... if taken.

    Nothing is created (the writer creates ``base`` with its temporary folder, and removes
    it again if the write fails); with ``overwrite`` an existing ``base/name`` is returned
    (and replaced only when the new results are complete).
    """
    base = Path(base)
    remove_stale(base)
    target = base / name
    if overwrite or not target.exists():
        return target
    chosen = _next_free(base, name)
    print(f"{target} exists; writing to {chosen}", file=sys.stderr)
    return chosen


def remove_stale(base: Path) -> list[Path]:
    """Remove the temporary folders (`.NAME.tmp-PID`, `.NAME.old-PID`) left in `base` by
    writers that died (their process is gone); never a complete result, never the folder
    of a process still running. Returns what was removed."""
    removed = []
    for path in base.glob(".*.*-*"):
        stem, _, pid = path.name.rpartition("-")
        if not (stem.endswith((".tmp", ".old")) and pid.isdigit() and path.is_dir()):
            continue
        try:
            os.kill(int(pid), 0)
            continue  # its writer is alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, owned by someone else
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _next_free(base: Path, name: str) -> Path:
    k = 2
    while (base / f"{name}-{k}").exists():
        k += 1
    return base / f"{name}-{k}"


class ResultsWriter:
    """Context manager: yields a temporary folder, renames it to the target on success,
    removes it on any exception (so a crash leaves nothing partial)."""

    def __init__(self, target: Path, overwrite: bool = False) -> None:
        self.target = Path(target)
        self.overwrite = overwrite
        self.tmp = self.target.parent / f".{self.target.name}.tmp-{os.getpid()}"
        self.final: Path | None = None
        self.made: list[Path] = []  # folders above tmp that this writer created

    def __enter__(self) -> Path:
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        parent = self.tmp.parent
        while not parent.exists():
            self.made.append(parent)
            parent = parent.parent
        self.tmp.mkdir(parents=True)
        return self.tmp

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            for folder in self.made:  # deepest first; only if nothing else came in
                try:
                    folder.rmdir()
                except OSError:
                    break
            return
        self.final = self.finalise()

    def finalise(self) -> Path:
        """Rename the temporary folder into place (next free name if the target appeared)."""
        if self.overwrite and self.target.exists():
            old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
            self.target.rename(old)
            self.tmp.rename(self.target)
            shutil.rmtree(old, ignore_errors=True)
            return self.target
        target = self.target
        while True:
            if not target.exists():
                try:
                    self.tmp.rename(target)
                    return target
                except OSError:
                    if not target.exists():
                        raise
            target = _next_free(target.parent, self.target.name)
            print(f"{self.target} appeared meanwhile; writing to {target}", file=sys.stderr)


def _plain(value: Any, json_safe: bool = False) -> Any:
    """Plain data for YAML/JSON: tuples to lists, numpy to Python, paths to str; with
    `json_safe` also nan/inf to None (strict JSON) and dates to ISO strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v, json_safe) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [_plain(v, json_safe) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Path):
        return str(value)
    if json_safe and isinstance(value, float) and not math.isfinite(value):
        return None
    if json_safe and isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def write_json(path: Path, data: dict) -> None:
    """Strict JSON (no NaN tokens), indented."""
    text = json.dumps(_plain(data, json_safe=True), indent=2, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def write_yaml(path: Path, data: dict) -> None:
    """YAML in the mapping order given (safe_dump, sort_keys=False)."""
    path.write_text(yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True),
                    encoding="utf-8")

