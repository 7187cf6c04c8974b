"""Dagster resources: thin settings wrappers that hand out vidpipe objects (no business logic)."""

from __future__ import annotations

import os
import sys
import threading
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

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        _RunGuard.start(context)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        _RunGuard.stop(context)

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


class _RunGuard:
    """Ends a step process whose run is over: a step must not outlive its run.

    Under the multiprocess (or celery/k8s) executor each step is its own process; when the run worker is
    killed, Dagster marks the run failed but nothing stops those processes (one was seen logging a
    success 12 s after its run failed). Every vidpipe step holds MediaRoot, so while its resources are
    set up a thread checks the run's status every POLL_S and exits the process once the run is FAILURE
    or CANCELED. Claims are flock-based and outputs are written under temp names, so exiting loses
    nothing that the next attempt would not redo.
    """

    POLL_S = 2.0
    _events: dict[str, threading.Event] = {}

    @classmethod
    def start(cls, context: dg.InitResourceContext) -> None:
        run, instance = context.dagster_run, context.instance
        if run is None or instance is None or run.run_id in cls._events:
            return
        stop = cls._events[run.run_id] = threading.Event()
        threading.Thread(target=cls._watch, args=(instance, run.run_id, stop), daemon=True,
                         name=f"vidpipe-run-guard-{run.run_id[:8]}").start()

    @classmethod
    def stop(cls, context: dg.InitResourceContext) -> None:
        if context.dagster_run is not None:
            ev = cls._events.pop(context.dagster_run.run_id, None)
            if ev is not None:
                ev.set()

    @classmethod
    def _watch(cls, instance: dg.DagsterInstance, run_id: str, stop: threading.Event) -> None:
        over = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
        while not stop.wait(cls.POLL_S):
            try:
                run = instance.get_run_by_id(run_id)
            except Exception:  # noqa: BLE001 - storage briefly unreachable: look again next time
                continue
            if run is not None and run.status in over and not stop.is_set():
                sys.stderr.write(f"vidpipe: run {run_id} is {run.status.value}; stopping this step (pid {os.getpid()})\n")
                sys.stderr.flush()
                os._exit(70)


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
