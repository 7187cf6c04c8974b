"""The picture behind a panel: the user's place image when there is one, else a neutral backdrop.

Nothing is invented from the words: no house, no field, no sea. A place without an image is a
neutral studio backdrop (a floor line where the shot's angle puts the horizon, a soft gradient
tinted by the palette and time-of-day words) with a fine mottled texture. The texture matters to
the camera: a move is a global transform of the whole picture, and QC measures it from image
gradients, which a flat backdrop with a few moving edges would leave to the figures.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from vidpipe.storyboard.plan import Panel

PALETTE = {
    "teal": (38, 128, 128), "amber": (230, 160, 50), "gold": (225, 185, 80), "blue": (50, 90, 170),
    "navy": (25, 35, 80), "red": (190, 50, 45), "green": (60, 140, 80), "orange": (235, 120, 40),
    "pink": (230, 140, 170), "purple": (110, 70, 150), "silver": (190, 195, 200), "cyan": (60, 190, 210),
    "sodium": (240, 150, 40), "pastel": (200, 190, 220), "yellow": (235, 205, 60), "brass": (180, 140, 60),
    "tungsten": (240, 170, 90), "neon": (255, 60, 200), "forest": (40, 90, 50), "desert": (215, 170, 110),
}
# Head units of the subject figure per shot size, as a share of the picture height.
HEAD = {"wide": 0.05, "medium": 0.17, "medium close-up": 0.25, "close-up": 0.40, "extreme close-up": 0.95}
HORIZON = {"eye level": 0.55, "low": 0.8, "high": 0.3, "dutch": 0.55}
_NIGHT = ("night", "storm", "midnight", "blue-hour", "blue hour", "dark sky", "darkness")
_DAWN = ("dawn", "sunrise", "sunset", "dusk", "golden hour", "morning")
Box = tuple[int, int, int, int]


def _mix(a: tuple[int, ...], b: tuple[int, ...], f: float) -> tuple[int, int, int]:
    return (int(a[0] * (1 - f) + b[0] * f), int(a[1] * (1 - f) + b[1] * f), int(a[2] * (1 - f) + b[2] * f))


@dataclass(frozen=True)
class Setting:
    """The light the words ask for: time of day and a palette tint (nothing about the place's shape)."""

    time: str  # night | dawn | day
    tint: tuple[int, int, int]

    @classmethod
    def of(cls, text: str) -> Setting:
        low = text.lower()
        tints = [rgb for word, rgb in PALETTE.items() if word in low]
        time = "night" if any(w in low for w in _NIGHT) else "dawn" if any(w in low for w in _DAWN) else "day"
        return cls(time, tints[0] if tints else (128, 128, 128))


def composition(panel: Panel, picture: Box) -> tuple[float, float, float]:
    """(floor line y, subject x, head-unit px) inside `picture` for this panel's size and angle."""
    x0, y0, x1, y1 = picture
    ph = y1 - y0
    horizon = y0 + HORIZON.get(panel.angle, 0.55) * ph
    side = 0.36 if panel.index % 2 == 0 else 0.64
    return horizon, x0 + side * (x1 - x0), HEAD[panel.size] * ph


def texture(size: tuple[int, int], seed: int, strength: float = 26.0) -> np.ndarray:
    """Mottled texture (h, w) in grey levels around 0: blurred noise at three scales, no straight lines."""
    w, h = size
    g = np.random.default_rng(seed)
    out = np.zeros((h, w), np.float32)
    for cell, amp in ((64, 1.0), (24, 0.8), (10, 0.5)):
        small = Image.fromarray(((g.random((max(2, h // cell), max(2, w // cell))) * 255)).astype(np.uint8))
        big = small.resize((w, h), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(max(1, cell // 4)))
        out += (np.asarray(big, np.float32) - 127.5) / 127.5 * amp
    return out * strength / 2.3


def backdrop(panel: Panel, size: tuple[int, int], picture: Box, *, seed: int = 0) -> Image.Image:
    """The neutral backdrop at `size` (offset so `picture` is the visible region at rest)."""
    w, h = size
    st = Setting.of(panel.scene)
    wall_top, wall_low = {"night": ((46, 50, 66), (70, 74, 92)), "dawn": ((176, 164, 170), (214, 190, 170)),
                          "day": ((168, 172, 176), (204, 204, 200))}[st.time]
    floor_far, floor_near = _mix(wall_low, (60, 56, 52), 0.35), _mix(wall_low, (40, 38, 36), 0.6)
    horizon = composition(panel, picture)[0]
    ys = np.arange(h, dtype=np.float32)[:, None]
    wall = np.clip(ys / max(1.0, horizon), 0, 1)
    floor = np.clip((ys - horizon) / max(1.0, h - horizon), 0, 1)
    top, low = np.asarray(wall_top, np.float32), np.asarray(wall_low, np.float32)
    far, near = np.asarray(floor_far, np.float32), np.asarray(floor_near, np.float32)
    rows = np.where(ys < horizon, top + (low - top) * wall, far + (near - far) * floor)  # (h, 3)
    rows = rows * 0.88 + np.asarray(st.tint, np.float32) * 0.12
    key = int.from_bytes(hashlib.sha256(f"{panel.scene}|{seed}".encode()).digest()[:4], "big")
    img = rows[:, None, :] + texture(size, key)[:, :, None]
    # a soft shadow band where the wall meets the floor: the one line a storyboard backdrop keeps
    img -= 28.0 * np.exp(-(((ys - horizon) / max(2.0, h * 0.012)) ** 2))[:, :, None]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` scaled to cover `size` and centre-cropped (a reference photo as the place itself)."""
    bw, bh = size
    src = image.convert("RGB")
    scale = max(bw / src.width, bh / src.height)
    src = src.resize((math.ceil(src.width * scale), math.ceil(src.height * scale)), Image.Resampling.LANCZOS)
    left, top = (src.width - bw) // 2, (src.height - bh) // 2
    return src.crop((left, top, left + bw, top + bh))


def user_image(path: str | None, mark: str) -> Image.Image | None:
    """A local image the user gave (None for a URL, a missing file, or our own storyboard frame)."""
    if not path or not Path(path).is_file():
        return None
    try:
        with Image.open(path) as im:
            if mark in im.info:
                return None  # our own storyboard still or plate: nothing the user drew
            return im.convert("RGB")
    except OSError:
        return None
