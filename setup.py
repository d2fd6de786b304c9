"""Build: the engine compiled with mypyc where it can be, the same code in pure Python where not.

Why a setup.py beside pyproject.toml: the compiled core is a list of extension modules that
mypyc generates from `sim/engine/*.py` at build time, which the declarative table cannot say.
`pip install .` compiles the engine's modules (all but `PYTHON_ONLY`) into one shared library, `sim/engine/_core__mypyc`, and a small
extension per module; CPython imports an extension module before the `.py` beside it.

Pure Python, the same code, when:
- `DOUAI_SIM_PURE=1` is set at build time (the development install: an in-tree extension
  would shadow the `.py` files a developer edits);
- mypyc or a C compiler is missing, or the build fails: a warning, and the wheel carries the
  `.py` files only. A half-built core is never installed (its parts import each other).
`DOUAI_SIM_PURE=1` at run time forces the `.py` modules of a compiled install
(`sim/engine/__init__.py`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError, PlatformError

NO_BUILD = (CCompilerError, CompileError, ExecError, LinkError, PlatformError, OSError)

ROOT = Path(__file__).resolve().parent
GROUP = "sim.engine._core"


# Stay Python in every build: the switch, and the frozen result records that cross
# processes by pickle (mypyc's frozen classes cannot be unpickled; they are made once a run).
PYTHON_ONLY = ("__init__.py", "records.py")


def engine_modules() -> list[str]:
    """The engine's modules, as paths mypyc compiles (relative: setup runs in ROOT)."""
    return sorted(f"sim/engine/{p.name}" for p in (ROOT / "sim" / "engine").glob("*.py")
                  if p.name not in PYTHON_ONLY)


def warn(why: str) -> None:
    print(f"douai-sim: building the pure-Python engine ({why})", file=sys.stderr)


class AllOrNothing(build_ext):
    """build_ext that installs the whole compiled core or none of it."""

    def run(self) -> None:
        try:
            super().run()
        except NO_BUILD as exc:  # no compiler, no Python headers, a failed compile or link
            warn(f"the C build failed: {exc}")
            for path in self.get_outputs():
                Path(path).unlink(missing_ok=True)
            self.extensions = []


def extensions() -> list:
    if os.environ.get("DOUAI_SIM_PURE") == "1":
        warn("DOUAI_SIM_PURE=1")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        warn("mypyc is not installed")
        return []
    try:
        return mypycify(engine_modules(), group_name=GROUP, opt_level="3")
    except SystemExit as exc:  # mypyc reports what it cannot compile, then exits
        warn(f"mypyc refused the engine: {exc}")
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": AllOrNothing})
