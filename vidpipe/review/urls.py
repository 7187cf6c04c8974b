"""Links into the review room, and where it listens: one config point, VIDPIPE_REVIEW_URL.

Dagster metadata, the CLI's printed address and `vidpipe review serve`'s default port all read the
base from here, so a room moved to another port or behind a public URL is linked where it really is.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit

DEFAULT_BASE = "http://127.0.0.1:8765"


def base_url(base: str | None = None) -> str:
    """The room's address as people reach it: `base`, else VIDPIPE_REVIEW_URL, else the loopback default."""
    return (base or configured_url() or DEFAULT_BASE).rstrip("/")


def configured_url() -> str | None:
    """VIDPIPE_REVIEW_URL when set (a public address the room answers to, besides loopback)."""
    return os.environ.get("VIDPIPE_REVIEW_URL") or None


def default_port() -> int:
    """The port `vidpipe review serve` listens on when none is given: the configured URL's explicit port,
    else 8765 (a URL without a port is a proxy's public address; the proxy forwards to the default)."""
    return urlsplit(base_url()).port or urlsplit(DEFAULT_BASE).port or 8765


def episode_path(episode: str) -> str:
    return f"/episode/{quote(episode, safe='')}"


def compare_path(episode: str, shot: str) -> str:
    return f"{episode_path(episode)}/shot/{quote(shot, safe='')}/compare"


def episode_url(episode: str, base: str | None = None) -> str:
    return f"{base_url(base)}{episode_path(episode)}"


def shot_url(episode: str, shot: str, base: str | None = None) -> str:
    return f"{base_url(base)}{episode_path(episode)}#shot-{shot}"


def compare_url(episode: str, shot: str, base: str | None = None) -> str:
    return f"{base_url(base)}{compare_path(episode, shot)}"


def media_url(rel: str, base: str | None = None) -> str:
    """A file under the media root, as the room serves it (`rel` is relative to the media root)."""
    return f"{base_url(base)}/media/{quote(rel)}"
