"""Dagster resources: thin settings wrappers that hand out vidpipe objects (no business logic)."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from vidpipe.paths import Paths
from vidpipe.store import Store


def _auto(value: str) -> str | None:
    return None if value in ("", "auto") else value


class MediaRoot(dg.ConfigurableResource):
    """Project root holding data/episodes (input) and data/media (output). Empty = $VIDPIPE_ROOT or cwd."""

    root: str = ""

    def paths(self) -> Paths:
        return Paths.from_env(self.root or None)


class DuckDBStore(dg.ConfigurableResource):
    """The DuckDB file every generation, QC pass, score and lesson lands in. Empty = data/vidpipe.duckdb."""

    path: str = ""

    def store(self) -> Store:
        return Store(self.path or Paths.from_env().db)


class VideoAPI(dg.ConfigurableResource):
    """Video generation backend: auto (fal when FAL_KEY is set, else the offline preview), preview, fal, gemini."""

    backend: str = "auto"
    fallback: bool = True

    def backend_name(self) -> str | None:
        return _auto(self.backend)


class StillAPI(dg.ConfigurableResource):
    """Still (first frame) backend: auto, preview, fal, gemini."""

    backend: str = "auto"

    def backend_name(self) -> str | None:
        return _auto(self.backend)


class VoiceAPI(dg.ConfigurableResource):
    """Voice backend: auto (ElevenLabs when ELEVENLABS_API_KEY is set, else offline speech), preview, elevenlabs."""

    backend: str = "auto"

    def backend_name(self) -> str | None:
        return _auto(self.backend)


class Judge(dg.ConfigurableResource):
    """Who scores clips: auto (the Gemini VLM judge when GEMINI_API_KEY is set), vlm, or none (people score)."""

    mode: str = "auto"

    def enabled(self) -> bool:
        if self.mode == "none":
            return False
        return self.mode == "vlm" or bool(os.environ.get("GEMINI_API_KEY"))


def build_resources(**overrides: Any) -> dict[str, Any]:
    """Default resources; environment decides backends at run time (keys are never resource fields)."""
    res: dict[str, Any] = {
        "media": MediaRoot(),
        "store": DuckDBStore(),
        "video_api": VideoAPI(),
        "still_api": StillAPI(),
        "voice_api": VoiceAPI(),
        "judge": Judge(),
    }
    res.update(overrides)
    return res
