"""The picture in a preview panel: a setting drawn in muted tones, the cast as coloured silhouettes.

The setting (sky, horizon, sea/land/interior, perspective lines) is painted once per panel at
the panel's working size; the camera crops it. The horizon height states the angle (low angle:
low horizon, the figure looms; high angle: high horizon, ground fills the frame). The figures are
drawn per frame in frame coordinates, at the scale the shot size gives, so they stay crisp and can
perform the action while the camera holds still. No letters are drawn here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from PIL import Image, ImageDraw

from vidpipe.storyboard.plan import Member, Panel

INK = (30, 30, 34)
PALETTE = {
    "teal": (38, 128, 128), "amber": (230, 160, 50), "gold": (225, 185, 80), "blue": (50, 90, 170),
    "navy": (25, 35, 80), "red": (190, 50, 45), "green": (60, 140, 80), "orange": (235, 120, 40),
    "pink": (230, 140, 170), "purple": (110, 70, 150), "silver": (190, 195, 200), "cyan": (60, 190, 210),
    "sodium": (240, 150, 40), "pastel": (200, 190, 220), "yellow": (235, 205, 60), "brass": (180, 140, 60),
    "tungsten": (240, 170, 90), "neon": (255, 60, 200), "forest": (40, 90, 50), "desert": (215, 170, 110),
}
# Head units of the subject figure per shot size, as a share of the picture height.
HEAD = {"wide": 0.05, "medium": 0.17, "medium close-up": 0.25, "close-up": 0.40, "extreme close-up": 0.95}
HORIZON = {"eye level": 0.5, "low": 0.8, "high": 0.18, "dutch": 0.5}
_INTERIOR = ("cabin", "stairs", "staircase", "inside", "interior", "kitchen", "office", "corridor",
             "hallway", "radio set", "desk", "indoors", "practical light", "tungsten", "lamp light", "workshop")
_SEA = ("sea", "ocean", "coast", "waves", "surf", "harbour", "harbor", "beach", "shore", "bay", "trawler")
_NIGHT = ("night", "storm", "midnight", "blue-hour", "blue hour", "dark")
_DAWN = ("dawn", "sunrise", "sunset", "dusk", "golden hour", "morning")
Box = tuple[int, int, int, int]
SWAY, SWAY_S = 0.02, 1.2  # the ground's sway: amplitude (share of the width) and period; QC's 64x36 luma sees it


def _mix(a: tuple[int, ...], b: tuple[int, ...], f: float) -> tuple[int, int, int]:
    return (int(a[0] * (1 - f) + b[0] * f), int(a[1] * (1 - f) + b[1] * f), int(a[2] * (1 - f) + b[2] * f))


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(w in text for w in words)


@dataclass(frozen=True)
class Setting:
    """Where the panel happens, read from the words: interior or exterior, sea or land, time of day."""

    interior: bool
    sea: bool
    time: str  # night | dawn | day
    tint: tuple[int, int, int]
    rain: bool

    @classmethod
    def of(cls, text: str) -> "Setting":
        low = text.lower()
        tints = [rgb for word, rgb in PALETTE.items() if word in low]
        time = "night" if _has(low, _NIGHT) else "dawn" if _has(low, _DAWN) else "day"
        tint = tints[0] if tints else (128, 128, 128)
        sea = _has(low, _SEA)
        inside = _has(low, _INTERIOR) or (" room" in low and not sea)
        return cls(inside, sea, time, tint, "rain" in low)


def composition(panel: Panel, picture: Box) -> tuple[float, float, float]:
    """(horizon y, subject x, head-unit px) inside `picture` for this panel's size and angle."""
    x0, y0, x1, y1 = picture
    ph = y1 - y0
    horizon = y0 + HORIZON.get(panel.angle, 0.5) * ph
    side = 0.36 if panel.index % 2 == 0 else 0.64
    main = panel.members[0] if panel.members else None
    if main is not None and main.kind == "place" and panel.count == 1 and len(panel.members) == 1:
        side = 0.5 if panel.move in ("zoom_in", "zoom_out", "orbit") else 0.4
    return horizon, x0 + side * (x1 - x0), HEAD[panel.size] * ph


Shape = tuple[str, list[tuple[float, float]], tuple[int, int, int], int]  # (line|polygon, points, colour, width)


