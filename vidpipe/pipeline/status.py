"""Decisions sensors need, as plain functions over the data folder (sensors only translate them).

- which episode folders are new or changed, and which of their shots still need a render (discovery),
- which partitions should exist: one per real episode, one per real shot `ep|shot` (sync),
- which episodes' shot states changed (a verdict, a chosen take, an accepted clip) since the gate last looked,
- errors met per episode, kept in data/episode_errors.json for `vidpipe status` and the review room,
- recording a failed run (and notifying a webhook).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

import httpx

from vidpipe.episode import episode_fingerprint, list_episodes, load_episode, shot_fingerprint
from vidpipe.ids import is_safe_id
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRef

SEP = "|"  # shot partition keys are "<episode>|<shot>"; neither id may contain it
ERRORS_FILE = "episode_errors.json"


def shot_partition(episode: str, shot: str) -> str:
    return f"{episode}{SEP}{shot}"


def split_shot_partition(key: str) -> tuple[str, str]:
    episode, _, shot = key.partition(SEP)
    if not episode or not shot or SEP in shot:
        raise ValueError(f"shot partition key {key!r} is not '<episode>|<shot>'")
    return episode, shot


@dataclass
class EpisodeScan:
    """One episode folder as the sensors see it: its shots (empty when broken) or the error met."""

    episode: str
    fingerprint: str
    shots: dict[str, str] = field(default_factory=dict)  # shot id → shot fingerprint, in episode order
    error: str | None = None


def scan_episode(paths: Paths, ep: str) -> EpisodeScan:
    """Parse one episode folder; any error (bad YAML, non-UTF-8 bytes, an id with '|') is returned, not raised."""
    where = paths.episodes / ep / "episode.yaml"  # (not episode_dir: it refuses the unsafe name reported below)
    if not is_safe_id(ep):
        return EpisodeScan(ep, "", error=f"{where}: episode folder name {ep!r} is not a safe id: letters, digits, "
                                         "_ - . only, starting with a letter or digit, at most 64")
    try:
        fp = episode_fingerprint(paths.episode_dir(ep))
        episode = load_episode(paths.episode_dir(ep))
    except UnicodeDecodeError as exc:
        return EpisodeScan(ep, "", error=f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    except Exception as exc:  # one bad episode must never stop the others
        return EpisodeScan(ep, "", error=str(exc) if str(where) in str(exc) else f"{where}: {exc}")
    bad = [s.id for s in episode.shots if SEP in s.id]
    if bad:
        return EpisodeScan(ep, fp, error=f"{where}: shots[].id {bad[0]!r} may not contain '{SEP}'")
    return EpisodeScan(ep, fp, {s.id: shot_fingerprint(episode, s, paths=paths) for s in episode.shots})


def scan_all(paths: Paths) -> list[EpisodeScan]:
    """Every folder under data/episodes/, including one without an episode file (reported until fixed or removed)."""
    listed = set(list_episodes(paths.episodes, include_unsafe=True))
    folders = sorted(d.name for d in paths.episodes.iterdir() if d.is_dir() and not d.name.startswith(".")) \
        if paths.episodes.is_dir() else []
    return [scan_episode(paths, ep) if ep in listed else
            EpisodeScan(ep, "", error=f"{paths.episodes / ep}: no episode.yaml in this folder (add one, or remove "
                                      "the folder)") for ep in folders]


@dataclass
class PartitionSync:
    """Dynamic partitions to add and delete so the instance holds exactly the real episodes and shots."""

    add_episodes: list[str]
    delete_episodes: list[str]
    add_shots: list[str]
    delete_shots: list[str]


def partition_sync(scans: list[EpisodeScan], have_episodes: set[str], have_shots: set[str]) -> PartitionSync:
    """Real partitions only. A broken episode keeps the shot partitions it had (a half-saved edit must not
    erase history); a removed folder or a removed shot loses its partitions."""
    want_eps = {s.episode for s in scans if is_safe_id(s.episode)}
    want_shots = {shot_partition(s.episode, sh) for s in scans for sh in s.shots}
    broken = {s.episode for s in scans if s.error}
    keep = {k for k in have_shots if k.partition(SEP)[0] in broken}
    return PartitionSync(
        add_episodes=sorted(want_eps - have_episodes),
        delete_episodes=sorted(have_episodes - want_eps),
        add_shots=sorted(want_shots - have_shots),
        delete_shots=sorted(have_shots - want_shots - keep),
    )


def shots_to_render(paths: Paths, episode_id: str) -> list[tuple[str, str]]:
    """(shot, fingerprint) of shots with no QC'd clip for their current spec.

    A clip that failed QC is not re-rendered on its own (regenerate only when asked): it waits for a
    person's decision — another take, a resubmit, or `vidpipe accept` — as the record's state says."""
    episode = load_episode(paths.episode_dir(episode_id))
    todo = []
    for s in episode.shots:
        ref = ShotRef(paths, episode, s)
        fp = shot_fingerprint(episode, s, paths=paths)
        if not (ref.clip_path.exists() and ref.read().clip_for_spec(fp)):
            todo.append((s.id, fp))
    return todo


def _write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def read_episode_errors(paths: Paths) -> dict[str, dict[str, str]]:
    """episode → {"error", "since", "stage"} for every episode a sensor could not use (empty when all are fine)."""
    try:
        return json.loads((paths.data / ERRORS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def record_episode_errors(paths: Paths, errors: dict[str, str], *, stage: str, scanned: set[str]) -> bool:
    """Replace the errors of `stage` for the `scanned` episodes with `errors`; True when the file changed."""
    old = read_episode_errors(paths)
    new = {ep: v for ep, v in old.items() if not (v.get("stage") == stage and ep in scanned)}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for ep, msg in errors.items():
        prev = old.get(ep) or {}
        since = prev.get("since", now) if prev.get("error") == msg else now
        new[ep] = {"error": msg, "since": since, "stage": stage}
    if new == old:
        return False
    _write_json_atomic(paths.data / ERRORS_FILE, new)
    return True


def record_failure(paths: Paths, record: dict[str, Any], *, webhook_url: str | None = None) -> dict[str, Any]:
    """Append a failed run to data/run_failures.jsonl and POST the same record to `webhook_url` if set."""
    rec = {"at": datetime.now(UTC).isoformat(timespec="seconds"), **record}
    out = paths.data / "run_failures.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as f:
        f.write(json.dumps(rec, default=str) + "\n")
    if webhook_url:
        try:
            httpx.post(webhook_url, json=rec, timeout=10.0)
            rec["notified"] = True
        except httpx.HTTPError as exc:
            rec["notified"] = False
            rec["notify_error"] = exc.__class__.__name__
    return rec
