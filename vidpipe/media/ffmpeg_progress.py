"""Run a long ffmpeg encode and report how far it is, from ffmpeg's own `-progress` stream.

`vidpipe.media.ffmpeg.run_ffmpeg` waits silently, which is right for short jobs; a full cut or
an upscale takes minutes, so these read `out_time_us` from `-progress pipe:1` and call
`progress(fraction)`. Same binary (`ffmpeg_exe()`), same no-shell argument list, same guarded
child (`spawn`: dies with vidpipe), same FfmpegFailed with the stderr tail. stderr goes to a
temporary file, not a pipe, so a chatty ffmpeg can never block on a full pipe while we read stdout.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable

from vidpipe.errors import FfmpegFailed
from vidpipe.media.ffmpeg import ffmpeg_exe, spawn


def run_ffmpeg_progress(args: list[str], *, total_s: float, progress: Callable[[float], None] | None,
                        what: str = "ffmpeg") -> str:
    """Run ffmpeg with `args`; call `progress` with 0…1 as output time advances. Return stderr."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", *args]
    with tempfile.TemporaryFile() as errf:
        # spawn: own process group, dies with us, stopped when this block is left for any reason
        with spawn(cmd, stdout=subprocess.PIPE, stderr=errf, text=True) as proc:
            assert proc.stdout is not None
            last = -1.0
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if key != "out_time_us" or not progress or total_s <= 0:
                    continue
                try:
                    frac = min(1.0, max(0.0, int(value) / 1e6 / total_s))
                except ValueError:  # "N/A" before the first frame
                    continue
                if frac - last >= 0.005:
                    progress(frac)
                    last = frac
            rc = proc.wait()
        errf.seek(0)
        stderr = errf.read().decode("utf-8", errors="replace")
    if rc != 0:
        raise FfmpegFailed(f"{what} failed (exit {rc})", args=cmd, stderr=stderr)
    if progress:
        progress(1.0)
    return stderr
