"""Contact sheet: sampled frames tiled in a grid with their timestamps burnt in (Pillow, no ffmpeg).

The frames come from the QC decode pass, so the sheet costs no extra decoding.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

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


def contact_sheet(
    frames: Sequence[tuple[float, Image.Image]],
    out: Path | None = None,
    *,
    columns: int | None = None,
    tile_width: int = TILE_WIDTH,
    quality: int = 85,
) -> Image.Image:
    """Tile (time, image) pairs left-to-right, top-to-bottom; label each with its time. Saves to `out` if given."""
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
    for k, (t, img) in enumerate(frames):
        x = GAP + (k % cols) * (tile_width + GAP)
        y = GAP + (k // cols) * (tile_h + GAP)
        sheet.paste(img.convert("RGB").resize((tile_width, tile_h), Image.Resampling.BILINEAR), (x, y))
        label = timestamp(t)
        box = draw.textbbox((x + 4, y + 4), label, font=font)
        draw.rectangle((box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2), fill=(0, 0, 0))
        draw.text((x + 4, y + 4), label, fill=(255, 255, 255), font=font)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(out, format="JPEG", quality=quality)
    return sheet