@dataclass
class Ambient:
    """What stays alive while the camera holds: the ground's texture (waves, grass) sways in bands
    whose phases cancel out, and clouds drift in two layers going opposite ways.

    Neither has a net direction, so a locked-off panel is not a frozen frame while its measured
    global motion stays zero. Lines that must stay put (perspective lines, the horizon, a cliff)
    are drawn over the swaying texture.
    """

    clouds: list[tuple[float, float, float, int]]  # (x, y, radius, layer) in setting coordinates
    cloud: tuple[int, int, int]
    horizon: float  # setting coordinates; the texture sways below it
    sways: bool
    overlay: list[Shape]

    def draw(self, img: Image.Image, box: tuple[float, float, float, float], t: float, bottom: int, *,
             live: bool = True) -> None:
        """The setting's live parts in a frame showing `box` of it at time `t` (`live`: animate them)."""
        s = img.width / (box[2] - box[0])
        if self.sways and live:
            self._sway(img, (self.horizon - box[1]) * s, bottom, t)
        d = ImageDraw.Draw(img)
        fit = lambda pts: [((x - box[0]) * s, (y - box[1]) * s) for x, y in pts]  # noqa: E731
        for kind, pts, colour, width in self.overlay:
            if kind == "polygon":
                d.polygon(fit(pts), fill=colour)
            else:
                d.line(fit(pts), fill=colour, width=max(1, int(width * s)))
        span = (box[2] - box[0]) * 1.6
        for x, y, r, layer in self.clouds:
            speed = ((1 if layer else -1) * span / 30.0) if live else 0.0
            cx = (x + speed * t - box[0]) % (span + 4 * r) - 2 * r
            fx, fy, fr = cx * s, (y - box[1]) * s, r * s
            for k in range(4):
                ox = (k - 1.5) * fr * 0.9
                d.ellipse([fx + ox - fr, fy - fr * 0.6 - (k % 2) * fr * 0.3, fx + ox + fr, fy + fr * 0.5],
                          fill=self.cloud)

    @staticmethod
    def _sway(img: Image.Image, top: float, bottom: int, t: float) -> None:
        """Shift bands of rows back and forth, four phases a quarter-turn apart (their sum is zero)."""
        if top >= bottom - 2:
            return
        a = np.asarray(img).copy()
        amp = a.shape[1] * SWAY
        y, k = max(0, int(top) + 2), 0
        while y < bottom:
            band = max(3, int(4 + (y - top) * 0.06))
            shift = int(round(amp * np.sin(2 * np.pi * t / SWAY_S + k * np.pi / 2)))
            rows = slice(y, min(bottom, y + band))
            a[rows] = np.roll(a[rows], shift, axis=1)
            y, k = y + band, k + 1
        img.paste(Image.fromarray(a))


