"""A storyboard sheet: one frame from the middle of every panel of every shot, in reading order.

QC's contact sheet samples a clip at even times; a director reads a storyboard by panel, so this
sheet takes each time-coded block's middle frame (from the rendered clip) and tiles them, shots in
episode order, under a title line. Each tile is labelled with its shot and block; a shot that
continues another (`continue_from`) is joined to it by an orange line routed through the gutters
(so it reads even when the two tiles sit on different rows) that ends in a chain badge, and both
tiles say so in words. An optional timeline strip (vidpipe.storyboard.timeline) goes underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageDraw

from vidpipe.storyboard.art import INK, MUTED_INK, PAPER, font, set_text
from vidpipe.storyboard.plan import panels
from vidpipe.storyboard.timeline import Timeline, chain, draw_timeline, strip_height

GAP = 28  # gutters are wide enough to carry a link line and its badge
LINK = (236, 104, 12)  # continuity links: a colour nothing else on the sheet's paper uses
LABEL_BG = (24, 24, 28)
WHITE = (250, 250, 250)

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Tile:
    """One panel's frame and what its label says."""

    image: Image.Image
    shot: str = ""
    start: float = 0.0
    end: float = 0.0
    panel: int = 0
    panels: int = 1
    continues_from: str | None = None  # set on the first tile of a shot that continues another


@dataclass(frozen=True)
class SheetLayout:
    """Where things were drawn, so a caller (and a test) can find them: tile boxes, link paths, the strip."""

    tiles: list[Box]
    links: list[tuple[int, int, list[tuple[int, int]]]] = field(default_factory=list)  # (from tile, to tile, path)
    strip: Box | None = None  # the timeline's axis: x from strip[0] (t=0) to strip[2] (t=duration)
    duration: float = 0.0

    def x_at(self, t: float) -> float:
        """The x of time `t` (seconds into the cut) on the timeline strip."""
        assert self.strip is not None and self.duration > 0
        return self.strip[0] + t / self.duration * (self.strip[2] - self.strip[0])


def panel_frames(clip: Path, request: dict[str, Any]) -> list[Image.Image]:
    """The frame nearest the middle of each panel of `clip` (its request says where the panels are)."""
    wanted = [(p.start + p.end) / 2 for p in request_panels(request)]
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


def request_panels(request: dict[str, Any]) -> list[Any]:
    return panels(str(request.get("prompt", "")), float(request.get("duration") or 5))


def shot_tiles(clip: Path, request: dict[str, Any], *, shot: str = "",
               continues_from: str | None = None) -> list[Tile]:
    """The tiles of one shot: a frame and a label per panel; the first says what it continues."""
    ps = request_panels(request)
    frames = panel_frames(clip, request)
    return [Tile(f, shot, p.start, p.end, k, len(frames), continues_from if k == 0 else None)
            for k, (f, p) in enumerate(zip(frames, ps))]


def storyboard_sheet(shots: Sequence[tuple[Path, dict[str, Any]]], out: Path | None = None, *, title: str = "",
                     columns: int = 3, tile_width: int = 640) -> Image.Image:
    """Tile every panel of every (clip, request) pair; saves a JPEG or PNG to `out` when given."""
    tiles = [t for clip, req in shots for t in shot_tiles(clip, req)]
    img, _ = draw_sheet(tiles, title=title, columns=columns, tile_width=tile_width)
    if out is not None:
        save(img, out)
    return img


