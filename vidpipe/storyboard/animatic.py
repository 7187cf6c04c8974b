"""The storyboard renderer behind the offline `preview` backend: storyboard frames and animatics, no keys, no network.

An animatic has exactly the requested duration, aspect ratio and resolution. Each time-coded
block (`[00:00-00:04] …`) is its own storyboard panel, cut hard at its start: the shot size, angle
and camera move come from its Camera words (storyboard.plan), the camera move is drawn as an arrow
and performed (film conventions: "pan left" slides the scene right in frame, a push-in grows the
image about the centre, a locked-off camera holds while the cast acts), the cast keep their colour
and silhouette from shot to shot, dialogue sits in a speech bubble with the speaker's name.
Letters appear only in the header and notes strips (`storyboard.layout.text_areas`). Quoted dialogue is
spoken offline; sound words become an ambience bed. Output is deterministic for a given request.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, PngImagePlugin

from vidpipe.errors import FfmpegFailed
from vidpipe.media.ambience import SR, ambience_samples, write_wav
from vidpipe.media.ffmpeg import ffmpeg_exe
from vidpipe.media.speech import speak
from vidpipe.storyboard.art import draw_clock, draw_tag, header, notes
from vidpipe.schema import frame_size
from vidpipe.storyboard.figures import Placement, bubble_tail, draw_member, draw_move, performed, placements
from vidpipe.storyboard.layout import Layout, layout
from vidpipe.storyboard.plan import Panel, camera_move, panels
from vidpipe.storyboard.scene import Ambient, Setting, paint_setting

__all__ = ["animatic", "storyboard_frame", "camera_move", "panels", "RENDER_VERSION", "STILL_MARK"]

RENDER_VERSION = "4"  # part of the preview's endpoint id, so a changed renderer re-renders cached previews
HEADROOM = 1.3  # panels are painted larger than the frame so the camera can move across them
ZOOM = 1.25  # a push-in ends (a pull-out starts) this much closer
ORBIT_ZOOM = 1.1  # an orbit ends this much closer
STILL_MARK = "vidpipe-preview"  # PNG text key on storyboard frames: an animatic repaints them, not their pixels
Box = tuple[float, float, float, float]


def _crop(move: str, u: float, bw: int, bh: int, seed: int) -> Box:
    """The camera's crop of the panel at progress `u` in [0, 1]: what the frame shows."""
    # An orbit also closes in a little (ORBIT_ZOOM): on a plain sea and sky the sideways slide alone
    # shows no texture to measure, and an orbit's parallax does change the subject's scale.
    zoom = {"zoom_in": 1.0 + (ZOOM - 1) * u, "zoom_out": ZOOM - (ZOOM - 1) * u, "handheld": 1.06,
            "orbit": 1.0 + (ORBIT_ZOOM - 1) * u}.get(move, 1.0)
    cw, ch = bw / (HEADROOM * zoom), bh / (HEADROOM * zoom)
    cx, cy = bw / 2, bh / 2
    span_x, span_y = (bw - cw) / 2, (bh - ch) / 2
    if move == "pan_left":  # the camera turns left: the crop travels left, the scene slides right
        cx += span_x * (0.9 - 1.8 * u)
    elif move == "pan_right":
        cx += span_x * (-0.9 + 1.8 * u)
    elif move == "tilt_up":  # the crop travels up, the scene slides down
        cy += span_y * (0.9 - 1.8 * u)
    elif move == "tilt_down":
        cy += span_y * (-0.9 + 1.8 * u)
    elif move == "orbit":  # the background slides past while the subject holds its place in frame
        cx += span_x * (-0.8 + 1.6 * u)
    elif move == "handheld":
        t = u * 40 + seed % 7
        cx += span_x * 0.3 * (math.sin(t * 1.7) + 0.5 * math.sin(t * 3.1))
        cy += span_y * 0.3 * (math.sin(t * 2.3) + 0.5 * math.sin(t * 4.7))
    return (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)


