"""Links into the review room (Dagster metadata points here)."""

from __future__ import annotations

import os

DEFAULT_BASE = "http://127.0.0.1:8765"


def _base(base: str | None) -> str:
    return (base or os.environ.get("VIDPIPE_REVIEW_URL") or DEFAULT_BASE).rstrip("/")


def episode_url(episode: str, base: str | None = None) -> str:
    return f"{_base(base)}/episode/{episode}"


def shot_url(episode: str, shot: str, base: str | None = None) -> str:
    return f"{_base(base)}/episode/{episode}#shot-{shot}"