def save(img: Image.Image, out: Path) -> Path:
    """JPEG (quality 88) or PNG by suffix."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = "PNG" if out.suffix.lower() == ".png" else "JPEG"
    img.save(out, fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    return out


def draw_sheet(tiles: Sequence[Tile], *, title: str = "", subtitle: str = "", columns: int = 3,
               tile_width: int = 640, timeline: Timeline | None = None) -> tuple[Image.Image, SheetLayout]:
    """Lay out the tiles in rows under a title, draw their labels and continuity links, then the timeline."""
    if not tiles:
        raise ValueError("a storyboard sheet needs at least one rendered panel")
    tw = tile_width
    th = round(tw * tiles[0].image.height / tiles[0].image.width)
    cols = max(1, min(columns, len(tiles)))
    rows = -(-len(tiles) // cols)
    width = cols * tw + (cols + 1) * GAP
    head = (max(24, tw // 14) + (max(14, tw // 28) if subtitle else 0)) if title else 0
    grid_h = rows * th + (rows + 1) * GAP
    strip_h = strip_height(width) if timeline is not None else 0
    sheet = Image.new("RGB", (width, head + GAP // 2 + grid_h + strip_h), PAPER)
    draw = ImageDraw.Draw(sheet)
    if title:
        t_h = max(24, tw // 14)
        set_text(draw, title, (GAP, GAP // 2, width - GAP, GAP // 2 + t_h), max_px=t_h * 3 // 4, min_px=10,
                 bold=True, max_lines=1, valign="mid")
        if subtitle:
            set_text(draw, subtitle, (GAP, GAP // 2 + t_h, width - GAP, head + GAP // 2), max_px=max(12, tw // 34),
                     min_px=9, fill=MUTED_INK, max_lines=1, valign="mid")
    top = head + GAP // 2
    boxes: list[Box] = []
    for k, tile in enumerate(tiles):
        x, y = GAP + (k % cols) * (tw + GAP), top + GAP + (k // cols) * (th + GAP)
        sheet.paste(tile.image.convert("RGB").resize((tw, th), Image.Resampling.LANCZOS), (x, y))
        draw.rectangle([x - 1, y - 1, x + tw, y + th], outline=INK, width=2)
        boxes.append((x, y, x + tw, y + th))
        if tile.shot:
            _label(draw, tile, boxes[-1])
    links = _draw_links(draw, tiles, boxes, cols)
    layout = SheetLayout(boxes, links)
    if timeline is not None:
        axis = draw_timeline(draw, timeline, (GAP, top + grid_h, width - GAP, sheet.height - GAP // 2))
        layout = SheetLayout(boxes, links, axis, timeline.duration)
    return sheet, layout


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:04.1f}"


def _label(draw: ImageDraw.ImageDraw, tile: Tile, box: Box) -> None:
    """A dark band across the tile's top: shot id (panel n/N), what it continues, and the block's times."""
    x0, y0, x1, _ = box
    h = max(18, (x1 - x0) // 15)
    draw.rectangle([x0, y0, x1 - 1, y0 + h], fill=LABEL_BG)
    f, fb = font(max(10, h * 2 // 3)), font(max(10, h * 2 // 3), True)
    name = tile.shot + (f"  {tile.panel + 1}/{tile.panels}" if tile.panels > 1 else "")
    draw.text((x0 + h // 3, y0 + h // 2), name, font=fb, fill=WHITE, anchor="lm")
    times = f"{_clock(tile.start)}–{_clock(tile.end)}"
    draw.text((x1 - h // 3, y0 + h // 2), times, font=f, fill=WHITE, anchor="rm")
    if tile.continues_from:  # in the band when "continues from s001" fits there, else just under it
        room = (x0 + h // 3 + int(fb.getlength(name)) + h // 2, x1 - h // 2 - int(f.getlength(times)) - h // 2)
        if _pill_width(tile.continues_from, h - 4) <= room[1] - room[0]:
            _pill(draw, tile.continues_from, room[0], y0 + 2, h - 4)
        else:
            _pill(draw, tile.continues_from, x0 + h // 3, y0 + h + h // 4, h - 2)


def _pill_width(source: str, h: int) -> int:
    return int(font(max(9, h * 3 // 4), True).getlength(f"continues from {source}")) + h * 2


def _pill(draw: ImageDraw.ImageDraw, source: str, x0: int, y0: int, h: int) -> None:
    """A LINK-coloured rounded label with a chain glyph: "continues from s001"."""
    f = font(max(9, h * 3 // 4), True)
    draw.rounded_rectangle([x0, y0, x0 + _pill_width(source, h), y0 + h], radius=h // 2, fill=LINK)
    chain(draw, (x0 + h * 3 // 4, y0 + h // 2), h // 2, WHITE)
    draw.text((x0 + h * 3 // 2, y0 + h // 2), f"continues from {source}", font=f, fill=WHITE, anchor="lm")


def _draw_links(draw: ImageDraw.ImageDraw, tiles: Sequence[Tile], boxes: list[Box],
                cols: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """From the source shot's last tile to the continuing shot's first, through the gutters only."""
    last = {t.shot: k for k, t in enumerate(tiles)}
    out = []
    for k, t in enumerate(tiles):
        src = last.get(t.continues_from or "")
        if src is None or src >= k:
            continue
        (_, sy0, sx1, sy1), (tx0, ty0, _, ty1) = boxes[src], boxes[k]
        sy, ty = (sy0 + sy1) // 2, (ty0 + ty1) // 2
        if src // cols == k // cols and k == src + 1:  # side by side: straight across the gutter
            path = [(sx1, sy), (tx0, ty)]
        else:  # right gutter of the source, the gutter above the target's row, the target's left gutter
            xr, yh, xl = sx1 + GAP // 2, ty0 - GAP // 2, tx0 - GAP // 2
            path = [(sx1, sy), (xr, sy), (xr, yh), (xl, yh), (xl, ty), (tx0, ty)]
        lw = max(3, GAP // 7)
        draw.line(path, fill=LINK, width=lw, joint="curve")
        ex, ey = path[-1]
        draw.polygon([(ex, ey), (ex - lw * 2, ey - lw * 2), (ex - lw * 2, ey + lw * 2)], fill=LINK)
        r = GAP * 3 // 5  # the chain badge: on the line, in the gutter beside the continuing tile
        bx, by = (sx1 + tx0) // 2 if len(path) == 2 else path[-2][0], ty - r - lw * 3
        if len(path) == 2:
            draw.line([(bx, by), (bx, ty)], fill=LINK, width=lw)
        draw.ellipse([bx - r, by - r, bx + r, by + r], fill=LINK, outline=WHITE, width=2)
        chain(draw, (bx, by), r * 2 // 3, WHITE)
        out.append((src, k, path))
    return out
