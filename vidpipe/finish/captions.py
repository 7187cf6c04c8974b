"""The episode's spoken words on the cut's timeline: narration and dialogue, for the subtitle sidecars.

Narration: each voiceover line's words from `<line>.alignment.json` (ElevenLabs' per-character
alignment grouped into words; the offline preview's words spread over the measured speech, marked
approximate), shifted to where the line sits in the cut. Dialogue: the shot's spoken lines, placed
over the speech the clip's own audio actually holds (WebRTC VAD, as QC uses) inside the shot's
place in the current edit (generated or imported), marked approximate — no model gives us
per-word times for a video model's native dialogue.
"""

from __future__ import annotations

import json
from pathlib import Path

from vidpipe.episode import load_episode
from vidpipe.edit_schema import EditList
from vidpipe.finish.frames import ClipFrames, edit_frames, record_length, record_starts
from vidpipe.finish.media_index import MediaInfo, episode_media, lookup, shot_starts
from vidpipe.media.frames import scan_audio
from vidpipe.media.subtitles import TimedWord, write_sidecars
from vidpipe.paths import Paths
from vidpipe.pipeline.episode_stages import build_edit_list
from vidpipe.pipeline.narration import place_narration
from vidpipe.qc.content.speech import VAD_FRAME_S, speech_frames
from vidpipe.schema import Shot


def narration_words(paths: Paths, episode_id: str, edit: EditList, frames: list[ClipFrames],
                    known: dict[Path, MediaInfo]) -> list[TimedWord]:
    """Each voiced line's words where the line sits in the current edit (its shot's start there, plus the lead)."""
    starts = shot_starts(known, frames, edit.fps)
    out = []
    for line in place_narration(paths, episode_id, starts, record_length(frames) / edit.fps).lines:
        align = Path(line["path"]).with_suffix(".alignment.json")
        data = json.loads(align.read_text(encoding="utf-8")) if align.is_file() else {}
        approx = bool(data.get("approximate", True))
        for w in data.get("words", []):
            out.append(TimedWord(w["text"], round(line["start"] + w["start"], 3), round(line["start"] + w["end"], 3),
                                 "narrator", approx))
    return out


def spoken_lines(shot: Shot) -> list[tuple[str, str]]:
    """(speaker, line) the shot's clip speaks: its dialogue, then any block dialogue."""
    lines = [(d.speaker, d.line) for d in shot.dialogue]
    return lines + [("", b.dialogue) for b in shot.blocks if b.dialogue]


def spread(text: str, start: float, end: float, speaker: str) -> list[TimedWord]:
    """Words over [start, end) in proportion to their length (the only honest guess without alignment)."""
    toks = text.split()
    total = sum(len(t) + 1 for t in toks) or 1
    t, out = start, []
    for tok in toks:
        span = (end - start) * (len(tok) + 1) / total
        out.append(TimedWord(tok, round(t, 3), round(t + span, 3), speaker, True))
        t += span
    return out


def speech_span(clip: Path, start_s: float, end_s: float) -> tuple[float, float] | None:
    """First and last speech inside [start_s, end_s) of the clip's audio (clip seconds), or None."""
    audio = scan_audio(clip)
    if audio is None or not audio.samples.size:
        return None
    flags = speech_frames(audio)
    hits = [i * VAD_FRAME_S for i, f in enumerate(flags) if f and start_s <= i * VAD_FRAME_S < end_s]
    return (hits[0], hits[-1] + VAD_FRAME_S) if hits else None


def dialogue_words(paths: Paths, episode_id: str, edit: EditList, frames: list[ClipFrames],
                   known: dict[Path, MediaInfo]) -> list[TimedWord]:
    episode = load_episode(paths.episode_dir(episode_id))
    fps, out = edit.fps, []
    for c, t in zip(frames, record_starts(frames)):
        info = lookup(known, c.path)
        shot = episode.shot(info.shot) if info else None
        lines = spoken_lines(shot) if shot else []
        if lines:
            span = speech_span(c.path, c.start / fps, c.end / fps) or (c.start / fps, c.end / fps)
            at = t / fps - c.start / fps  # clip seconds → cut seconds
            size = (span[1] - span[0]) / len(lines)
            for k, (speaker, line) in enumerate(lines):
                a = span[0] + k * size
                out += spread(line, round(a + at, 3), round(a + size + at, 3), speaker or "dialogue")
    return out


def episode_words(paths: Paths, episode_id: str) -> list[TimedWord]:
    """Narration and dialogue words on the current edit (built, probed and indexed once for both)."""
    edit = build_edit_list(paths, episode_id)
    frames = edit_frames(edit)
    known = episode_media(paths, episode_id)
    words = narration_words(paths, episode_id, edit, frames, known) + dialogue_words(paths, episode_id, edit, frames,
                                                                                     known)
    return sorted(words, key=lambda w: w.start)


def write_episode_captions(paths: Paths, episode_id: str, stem: Path) -> list[Path]:
    """SRT + WebVTT sidecars (phrases and one-cue-a-word) for the episode's current edit; [] when nothing is said."""
    words = episode_words(paths, episode_id)
    if not words:
        return []
    aspect = load_episode(paths.episode_dir(episode_id)).aspect_ratio
    return write_sidecars(words, stem, aspect)
