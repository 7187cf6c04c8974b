"""Reading spec files (jobs, episodes, edit lists, profiles): one clear line for every way a file is bad.

A file that is not UTF-8, not valid JSON/YAML, or nested absurdly deep (which would exhaust the
stack in the parser or any walker after it) becomes a SpecError naming the file and the position.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vidpipe.errors import SpecError

MAX_NESTING = 64  # no spec vidpipe reads is nested deeper; anything deeper is refused, not parsed further


def read_text(path: str | Path) -> str:
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("file not found", path=str(p)) from None
    except IsADirectoryError:
        raise SpecError("is a folder, not a file", path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8", path=str(p)) from None
    except OSError as exc:
        raise SpecError(f"cannot read file ({exc.strerror or exc.__class__.__name__})", path=str(p)) from None


def check_depth(data: Any, *, path: str, limit: int = MAX_NESTING) -> Any:
    """`data` unchanged, or a SpecError when lists/objects nest deeper than `limit` (checked without recursion)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                raise SpecError(f"nested deeper than {limit} levels; not a spec vidpipe reads", path=path)
            stack.extend((v, depth + 1) for v in (node.values() if isinstance(node, dict) else node))
    return data


def parse_json(text: str, *, path: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", path=path) from None
    except RecursionError:
        raise SpecError(f"nested deeper than {MAX_NESTING} levels; not a spec vidpipe reads", path=path) from None
    return check_depth(data, path=path)


def read_json(path: str | Path) -> Any:
    """Read a JSON spec: a missing, unreadable, non-UTF-8, invalid or absurdly nested file is a SpecError."""
    return parse_json(read_text(path), path=str(path))
