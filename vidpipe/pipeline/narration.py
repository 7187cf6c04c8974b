"""Narration on the edit that is actually cut, not on the episode file's nominal timeline.

The voiceover stage voices each line once and lays it at its shot's *nominal* place (the spec's
durations and crossfades). The cut can differ: `cut_to_beat` trims clips onto beats, and an edit
imported from an NLE can trim and reorder them. A line belongs to its shot, so here each line is
moved to where its shot starts in the edit being cut (plus the same lead), its subtitle cues move
with it, and a line whose shot is no longer in the edit is dropped. When nothing moved, the
voiceover stage's own track and cues are used as they are (the common case costs nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.edit_schema import SubtitleCue
from vidpipe.media.audio_mix import mix_voiceover
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import read_sidecar, stable_hash

NARRATION_LEAD_S = 0.4  # narration starts just after its shot's first frame
_EPS = 1e-3


@dataclass
class PlacedNarration:
    track: Path | None  # the voiceover WAV for this edit (None: no narration)
    cues: list[SubtitleCue] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)  # voiceover.json's lines, `start` as placed
    moved: bool = False


def voiceover_dir(paths: Paths, episode_id: str) -> Path:
    return paths.episode_media(episode_id) / "voiceover"


def place_narration(paths: Paths, episode_id: str, shot_starts: dict[str, float], total_s: float) -> PlacedNarration:
    """The episode's voiced lines placed at `shot_starts` (shot → seconds into the cut) in a cut `total_s` long."""
    folder = voiceover_dir(paths, episode_id)
    vo = read_sidecar(folder / "voiceover.json") or {}
    track = folder / "voiceover.wav"
    lines: list[dict[str, Any]] = vo.get("lines") or []
    if not lines or not track.exists():
        return PlacedNarration(None)
    cues = [SubtitleCue.model_validate(c) for c in vo.get("cues", [])]
    placed = [{**ln, "start": round(shot_starts[ln["shot"]] + NARRATION_LEAD_S, 3)}
              for ln in lines if ln.get("shot") in shot_starts]
    if len(placed) == len(lines) and all(abs(p["start"] - ln["start"]) < _EPS for p, ln in zip(placed, lines)):
        return PlacedNarration(track, cues, lines)
    moved_cues: list[SubtitleCue] = []
    for cue in cues:
        owner = _owner(lines, cue)
        new = next((p for p in placed if owner is not None and p["shot"] == owner["shot"]), None)
        if owner is not None and new is not None:
            d = new["start"] - owner["start"]
            moved_cues.append(SubtitleCue(start=round(cue.start + d, 3), end=round(cue.end + d, 3), text=cue.text))
    moved_cues.sort(key=lambda c: c.start)
    if not placed:
        return PlacedNarration(None, [], [], True)
    key = stable_hash({"lines": [(p["path"], p["start"]) for p in placed], "total": round(total_s, 3),
                       "source": vo.get("key")})
    out = folder / f"placed_{key[:16]}.wav"
    if not out.exists():  # written through write_verified under a content-keyed name
        mix_voiceover([(Path(p["path"]), p["start"]) for p in placed], total_s, out)
    return PlacedNarration(out, moved_cues, placed, True)


def _owner(lines: list[dict[str, Any]], cue: SubtitleCue) -> dict[str, Any] | None:
    """The line a cue was cut from: the one whose span holds the cue's start (the latest such line)."""
    hits = [ln for ln in lines
            if ln["start"] - _EPS <= cue.start <= ln["start"] + float(ln.get("duration_s") or 0.0) + _EPS]
    return hits[-1] if hits else None
