"""JSON sidecars next to outputs: read tolerantly, written atomically (a killed run never leaves half a file)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """A JSON sidecar as a dict, or None if missing or half-written."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_sidecar(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a per-thread tmp file, then rename over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
