"""What the request asks of the picture and sound, read from the prompt and the job (no model calls).

The content detectors only judge what the prompt committed to: a camera move per time-coded block,
a ban on on-screen text, a speaking subject, one speaker. Words are matched on word boundaries so
"panel" is not a pan and "Sound: the tide rises" is not a tilt (Sound/Style parts are ignored for
camera words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vidpipe.qc.technical import prompt_blocks

# Requested camera moves, in the order a block is searched; the earliest mention in the text wins.
# Film convention: "pan left" = the camera turns left, so the scene slides RIGHT across the frame.
CAMERA_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("static", ("static", "locked-off", "locked off", "lock-off", "tripod", "fixed camera", "still camera",
                "stationary camera", "no camera movement", "camera does not move")),
    ("zoom_in", ("push-in", "push in", "pushes in", "dolly in", "dolly-in", "dollies in", "zoom in", "zooms in",
                 "slow push", "creep in", "creeps in", "move in", "moves in toward")),
    ("zoom_out", ("pull-out", "pull out", "pulls out", "pull back", "pulls back", "pull-back", "dolly out",
                  "dolly back", "zoom out", "zooms out")),
    ("pan_left", ("pan left", "pans left", "panning left")),
    ("pan_right", ("pan right", "pans right", "panning right")),
    ("tilt_up", ("tilt up", "tilts up", "tilting up")),
    ("tilt_down", ("tilt down", "tilts down", "tilting down")),
    ("orbit", ("orbit", "orbits", "arc around", "arcs around", "circles around")),
    ("handheld", ("handheld", "hand-held", "shaky cam", "shoulder-mounted")),
    ("moving", ("pan", "pans", "tracking", "dolly", "crane", "drone", "follow", "follows", "truck", "whip")),
)
_CAMERA_RE = [(kind, re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I))
              for kind, words in CAMERA_WORDS]
_LABEL = re.compile(r"\b(Sound|Style|Constraints)\s*:", re.I)
NO_TEXT = re.compile(r"\bno\s+(?:on-screen\s+|onscreen\s+|burnt-in\s+|burned-in\s+)?"
                     r"(?:text|subtitles?|captions?|titles?|lettering|words|watermarks?|logos?)\b"
                     r"|\bwithout\s+(?:any\s+)?(?:text|subtitles?|captions?)\b|\btext-free\b", re.I)
ONE_SPEAKER = re.compile(r"\b(?:one|single|a single|only one)\s+(?:speaker|person|character|face|subject)(?:\s+only)?\b"
                         r"|\balone\b|\bsolo\b", re.I)
_QUOTE = re.compile(r"\"[^\"\n]{2,}\"|“[^”\n]{2,}”")
_SPEAKS = re.compile(r"\b(says|said|speaks|speaking|talks|talking|asks|replies|whispers|shouts|sings|lip-?sync)\b", re.I)
TALKING_MODELS = frozenset({"veed-fabric-1.0", "omnihuman-1.5"})
SPEAKING_MODES = frozenset({"native-dialogue", "lip-sync"})


@dataclass
class CameraBlock:
    start: float
    end: float
    asked: str | None  # a CAMERA_WORDS kind, or None when the block names no move
    words: str = ""  # the phrase that named it (for the finding's detail)


@dataclass
class Intent:
    forbids_text: bool = False
    speaking: bool = False  # dialogue, lip-sync or talking-avatar shot
    one_speaker: bool = False
    expects_audio: bool = True
    blocks: list[CameraBlock] = field(default_factory=list)


def _camera_text(text: str) -> str:
    """The text before any Sound:/Style:/Constraints: label (camera words live in Subject..Camera)."""
    parts = _LABEL.split(text)
    return parts[0] if parts else text


def asked_move(text: str) -> tuple[str | None, str]:
    """The camera move a piece of prompt names first, and the words that named it.

    On a tie (same position) the more specific kind wins: CAMERA_WORDS lists "moving" last.
    """
    low = _camera_text(text)
    best: tuple[int, str, str] | None = None
    for kind, rx in _CAMERA_RE:
        m = rx.search(low)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), kind, m.group(0))
    return (best[1], best[2]) if best else (None, "")


_BLOCK_SPLIT = re.compile(r"\[\s*\d{1,2}:\d{2}(?:\.\d+)?\s*[-–—]\s*\d{1,2}:\d{2}(?:\.\d+)?\s*\]")


def camera_blocks(prompt: str | None, duration_s: float) -> list[CameraBlock]:
    """One CameraBlock per time-coded block (clamped to the clip), or one for the whole clip.

    A block's own text is its line; a block naming no move inherits the prompt's camera text
    outside the blocks (the composer writes it as "Camera throughout: ...").
    """
    text = prompt or ""
    spans = prompt_blocks(text)
    if not spans:
        kind, words = asked_move(text)
        return [CameraBlock(0.0, duration_s, kind, words)]
    pieces = _BLOCK_SPLIT.split(text)
    bodies = [p.strip().split("\n", 1)[0] for p in pieces[1:]]
    outside = pieces[0] + "\n" + "\n".join(p.strip().split("\n", 1)[1] for p in pieces[1:] if "\n" in p.strip())
    default = asked_move(outside.replace("Camera throughout:", "Camera:"))
    out = []
    for (a, b), body in zip(spans, bodies):
        if a >= duration_s:
            break
        kind, words = asked_move(body)
        if kind is None:
            kind, words = default
        out.append(CameraBlock(float(a), float(min(b, duration_s)), kind, words))
    if out:
        out[0].start = 0.0
        out[-1].end = max(out[-1].end, duration_s)
    return out


def read_intent(request: dict[str, Any], *, mode: str | None = None, model: str | None = None,
                duration_s: float = 0.0) -> Intent:
    """Everything the detectors need to know about what the shot asked for."""
    prompt = str(request.get("prompt") or "")
    speaking = (mode in SPEAKING_MODES or model in TALKING_MODELS or bool(request.get("reference_audios"))
                or (bool(_QUOTE.search(prompt)) and bool(_SPEAKS.search(prompt))))
    return Intent(
        forbids_text=bool(NO_TEXT.search(prompt)),
        speaking=speaking,
        one_speaker=bool(ONE_SPEAKER.search(prompt)),
        expects_audio=request.get("generate_audio", True) is not False or bool(request.get("reference_audios")),
        blocks=camera_blocks(prompt, duration_s),
    )
