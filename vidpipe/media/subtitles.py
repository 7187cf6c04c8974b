"""Subtitles for a cut: an SRT file from cues (voiceover timing), optionally burnt into the picture.

Burning uses ffmpeg's `subtitles` filter (libass). libass finds fonts through fontconfig; on a
machine with no fonts installed it renders *nothing* and only warns ("fontselect: failed to find
any fallback"), which would ship a cut without its subtitles. So we check once per process whether
fontconfig resolves a font (a one-frame test render), and if it does not, we hand libass a
font we always have: Aileron Regular, embedded in Pillow (`ImageFont.load_default`), written to a
cache folder and selected with `fontsdir` + `force_style=FontName=Aileron`. System fonts are
preferred when present because Pillow's Aileron has a limited character set (Latin only).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from vidpipe.edit_schema import SubtitleCue
from vidpipe.errors import MediaError
from vidpipe.media.ffmpeg import run_ffmpeg

_SAFE = re.compile(r"^[A-Za-z0-9_./+-]+$")  # paths we can put in a filter graph without escaping
STYLE = "Outline=1,Shadow=0,MarginV=18"


def srt_timestamp(t: float) -> str:
    """SRT time `HH:MM:SS,mmm`, rounded to the millisecond."""
    ms = int(round(max(0.0, t) * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def write_srt(cues: list[SubtitleCue], out: Path) -> Path:
    """Write cues (seconds on the cut's timeline) as an SRT file, numbered in time order."""
    out.parent.mkdir(parents=True, exist_ok=True)
    ordered = sorted(cues, key=lambda c: (c.start, c.end))
    body = "".join(f"{i}\n{srt_timestamp(c.start)} --> {srt_timestamp(c.end)}\n{c.text.strip()}\n\n"
                   for i, c in enumerate(ordered, start=1))
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, out)  # a reader never sees half an SRT
    return out


@lru_cache(maxsize=1)
def system_font_available() -> bool:
    """Does libass (via fontconfig) resolve a font on this machine? One tiny render decides."""
    with tempfile.TemporaryDirectory(prefix="vidpipe-fontcheck-") as d:
        srt = Path(d) / "t.srt"
        srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nAa\n\n", encoding="utf-8")
        if not _SAFE.match(str(srt)):
            return False
        try:
            err = run_ffmpeg(["-loglevel", "info", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=0.2:r=5",
                              "-vf", f"subtitles={srt}", "-f", "null", "-"], what="font check")
        except MediaError:
            return False
    return bool(re.search(r"fontselect: \(.*\) -> ", err)) and "failed to find any fallback" not in err


@lru_cache(maxsize=1)
def bundled_font_dir() -> Path:
    """A folder holding Pillow's embedded Aileron Regular TTF (extracted once per process)."""
    font = ImageFont.load_default(size=12)
    data = getattr(font, "font_bytes", None)
    if not data:
        raise MediaError("cannot burn subtitles: no system font and Pillow has no embedded FreeType font")
    d = Path(tempfile.mkdtemp(prefix="vidpipe-fonts-"))
    (d / "Aileron-Regular.ttf").write_bytes(data)
    return d


def burn_filter(srt: Path, workdir: Path) -> str:
    """The `subtitles=…` filter for `srt`, copied into `workdir` so its path needs no escaping."""
    if not _SAFE.match(str(workdir)):
        raise MediaError(f"cannot burn subtitles: temporary folder {workdir} has characters ffmpeg filters "
                         f"cannot take unescaped; set TMPDIR to a plain path")
    local = workdir / "subs.srt"
    shutil.copyfile(srt, local)
    if system_font_available():
        return f"subtitles={local}:force_style='{STYLE}'"
    fonts = bundled_font_dir()
    if not _SAFE.match(str(fonts)):
        raise MediaError(f"cannot burn subtitles: font folder {fonts} is not a plain path; set TMPDIR")
    return f"subtitles={local}:fontsdir={fonts}:force_style='FontName=Aileron,{STYLE}'"
