"""Safe ids: episode, shot, job (and cast) ids become file and folder names and Dagster partition keys.

Letters, digits, ".", "_", "-", starting with a letter or digit (so never "", "." or ".."), at most
64 characters. A job id built from a shot is "<episode>-<shot>" (two safe ids joined by "-"), hence
its longer bound. Anything else is refused, never sanitised: a silently renamed id would point two
specs at one folder.
"""

from __future__ import annotations

import re
from typing import Any

SAFE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
JOB_ID_MAX = 129
_SAFE = re.compile(SAFE_ID_PATTERN)
_JOB = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{JOB_ID_MAX - 1}}}")


def _check(value: Any, what: str, pattern: re.Pattern[str], limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string (letters, digits, '.', '_', '-')")
    if pattern.fullmatch(value) is None:
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise ValueError(f"{what} {shown!r} is not a safe id: use letters, digits, '.', '_', '-' (starting with a "
                         f"letter or digit, at most {limit} characters; no '/', '|', spaces or '..' paths)")
    return value


def check_id(value: Any, what: str = "id") -> str:
    """`value` if it is a safe id, else ValueError saying which rule it breaks."""
    return _check(value, what, _SAFE, 64)


def check_job_id(value: Any, what: str = "job id") -> str:
    return _check(value, what, _JOB, JOB_ID_MAX)


def is_safe_id(value: Any) -> bool:
    return isinstance(value, str) and _SAFE.fullmatch(value) is not None
