"""The storyboard's type and strips: every letter it draws lies inside `layout.text_areas(width, height)`.

A panel is laid out like a storyboard sheet (vidpipe.storyboard.layout): a header strip (shot, panel,
framing, PREVIEW tag), the picture, and a notes strip (the action, the speech bubble, the cast legend). Text is set to
fit its box: wrapped at spaces, shrunk down to a legible minimum, and when it still does not fit,
ended with an ellipsis after a whole word, so it is never cut mid-word and never leaves the frame.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from typing import cast

from PIL import Image, ImageDraw, ImageFont

from vidpipe.storyboard.layout import Box, Layout
from vidpipe.storyboard.plan import Member, Panel

PAPER = (238, 234, 222)
INK = (30, 30, 34)
MUTED_INK = (96, 96, 104)
TAG_RED = (214, 32, 44)
ELLIPSIS = "…"


def _font_file(bold: bool) -> str | None:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"
    path = path / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return str(path) if path.exists() else None


@lru_cache(maxsize=128)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (shipped inside matplotlib, a dependency), else Pillow's default face (a FreeType face
    since Pillow 10.1, which pyproject requires)."""
    path = _font_file(bold)
    if path:
        return ImageFont.truetype(path, size)
    return cast(ImageFont.FreeTypeFont, ImageFont.load_default(size=size))


def _width(text: str, f: ImageFont.FreeTypeFont) -> float:
    return f.getlength(text)


def _line_height(f: ImageFont.FreeTypeFont) -> int:
    a, d = f.getmetrics()
    return int(a + d)


def wrap(text: str, f: ImageFont.FreeTypeFont, width: float) -> list[str] | None:
    """Greedy word wrap; None when a single word is wider than the box (the caller shrinks the type)."""
    lines: list[str] = []
    for word in text.split():
        if _width(word, f) > width:
            return None
        if lines and _width(f"{lines[-1]} {word}", f) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _shorten(lines: list[str], keep: int, f: ImageFont.FreeTypeFont,
             width: float) -> list[str]:
    """The first `keep` lines, the last ending in an ellipsis after a whole word (words dropped to make room)."""
    out = lines[:keep]
    if not out:
        return out
    words = out[-1].split()
    while words and _width(" ".join(words) + ELLIPSIS, f) > width:
        words.pop()
    out[-1] = (" ".join(words) + ELLIPSIS) if words else ELLIPSIS
    return out