def _still_pixels(request: dict[str, Any], size: tuple[int, int]) -> Image.Image | None:
    """The request's first-frame image, cover-fitted to `size`; None for none or for a storyboard frame."""
    image = request.get("image")
    if not image or not Path(str(image)).exists():
        return None
    with Image.open(str(image)) as im:
        if STILL_MARK in im.info:
            return None  # our own storyboard still: repainted from this prompt (same cast, no stray letters)
        src = im.convert("RGB")
    bw, bh = size
    scale = max(bw / src.width, bh / src.height)
    src = src.resize((math.ceil(src.width * scale), math.ceil(src.height * scale)), Image.Resampling.LANCZOS)
    left, top = (src.width - bw) // 2, (src.height - bh) // 2
    return src.crop((left, top, left + bw, top + bh))


@dataclass
class _Board:
    """One panel ready to film: its painted setting, its cast placements and its two text strips."""

    panel: Panel
    setting: Image.Image
    ambient: Ambient | None
    cast: list[Placement]
    head: Image.Image
    clock: tuple[int, int, int, int]
    notes: Any
    night: bool
    sea: bool


def _board(panel: Panel, lay: Layout, image: Image.Image | None, *, label: str, model: str, seed: int) -> _Board:
    w, h = lay.width, lay.height
    bw, bh = int(w * HEADROOM), int(h * HEADROOM)
    ox, oy = (bw - w) / 2, (bh - h) / 2
    pic = lay.picture
    pic_panel = (int(ox + pic[0]), int(oy + pic[1]), int(ox + pic[2]), int(oy + pic[3]))
    setting, ambient = (image, None) if image is not None else paint_setting(panel, (bw, bh), pic_panel, seed=seed)
    cast = [] if image is not None else placements(panel, pic_panel)
    cast.sort(key=lambda p: p.kind != "place")  # landmarks stand behind people
    speaker_x = next((p.x - ox for p in cast if panel.speaker and p.member.key == panel.speaker.key), None)
    head_img, clock = header(lay, panel, label=label, model=model)
    st = Setting.of(panel.scene)
    return _Board(panel, setting, ambient, cast, head_img, clock, notes(lay, panel, speaker_x=speaker_x),
                  st.time == "night", st.sea and not st.interior)


def _frame(b: _Board, lay: Layout, t: float, seed: int) -> Image.Image:
    """The frame at clip time `t`: the camera's crop of the setting, the cast acting, arrow, strips."""
    w, h = lay.width, lay.height
    bw, bh = b.setting.size
    seg = b.panel
    u = (t - seg.start) / max(1e-6, seg.end - seg.start)
    box = _crop(seg.move, u, bw, bh, seed + seg.index)
    src = b.setting
    if seg.move == "static":
        x0, y0 = int(round(box[0])), int(round(box[1]))
        frame = src.crop((x0, y0, x0 + w, y0 + h))
    else:
        frame = src.resize((w, h), Image.Resampling.BILINEAR, box=box)
    s = w / (box[2] - box[0])
    pic = lay.picture
    if b.ambient is not None:
        b.ambient.draw(frame, box, t, pic[3], live=seg.move == "static")
    d = ImageDraw.Draw(frame)
    pw, ph = (pic[2] - pic[0]) / s, (pic[3] - pic[1]) / s
    hold = (box[0] + box[2] - bw) / 2 if seg.move == "orbit" else 0.0
    mouth = subject = None
    for i, p in enumerate(b.cast):
        q = performed(p, t - seg.start, u, pw, ph)
        fx, fy, fu = (q.x + (hold if p.kind != "place" or i == 0 else 0) - box[0]) * s, (q.y - box[1]) * s, q.unit * s
        voice, foot = draw_member(d, q, fx, fy, fu, t, bottom=h, night=b.night, sea=b.sea)
        if subject is None and p.member is (seg.members[0] if seg.members else None):
            subject = (foot[0], min(max(foot[1], pic[1] + ph * s * 0.2), pic[3] - ph * s * 0.12))
        if seg.speaker is not None and p.member.key == seg.speaker.key:
            mouth = voice
    draw_move(d, seg.move, pic, (w, h), subject or (w / 2, (pic[1] + pic[3]) / 2), ZOOM)
    frame.paste(b.head, (0, 0))
    frame.paste(b.notes.image, (0, h - lay.bottom))
    if b.notes.bubble is not None:
        bubble_tail(d, b.notes.bubble, mouth or (w / 2, (pic[1] + pic[3]) / 2), pic)
    draw_clock(frame, b.clock, t)
    return frame


