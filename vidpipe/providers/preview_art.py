"""Storyboard art for the offline preview: deterministic panels painted from the prompt's words."""

from __future__ import annotations

import hashlib
import textwrap

from PIL import Image, ImageDraw, ImageFilter, ImageFont

PALETTE = {
    "teal": (38, 128, 128), "amber": (230, 160, 50), "gold": (225, 185, 80), "blue": (50, 90, 170),
    "navy": (25, 35, 80), "red": (190, 50, 45), "green": (60, 140, 80), "orange": (235, 120, 40),
    "pink": (230, 140, 170), "purple": (110, 70, 150), "grey": (120, 125, 130), "gray": (120, 125, 130),
    "silver": (190, 195, 200), "black": (20, 20, 24), "white": (235, 235, 230), "cyan": (60, 190, 210),
    "sodium": (240, 150, 40), "pastel": (200, 190, 220), "yellow": (235, 205, 60), "brass": (180, 140, 60),
    "sunrise": (250, 180, 120), "dawn": (240, 190, 150), "night": (15, 20, 45), "storm": (45, 55, 70),
    "tungsten": (240, 170, 90), "neon": (255, 60, 200), "forest": (40, 90, 50), "desert": (215, 170, 110),
}


def _rng_colour(seed: bytes, i: int) -> tuple[int, int, int]:
    b = hashlib.sha256(seed + bytes([i])).digest()
    return (60 + b[0] % 170, 60 + b[1] % 170, 60 + b[2] % 170)


def colours(text: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Sky and ground colours: named colour words first, else a hash of the text."""
    low = text.lower()
    found = [rgb for word, rgb in PALETTE.items() if word in low]
    seed = hashlib.sha256(low.encode()).digest()
    a = found[0] if found else _rng_colour(seed, 0)
    b = found[1] if len(found) > 1 else _rng_colour(seed, 1)
    return a, b


def font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def paint_panel(text: str, width: int, height: int, *, variant: int = 0, caption: bool = True) -> Image.Image:
    """A painted storyboard frame: graded sky, horizon, a subject silhouette, the caption."""
    sky, ground = colours(text)
    seed = hashlib.sha256(f"{text}|{variant}".encode()).digest()
    img = Image.new("RGB", (width, height))
    px = ImageDraw.Draw(img)
    horizon = int(height * (0.45 + (seed[3] % 20) / 100))
    for y in range(height):
        if y < horizon:
            f = y / max(1, horizon)
            c = tuple(int(sky[i] * (1 - 0.5 * f) + 255 * 0.12 * f) for i in range(3))
        else:
            f = (y - horizon) / max(1, height - horizon)
            c = tuple(int(ground[i] * (1 - 0.55 * f)) for i in range(3))
        px.line([(0, y), (width, y)], fill=c)
    # distant shapes give the camera move something to move across
    for i in range(7):
        x = int((seed[4 + i] / 255) * width)
        r = int(height * (0.04 + (seed[12 + i] % 10) / 100))
        shade = tuple(max(0, min(255, ground[k] - 40 + (seed[20 + i] % 30))) for k in range(3))
        px.ellipse([x - r * 2, horizon - r, x + r * 2, horizon + r], fill=shade)
    sx = int(width * (0.3 + (seed[5] % 40) / 100))
    sh = int(height * 0.42)
    subj = tuple(max(0, c - 70) for c in sky)
    px.rectangle([sx - sh // 7, horizon - sh, sx + sh // 7, horizon + sh // 10], fill=subj)
    px.ellipse([sx - sh // 5, horizon - sh - sh // 4, sx + sh // 5, horizon - sh + sh // 8], fill=subj)
    # scattered mid-size marks (waves, stars, foliage) give every camera move something to travel across,
    # so even a slow push-in reads as motion at QC's analysis scale
    r = max(2, height // 45)
    for i in range(120):
        x = (seed[i % 32] * 37 + i * 97 + seed[(i * 3) % 32] * 11) % width
        y = (seed[(i + 7) % 32] * 53 + i * 61) % height
        base = sky if y < horizon else ground
        tone = tuple(max(0, min(255, c + (60 if i % 2 else -60))) for c in base)
        px.ellipse([x - 2 * r, y - r, x + 2 * r, y + r], fill=tone)
    img = img.filter(ImageFilter.GaussianBlur(radius=max(1, width // 640)))
    if caption:
        draw_caption(img, text)
    return img


def draw_caption(img: Image.Image, text: str) -> Image.Image:
    """The storyboard caption along the bottom of the frame."""
    width, height = img.size
    wrapped = textwrap.fill(" ".join(text.split())[:150], width=max(20, width // 14))
    f = font(max(12, height // 28))
    ImageDraw.Draw(img).multiline_text((width * 0.05, height * 0.74), wrapped, fill=(250, 250, 245), font=f,
                                       stroke_width=2, stroke_fill=(0, 0, 0))
    return img


def draw_tag(img: Image.Image, *, model: str, label: str, timecode: str | None = None) -> Image.Image:
    """The burnt-in PREVIEW corner tag (and model, label, running timecode)."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    f = font(max(12, h // 22))
    small = font(max(10, h // 40))
    pad = max(6, h // 60)
    tag = "PREVIEW"
    bbox = draw.textbbox((0, 0), tag, font=f)
    tw, th = bbox[2] - bbox[0], bbox[3] - bbox[1]
    x0, y0 = w - tw - 3 * pad, pad
    draw.rectangle([x0 - pad, y0, w - pad, y0 + th + 2 * pad], fill=(220, 30, 40))
    draw.text((x0, y0 + pad - bbox[1]), tag, fill=(255, 255, 255), font=f)
    sub = f"{model} · {label}" if label else model
    if timecode:
        sub = f"{sub} · {timecode}"
    draw.text((pad, pad), sub, fill=(255, 255, 255), font=small, stroke_width=1, stroke_fill=(0, 0, 0))
    return img
