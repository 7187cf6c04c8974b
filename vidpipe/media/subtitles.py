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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pysubs2
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


# -- word-timed sidecars and styled burn-in (pysubs2 writes every format; no hand-written cue syntax) --

@dataclass(frozen=True)
class TimedWord:
    """One spoken word on the cut's timeline (seconds) and who speaks it."""

    text: str
    start: float
    end: float
    speaker: str = ""
    approximate: bool = False  # spread by character count (preview speech / dialogue), not aligned


@dataclass(frozen=True)
class CaptionRules:
    """Line length, reading speed and safe area for one screen shape (why per aspect: a 9:16 line is short)."""

    max_line: int       # characters per line
    max_lines: int
    max_cps: float      # reading speed, characters per second (Netflix-style adult limit 17–20)
    margin_v: float     # bottom safe margin, share of the frame height (platform UI sits low on 9:16)
    margin_h: float     # side safe margin, share of the frame width
    font_h: float       # font size, share of the frame height


RULES = {
    "16:9": CaptionRules(42, 2, 17.0, 0.08, 0.10, 0.055),
    "1:1": CaptionRules(32, 2, 17.0, 0.10, 0.08, 0.045),
    "9:16": CaptionRules(26, 2, 17.0, 0.20, 0.08, 0.032),
}
MIN_CUE_S = 0.8


def _wrap(words: list[str], max_line: int) -> list[str]:
    lines: list[str] = []
    for w in words:
        if lines and len(lines[-1]) + 1 + len(w) <= max_line:
            lines[-1] += " " + w
        else:
            lines.append(w)
    return lines


def phrase_cues(words: list[TimedWord], rules: CaptionRules) -> list[SubtitleCue]:
    """Group words into cues that fit `rules`: ≤ max_lines lines of ≤ max_line chars, read at ≤ max_cps.

    A cue ends at a sentence end, a speaker change, a pause > 0.6 s, or when one more word would
    break the line budget; a cue shorter than its reading time is held longer (up to the next cue).
    """
    cues: list[list[TimedWord]] = []
    for w in sorted(words, key=lambda x: x.start):
        cur = cues[-1] if cues else None
        if cur and cur[-1].speaker == w.speaker and w.start - cur[-1].end <= 0.6 \
                and not re.search(r"[.!?…]$", cur[-1].text) \
                and len(_wrap([x.text for x in cur] + [w.text], rules.max_line)) <= rules.max_lines:
            cur.append(w)
        else:
            cues.append([w])
    out: list[SubtitleCue] = []
    for k, group in enumerate(cues):
        text = "\n".join(_wrap([w.text for w in group], rules.max_line))
        end = max(group[-1].end, group[0].start + max(MIN_CUE_S, len(text) / rules.max_cps))
        if k + 1 < len(cues):
            end = min(end, cues[k + 1][0].start)
        out.append(SubtitleCue(start=round(group[0].start, 3), end=round(max(end, group[-1].end), 3), text=text))
    return out


def _subs(cues: list[tuple[float, float, str]]) -> pysubs2.SSAFile:
    f = pysubs2.SSAFile()
    for start, end, text in cues:
        f.append(pysubs2.SSAEvent(start=pysubs2.make_time(s=start), end=pysubs2.make_time(s=end),
                                  text=text.replace("\n", r"\N")))
    return f


def write_sidecars(words: list[TimedWord], stem: Path, aspect: str = "16:9") -> list[Path]:
    """<stem>.srt / .vtt (phrases within the aspect's rules) and <stem>.words.srt / .words.vtt (one cue a word)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    phrases = _subs([(c.start, c.end, c.text) for c in phrase_cues(words, RULES.get(aspect, RULES["16:9"]))])
    per_word = _subs([(w.start, w.end, w.text) for w in sorted(words, key=lambda x: x.start)])
    out = []
    for subs, name in ((phrases, ""), (per_word, ".words")):
        for fmt in ("srt", "vtt"):
            path = stem.with_name(f"{stem.name}{name}.{fmt}")
            subs.save(str(path), format_=fmt)
            out.append(path)
    return out


def styled_ass(cues: list[SubtitleCue], out: Path, width: int, height: int, aspect: str) -> Path:
    """An ASS file whose style keeps the captions inside the aspect's safe area at a readable size."""
    r = RULES.get(aspect, RULES["16:9"])
    subs = _subs([(c.start, c.end, c.text) for c in cues])
    subs.info.update({"PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0"})
    subs.styles["Default"] = pysubs2.SSAStyle(
        fontname="Aileron", fontsize=max(10, round(height * r.font_h)), bold=True, outline=max(1, round(height / 360)),
        shadow=0, alignment=pysubs2.Alignment.BOTTOM_CENTER, marginv=round(height * r.margin_v),
        marginl=round(width * r.margin_h), marginr=round(width * r.margin_h),
        primarycolor=pysubs2.Color(255, 255, 255), outlinecolor=pysubs2.Color(0, 0, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    subs.save(str(out), format_="ass")
    return out


def ass_filter(ass: Path, workdir: Path) -> str:
    """The `ass=…` filter burning `ass` with the bundled Aileron (the style names it; no system font needed)."""
    if not _SAFE.match(str(workdir)):
        raise MediaError(f"cannot burn subtitles: temporary folder {workdir} is not a plain path; set TMPDIR")
    local = workdir / "subs.ass"
    shutil.copyfile(ass, local)
    fonts = bundled_font_dir()
    if not _SAFE.match(str(fonts)):
        raise MediaError(f"cannot burn subtitles: font folder {fonts} is not a plain path; set TMPDIR")
    return f"ass={local}:fontsdir={fonts}"
