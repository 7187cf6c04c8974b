"""Links into the review room (Dagster metadata and the room's own pages use these)."""

from __future__ import annotations

import os
from urllib.parse import quote

DEFAULT_BASE = "http://127.0.0.1:8765"


def _base(base: str | None) -> str:
    return (base or os.environ.get("VIDPIPE_REVIEW_URL") or DEFAULT_BASE).rstrip("/")


def episode_path(episode: str) -> str:
    return f"/episode/{quote(episode, safe='')}"


def compare_path(episode: str, shot: str) -> str:
    return f"{episode_path(episode)}/shot/{quote(shot, safe='')}/compare"


def episode_url(episode: str, base: str | None = None) -> str:
    return f"{_base(base)}{episode_path(episode)}"


def shot_url(episode: str, shot: str, base: str | None = None) -> str:
    return f"{_base(base)}{episode_path(episode)}#shot-{shot}"


def compare_url(episode: str, shot: str, base: str | None = None) -> str:
    return f"{_base(base)}{compare_path(episode, shot)}"
