"""The embedded offline `preview` backend: storyboard stills and animatic clips, no keys, no network.

An animatic has exactly the requested duration, aspect ratio and resolution; its camera move
follows the prompt's camera words; time-coded blocks (`[00:00-00:04] …`) become hard cuts;
quoted dialogue is spoken offline; sound words become an ambience bed. Every frame carries a
PREVIEW tag. Output is deterministic for a given request.
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vidpipe.errors import FfmpegFailed
from vidpipe.media.ffmpeg import ffmpeg_exe
from vidpipe.providers.preview_art import draw_caption, draw_tag, paint_panel
from vidpipe.schema import frame_size

RENDER_VERSION = "2"  # part of the preview's endpoint id, so a changed renderer re-renders cached previews
HEADROOM = 1.3  # panels are painted larger than the frame so the camera can move across them
_BLOCK = re.compile(r"\[(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\]")
_QUOTE = re.compile(r"\"([^\"]{2,})\"|“([^”]{2,})”")
MOVES = (
    ("zoom_in", ("push-in", "push in", "dolly in", "zoom in", "push ")),
    ("zoom_out", ("pull-out", "pull out", "pull back", "zoom out", "dolly out")),
    ("orbit", ("orbit", "arc around", "circles")),
    ("pan_left", ("pan left", "pans left")),
    ("pan_right", ("pan right", "pans right", "pan ", "tracking")),
    ("tilt_up", ("tilt up", "tilts up", "crane up", "drone", "rise")),
    ("tilt_down", ("tilt down", "tilts down", "crane down")),
    ("handheld", ("handheld", "hand-held", "shaky")),
)


@dataclass
class Segment:
    start: float
    end: float
    text: str
    move: str
    caption: str = ""


def camera_move(text: str) -> str:
    """The first named camera move in `text` (static/tripod shots get a slow breathing drift)."""
    low = text.lower()
    for move, words in MOVES:
        if any(w in low for w in words):
            return move
    return "static"


def segments(prompt: str, duration: float) -> list[Segment]:
    """Split a prompt at its time-coded blocks (clamped to the clip); one segment when there are none."""
    marks = list(_BLOCK.finditer(prompt))
    if not marks:
        return [Segment(0.0, duration, prompt, camera_move(prompt), prompt)]
    preamble = prompt[: marks[0].start()]
    out = []
    for i, m in enumerate(marks):
        start = int(m.group(1)) * 60 + int(m.group(2))
        text = prompt[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(prompt)]
        if start >= duration:
            break
        out.append(Segment(float(start), duration, f"{preamble} {text}", camera_move(text), text.split("Sound:")[0]))
    for a, b in zip(out, out[1:]):
        a.end = b.start
    out[0].start = 0.0
    return out


def _crop(move: str, u: float, bw: int, bh: int, seed: int) -> tuple[float, float, float, float]:
    """Crop box in panel coordinates for progress `u` in [0, 1] of a segment."""
    zoom = {"zoom_in": 1.0 + 0.22 * u, "zoom_out": 1.22 - 0.22 * u, "orbit": 1.08 + 0.04 * math.sin(u * math.pi),
            "static": 1.0 + 0.10 * u}.get(move, 1.08)
    cw, ch = bw / (HEADROOM * zoom), bh / (HEADROOM * zoom)
    cx, cy = bw / 2, bh / 2
    span_x, span_y = (bw - cw) / 2, (bh - ch) / 2
    if move == "pan_left":
        cx += span_x * (0.9 - 1.8 * u)
    elif move == "pan_right":
        cx += span_x * (-0.9 + 1.8 * u)
    elif move == "tilt_up":
        cy += span_y * (0.9 - 1.8 * u)
    elif move == "tilt_down":
        cy += span_y * (-0.9 + 1.8 * u)
    elif move == "orbit":
        cx += span_x * 0.9 * math.sin(u * math.pi * 1.5)
    elif move in ("handheld", "static"):
        # a locked-off animatic shot still "breathes" (a tenth of a handheld wobble) so it never reads as frozen
        amp = 0.25 if move == "handheld" else 0.08
        t = u * 40 + seed % 7
        cx += span_x * amp * (math.sin(t * 1.7) + 0.5 * math.sin(t * 3.1))
        cy += span_y * amp * (math.sin(t * 2.3) + 0.5 * math.sin(t * 4.7))
    return (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)


def _base_image(seg: Segment, request: dict[str, Any], index: int, bw: int, bh: int) -> Image.Image:
    image = request.get("image")
    if index == 0 and image and Path(str(image)).exists():
        with Image.open(str(image)) as im:
            src = im.convert("RGB")
        scale = max(bw / src.width, bh / src.height)
        src = src.resize((math.ceil(src.width * scale), math.ceil(src.height * scale)), Image.LANCZOS)
        left, top = (src.width - bw) // 2, (src.height - bh) // 2
        return src.crop((left, top, left + bw, top + bh))
    return paint_panel(seg.text, bw, bh, variant=index, caption=False)


def storyboard_frame(prompt: str, out: Path, *, width: int, height: int, label: str = "", seed: int | None = None) -> Path:
    """A storyboard frame (PNG) with the PREVIEW tag."""
    img = paint_panel(prompt, width, height, variant=seed or 0)
    draw_tag(img, model="storyboard", label=label)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, "PNG", optimize=False)
    return out


def _audio(request: dict[str, Any], prompt: str, duration: float, segs: list[Segment], out: Path) -> Path:
    """Ambience from the sound words plus quoted lines spoken at their block's start."""
    from vidpipe.media.ambience import SR, ambience_samples, write_wav
    from vidpipe.media.speech import speak

    sound = prompt.split("Sound:", 1)[1] if "Sound:" in prompt else prompt
    mix = ambience_samples(sound, duration, seed=int(request.get("seed") or 0)) * 0.6
    for seg in segs:
        for m in _QUOTE.finditer(seg.text.split("Sound:", 1)[0]):
            line = m.group(1) or m.group(2)
            pcm, sr = speak(line)
            voice = np.interp(np.arange(0, len(pcm) * SR / sr) * sr / SR, np.arange(len(pcm)), pcm) / 32768.0
            at = int((seg.start + 0.3) * SR)
            end = min(len(mix), at + len(voice))
            if end > at:
                mix[at:end] += 0.8 * voice[: end - at, None]
            break  # one line per block keeps previews legible
    return write_wav(np.clip(mix, -0.98, 0.98), out)


