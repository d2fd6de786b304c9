"""Turn a pydantic ValidationError into the one line a scenario author needs.

Pydantic reports locations in its own terms (union members, tags, `[key]` markers) and in
its own words. Here the location is re-walked through the author's data, keeping only the
steps that exist there, so the path is exactly what they would type after `--set`; the
message says what was expected and what was found, in YAML terms.
"""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.errors import ScenarioError
from sim.spec.base import Spec, shown

Path = tuple[Any, ...]

_EXPECTED = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "date_type": "expected an ISO date like 2024-01-01",
    "date_parsing": "expected an ISO date like 2024-01-01",
    "date_from_datetime_parsing": "expected an ISO date like 2024-01-01",
    "date_from_datetime_inexact": "expected a date without a time of day",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "iterable_type": "expected a list",
}
_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


def _field_names() -> list[str]:
    """Every field name (and alias, and shorthand) a scenario may use."""
    names = {"extends", "mtbf", "mttr", "end"}
    todo = list(Spec.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        for name, field in cls.model_fields.items():
            names.add(field.alias or name)
    return sorted(names)


def _got(x: Any) -> str:
    text = shown(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _step(node: Any, item: Any) -> tuple[bool, Any]:
    if isinstance(node, dict) and not isinstance(item, bool) and item in node:
        return True, node[item]
    if isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
        return True, node[item]
    return False, None


def walk(data: Any, parts: list[Any], *, keep_unknown: bool) -> Path:
    """Follow `parts` through `data`, matching dotted names greedily; return the keys used.

    Parts absent from the data are dropped (pydantic's internal names) unless
    `keep_unknown`, in which case they are kept and the walk stops descending.
    """
    path: list[Any] = []
    node: Any = data
    i = 0
    while i < len(parts):
        found = False
        if isinstance(node, dict):
            for j in range(len(parts), i + 1, -1):
                key = ".".join(str(p) for p in parts[i:j])
                if key in node:
                    path.append(key)
                    node, i, found = node[key], j, True
                    break
        if not found:
            item = parts[i]
            if isinstance(node, list) and isinstance(item, str) and item.isdigit():
                item = int(item)
            found, child = _step(node, item)
            if found:
                path.append(item)
                node = child
            elif keep_unknown:
                path.append(parts[i])
                node = None
            i += 1
    return tuple(path)


def error_path(data: Any, error: ErrorDetails) -> Path:
    """The author's field path of a pydantic error (for a missing or unknown field: the
    mapping that should hold it or holds it)."""
    loc = list(error["loc"])
    path = walk(data, loc, keep_unknown=False)
    if error["type"] == "extra_forbidden" and path:
        path = path[:-1]
    extra = (error.get("ctx") or {}).get("path", "")
    if extra:
        path += walk(_node_at(data, path), extra.split("."), keep_unknown=True)
    return path


def _node_at(data: Any, path: Path) -> Any:
    node = data
    for item in path:
        _, node = _step(node, item)
    return node


def error_message(error: ErrorDetails) -> str:
    """What was expected and what was found."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "scenario":
        return str(ctx["message"])
    if kind == "missing":
        return f"missing required field {error['loc'][-1]!r}"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        close = difflib.get_close_matches(key, _field_names(), n=1)
        if close and close[0] == key:
            return f"unknown field {key!r} here (it is a field of another section)"
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown field {key!r}{hint}"
    if kind in _EXPECTED:
        text = _EXPECTED[kind]
    elif kind in _BOUNDS:
        name, op = _BOUNDS[kind]
        text = f"must be {op} {ctx[name]}"
    elif kind == "literal_error":
        text = f"expected {ctx['expected']}"
    elif kind == "too_short":
        text = f"expected at least {ctx['min_length']} item(s)"
    else:
        text = error["msg"]
    return f"{text} (got {_got(error.get('input'))})"


def first_error(exc: ValidationError, data: Any) -> tuple[Path, str]:
    """Path and message of the first error of a ValidationError; an unknown field comes
    before the others, since a typo (`capacty`) also makes a required field missing."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    return error_path(data, error), error_message(error)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: Any, file: str) -> M:
    """`data` validated as `model`; else a ScenarioError naming the file, the field path
    and what was expected (the one way every input file's errors are reported)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where, message = first_error(exc, data)
        raise ScenarioError(file, ".".join(str(p) for p in where), message) from None
