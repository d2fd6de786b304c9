"""Read a scenario file: YAML, `extends:` chains, `--set` overrides, one clear error.

The loader is the only place that sees raw YAML. It merges a file over the base it
`extends` (mappings key by key, lists and scalars replaced, `null` removes a key), applies
command-line overrides, fills the name from the file stem when the file does not give one,
and validates the result into a frozen `Scenario`. Every failure becomes a `ScenarioError`
naming the file the offending key came from, the field path and what was expected.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.spec.export import resolved_dict, scenario_schema
from sim.spec.messages import M, first_error, validated, walk
from sim.spec.scenario import Scenario
from sim.spec.tables import read_periods
from sim.spec.units import show_value
from sim.spec.yamlfile import StrictLoader, bounded, parse_yaml, read_bounded

__all__ = ["Source", "load_dict", "load_scenario", "load_with_sources", "read_yaml",
           "resolved_dict", "scenario_schema"]

Origin = dict[tuple[Any, ...], str]


@dataclass(frozen=True)
class Source:
    """A file a scenario (or sweep, or gates file) was read from, as its bytes were when
    read: what a run records (hash, text) even if the file changes while it runs."""

    path: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def record(self) -> dict[str, str]:
        """The manifest entry: path and SHA-256 of the bytes read."""
        return {"path": self.path, "sha256": self.sha256}


def _read(path: Path, file: str, sources: list[Source] | None = None) -> dict[str, Any]:
    raw = read_bounded(path, file)
    if sources is not None:
        sources.append(Source(file, raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(file, "", f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at "
                                      f"position {exc.start} cannot be decoded (save the "
                                      "file as UTF-8)") from None
    data = parse_yaml(text, file)
    bounded(data, file)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ScenarioError(file, "", f"expected a mapping of scenario sections (got {got})")
    return data


def _mark(data: Any, prefix: tuple[Any, ...], file: str, origin: Origin) -> None:
    """Record that every key under `prefix` comes from `file`."""
    origin[prefix] = file
    if isinstance(data, dict):
        for key, value in data.items():
            _mark(value, (*prefix, key), file, origin)


def _merge(base: dict[str, Any], child: dict[str, Any], prefix: tuple[Any, ...], file: str,
           origin: Origin) -> dict[str, Any]:
    """Deep-merge child over base: mappings merge, others replace, null removes.

    A merged mapping is attributed to the child, the last file that changed it.
    """
    out = dict(base)
    for key, value in child.items():
        path = (*prefix, key)
        if isinstance(key, str) and key[-1:] in ("+", "-") and len(key) > 1:
            out[key[:-1]] = _merge_list(out.get(key[:-1]), key, value, path, file)
            _mark(out[key[:-1]], (*prefix, key[:-1]), file, origin)
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, path, file, origin)
            origin[path] = file
        else:
            out[key] = value
            _mark(value, path, file, origin)
    return out


def _merge_list(base: Any, key: str, value: Any, path: tuple[Any, ...], file: str
                ) -> list[Any]:
    """`key+: [items]` appends to the base's list `key`; `key-: [items]` removes the base's
    items that match one given (equal, or for a mapping, agreeing on every key given:
    `changes-: [{from: 2025-10-13}]`). So a variant adds or removes one holiday, shutdown
    or calendar change instead of restating the list."""
    name, where = key[:-1], ".".join(str(p) for p in path)
    if not isinstance(value, list):
        raise ScenarioError(file, where, f"'{key}' takes a list of items to "
                                         f"{'add to' if key.endswith('+') else 'remove from'} "
                                         f"'{name}'")
    if base is None:
        base = []
    if not isinstance(base, list):
        raise ScenarioError(file, where, f"'{key}' merges lists, and '{name}' is not a list "
                                         "(a mapping merges key by key without a suffix)")
    if key.endswith("+"):
        return [*base, *value]
    for item in value:
        if not any(_matches(x, item) for x in base):
            raise ScenarioError(file, where, f"no item of '{name}' matches {show_value(item)} "
                                             "to remove")
    return [x for x in base if not any(_matches(x, item) for item in value)]


def _matches(item: Any, pattern: Any) -> bool:
    if isinstance(item, dict) and isinstance(pattern, dict):
        return all(k in item and item[k] == v for k, v in pattern.items())
    return bool(item == pattern)


def _tree(path: Path, file: str, chain: list[tuple[Path, str]], top_dir: Path,
          origin: Origin, sources: list[Source]) -> dict[str, Any]:
    """Load a file and, recursively, the files it extends; merge them."""
    data = _read(path, file, sources)
    base_name = data.pop("extends", None)
    if base_name is None:
        _mark(data, (), file, origin)
        return data
    if not isinstance(base_name, str):
        raise ScenarioError(file, "extends", f"expected a file name (got {show_value(base_name)})")
    base_path = path.parent / base_name
    base_file = os.path.normpath(os.path.join(os.path.dirname(file), base_name))
    here = [*chain, (path.resolve(), file)]
    seen = [p for p, _ in here]
    if base_path.resolve() in seen:
        start = seen.index(base_path.resolve())
        names = [os.path.relpath(p, top_dir) for p in seen[start:]]
        names.append(os.path.relpath(base_path.resolve(), top_dir))
        raise ScenarioError(file, "extends", "cycle in extends: " + " -> ".join(names))
    if not base_path.is_file():
        raise ScenarioError(file, "extends", f"file not found: {base_file}")
    base = _tree(base_path, base_file, here, top_dir, origin, sources)
    return _merge(base, data, (), file, origin)


def _plain(x: Any) -> Any:
    """A copy without shared sub-objects (YAML anchors), so overrides touch one place."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def path_keys(data: Any, parts: list[str]) -> list[Any]:
    """Keys along a dotted path: existing (possibly dotted or integer) keys, then new ones."""
    keys: list[Any] = []
    node, i = data, 0
    while i < len(parts):
        if isinstance(node, list) and parts[i].isdigit() and int(parts[i]) < len(node):
            keys.append(int(parts[i]))
            node, i = node[int(parts[i])], i + 1
            continue
        if not isinstance(node, dict):
            break
        for j in range(len(parts), i, -1):
            key: Any = ".".join(parts[i:j])
            if key not in node and key.isdigit() and int(key) in node:
                key = int(key)
            if key in node:
                keys.append(key)
                node, i = node[key], j
                break
        else:
            break
    return keys + parts[i:]