def paint_setting(panel: Panel, size: tuple[int, int], picture: Box, *,
                  seed: int = 0) -> tuple[Image.Image, Ambient]:
    """The background at `size` (offset so `picture` is the visible region at rest) and its live parts."""
    w, h = size
    st = Setting.of(panel.scene)
    rnd = hashlib.sha256(f"{panel.scene}|{panel.index}|{seed}".encode()).digest()
    horizon = int(composition(panel, picture)[0])
    sky_top, sky_low = {"night": ((22, 28, 52), (60, 70, 96)), "dawn": ((150, 160, 196), (246, 200, 150)),
                        "day": ((92, 134, 192), (200, 216, 230))}[st.time]
    ground_far, ground_near = ((70, 96, 112), (26, 40, 52)) if st.sea else ((132, 124, 100), (78, 70, 56))
    if st.interior:
        sky_top, sky_low = _mix((120, 106, 90), st.tint, 0.25), _mix((150, 132, 110), st.tint, 0.25)
        ground_far, ground_near = (104, 84, 64), (62, 48, 38)
        if st.time == "night":
            sky_top, sky_low = _mix(sky_top, (20, 20, 30), 0.5), _mix(sky_low, (20, 20, 30), 0.45)
    if st.time == "night" and not st.interior:
        ground_far, ground_near = _mix(ground_far, (10, 14, 24), 0.5), _mix(ground_near, (5, 8, 14), 0.5)
    img = Image.new("RGB", size)
    d = ImageDraw.Draw(img)
    for y in range(h):
        if y < horizon:
            c = _mix(sky_top, sky_low, y / max(1, horizon))
        else:
            c = _mix(ground_far, ground_near, (y - horizon) / max(1, h - horizon))
        d.line([(0, y), (w, y)], fill=_mix(c, st.tint, 0.12))
    lw = max(2, h // 300)
    vx = picture[0] + (picture[2] - picture[0]) * (0.3 + rnd[0] / 255 * 0.4)
    if st.interior:
        _interior(d, w, h, horizon, vx, rnd, lw, st)
    else:
        _sky(d, w, horizon, rnd, st)
        if not st.sea:
            pts = [(0.0, float(horizon))] + [(w * i / 8, horizon - h * (0.02 + rnd[i + 4] % 9 / 100)) for i in range(9)]
            d.polygon(pts + [(float(w), float(horizon))], fill=(92, 104, 96))
    overlay: list[Shape] = []
    if not st.interior:
        overlay = _sea(d, w, h, horizon, rnd, lw, _mix(ground_far, (230, 240, 245), 0.45)) if st.sea else _land(d, w, h, horizon, vx, rnd, lw)
    if st.rain:
        rain = _mix(sky_low, (255, 255, 255), 0.35)
        for i in range(70):  # rain shows against the sky (over water or ground it only adds clutter)
            x = (rnd[i % 32] * 53 + i * 131) % w
            y = (rnd[(i + 5) % 32] * 29 + i * 71) % max(1, horizon - int(h * 0.05))
            d.line([(x, y), (x - h * 0.012, y + h * 0.05)], fill=rain, width=max(1, lw // 2))
    clouds = [] if st.interior else [
        ((rnd[i + 2] / 255) * w, horizon * (0.12 + (rnd[i + 9] / 255) * 0.5), horizon * (0.08 + rnd[i + 15] % 8 / 100),
         i % 2) for i in range(10)]
    cloud = (236, 232, 226) if st.time != "night" else (84, 92, 118)
    return img, Ambient(clouds, cloud, float(horizon), not st.interior, overlay)


def _sky(d: ImageDraw.ImageDraw, w: int, horizon: int, rnd: bytes, st: Setting) -> None:
    if st.time == "night":
        for i in range(70):
            x, y = (rnd[i % 32] * 97 + i * 193) % w, (rnd[(i + 3) % 32] * 41 + i * 37) % max(1, horizon)
            r = 1 + (i % 3)
            d.ellipse([x - r, y - r, x + r, y + r], fill=(200, 205, 220))


def _sea(d: ImageDraw.ImageDraw, w: int, h: int, horizon: int, rnd: bytes, lw: int,
         crest: tuple[int, int, int]) -> list[Shape]:
    """Waves (they sway) and, to one side, a cliff with the horizon (they stay)."""
    cx = w * (0.02 if rnd[1] % 2 == 0 else 0.98)
    y, k = float(horizon) + h * 0.01, 0
    while y < h:
        step = 6 + (y - horizon) * 0.09
        x = -step * 4 + (rnd[k % 32] % 16) * step * 0.5
        i = 0
        while x < w + step * 4:  # irregular crests: rows of equal dashes read as text to an OCR detector
            b = rnd[(k * 7 + i) % 32] ^ rnd[(k + i * 3) % 32]
            length = step * (4 + b % 5)
            jy = step * ((b >> 3) % 5 - 2) * 0.15
            d.arc([x, y + jy, x + length, y + jy + step * 0.5], 205, 335, fill=crest, width=max(1, lw))
            x += length + step * (3 + (b >> 5) % 6)
            i += 1
        y += step
        k += 1
    cliff = [(cx - w * 0.2, h), (cx - w * 0.2, horizon - h * 0.05), (cx - w * 0.05, horizon - h * 0.12),
             (cx + w * 0.08, horizon - h * 0.06), (cx + w * 0.2, h)]
    return [("line", [(0, horizon), (w, horizon)], INK, lw), ("polygon", cliff, (24, 26, 30), 0)]


def _land(d: ImageDraw.ImageDraw, w: int, h: int, horizon: int, vx: float, rnd: bytes, lw: int) -> list[Shape]:
    """Grass tufts (they sway in the wind); perspective lines to the vanishing point (they stay)."""
    y, k = float(horizon) + 2, 0
    while y < h:
        step = 4 + (y - horizon) * 0.12
        for i in range(int(w / (step * 3)) + 1):
            x = (i * step * 3 + (rnd[k % 32] * 5) % (step * 3)) % w
            d.line([(x, y + step * 0.5), (x + step * 0.25, y)], fill=(112, 118, 76), width=max(1, lw))
            d.line([(x + step * 0.5, y + step * 0.5), (x + step * 0.3, y)], fill=(66, 74, 48), width=max(1, lw))
        y += step
        k += 1
    lines: list[Shape] = [("line", [(vx, horizon), (vx + i * w * 0.16, h)], (60, 56, 44), lw) for i in range(-10, 11)]
    return lines + [("line", [(0, horizon), (w, horizon)], INK, lw)]


def _interior(d: ImageDraw.ImageDraw, w: int, h: int, horizon: int, vx: float, rnd: bytes, lw: int,
              st: Setting) -> None:
    d.line([(0, horizon), (w, horizon)], fill=INK, width=lw)
    for i in range(-12, 13):
        d.line([(vx, horizon), (vx + i * w * 0.12, h)], fill=(44, 34, 26), width=lw)
    for i in range(9):
        x = w * (i + 0.5) / 9
        d.line([(x, 0), (x, horizon)], fill=_mix((90, 76, 60), st.tint, 0.2), width=lw)
    wx = w * (0.15 + rnd[3] / 255 * 0.6)
    win = (wx, horizon * 0.25, wx + w * 0.14, horizon * 0.75)
    glass = (34, 44, 70) if st.time == "night" else (190, 210, 226)
    d.rectangle(win, fill=glass, outline=INK, width=lw * 2)
    d.line([((win[0] + win[2]) / 2, win[1]), ((win[0] + win[2]) / 2, win[3])], fill=INK, width=lw)
    d.line([(win[0], (win[1] + win[3]) / 2), (win[2], (win[1] + win[3]) / 2)], fill=INK, width=lw)
