"""Content-hash caching for pipeline stages: a stage whose inputs hash the same is not redone.

Each stage writes a JSON sidecar next to its output holding the cache `key`; a rerun with the
same key and the outputs still on disk returns the sidecar instead of working again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from vidpipe.sidecar import read_sidecar, write_sidecar

__all__ = ["cache_hit", "file_hash", "read_sidecar", "stable_hash", "write_sidecar"]

STAGE_VERSION = "1"  # bump when a stage's output format changes, to invalidate caches

_HASHES: dict[tuple[str, int, int], str] = {}


def stable_hash(obj: Any) -> str:
    """Short sha256 of a JSON-able object (keys sorted, so dict order never matters)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def file_hash(path: str | Path) -> str:
    """sha256 of a file's bytes, memoised by (path, mtime, size) so big clips hash once."""
    p = Path(path)
    st = p.stat()
    memo = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    if memo not in _HASHES:
        h = hashlib.sha256()
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _HASHES[memo] = h.hexdigest()[:20]
    return _HASHES[memo]


def cache_hit(sidecar: Path, key: str, *outputs: Path) -> dict[str, Any] | None:
    """The sidecar if it was written for `key` and every output still exists, else None."""
    data = read_sidecar(sidecar)
    if data and data.get("key") == key and all(Path(o).exists() for o in outputs):
        return data
    return None
