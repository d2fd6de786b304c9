"""Named random streams: one independent generator per (component, purpose).

Why: comparisons between scenarios are far sharper with common random numbers, so a
station called ``paint`` must draw the same cycle times in every scenario that has it,
whatever other components exist. Each stream is therefore keyed by the *names*, never by
creation order. Names are turned into integers with a stable hash (BLAKE2b, not Python's
salted ``hash()``), so streams are identical across processes, runs and machines.

Replication ``r`` uses the root seed's ``r``-th child (spawn key ``(r,)``); the stream of a
(component, purpose) pair inside it has spawn key ``(r, key(component), key(purpose))``.
"""

from __future__ import annotations

import hashlib

import numpy as np


def name_key(name: str) -> int:
    """Stable 64-bit integer key of a name (same on every machine and Python run)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class Streams:
    """Factory of named, independent, reproducible numpy generators for one replication."""

    __slots__ = ("replication", "root_seed")

    def __init__(self, root_seed: int, replication: int = 0) -> None:
        if root_seed < 0 or replication < 0:
            raise ValueError("root_seed and replication must be >= 0")
        self.root_seed = int(root_seed)
        self.replication = int(replication)

    def seed_sequence(self, component: str, purpose: str) -> np.random.SeedSequence:
        """The SeedSequence of one (component, purpose) stream."""
        return np.random.SeedSequence(
            entropy=self.root_seed,
            spawn_key=(self.replication, name_key(component), name_key(purpose)),
        )

    def rng(self, component: str, purpose: str) -> np.random.Generator:
        """A fresh generator for (component, purpose); equal names give equal streams."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(component, purpose)))

    def __repr__(self) -> str:
        return f"Streams(root_seed={self.root_seed}, replication={self.replication})"
