"""Tiny real-looking clips for the content detectors: a real photo (scikit-image's bundled samples,
public domain) moved by a known camera move, with optional burnt-in caption, brightness flicker,
blur, heavy re-encoding, and espeak speech or noise on the audio track.

    photo_clip(p, move="pan_left", seconds=2, caption=("NO WAY", 0.5, 1.5), audio="speech")

Moves are what a camera does (film convention): "pan_left" turns the camera left, so the scene
slides right across the frame; "zoom_in" makes the picture grow about the centre.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from vidpipe.media.ambience import write_wav
from vidpipe.media.ffmpeg import ffmpeg_exe

SR = 16000


def photo(name: str = "astronaut") -> Image.Image:
    """A bundled scikit-image sample; "face" is the astronaut framed as a close-up on her face."""
    from skimage import data

    if name == "face":
        return photo("astronaut").crop((100, 0, 340, 240))
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def _box(move: str, u: float, w: int, h: int, speed: float, seconds: float = 2.0,
         aspect: float = 16 / 9) -> tuple[float, float, float, float]:
    """Crop box in source coordinates at progress u (0..1) for a camera move."""
    zoom = 1.0
    cx, cy = w / 2, h / 2
    base = 0.62  # the crop covers 62% of the source: room to move
    travel = 0.16 * speed  # fraction of the source size moved over the clip
    if move == "zoom_in":
        zoom = 1.0 + 0.35 * speed * u
    elif move == "zoom_out":
        zoom = 1.0 + 0.35 * speed * (1 - u)
    elif move == "pan_left":  # camera turns left → window moves left → scene slides right
        cx -= w * travel * (u - 0.5)
    elif move == "pan_right":
        cx += w * travel * (u - 0.5)
    elif move == "tilt_up":  # camera turns up → window moves up → scene slides down
        cy -= h * travel * (u - 0.5)
    elif move == "tilt_down":
        cy += h * travel * (u - 0.5)
    elif move == "handheld":
        t = u * seconds * 9  # shake at ~1.5..3 Hz, like a hand
        cx += w * 0.012 * (math.sin(t * 1.7) + 0.6 * math.sin(t * 3.3))
        cy += h * 0.012 * (math.sin(t * 2.3) + 0.6 * math.sin(t * 4.1))
    cw = min(w, h * aspect) * base / zoom  # the crop keeps the output's aspect ratio (no squashing)
    ch = cw / aspect
    return (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def speech_wav(path: Path, seconds: float, kind: str, text: str = "Steer north of the light, the storm is coming in.") -> Path:
    """16 kHz mono WAV: espeak speech (plus faint noise), noise only, a tone, or silence."""
    n = int(seconds * SR)
    rng = np.random.default_rng(3)
    x = np.zeros(n)
    if kind in ("speech", "noise"):
        x += rng.normal(0, 0.02 if kind == "speech" else 0.12, n)
    if kind == "speech":
        from vidpipe.media.speech import speak

        pcm, sr = speak(text)
        v = np.interp(np.arange(0, len(pcm) * SR / sr) * sr / SR, np.arange(len(pcm)), pcm) / 32768.0
        at = int(0.2 * SR)
        m = min(n - at, len(v))
        x[at: at + m] += 0.7 * v[:m]
    elif kind == "tone":
        x += 0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / SR)
    return write_wav(x, path, SR)


def photo_clip(path: Path, *, move: str = "static", seconds: float = 2.0, size: tuple[int, int] = (320, 180),
               fps: int = 24, source: str = "astronaut", caption: tuple[str, float, float] | None = None,
               caption_at: float = 0.80, flicker: float = 0.0, blur: float = 0.0, speed: float = 1.0,
               audio: str | None = None, vcodec: list[str] | None = None, comment: str | None = None,
               frame_hook=None) -> Path:
    """Render the clip with real ffmpeg; every argument changes one known thing about it."""
    src = photo(source)
    w, h = size
    n = int(round(seconds * fps))
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0"]
    wav = path.with_suffix(".wav")
    if audio:
        speech_wav(wav, seconds, audio)
        args += ["-i", str(wav), "-c:a", "aac", "-b:a", "96k", "-ar", "48000"]
    args += vcodec or ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20"]
    args += ["-pix_fmt", "yuv420p", "-t", f"{n / fps:.6f}"]
    if comment:
        args += ["-metadata", f"comment={comment}"]
    args += [str(path)]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    font = _font(max(12, h // 9))
    for i in range(n):
        u = i / max(1, n - 1)
        frame = src.resize((w, h), Image.BILINEAR, box=_box(move, u, src.width, src.height, speed, seconds, w / h))
        if blur:
            frame = frame.filter(ImageFilter.GaussianBlur(blur))
        if flicker:
            arr = np.asarray(frame, dtype=np.float32) + (flicker if i % 2 else -flicker)
            frame = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        if caption and caption[1] <= i / fps < caption[2]:
            d = ImageDraw.Draw(frame)
            tw = d.textlength(caption[0], font=font)
            d.text(((w - tw) / 2, h * caption_at - font.size / 2), caption[0], font=font, fill=(255, 255, 255),
                   stroke_width=2, stroke_fill=(0, 0, 0))
        if frame_hook:
            frame = frame_hook(frame, i)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait() == 0, err
    if audio:
        wav.unlink()
    return path
