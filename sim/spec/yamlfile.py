"""Reading a YAML file a person or an attacker wrote: only regular files, bounded in size,
in nesting (while composing, before PyYAML's recursion can overflow) and in the values its
aliases expand to; duplicate keys refused, merge keys supported, bad dates a YAML error.

Why its own module: every file the tool reads as YAML (scenarios, sweeps, gates,
calibration files, `--set` values) goes through these guards, so a hostile file is one
clear error wherever it is given.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ScenarioError


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (two stations with one name) and nesting past
    MAX_DEPTH while composing (before PyYAML's recursion can overflow the stack), and
    supports merge keys (`<<: *defaults`): merged keys come first, the mapping's own win."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                raise yaml.composer.ComposerError(
                    None, None, f"values nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # merged keys may be overridden by the mapping's own
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            if isinstance(key, (str, int, float, bool)):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date like 2024-13-01 is a YAML error with a line number, not a crash."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r} ({exc})", node.start_mark
            ) from None


StrictLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp
)


def parse_yaml(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ScenarioError(file, "", f"invalid YAML{where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(file, "", f"invalid YAML: {exc}") from None


def read_bounded(path: Path, file: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (default MAX_FILE_BYTES).

    Checked on the open file, not the name: a device (`/dev/zero`), a FIFO (which would
    block) or a socket is refused, and a file growing while read is cut at the limit."""
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ScenarioError(file, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(file, "", "expected a scenario file, not a folder") from None
    except OSError as exc:
        raise ScenarioError(file, "", f"cannot read the file ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError(file, "", "expected a scenario file, not a folder")
        if not stat.S_ISREG(mode):
            raise ScenarioError(file, "", "not a regular file (a device, FIFO or socket); "
                                          "give a YAML file")
        try:
            raw = fh.read(limit + 1)
        except OSError as exc:
            raise ScenarioError(file, "", f"cannot read the file ({exc.strerror})") from None
    if len(raw) > limit:
        raise ScenarioError(file, "", f"the file is larger than {limit:,} bytes; "
                                      "a scenario is a few kB of YAML")
    return raw


MAX_FILE_BYTES = 10_000_000  # a scenario is a few kB; this bounds what is parsed at all
MAX_VALUES = 1_000_000       # values after alias expansion ("billion laughs" guard)
MAX_DEPTH = 64               # nesting of mappings and lists


def bounded(data: Any, file: str) -> None:
    """Refuse YAML whose aliases expand past MAX_VALUES values or nest past MAX_DEPTH.

    Aliases are shared references after parsing, so sizes are counted once per distinct
    node (memoised by id): the cost is linear in the file, whatever it would expand to."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}

    def walk(node: Any, level: int) -> tuple[int, int]:
        if level > MAX_DEPTH:
            raise ScenarioError(file, "", f"values nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, (dict, list)):
            return 1, 0
        key = id(node)
        if key not in size:
            children = node.values() if isinstance(node, dict) else node
            n, d = 1, 0
            for child in children:
                cn, cd = walk(child, level + 1)
                n, d = n + cn, max(d, cd + 1)
                if n > MAX_VALUES:
                    raise ScenarioError(file, "", f"the file expands to more than "
                                        f"{MAX_VALUES:,} values (YAML aliases referring to "
                                        "aliases?)")
            size[key], depth[key] = n, d
        if level + depth[key] > MAX_DEPTH:
            raise ScenarioError(file, "", f"values nested deeper than {MAX_DEPTH} levels")
        return size[key], depth[key]

    walk(data, 0)
