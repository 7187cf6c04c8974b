"""The timeline strip under a storyboard sheet: the whole cut, its shots, the music's beats and the cuts.

A director checks the rhythm here: shot spans in alternating shades with their ids, a blue tick per beat
of the fitted music above them, and a marker per cut: a dark line, or a green line topped by a diamond
where the cut lands on a beat (within half a frame, the most a whole-frame cut can miss by). Without
music the strip shows the spans alone; no beat is ever invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import ImageDraw, ImageFont

from vidpipe.storyboard.art import INK, MUTED_INK, font, set_text

BEAT = (36, 100, 204)
CUT = INK
CUT_ON_BEAT = (18, 150, 84)
SHADES = ((212, 206, 190), (186, 180, 164))
CONTINUES = (236, 104, 12)  # the sheet's link colour: a cut the next shot continues through

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Span:
    """A shot's stretch of the cut, in seconds (from the previous cut point to its own)."""

    shot: str
    start: float
    end: float
    continues: bool = False  # this shot continues the one before it (continue_from), so its cut is a seam


@dataclass(frozen=True)
class Timeline:
    """What the strip draws, all in seconds of the cut."""

    spans: list[Span]
    duration: float
    beats: list[float] = field(default_factory=list)
    fps: int = 24
    note: str = ""  # one line: where the times come from (final cut / clips) and the music

    @property
    def cuts(self) -> list[float]:
        """The cut points between shots (the end of the cut is not a cut)."""
        return [s.start for s in self.spans[1:]]

    def on_beat(self, t: float) -> bool:
        """Is time `t` within half a frame of a beat?"""
        return any(abs(t - b) <= 0.5 / self.fps + 1e-6 for b in self.beats)


def strip_height(width: int) -> int:
    """The strip's height for a sheet `width` pixels wide."""
    return max(130, width // 11)


def draw_timeline(draw: ImageDraw.ImageDraw, tl: Timeline, box: Box) -> Box:
    """Draw the strip inside `box`; returns the axis box (x0 is t=0, x1 is t=duration)."""
    x0, y0, x1, y1 = box
    u = max(12, (y1 - y0) // 8)  # one text line
    fs, fb = font(max(10, u * 4 // 5)), font(max(10, u * 4 // 5), True)
    draw.text((x0, y0 + u // 2), "TIMELINE", font=fb, fill=INK, anchor="lm")
    key_left = _legend(draw, tl, (x1, y0 + u // 2), fs)
    note_x = x0 + int(fb.getlength("TIMELINE  ")) + 4
    set_text(draw, tl.note, (note_x, y0, key_left - u, y0 + u), max_px=int(fs.size), min_px=9, fill=MUTED_INK,
             max_lines=1, valign="mid")
    beat_top, beat_bot = y0 + 2 * u + u // 2, y0 + 3 * u + u // 2
    span_top, span_bot = beat_bot + 2, beat_bot + 2 + u * 2 + u // 2
    dur = max(tl.duration, 1e-6)

    def x_at(t: float) -> int:
        return round(x0 + t / dur * (x1 - x0))

    for k, s in enumerate(tl.spans):
        a, b = x_at(s.start), x_at(s.end)
        draw.rectangle([a, span_top, max(a, b - 1), span_bot], fill=SHADES[k % 2])
        if b - a > fb.getlength(s.shot) + 6:
            draw.text(((a + b) // 2, (span_top + span_bot) // 2), s.shot, font=fb, fill=INK, anchor="mm")
    draw.rectangle([x0, span_top, x1, span_bot], outline=INK, width=1)
    for t in tl.beats:
        if 0 <= t <= tl.duration + 1e-6:
            x = x_at(t)
            draw.line([(x, beat_top), (x, beat_bot)], fill=BEAT, width=2)
    for s in tl.spans[1:]:
        x, hit = x_at(s.start), tl.on_beat(s.start)
        colour = CUT_ON_BEAT if hit else CUT
        draw.line([(x, beat_top - 2), (x, span_bot + 2)], fill=colour, width=3)
        if hit:
            d = u // 2
            draw.polygon([(x, beat_top - 2 - 2 * d), (x + d, beat_top - 2 - d), (x, beat_top - 2),
                          (x - d, beat_top - 2 - d)], fill=CUT_ON_BEAT)
        if s.continues:  # a seam the next shot continues through: the sheet's chain, on the cut
            r = u * 3 // 4
            draw.ellipse([x - r, span_bot - 2 * r - 3, x + r, span_bot - 3], fill=CONTINUES)
            chain(draw, (x, span_bot - r - 3), r * 2 // 3, (250, 250, 250))
    _ruler(draw, tl.duration, x_at, span_bot + 3, fs)
    return (x0, beat_top, x1, span_bot)


def chain(draw: ImageDraw.ImageDraw, c: tuple[int, int], r: int, colour: tuple[int, int, int]) -> None:
    """Two interlocked links (ovals), centred on `c`, about 2r wide."""
    w, h, lw = r, max(4, r * 11 // 20), max(2, r // 4)
    for dx in (-r * 9 // 20, r * 9 // 20):
        cx = c[0] + dx
        draw.rounded_rectangle([cx - w // 2 - lw, c[1] - h // 2 - lw, cx + w // 2 + lw, c[1] + h // 2 + lw],
                               radius=h // 2 + lw, outline=colour, width=lw)


def _ruler(draw: ImageDraw.ImageDraw, duration: float, x_at: Callable[[float], int], y: int,
           f: ImageFont.FreeTypeFont) -> None:
    """Second marks under the spans: every 1, 2, 5 or 10 s, whichever keeps the labels apart."""
    step = next((s for s in (1, 2, 5, 10, 30, 60) if duration / s <= 16), 120)
    t = 0.0
    while t <= duration + 1e-6:
        x = x_at(t)
        draw.line([(x, y), (x, y + 4)], fill=MUTED_INK, width=1)
        draw.text((x, y + 5), f"{t:g}s", font=f, fill=MUTED_INK, anchor="ma")
        t += step


def _legend(draw: ImageDraw.ImageDraw, tl: Timeline, right_mid: tuple[int, int],
            f: ImageFont.FreeTypeFont) -> int:
    """Right-aligned key: beat tick, cut, cut on beat (only the marks this strip can show)."""
    x, y = right_mid
    items: list[tuple[str, str]] = [("cut", "cut"), ("on", "cut on a beat"), ("beat", "beat")] if tl.beats \
        else [("cut", "cut")]
    for kind, text in items:
        w = draw.textlength(text, font=f)
        draw.text((x, y), text, font=f, fill=MUTED_INK, anchor="rm")
        x -= int(w) + 10
        if kind == "beat":
            draw.line([(x, y - 6), (x, y + 6)], fill=BEAT, width=2)
        elif kind == "cut":
            draw.line([(x, y - 7), (x, y + 7)], fill=CUT, width=3)
        else:
            draw.polygon([(x, y - 7), (x + 6, y), (x, y + 7), (x - 6, y)], fill=CUT_ON_BEAT)
        x -= 22
    return x
