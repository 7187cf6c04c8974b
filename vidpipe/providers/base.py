"""The smallest interface every generation backend implements, plus the errors they share.

A backend is split in two: a *pure* translator (canonical request → endpoint id + wire body,
table-tested, no I/O) and a client that submits, polls and fetches. The runner (generate.py)
only talks to this interface, so the offline preview, fal and Gemini go down one path.

    submit(ticket) -> request_id      pay here; the runner persists the id right after
    poll(ticket, deadline) -> result  resumable from a persisted id alone
    result_url(result) -> url         a named failure when the output is missing
    fetch(url, out)                   download once, retried from the same url by the runner
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vidpipe.errors import ProviderError, ProviderRejected


class UnsupportedOnModel(ProviderRejected, ValueError):
    """The chosen model cannot take this request (a field, a value or a mode it lacks)."""

    def __init__(self, message: str, *, model: str | None = None, provider: str | None = None):
        super().__init__(message, model=model, provider=provider, code="unsupported_on_model")


class ResultMissing(ProviderError):
    """The provider said the job finished but its output has no usable video/image URL."""

    def __init__(self, message: str, **kw: Any):
        kw.setdefault("code", "result_missing")
        super().__init__(message, **kw)


class ResultUndecodable(ProviderError):
    """The downloaded output is empty or not a decodable video (never saved as a clip)."""

    def __init__(self, message: str, **kw: Any):
        kw.setdefault("code", "result_undecodable")
        super().__init__(message, **kw)


MODERATION_CODES = frozenset({"content_policy_violation", "model_moderated"})


def is_moderation(exc: BaseException) -> bool:
    """True for a moderation refusal (deterministic: never retried, may fall back)."""
    return isinstance(exc, ProviderRejected) and (exc.code or "") in MODERATION_CODES


@dataclass
class Ticket:
    """Everything a backend needs to submit, resume or fetch one generation."""

    job_id: str
    model: str
    endpoint: str
    body: dict[str, Any]
    workdir: Path
    request_id: str | None = None
    on_status: Callable[[str], None] = field(default=lambda _s: None, repr=False)


class Backend(Protocol):
    """What the runner needs from a provider adapter."""

    NAME: str

    def translate(self, model: str, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(endpoint id, wire body) with local file paths left as they are (pure, no I/O)."""
        ...

    def submit(self, ticket: Ticket) -> str:
        """Submit and return the provider's request id."""
        ...

    def poll(self, ticket: Ticket, *, deadline: float) -> dict[str, Any]:
        """Wait for `ticket.request_id` to finish; return the result payload."""
        ...

    def result_url(self, result: dict[str, Any]) -> str:
        """The output's URL, or ResultMissing."""
        ...

    def fetch(self, url: str, out: Path) -> Path:
        """Download `url` to `out` (overwriting)."""
        ...


def video_url(result: dict[str, Any], *, provider: str) -> str:
    """`result["video"]["url"]` (the fal shape, also used by preview), else ResultMissing."""
    video = result.get("video") if isinstance(result, dict) else None
    url = video.get("url") if isinstance(video, dict) else (video if isinstance(video, str) else None)
    if not url:
        keys = ", ".join(sorted(result)) if isinstance(result, dict) else type(result).__name__
        raise ResultMissing(f"the result has no video URL (result keys: {keys or 'none'})", provider=provider)
    return str(url)


@dataclass(frozen=True)
class ClipInfo:
    duration_s: float
    width: int
    height: int
    has_audio: bool


def inspect_clip(path: Path) -> ClipInfo:
    """Open `path` with PyAV and decode one frame; empty or undecodable → ResultUndecodable.

    This is the gate between a provider's bytes and a saved clip: nothing that fails here is
    ever written as DIR/<id>.mp4.
    """
    import av

    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        raise ResultUndecodable("the provider returned an empty file (0 bytes)", code="result_empty")
    try:
        with av.open(str(path)) as container:
            streams = container.streams.video
            if not streams:
                raise ResultUndecodable(f"the result has no video stream ({size} bytes)")
            stream = streams[0]
            frame = next(container.decode(stream), None)
            if frame is None:
                raise ResultUndecodable(f"the result's video stream has no decodable frame ({size} bytes)")
            if container.duration:
                duration = container.duration / 1_000_000
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = 0.0
            return ClipInfo(round(duration, 3), frame.width, frame.height, bool(container.streams.audio))
    except ResultUndecodable:
        raise
    except (av.error.FFmpegError, StopIteration, OSError, ValueError) as exc:
        raise ResultUndecodable(
            f"the result is not a decodable video ({size} bytes: {exc.__class__.__name__})"
        ) from exc
