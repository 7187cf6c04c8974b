"""Which ffmpeg binary vidpipe runs, and why: the first candidate that can run vidpipe's graphs.

Debian 12 and Ubuntu LTS put ffmpeg 5.1 on PATH; it rejects `ebur128=…:framelog=quiet` (added in
ffmpeg 6), so "the one on PATH" failed `make demo` halfway through the mix. A binary is used only
when it has every filter and encoder vidpipe's graphs name and passes one real run of the loudness
meter as the mixer calls it. Order: $VIDPIPE_FFMPEG (a person named it: refused with one line if
it cannot do the job, never silently replaced), then PATH, then the imageio-ffmpeg wheel's binary,
which is trusted (it is the version pinned by our own dependency).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from vidpipe.errors import FfmpegNotFound
from vidpipe.paths import Paths

FILTERS = ("ebur128", "xfade", "acrossfade", "sidechaincompress", "amix", "alimiter", "afade", "apad", "tpad",
           "minterpolate", "overlay", "concat", "aresample", "scale", "setsar", "subtitles", "volume")
ENCODERS = ("libx264", "aac")
# The meter exactly as media/audio_mix.py runs it: the one option 5.1 lacks shows up here.
METER = ["-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
         "-t", "0.2", "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"]


@dataclass(frozen=True)
class Choice:
    """The binary vidpipe uses, where it came from, and why others were passed over (for `doctor`)."""

    path: str
    source: str  # "VIDPIPE_FFMPEG" | "PATH" | "imageio-ffmpeg"
    passed_over: tuple[str, ...] = ()


def _names(exe: str, flag: str) -> set[str]:
    out = subprocess.run([exe, "-hide_banner", flag], capture_output=True, text=True, timeout=30).stdout
    return {line.split()[1] for line in out.splitlines() if len(line.split()) > 2 and not line.startswith(" =")}


def shortfall(exe: str) -> str | None:
    """Why `exe` cannot run vidpipe's graphs (one phrase), or None when it can."""
    try:
        missing = [f for f in FILTERS if f not in _names(exe, "-filters")]
        missing += [e for e in ENCODERS if e not in _names(exe, "-encoders")]
        if missing:
            return f"lacks {', '.join(missing)}"
        run = subprocess.run([exe, *METER], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"does not run ({exc.__class__.__name__})"
    if run.returncode != 0:
        return "rejects ebur128 framelog=quiet (ffmpeg older than 6)"
    return None


def _cached_shortfall(exe: str) -> str | None:
    """`shortfall`, remembered per binary (path, size, mtime) under the data root's cache: probing
    Debian's ffmpeg costs ~1.5 s of shared-library loading, too much for every CLI call."""
    st = Path(exe).resolve().stat()
    key = f"{Path(exe).resolve()}|{st.st_size}|{st.st_mtime_ns}"
    cache = Paths.from_env().data / "cache" / "ffmpeg_probe.json"
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and key in known:
        return known[key]
    why = shortfall(exe)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**(known if isinstance(known, dict) else {}), key: why}), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only data root only costs the probe again next time
    return why


def _version(exe: str) -> str:
    try:
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    parts = out.split()
    return parts[2] if len(parts) > 2 else "?"


def wheel_exe() -> str:
    """The imageio-ffmpeg wheel's own binary."""
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def choose() -> Choice:
    """Pick the binary (see the module docstring for the order)."""
    override = os.environ.get("VIDPIPE_FFMPEG")
    if override:
        if not Path(override).exists():
            raise FfmpegNotFound(f"VIDPIPE_FFMPEG points to {override}, which does not exist")
        why = shortfall(override)
        if why:
            raise FfmpegNotFound(f"VIDPIPE_FFMPEG={override} (ffmpeg {_version(override)}) {why}; "
                                 "unset VIDPIPE_FFMPEG to use the imageio-ffmpeg wheel's binary")
        return Choice(override, "VIDPIPE_FFMPEG")
    passed: list[str] = []
    found = shutil.which("ffmpeg")
    if found:
        why = _cached_shortfall(found)
        if why is None:
            return Choice(found, "PATH")
        passed.append(f"{found} (ffmpeg {_version(found)}) {why}")
    return Choice(wheel_exe(), "imageio-ffmpeg", tuple(passed))
