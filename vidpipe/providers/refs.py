"""Reference media in a request body: find local files, hash them, measure them, remember uploads.

Local paths stay in the translated body (so the cache key is stable and sidecars stay small);
they become provider URLs only at submission time, by the backend, uploaded once per content
(`UploadCache`, under the data root).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from vidpipe.refcheck import REMOTE
from vidpipe.paths import Paths

TEXT_FIELDS = frozenset({"prompt", "text", "negative_prompt"})


def is_local(value: str) -> bool:
    """A string that names an existing local file (not a URL or data URI)."""
    if not value or value.startswith(REMOTE) or len(value) > 4096:
        return False
    try:
        return Path(value).expanduser().is_file()
    except OSError:
        return False


def local_refs(body: Any) -> list[str]:
    """Every local file path in `body` (dicts and lists walked; prompt text ignored), in order."""
    found: list[str] = []

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key not in TEXT_FIELDS and is_local(node) and node not in found:
            found.append(node)

    walk(body, None)
    return found


def file_sha256(path: str | Path) -> str:
    p = Path(path).expanduser()
    st = p.stat()
    return _sha(str(p.resolve()), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=512)
def _sha(path: str, _mtime: int, _size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ref_hashes(paths: list[str]) -> dict[str, str]:
    """{path: sha256 of its bytes}: a changed reference file changes the cache key."""
    return {p: file_sha256(p) for p in paths}


def media_seconds(path: str | Path) -> float | None:
    """Length of a local audio/video file via PyAV, or None if it cannot be read."""
    import av

    try:
        with av.open(str(path)) as c:
            if c.duration:
                return round(c.duration / 1_000_000, 3)
            for s in c.streams:
                if s.duration and s.time_base:
                    return round(float(s.duration * s.time_base), 3)
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    return None


def ref_durations(request: dict[str, Any]) -> dict[str, float]:
    """{path: seconds} for local reference audios and videos (pricing and avatar lengths)."""
    out: dict[str, float] = {}
    for key in ("reference_audios", "reference_videos"):
        for ref in request.get(key) or []:
            if isinstance(ref, str) and is_local(ref):
                secs = media_seconds(ref)
                if secs is not None:
                    out[ref] = secs
    return out


class UploadCache:
    """sha256 of a file's bytes → the provider URL it was uploaded to, in one JSON file.

    A file is uploaded once per content (a renamed or copied file is not sent again). Entries
    expire `ttl_s` after upload, a little before the provider deletes the object.
    """

    def __init__(self, path: Path, *, ttl_s: float = 29 * 86400):
        self.path = Path(path)
        self.ttl_s = ttl_s
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> UploadCache:
        return cls(Paths.from_env().data / "cache" / "fal_uploads.json")

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, digest: str) -> str | None:
        with self._lock:
            entry = self._read().get(digest)
        if not isinstance(entry, dict) or not entry.get("url"):
            return None
        if time.time() - float(entry.get("uploaded_at") or 0) > self.ttl_s:  # type: ignore[arg-type]
            return None
        return str(entry["url"])

    def put(self, digest: str, url: str, *, name: str = "") -> None:
        """Record an upload (atomic replace, so a crash never leaves half a file)."""
        with self._lock:
            data = self._read()
            data[digest] = {"url": url, "uploaded_at": round(time.time(), 3), "name": name}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            tmp.replace(self.path)
