"""The seal of a sweep's run records: a digest of each record's content and its sweep's plan.

Why: a sweep folder's `runs/*.json` are read again on resume and merge, and what they say
becomes the published result. A number edited in a record, a record copied from another
sweep, or a shard whose `sweep.json` was edited to carry another sweep's fingerprint must
be refused, naming the file, not silently reported.

Each record carries `digest`: an HMAC-SHA-256 over the plan's digest (the sweep record of
`sweep.json` without its shard, so every shard of one sweep shares it) and the record's
canonical JSON. Without a key (the default) the HMAC key is empty: it detects any edit or
mix-up, but whoever has this code can recompute it. With `DOUAI_SIM_RECORD_KEY` set (a CI
secret), records are sealed with that key (`hmac-sha256:`), and a record cannot be forged
without it; once a key is set, unkeyed records are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from sim.errors import UsageError

KEY_ENV = "DOUAI_SIM_RECORD_KEY"
PLAIN, KEYED = "sha256:", "hmac-sha256:"


def canonical(data: Any) -> bytes:
    """The JSON text a digest is taken over: sorted keys, no spaces, floats as repr."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True).encode()


def plan_digest(state: dict[str, Any]) -> str:
    """SHA-256 of a sweep's plan record, shard left out."""
    return hashlib.sha256(canonical({k: v for k, v in state.items() if k != "shard"})
                          ).hexdigest()


def _key() -> bytes:
    return os.environ.get(KEY_ENV, "").encode()


def _mac(plan: str, record: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in record.items() if k != "digest"}
    mac = hmac.new(key, plan.encode() + b"\n" + canonical(body), hashlib.sha256).hexdigest()
    return (KEYED if key else PLAIN) + mac


def seal(record: dict[str, Any], plan: str) -> dict[str, Any]:
    """The record with its digest (replacing any it had)."""
    return {**record, "digest": _mac(plan, record, _key())}


def check_seal(record: dict[str, Any], plan: str, path: Path) -> None:
    """Refuse (UsageError naming `path`) a record whose digest does not match."""
    digest = record.get("digest")
    key = _key()
    if not isinstance(digest, str) or not digest.startswith((PLAIN, KEYED)):
        raise UsageError(f"{path}: the record has no digest (written by an older version or "
                         "edited); rerun its runs in a new folder")
    if key and not digest.startswith(KEYED):
        raise UsageError(f"{path}: the record is not sealed with the key in {KEY_ENV}")
    if digest.startswith(KEYED) and not key:
        raise UsageError(f"{path}: the record is sealed with a key: set {KEY_ENV} to read it")
    if not hmac.compare_digest(digest, _mac(plan, record, key)):
        raise UsageError(f"{path}: the record does not match its digest: it was edited, or "
                         "belongs to another sweep")