COLLECTIONS = {"products": "product", "calendars": "calendar", "sources": "source",
               "stations": "station", "buffers": "buffer", "sinks": "sink",
               "changes": "change", "milestones": "milestone", "reporting": "reporting window"}


def _unknown_name(data: dict[str, Any], keys: list[Any], where: str) -> None:
    """Refuse an override that would create a section or an object by a misspelt name:
    `sation.x=1`, or `stations.paintshop.servers=2` when there is no station `paintshop`
    (setting a field of an object that does not exist). A whole new object
    (`stations.extra={cycle: 60 s}`) may still be added."""
    fields = {f.alias or n for n, f in Scenario.model_fields.items()} | {"extends"}
    top = str(keys[0])
    if top not in data and top not in fields:
        close = difflib.get_close_matches(top, sorted(fields), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ScenarioError(where, top, f"unknown section {top!r}{hint}")
    kind = COLLECTIONS.get(top)
    named = data.get(top)
    if kind and len(keys) >= 3 and isinstance(named, dict) and keys[1] not in named:
        close = difflib.get_close_matches(str(keys[1]), [str(k) for k in named], n=1)
        hint = (f" (did you mean {close[0]!r}?)" if close else
                f"; the {top} are: {', '.join(map(str, named)) or '(none)'}")
        raise ScenarioError(where, f"{top}.{keys[1]}", f"unknown {kind} {str(keys[1])!r}{hint}")


def _override(data: dict[str, Any], text: str, file: str, origin: Origin) -> None:
    """Apply one `--set PATH=VALUE`, in place. Errors, and later validation errors in what
    it set, name the command line (`--set PATH=VALUE`), not the scenario file."""
    file = f"--set {text}"
    if "=" not in text:
        raise ScenarioError(file, "", f"bad --set {text!r}: expected PATH=VALUE")
    dotted, raw = (part.strip() for part in text.split("=", 1))
    parts = dotted.split(".")
    if not all(parts):
        raise ScenarioError(file, dotted, f"bad --set {text!r}: empty part in the path")
    try:
        value = yaml.load(raw, Loader=StrictLoader) if raw else None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(file, dotted, f"bad --set value {raw!r}: {problem}") from None
    keys = path_keys(data, parts)
    _unknown_name(data, keys, file)
    parent: Any = data
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(parent, list):
            index = int(key) if str(key).isdigit() else -1
            if not 0 <= index < len(parent):
                raise ScenarioError(file, dotted, f"no list item {key} ({len(parent)} items)")
            if last:
                parent[index] = value
            parent = parent[index]
        elif isinstance(parent, dict):
            if last and value is None:
                parent.pop(key, None)
            elif last:
                parent[key] = value
            elif parent.get(key) is None:
                parent[key] = {}
            parent = parent.get(key)
        else:
            where = ".".join(str(k) for k in keys[:i])
            raise ScenarioError(file, dotted,
                                f"cannot set {dotted!r}: {where} is not a mapping or list")
    at = tuple(keys)
    for stale in [k for k in origin if k[: len(at)] == at]:
        del origin[stale]
    _mark(value, at, file, origin)


def read_yaml(path: str | Path, sources: list[Source] | None = None) -> dict[str, Any]:
    """A YAML mapping file (gates, ...) read with the scenario files' guards and errors;
    its bytes are appended to `sources` when given."""
    return _read(Path(path), str(path), sources)


def load_validated(model: type[M], path: str | Path, sources: list[Source] | None = None
                   ) -> M:
    """A YAML input file (sweep, gates) read with the guards and validated as `model`;
    one ScenarioError naming the file and field when it does not fit."""
    return validated(model, read_yaml(path, sources), str(path))


def load_dict(path: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Merged raw data of a scenario file, after `extends` and `--set`, before validation."""
    data, _ = _load_raw(path, overrides, [])
    return data


def _load_raw(path: str | Path, overrides: Sequence[str], sources: list[Source]
              ) -> tuple[dict[str, Any], Origin]:
    path = Path(path)
    file = str(path)
    origin: Origin = {}
    data = _plain(_tree(path, file, [], path.resolve().parent, origin, sources))
    if origin.get(("name",)) != file or data.get("name") is None:
        data["name"] = path.stem
    for text in overrides:
        _override(data, text, file, origin)
    _tables(data, origin, sources)
    return data, origin


def _tables(data: dict[str, Any], origin: Origin, sources: list[Source]) -> None:
    """Replace `periods: {table: FILE, sheet: NAME}` of a plan or order book by the periods
    the table holds (`sim.spec.tables`), read with the scenario files' guards and
    snapshotted with them; FILE is relative to the file (or cwd, for --set) that named it."""

    sources_spec = data.get("sources")
    for name, src in sources_spec.items() if isinstance(sources_spec, dict) else ():
        for book in ("plan", "demand"):
            spec = src.get(book) if isinstance(src, dict) else None
            if not isinstance(spec, dict) or not isinstance(spec.get("periods"), dict):
                continue
            ref = spec["periods"]
            at = ("sources", name, book, "periods")
            setter = _blame(origin, at, "")
            where = ".".join(map(str, at))
            unknown = sorted(set(ref) - {"table", "sheet"})
            if unknown or not isinstance(ref.get("table"), str):
                raise ScenarioError(setter, where, "expected a list of periods, or "
                                    "{table: FILE, sheet: NAME} naming a CSV or Excel file"
                                    + (f" (unknown key {unknown[0]!r})" if unknown else ""))
            base = Path(setter).parent if not setter.startswith("--set ") else Path()
            table = os.path.normpath(base / ref["table"])
            raw = read_bounded(Path(table), table)
            sources.append(Source(table, raw))
            spec["periods"] = read_periods(raw, table, ref.get("sheet"))
            _mark(spec["periods"], at, table, origin)


def _blame(origin: Origin, path: tuple[Any, ...], default: str) -> str:
    """The file that set the longest prefix of `path`."""
    for n in range(len(path), -1, -1):
        if path[:n] in origin:
            return origin[path[:n]]
    return default


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load, merge, override and validate a scenario file; raise ScenarioError if bad."""
    return load_with_sources(path, overrides)[0]


def load_with_sources(path: str | Path, overrides: Sequence[str] = ()
                      ) -> tuple[Scenario, tuple[Source, ...]]:
    """The scenario and the bytes of every file it was read from (top first, then the
    files it extends), snapshotted at load: provenance records these, never the files
    as they are when the run ends."""
    sources: list[Source] = []
    data, origin = _load_raw(path, overrides, sources)
    try:
        return Scenario.model_validate(data), tuple(sources)
    except ValidationError as exc:
        where, message = first_error(exc, data)
        dotted = ".".join(str(p) for p in where)
        extra = next((e for e in exc.errors() if e["type"] == "extra_forbidden"), None)
        # an unknown key is the fault of whatever wrote it, not of the mapping holding it
        culprit = where if extra is None else walk(data, list(extra["loc"]),
                                                   keep_unknown=False)
        raise ScenarioError(_blame(origin, culprit, str(path)), dotted, message) from None
