"""Decisions sensors need, as plain functions over the data folder (sensors only translate them).

- which episode folders are new or changed (discovery),
- which shots of an episode still need a render (fan-out),
- recording a failed run (and notifying a webhook).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from vidpipe.episode import episode_fingerprint, list_episodes, load_episode, shot_fingerprint
from vidpipe.errors import SpecError
from vidpipe.ids import is_safe_id
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRef


@dataclass
class EpisodeChange:
    episode: str
    fingerprint: str
    shots: list[str]
    error: str | None = None


def scan_episodes(paths: Paths, known: dict[str, str]) -> list[EpisodeChange]:
    """Episodes whose folder is new or whose content hash differs from `known` (episode → fingerprint).

    An episode that fails to parse is reported with its error (so the sensor can log it) but
    gets no shots; it is retried when its file changes.
    """
    changes = []
    for ep in list_episodes(paths.episodes, include_unsafe=True):
        if not is_safe_id(ep):
            changes.append(EpisodeChange(ep, "", [], f"episode folder name {ep!r} is not a safe id: letters, digits, "
                                                     "_ - . only, starting with a letter or digit, at most 64"))
            continue
        fp = episode_fingerprint(paths.episode_dir(ep))
        if known.get(ep) == fp:
            continue
        try:
            episode = load_episode(paths.episode_dir(ep))
        except SpecError as exc:
            changes.append(EpisodeChange(ep, fp, [], str(exc)))
            continue
        changes.append(EpisodeChange(ep, fp, [s.id for s in episode.shots]))
    return changes


def shots_to_render(paths: Paths, episode_id: str) -> list[tuple[str, str]]:
    """(shot, fingerprint) of shots with no passing clip for their current spec."""
    episode = load_episode(paths.episode_dir(episode_id))
    todo = []
    for s in episode.shots:
        ref = ShotRef(paths, episode, s)
        fp = shot_fingerprint(episode, s)
        if not (ref.clip_path.exists() and ref.read().clip_current(fp)):
            todo.append((s.id, fp))
    return todo


def record_failure(paths: Paths, record: dict[str, Any], *, webhook_url: str | None = None) -> dict[str, Any]:
    """Append a failed run to data/run_failures.jsonl and POST it to `webhook_url` if set."""
    rec = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **record}
    out = paths.data / "run_failures.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as f:
        f.write(json.dumps(rec, default=str) + "\n")
    if webhook_url:
        import httpx

        try:
            httpx.post(webhook_url, json=rec, timeout=10.0)
            rec["notified"] = True
        except httpx.HTTPError as exc:
            rec["notified"] = False
            rec["notify_error"] = exc.__class__.__name__
    return rec
