"""Probe a media file with PyAV (there is no ffprobe here), and make small thumbnails.

A missing or undecodable file is a MediaError naming the file, so callers (CLI, assets,
the generation runner's download check) can report one line instead of a traceback.
"""

from __future__ import annotations

import base64
import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from vidpipe.errors import MediaError
from vidpipe.schema import Probe


def open_media(path: str | Path) -> Any:
    """Open `path` with PyAV; a missing, empty or corrupt file becomes a one-line MediaError."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: file not found")
    if p.is_dir():
        raise MediaError(f"{p}: is a directory, not a media file")
    if p.stat().st_size == 0:
        raise MediaError(f"{p}: file is empty")
    try:
        return av.open(str(p))
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise MediaError(f"{p}: not a readable media file ({reason})") from None


def _seconds(value: Any, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _duration(container: Any) -> float:
    """Container duration, else the longest stream duration; 0.0 when nothing says."""
    if container.duration:
        return container.duration / av.time_base
    best = 0.0
    for s in container.streams:
        d = _seconds(s.duration, s.time_base)
        if d:
            best = max(best, d)
    return best


def probe(path: str | Path) -> Probe:
    """Shape of a clip: duration, size, fps, codecs, audio presence. Raises MediaError if unreadable."""
    p = Path(path)
    container = open_media(p)
    try:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None and audio is None:
            raise MediaError(f"{p}: no audio or video stream")
        fps = None
        if video is not None:
            rate = video.average_rate or video.guessed_rate or video.base_rate
            fps = round(float(rate), 3) if rate else None
        return Probe(
            duration_s=round(_duration(container), 3),
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            fps=fps,
            has_audio=audio is not None,
            has_video=video is not None,
            video_codec=video.codec_context.name if video is not None else None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            size_bytes=p.stat().st_size,
        )
    finally:
        container.close()


def thumbnail_jpeg(path: str | Path, width: int = 160, *, at: float | None = None, quality: int = 70) -> bytes:
    """A small JPEG of the frame at `at` seconds (default: mid-clip). Raises MediaError if none decodes."""
    p = Path(path)
    container = open_media(p)
    try:
        if not container.streams.video:
            raise MediaError(f"{p}: no video stream to thumbnail")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        target = _duration(container) / 2 if at is None else at
        image = None
        try:
            if target > 0:
                container.seek(int(target * av.time_base), backward=True, any_frame=False)
            for frame in container.decode(stream):
                t = frame.time if frame.time is not None else 0.0
                image = frame
                if t >= target - 1e-3:
                    break
        except av.FFmpegError as exc:
            if image is None:
                raise MediaError(f"{p}: cannot decode a frame ({exc.__class__.__name__})") from None
        if image is None:
            raise MediaError(f"{p}: no decodable video frame")
        h = max(2, round(width * image.height / max(1, image.width)))
        pil = image.to_image().resize((width, h))
    finally:
        container.close()
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def thumbnail_b64(path: str | Path, width: int = 160) -> str:
    """Base64 of a small mid-clip JPEG, for Dagster markdown metadata (`![](data:image/jpeg;base64,…)`)."""
    return base64.b64encode(thumbnail_jpeg(path, width)).decode("ascii")
