"""A storyboard sheet: one frame from the middle of every panel of every shot, in reading order.

QC's contact sheet samples a clip at even times; a director reads a storyboard by panel, so this
sheet takes each time-coded block's middle frame (from the rendered clip) and tiles them, shots in
episode order, under a title line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Sequence

import av
from PIL import Image, ImageDraw

from vidpipe.storyboard.art import INK, PAPER, set_text
from vidpipe.storyboard.plan import panels

GAP = 10


def panel_frames(clip: Path, request: dict[str, Any]) -> list[Image.Image]:
    """The frame nearest the middle of each panel of `clip` (its request says where the panels are)."""
    duration = float(request.get("duration") or 5)
    wanted = [(p.start + p.end) / 2 for p in panels(str(request.get("prompt", "")), duration)]
    out: list[Image.Image] = []
    with av.open(str(clip)) as c:
        stream = c.streams.video[0]
        for frame in c.decode(stream):
            t = float(frame.time or 0.0)
            if len(out) < len(wanted) and t >= wanted[len(out)] - 1e-3:
                out.append(frame.to_image())
            if len(out) == len(wanted):
                break
    return out


def storyboard_sheet(shots: Sequence[tuple[Path, dict[str, Any]]], out: Path | None = None, *, title: str = "",
                     columns: int = 3, tile_width: int = 640) -> Image.Image:
    """Tile every panel of every (clip, request) pair; saves a JPEG or PNG to `out` when given."""
    tiles = [f for clip, req in shots for f in panel_frames(clip, req)]
    if not tiles:
        raise ValueError("a storyboard sheet needs at least one rendered panel")
    th = round(tile_width * tiles[0].height / tiles[0].width)
    cols = max(1, min(columns, len(tiles)))
    rows = -(-len(tiles) // cols)
    head = max(24, tile_width // 14) if title else 0
    sheet = Image.new("RGB", (cols * tile_width + (cols + 1) * GAP, head + rows * th + (rows + 1) * GAP), PAPER)
    draw = ImageDraw.Draw(sheet)
    if title:
        set_text(draw, title, (GAP * 2, GAP // 2, sheet.width - GAP * 2, head + GAP // 2), max_px=head * 2 // 3,
                 min_px=10, bold=True, max_lines=1, valign="mid")
    for k, tile in enumerate(tiles):
        x, y = GAP + (k % cols) * (tile_width + GAP), head + GAP + (k // cols) * (th + GAP)
        sheet.paste(tile.convert("RGB").resize((tile_width, th), Image.Resampling.LANCZOS), (x, y))
        draw.rectangle([x - 1, y - 1, x + tile_width, y + th], outline=INK, width=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        fmt = "PNG" if out.suffix.lower() == ".png" else "JPEG"
        sheet.save(out, fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    return sheet