def fit(text: str, box: Box, *, max_px: int, min_px: int, bold: bool = False,
        max_lines: int = 99) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest size in [min_px, max_px] at which `text` wraps into `box`; else min size, shortened."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    size = max(min_px, max_px)
    while True:
        f = font(size, bold)
        lines = wrap(text, f, bw)
        if lines is not None and len(lines) <= max_lines and len(lines) * _line_height(f) <= bh:
            return f, lines
        if size <= min_px:
            break
        size = max(min_px, int(size * 0.92))
    keep = max(0, min(max_lines, bh // max(1, _line_height(f))))
    if lines is None:  # a word wider than the box even at the minimum: keep the words that fit
        lines = wrap(" ".join(w for w in text.split() if _width(w, f) <= bw), f, bw) or []
        return f, _shorten(lines, keep, f, bw) if lines else []
    return f, lines if len(lines) <= keep else _shorten(lines, keep, f, bw)


def set_text(draw: ImageDraw.ImageDraw, text: str, box: Box, *, max_px: int, min_px: int, bold: bool = False,
             fill: tuple[int, int, int] = INK, max_lines: int = 99, align: str = "left",
             valign: str = "top") -> Box:
    """Typeset `text` inside `box`; returns the box the lines occupy."""
    f, lines = fit(text, box, max_px=max_px, min_px=min_px, bold=bold, max_lines=max_lines)
    lh = _line_height(f)
    total = lh * len(lines)
    y = box[1] if valign == "top" else box[1] + (box[3] - box[1] - total) // 2
    used = [box[2], y, box[0], y + total]
    for line in lines:
        w = _width(line, f)
        x = box[0] if align == "left" else (box[2] - w if align == "right" else box[0] + (box[2] - box[0] - w) / 2)
        draw.text((x, y), line, font=f, fill=fill)
        used[0], used[2] = min(used[0], int(x)), max(used[2], int(x + w))
        y += lh
    return (used[0], used[1], used[2], used[3])


def draw_tag(img: Image.Image, lay: Layout) -> Box:
    """The red PREVIEW tag in the header's right corner; returns its box."""
    draw = ImageDraw.Draw(img)
    h = lay.top if not lay.portrait else lay.top // 2
    size = max(9, int(h * 0.52))
    f = font(size, True)
    tw = _width("PREVIEW", f)
    box = (int(lay.width - lay.pad - tw - 2 * lay.pad), lay.pad // 2, lay.width - lay.pad, h - lay.pad // 2)
    draw.rectangle(box, fill=TAG_RED)
    a, d = f.getmetrics()
    draw.text((box[0] + lay.pad, (box[1] + box[3]) / 2 - (a + d) / 2), "PREVIEW", font=f, fill=(255, 255, 255))
    return box


def header(lay: Layout, panel: Panel, *, label: str, model: str) -> tuple[Image.Image, Box]:
    """The header strip: shot and panel, the framing (size · angle · move), the PREVIEW tag.

    Returns the strip and the box left free for the running timecode.
    """
    img = Image.new("RGB", (lay.width, lay.top), PAPER)
    draw = ImageDraw.Draw(img)
    tag = draw_tag(img, lay)
    p, w = lay.pad, lay.width
    row = lay.top if not lay.portrait else lay.top // 2
    big, small = max(9, int(row * 0.46)), max(8, int(row * 0.24))
    who = label or "preview"
    span = f"{_clock(panel.start)}–{_clock(panel.end)}"
    shot = f"{who} · panel {panel.index + 1}/{panel.count} · {span}"
    if lay.portrait:
        set_text(draw, shot, (p, p // 2, tag[0] - p, row), max_px=small + 4, min_px=8, max_lines=1, valign="mid")
        clock = (int(w * 0.74), row, w - p, lay.top - p // 2)
        set_text(draw, panel.heading, (p, row, clock[0] - p, lay.top - p // 2), max_px=big, min_px=8,
                 bold=True, max_lines=1, valign="mid")
    else:
        left = (p, p // 2, int(w * 0.27), lay.top - p // 2)
        mid = (left[1] + left[3]) // 2
        set_text(draw, f"{who}  {panel.index + 1}/{panel.count}", (left[0], left[1], left[2], mid + 2),
                 max_px=int(row * 0.36), min_px=8, bold=True, max_lines=1, valign="mid")
        set_text(draw, f"{span} · {model}", (left[0], mid, left[2], left[3]), max_px=int(row * 0.3), min_px=8,
                 fill=MUTED_INK, max_lines=1, valign="mid")
        clock = (tag[0] - int(w * 0.095), p // 2, tag[0] - p, lay.top - p // 2)
        set_text(draw, panel.heading, (left[2] + p, p // 2, clock[0] - p, lay.top - p // 2), max_px=big,
                 min_px=8, bold=True, max_lines=1, align="center", valign="mid")
    draw.line([(0, lay.top - 1), (w, lay.top - 1)], fill=INK, width=max(1, lay.pad // 3))
    return img, clock


def draw_clock(img: Image.Image, box: Box, t: float) -> None:
    """The running timecode, redrawn each frame inside the header's reserved box."""
    draw = ImageDraw.Draw(img)
    draw.rectangle(box, fill=PAPER)
    set_text(draw, _clock(t, hundredths=True), box, max_px=max(8, int((box[3] - box[1]) * 0.55)), min_px=7,
             fill=INK, max_lines=1, align="right", valign="mid")


def _clock(t: float, hundredths: bool = False) -> str:
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m):02d}:{s:05.2f}" if hundredths else f"{int(m):02d}:{int(round(s)):02d}"


@dataclass
class Notes:
    """The pre-rendered notes strip and where the speech bubble's tail leaves it."""

    image: Image.Image
    bubble: Box | None  # in frame coordinates


def notes(lay: Layout, panel: Panel, *, speaker_x: float | None = None) -> Notes:
    """The notes strip: the action caption, the speech bubble (speaker's name, the line), the cast legend."""
    img = Image.new("RGB", (lay.width, lay.bottom), PAPER)
    draw = ImageDraw.Draw(img)
    p, w, hb = lay.pad, lay.width, lay.bottom
    draw.line([(0, 0), (w, 0)], fill=INK, width=max(1, p // 3))
    legend_h = max(10, int(min(w, lay.height) * 0.04))
    body = (2 * p, p + p // 2, w - 2 * p, hb - legend_h - p)
    cap_px, cap_min = max(9, int(min(w, lay.height) * 0.044)), max(8, int(min(w, lay.height) * 0.019))
    bubble_box: Box | None = None
    if panel.line:
        side_left = speaker_x is None or speaker_x < w / 2 or lay.portrait
        bw = body[2] - body[0] if lay.portrait else int((body[2] - body[0]) * 0.58)
        bx = body[0] if side_left else body[2] - bw
        bh = (body[3] - body[1]) * (0.62 if lay.portrait else 1.0)
        bubble = (bx, body[1], bx + bw, body[1] + int(bh))
        draw.rounded_rectangle(bubble, radius=max(4, p * 2), fill=(255, 255, 255), outline=INK,
                               width=max(2, p // 3))
        inner = (bubble[0] + 2 * p, bubble[1] + p, bubble[2] - 2 * p, bubble[3] - p)
        name = panel.speaker.label if panel.speaker else "VOICE"
        nf = font(max(8, int(cap_px * 0.8)), True)
        colour = panel.speaker.colour if panel.speaker else INK
        r = _line_height(nf) // 2
        draw.ellipse([inner[0], inner[1] + 2, inner[0] + 2 * r - 4, inner[1] + 2 * r - 2], fill=colour, outline=INK)
        set_text(draw, name, (inner[0] + 2 * r + p // 2, inner[1], inner[2], inner[1] + _line_height(nf)),
                 max_px=int(nf.size), min_px=8, bold=True, max_lines=1)
        set_text(draw, f"“{panel.line}”", (inner[0], inner[1] + _line_height(nf), inner[2], inner[3]),
                 max_px=cap_px, min_px=cap_min)
        bubble_box = (bubble[0], bubble[1] + lay.height - hb, bubble[2], bubble[3] + lay.height - hb)
        if lay.portrait:
            caption = (body[0], bubble[3] + p, body[2], body[3])
        elif side_left:
            caption = (bubble[2] + 2 * p, body[1], body[2], body[3])
        else:
            caption = (body[0], body[1], bubble[0] - 2 * p, body[3])
    else:
        caption = body
    if panel.caption and caption[3] - caption[1] >= cap_min:
        set_text(draw, panel.caption, caption, max_px=cap_px, min_px=cap_min)
    _legend(draw, panel.members, (2 * p, hb - legend_h - p // 2, w - 2 * p, hb - p // 2))
    return Notes(img, bubble_box)


def _legend(draw: ImageDraw.ImageDraw, cast: list[Member], box: Box) -> None:
    """Colour swatches with each identity's label: the key that ties a silhouette to a name."""
    h = box[3] - box[1]
    f = font(max(8, int(h * 0.72)), True)
    x: float = box[0]
    for m in cast:
        w = _width(m.label, f) + h * 1.6
        if x + w > box[2]:
            break
        draw.rounded_rectangle([x, box[1] + h * 0.15, x + h * 0.9, box[3] - h * 0.15], radius=max(2, h // 5),
                               fill=m.colour, outline=INK)
        draw.text((x + h * 1.15, box[1] + (h - _line_height(f)) / 2), m.label, font=f, fill=INK)
        x += w + h
