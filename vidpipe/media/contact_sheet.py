"""Contact sheet: sampled frames tiled in a grid with their timestamps burnt in (Pillow, no ffmpeg).

The frames come from the QC decode pass, so the sheet costs no extra decoding. QC findings can be
marked on the tiles (`marks`): boxes (burnt-in text, faces) and a camera-motion arrow per block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

TILE_WIDTH = 320
GAP = 4


def timestamp(t: float) -> str:
    """'00:03.25' — minutes, seconds and hundredths, as a person reads a timeline."""
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m):02d}:{s:05.2f}"


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


@dataclass(frozen=True)
class Mark:
    """Something to draw on one tile, in fractions of the frame.

    kind "box": x, y, w, h. kind "arrow": from the tile centre by (x, y) — the scene's motion —
    with `w` the zoom factor (a circle grows/shrinks around the centre when it is not 1).
    """

    kind: str
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    colour: tuple[int, int, int] = (255, 210, 0)
    label: str = ""


def _draw_mark(draw: ImageDraw.ImageDraw, m: Mark, x: int, y: int, tw: int, th: int, font) -> None:
    if m.kind == "box":
        box = (x + m.x * tw, y + m.y * th, x + (m.x + m.w) * tw, y + (m.y + m.h) * th)
        draw.rectangle(box, outline=m.colour, width=2)
        if m.label:
            draw.text((box[0] + 2, max(y, box[1] - 12)), m.label, fill=m.colour, font=font)
        return
    cx, cy = x + tw / 2, y + th / 2
    ex, ey = cx + m.x * tw, cy + m.y * th
    draw.line((cx, cy, ex, ey), fill=m.colour, width=3)
    ang = math.atan2(ey - cy, ex - cx)
    if abs(ex - cx) + abs(ey - cy) > 4:
        for s in (2.6, -2.6):
            draw.line((ex, ey, ex + 9 * math.cos(ang + s), ey + 9 * math.sin(ang + s)), fill=m.colour, width=3)
    if m.w and abs(m.w - 1) > 0.02:
        r = th * 0.12
        r2 = r * m.w
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=m.colour, width=1)
        draw.ellipse((cx - r2, cy - r2, cx + r2, cy + r2), outline=m.colour, width=2)
    if m.label:
        draw.text((x + 4, y + th - 14), m.label, fill=m.colour, font=font)


def contact_sheet(
    frames: Sequence[tuple[float, Image.Image]],
    out: Path | None = None,
    *,
    columns: int | None = None,
    tile_width: int = TILE_WIDTH,
    quality: int = 85,
    marks: Sequence[Sequence[Mark]] | None = None,
) -> Image.Image:
    """Tile (time, image) pairs left-to-right, top-to-bottom; label each with its time; draw `marks[k]`
    on tile k. Saves to `out` if given."""
    if not frames:
        raise ValueError("a contact sheet needs at least one frame")
    n = len(frames)
    cols = columns or (n if n <= 4 else math.ceil(math.sqrt(1.5 * n)))
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    first = frames[0][1]
    tile_h = max(2, round(tile_width * first.height / max(1, first.width)))
    sheet = Image.new("RGB", (cols * tile_width + (cols + 1) * GAP, rows * tile_h + (rows + 1) * GAP), (18, 18, 18))
    draw = ImageDraw.Draw(sheet)
    font = _font(max(10, tile_h // 9))
    small = _font(11)
    for k, (t, img) in enumerate(frames):
        x = GAP + (k % cols) * (tile_width + GAP)
        y = GAP + (k // cols) * (tile_h + GAP)
        sheet.paste(img.convert("RGB").resize((tile_width, tile_h), Image.Resampling.BILINEAR), (x, y))
        label = timestamp(t)
        box = draw.textbbox((x + 4, y + 4), label, font=font)
        draw.rectangle((box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2), fill=(0, 0, 0))
        draw.text((x + 4, y + 4), label, fill=(255, 255, 255), font=font)
        for m in (marks[k] if marks is not None and k < len(marks) else ()):
            _draw_mark(draw, m, x, y, tile_width, tile_h, small)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(out, format="JPEG", quality=quality)
    return sheet
