"""The one door to ffmpeg: find it (env override, PATH, imageio-ffmpeg wheel) and run it without a shell."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from vidpipe.errors import FfmpegFailed, FfmpegNotFound


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: $VIDPIPE_FFMPEG, then PATH, then the imageio-ffmpeg wheel."""
    override = os.environ.get("VIDPIPE_FFMPEG")
    if override:
        if not Path(override).exists():
            raise FfmpegNotFound(f"VIDPIPE_FFMPEG points to {override}, which does not exist")
        return override
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise FfmpegNotFound("no ffmpeg on PATH and imageio-ffmpeg is not installed: pip install imageio-ffmpeg") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], *, what: str = "ffmpeg", timeout: float | None = None) -> str:
    """Run ffmpeg with `args` (no shell); return stderr. Raise FfmpegFailed with the stderr tail."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise FfmpegFailed(f"{what} failed (exit {proc.returncode})", args=cmd, stderr=proc.stderr)
    return proc.stderr


def ffmpeg_threads() -> list[str]:
    """Thread args: ffmpeg's default is fine; kept here so benchmarks and encodes agree."""
    return []
