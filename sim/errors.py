"""The one error a scenario author sees.

A bad scenario must produce a single line that names the file, the field path inside it and
what was expected, e.g. `scenarios/x.yaml: stations.s1.cycle: expected a duration ...`, so
the CLI can print it and exit without a traceback.
"""

from __future__ import annotations


class ScenarioError(Exception):
    """A problem in a scenario file: where (file, dotted field path) and what."""

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file = str(file)
        self.path = path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}: {self.path}: {self.message}"
        return f"{self.file}: {self.message}"

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        return (type(self), (self.file, self.path, self.message))


class UsageError(Exception):
    """A request that cannot be honoured (unknown case name, results that do not pair...):
    exit status 2, nothing written."""


class Terminated(KeyboardInterrupt):
    """SIGTERM received (a CI timeout, `kill`, a scheduler): handled as Ctrl-C is, with
    exit status 143 (128 + 15). A KeyboardInterrupt, so every clean-up written for Ctrl-C
    (stopping workers, removing temporary folders) runs for it too."""
