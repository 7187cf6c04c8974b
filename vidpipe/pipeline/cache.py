"""Content-hash caching for pipeline stages: a stage whose inputs hash the same is not redone.

Each stage writes a JSON sidecar next to its output holding the cache `key`; a rerun with the
same key and the outputs still on disk returns the sidecar instead of working again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

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


def read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_sidecar(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (tmp + rename) so a killed run never leaves half a sidecar."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def cache_hit(sidecar: Path, key: str, *outputs: Path) -> dict[str, Any] | None:
    """The sidecar if it was written for `key` and every output still exists, else None."""
    data = read_sidecar(sidecar)
    if data and data.get("key") == key and all(Path(o).exists() for o in outputs):
        return data
    return None
