"""Episode specs: `data/episodes/<ep>/episode.yaml|json` → `Episode`, with errors naming file and field."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from vidpipe.errors import SpecError
from vidpipe.schema import Episode, Shot, load_model

EPISODE_FILES = ("episode.yaml", "episode.yml", "episode.json")


def find_episode_file(folder: Path) -> Path | None:
    for name in EPISODE_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def load_episode(path: str | Path) -> Episode:
    """Load an episode from its folder or file. The folder name is the episode id."""
    p = Path(path)
    file = find_episode_file(p) if p.is_dir() else p
    if file is None:
        raise SpecError(f"no {' / '.join(EPISODE_FILES)} in this folder", path=str(p))
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("file not found", path=str(file)) from None
    try:
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", path=str(file)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise SpecError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", path=str(file)) from None
    if not isinstance(data, dict):
        raise SpecError("an episode must be a mapping with title and shots", path=str(file))
    data.setdefault("id", file.parent.name)
    episode: Episode = load_model(Episode, data, path=str(file))
    return episode


def list_episodes(episodes_dir: Path) -> list[str]:
    """Episode ids: sub-folders of `episodes_dir` holding an episode file, sorted."""
    if not episodes_dir.is_dir():
        return []
    return sorted(d.name for d in episodes_dir.iterdir() if d.is_dir() and find_episode_file(d))


def episode_fingerprint(folder: Path) -> str:
    """Content hash of an episode folder's files: a changed file means a changed episode."""
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            h.update(f.relative_to(folder).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def shot_fingerprint(episode: Episode, shot: Shot) -> str:
    """Hash of everything that shapes one shot's render (its spec plus the episode's frame)."""
    payload = {
        "shot": shot.model_dump(mode="json"),
        "aspect": episode.aspect_ratio,
        "resolution": episode.resolution,
        "fps": episode.fps,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