def animatic(request: dict[str, Any], out: Path, *, model: str = "preview", fps: int = 24, label: str = "") -> Path:
    """Render an animatic MP4 for a canonical request (see module docstring)."""
    duration = float(request.get("duration") or 5)
    if duration <= 0:
        duration = 5.0
    w, h = frame_size(request.get("resolution", "720p"), request.get("aspect_ratio", "16:9"))
    bw, bh = int(w * HEADROOM), int(h * HEADROOM)
    prompt = str(request.get("prompt", ""))
    segs = segments(prompt, duration)
    panels = [_base_image(s, request, i, bw, bh) for i, s in enumerate(segs)]
    n_frames = int(round(duration * fps))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0"]
        audio = request.get("generate_audio", True) is not False
        if audio:
            args += ["-i", str(_audio(request, prompt, duration, segs, Path(tmp) / "a.wav"))]
        args += ["-map", "0:v"] + (["-map", "1:a", "-c:a", "aac", "-b:a", "128k", "-ar", "48000"] if audio else [])
        args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", str(fps * 2),
                 "-threads", "2", "-t", f"{n_frames / fps:.6f}", "-fflags", "+bitexact", "-flags:v", "+bitexact",
                 "-flags:a", "+bitexact", "-map_metadata", "-1", "-metadata", "comment=vidpipe preview",
                 "-movflags", "+faststart", str(out)]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        try:
            for i in range(n_frames):
                t = i / fps
                k = max(j for j, s in enumerate(segs) if s.start <= t + 1e-9)
                seg = segs[k]
                u = (t - seg.start) / max(1e-6, seg.end - seg.start)
                frame = panels[k].resize((w, h), Image.BILINEAR, box=_crop(seg.move, u, bw, bh, k))
                draw_caption(frame, seg.caption)
                draw_tag(frame, model=model, label=label, timecode=f"{int(t // 60):02d}:{t % 60:05.2f}")
                proc.stdin.write(frame.tobytes())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise FfmpegFailed(f"preview render of {label or out.name} failed", args=args, stderr=err)
    return out
