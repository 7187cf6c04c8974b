"""Dagster resources: thin settings wrappers that hand out vidpipe objects (no business logic)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from vidpipe.environment import judge_backend
from vidpipe.media.object_store import ObjectStore
from vidpipe.paths import Paths
from vidpipe.store import Store


def _auto(value: str) -> str | None:
    return None if value in ("", "auto") else value


class MediaRoot(dg.ConfigurableResource):
    """Project root holding data/episodes (input) and data/media (output). Empty = $VIDPIPE_ROOT or cwd."""

    root: str = ""
    s3_bucket: str = ""  # empty = $VIDPIPE_S3_BUCKET; both empty = media stays local (publish returns the path)
    s3_prefix: str = ""  # empty = $VIDPIPE_S3_PREFIX
    s3_endpoint_url: str = ""  # empty = $VIDPIPE_S3_ENDPOINT_URL (MinIO, R2, …); unset = AWS

    def paths(self) -> Paths:
        return Paths.from_env(self.root or None)

    def publish(self, path: Path | None) -> str | None:
        """Upload an output file under data/media to S3 (when configured) and return its URI; None if no file."""
        if path is None or not Path(path).exists():
            return None
        store = ObjectStore.from_env(self.s3_bucket, self.s3_prefix, self.s3_endpoint_url)
        return store.publish(Path(path), self.paths().media)


class DuckDBStore(dg.ConfigurableResource):
    """The DuckDB file every generation, QC pass, score and lesson lands in. Empty = the media root's data/vidpipe.duckdb."""

    media: MediaRoot
    path: str = ""

    def store(self) -> Store:
        return Store(self.path or self.media.paths().db)


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
        return judge_backend(self.mode) == "vlm"


def build_resources(**overrides: Any) -> dict[str, Any]:
    """Default resources; environment decides backends at run time (keys are never resource fields)."""
    media = overrides.pop("media", None) or MediaRoot()
    res: dict[str, Any] = {
        "media": media,
        "store": DuckDBStore(media=media),
        "video_api": VideoAPI(),
        "still_api": StillAPI(),
        "voice_api": VoiceAPI(),
        "judge": Judge(),
    }
    res.update(overrides)
    return res
