"""Which files the episode knows: every shot's clip and every take, with its lineage.

An NLE timeline names media by path; this index is how an export labels each clip with its
shot, take, model and request id, and how an import refuses a file vidpipe did not make (an
edited timeline may only rearrange the episode's own media, never pull in a stranger's file).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vidpipe.episode import load_episode
from vidpipe.finish.frames import ClipFrames, record_starts
from vidpipe.paths import Paths
from vidpipe.pipeline.record import GenerationRecord, ShotRef


@dataclass(frozen=True)
class MediaInfo:
    """One known clip file: the shot and take it is, and who generated it."""

    shot: str
    take: int
    path: Path
    model: str | None = None
    request_id: str | None = None
    backend: str | None = None
    hash: str | None = None
    chosen: bool = False  # the take the episode's clip.mp4 is

    def metadata(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


def _info(shot: str, take: int, path: Path, gen: GenerationRecord | None, chosen: bool) -> MediaInfo:
    g = gen
    return MediaInfo(shot, take, path.resolve(), g.model if g else None, g.request_id if g else None,
                     g.backend if g else None, g.hash if g else None, chosen)


def episode_media(paths: Paths, episode_id: str) -> dict[Path, MediaInfo]:
    """resolved path → MediaInfo for every shot's clip.mp4 and every take file that exists."""
    episode = load_episode(paths.episode_dir(episode_id))
    known: dict[Path, MediaInfo] = {}
    for ref in ShotRef.all(paths, episode):
        rec = ref.read()
        chosen = rec.chosen_take or 1
        if ref.clip_path.exists():
            known[ref.clip_path.resolve()] = _info(ref.shot.id, chosen, ref.clip_path, rec.generation, True)
        for t in rec.takes:
            clip = Path(t.generation.path)
            if clip.exists():
                known[clip.resolve()] = _info(ref.shot.id, t.take, clip, t.generation, t.take == chosen)
    return known


def takes_of(known: dict[Path, MediaInfo], shot: str) -> list[MediaInfo]:
    """The shot's take files (not its clip.mp4 link), in take order."""
    seen: dict[int, MediaInfo] = {}
    for info in known.values():
        if info.shot == shot and info.path.parent.parent.name == "takes":
            seen[info.take] = info
    return [seen[k] for k in sorted(seen)]


def lookup(known: dict[Path, MediaInfo], path: Path) -> MediaInfo | None:
    return known.get(Path(path).resolve())


def shot_starts(known: dict[Path, MediaInfo], clips: list[ClipFrames], fps: int) -> dict[str, float]:
    """shot → seconds into the cut where its clip (any take) first starts; what narration is placed by."""
    out: dict[str, float] = {}
    for c, at in zip(clips, record_starts(clips)):
        info = lookup(known, c.path)
        if info is not None:
            out.setdefault(info.shot, at / fps)
    return out