def storyboard_frame(prompt: str, out: Path, *, width: int, height: int, label: str = "",
                     seed: int | None = None) -> Path:
    """A storyboard still (PNG): the picture only, the PREVIEW tag in its corner, no caption.

    It is marked (PNG text `vidpipe-preview`) so an image-to-video animatic repaints the scene
    from the video prompt rather than filming these pixels.
    """
    panel = panels(prompt, 1.0)[0]
    full = (0, 0, width, height)
    img, ambient = paint_setting(panel, (width, height), full, seed=seed or 0)
    ambient.draw(img, full, 0.0, height, live=False)
    d = ImageDraw.Draw(img)
    st = Setting.of(panel.scene)
    for p in sorted(placements(panel, full), key=lambda p: p.kind != "place"):
        draw_member(d, p, p.x, p.y, p.unit, 0.0, bottom=height, night=st.time == "night", sea=st.sea)
    draw_tag(img, layout(width, height))
    info = PngImagePlugin.PngInfo()
    info.add_text(STILL_MARK, f"storyboard {label}".strip())
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, "PNG", optimize=False, pnginfo=info)
    return out


def _audio(request: dict[str, Any], prompt: str, duration: float, segs: list[Panel], out: Path) -> Path:
    """Ambience from the sound words plus each panel's quoted line spoken at its start."""
    sound = prompt.split("Sound:", 1)[1] if "Sound:" in prompt else prompt
    mix = ambience_samples(sound, duration, seed=int(request.get("seed") or 0)) * 0.6
    for seg in segs:
        if not seg.line:
            continue
        pcm, sr = speak(seg.line)
        voice = np.interp(np.arange(0, len(pcm) * SR / sr) * sr / SR, np.arange(len(pcm)), pcm) / 32768.0
        at = int((seg.start + 0.3) * SR)
        end = min(len(mix), at + len(voice))
        if end > at:
            mix[at:end] += 0.8 * voice[: end - at, None]
    return write_wav(np.clip(mix, -0.98, 0.98), out)


def animatic(request: dict[str, Any], out: Path, *, model: str = "preview", fps: int = 24, label: str = "") -> Path:
    """Render an animatic MP4 for a canonical request (see module docstring)."""
    duration = float(request.get("duration") or 5)
    if duration <= 0:
        duration = 5.0
    w, h = frame_size(request.get("resolution", "720p"), request.get("aspect_ratio", "16:9"))
    lay = layout(w, h)
    prompt = str(request.get("prompt", ""))
    segs = panels(prompt, duration)
    seed = int(request.get("seed") or 0)
    image = _still_pixels(request, (int(w * HEADROOM), int(h * HEADROOM)))
    boards = [_board(s, lay, image if i == 0 else None, label=label, model=model, seed=seed)
              for i, s in enumerate(segs)]
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
                 "-threads", "1", "-t", f"{n_frames / fps:.6f}", "-fflags", "+bitexact", "-flags:v", "+bitexact",
                 "-flags:a", "+bitexact", "-map_metadata", "-1", "-metadata", "comment=vidpipe preview",
                 "-movflags", "+faststart", str(out)]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        try:
            for i in range(n_frames):
                t = i / fps
                k = max(j for j, s in enumerate(segs) if s.start <= t + 1e-9)
                proc.stdin.write(_frame(boards[k], lay, t, seed).tobytes())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise FfmpegFailed(f"preview render of {label or out.name} failed", args=args, stderr=err)
    return out
