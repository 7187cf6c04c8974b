"""The one environment decision: which backend each stage uses, made here and nowhere else.

Video, stills, voice and the judge used to each look at the environment themselves (five places
that could disagree). Every caller — the runner, stills, TTS, the Dagster resources, `vidpipe
doctor` — asks these functions. Keys are only ever tested for presence; their values never leave
`os.environ` through this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

BACKENDS: tuple[str, ...] = ("preview", "fal", "gemini")
VOICE_BACKENDS: tuple[str, ...] = ("preview", "elevenlabs")
JUDGES: tuple[str, ...] = ("auto", "vlm", "none")
KEY_ENV = {"fal": "FAL_KEY", "gemini": "GEMINI_API_KEY", "elevenlabs": "ELEVENLABS_API_KEY"}
GEMINI_VIDEO_MODELS = frozenset({"veo-3.1"})
GEMINI_STILL_MODELS = frozenset({"imagen", "gemini-image"})


def has_key(provider: str) -> bool:
    """Is the provider's key set (non-blank)? Never returns or logs the value."""
    return bool(os.environ.get(KEY_ENV[provider], "").strip())


def _explicit(requested: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    if not requested or requested == "auto":
        return None
    if requested not in allowed:
        raise ValueError(f"unknown {what} backend {requested!r}; choose one of {', '.join(('auto', *allowed))}")
    return requested


def video_backend(requested: str | None, model: str) -> str:
    """Explicit wins; else fal when FAL_KEY is set; else Gemini for Veo when only GEMINI_API_KEY; else preview."""
    explicit = _explicit(requested, BACKENDS, "video")
    if explicit:
        return explicit
    if has_key("fal"):
        return "fal"
    if model in GEMINI_VIDEO_MODELS and has_key("gemini"):
        return "gemini"
    return "preview"


def still_backend(requested: str | None, model: str) -> str:
    """Flux runs on fal, Gemini image models on the Gemini API; offline, the preview draws a storyboard frame."""
    explicit = _explicit(requested, BACKENDS, "still")
    if explicit:
        return explicit
    if model in GEMINI_STILL_MODELS:
        return "gemini" if has_key("gemini") else "preview"
    return "fal" if has_key("fal") else "preview"


def voice_backend(requested: str | None) -> str:
    """Explicit wins; else ElevenLabs when ELEVENLABS_API_KEY is set; else offline speech."""
    return _explicit(requested, VOICE_BACKENDS, "voice") or ("elevenlabs" if has_key("elevenlabs") else "preview")


def judge_backend(mode: str | None) -> str:
    """'vlm' (Gemini scores clips) or 'none' (people score): auto means vlm when GEMINI_API_KEY is set."""
    mode = mode or "auto"
    if mode not in JUDGES:
        raise ValueError(f"unknown judge {mode!r}; choose one of {', '.join(JUDGES)}")
    if mode == "auto":
        return "vlm" if has_key("gemini") else "none"
    return mode


@dataclass(frozen=True)
class Decision:
    """What `vidpipe doctor` reports: which backend each stage will use with the current environment."""

    video: str
    still: str
    voice: str
    judge: str
    keys: dict[str, bool]


def decide(*, video: str | None = None, still: str | None = None, voice: str | None = None,
           judge: str | None = None, video_model: str = "seedance-2.0", still_model: str = "flux-schnell") -> Decision:
    return Decision(video=video_backend(video, video_model), still=still_backend(still, still_model),
                    voice=voice_backend(voice), judge=judge_backend(judge),
                    keys={KEY_ENV[p]: has_key(p) for p in KEY_ENV})
