"""Per-class copies of inherited methods, so that each class's hot code stays specialised.

CPython (3.11 on) specialises each bytecode instruction for the types it sees: an attribute
read `self.since` in `Machine.begin` becomes a direct slot read for one class. A method
inherited by two classes (`Machine.begin` runs for stations' servers and for paced
lines) sees both. Its reads then miss their caches and fall back to the generic path.
A small benchmark measures 40% on such a method; on the Douai year it is a few percent of
everything (bench_revisions).

The caches live in the code object, so `own_methods` gives a class its own copy of every
method it inherits from its bases. The copy has the same code and globals, and the
same defaults and closure (a zero-argument `super()` still resolves as in the original).
Behaviour is unchanged; only the caches are no longer shared.
`tests/engine/test_percls.py` checks the copies, and fails loudly if a new CPython makes
`code.replace()` return the same object.

`DOUAI_SIM_PERCLS=0` in the environment switches the copies off (a profiler or a compiler
that wants one code object per method); results are the same either way (tested).
"""

from __future__ import annotations

import os
from types import FunctionType
from typing import TypeVar

T = TypeVar("T", bound=type)

ENABLED = os.environ.get("DOUAI_SIM_PERCLS", "1") != "0"


def _copy(fn: FunctionType) -> FunctionType:
    new = FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__,
                       fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__qualname__ = fn.__qualname__
    new.__doc__ = fn.__doc__
    new.__module__ = fn.__module__
    new.__annotations__ = fn.__annotations__
    return new


def own_methods(cls: T) -> T:
    """Class decorator: copy into `cls` each plain method it inherits (not dunders);
    nothing when switched off."""
    if not ENABLED:
        return cls
    seen = set(vars(cls))
    for base in cls.__mro__[1:]:
        if base is object:
            continue
        for name, fn in vars(base).items():
            if name in seen:
                continue
            seen.add(name)  # the first definition along the MRO is the one inherited
            if isinstance(fn, FunctionType) and not name.startswith("__"):
                setattr(cls, name, _copy(fn))
    return cls
