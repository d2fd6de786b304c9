"""The line: machines, buffers, stations, paced lines, sources, the builder and the run.

An installed package may carry the engine compiled with mypyc (setup.py): an extension
module beside each `.py`, which CPython imports first. The compiled and the pure engine
are the same code and give the same results to the last bit (tests/engine/test_compiled.py).
`DOUAI_SIM_PURE=1` in the environment makes this package import its `.py` modules even
where extensions exist: for a profiler, a debugger, or to check the two against each other.
This module stays Python in every build: it holds that switch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec
from importlib.util import find_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
PURE = os.environ.get("DOUAI_SIM_PURE") == "1"


class SourceFirst(MetaPathFinder):
    """Finds `sim.engine.<module>` in its `.py` file, ahead of any extension module."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        source = HERE / f"{name}.py"
        if package != __name__ or not source.is_file():
            return None
        return spec_from_file_location(fullname, source)


if PURE:
    sys.meta_path.insert(0, SourceFirst())


def build() -> str:
    """Which engine runs here: "mypyc" (compiled) or "pure" (Python)."""
    spec = find_spec(f"{__name__}.kernel")  # compiled with every other engine module
    origin = spec.origin if spec is not None else None
    return "mypyc" if origin and origin.endswith(tuple(EXTENSION_SUFFIXES)) else "pure"
