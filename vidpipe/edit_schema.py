"""The edit list: the skill's format (output, resolution, fps, audio, clips[]) extended with tracks and subtitles.

Kept apart from vidpipe.schema so each file format has a home of a readable size.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EditClip(_Model):
    path: str
    trim_start: float = 0.0
    trim_end: float | None = None
    transition: str = "cut"
    transition_dur: float = 0.5


class AudioTrack(_Model):
    """An extra audio layer of an edit (voiceover, music bed, effects)."""

    path: str
    kind: Literal["voiceover", "music", "effects"] = "voiceover"
    start: float = 0.0
    gain_db: float = 0.0
    fade_in: float = 0.0
    fade_out: float = 0.0
    duck: bool = False


class SubtitleCue(_Model):
    start: float
    end: float
    text: str


class Subtitles(_Model):
    srt: str | None = None
    cues: list[SubtitleCue] = Field(default_factory=list)
    burn: bool = False


class EditList(_Model):
    """The skill's edit list, unchanged, plus `tracks`, `subtitles` and loudness targets."""

    model_config = ConfigDict(extra="forbid")
    output: str
    resolution: str = "1080p"
    fps: int = 24
    audio: str | None = None
    clips: list[EditClip]
    tracks: list[AudioTrack] = Field(default_factory=list)
    clip_audio_gain_db: float = 0.0
    subtitles: Subtitles | None = None
    loudness_lufs: float = -14.0
    true_peak_db: float = -1.0
