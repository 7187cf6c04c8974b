"""Storyboard stills and animatics behind the offline `preview` backend: no keys, no network.

An animatic has exactly the requested duration, aspect ratio and resolution. Each time-coded
block (`[00:00-00:04] …`) is its own storyboard panel, cut hard at its start: the shot size, angle
and camera move come from its Camera words (storyboard.plan), the camera move is drawn as an arrow
and performed as a transform of the whole scene (film conventions: "pan left" slides the scene
right in frame, a push-in grows the image about the centre); the cast act in place (whole
back-and-forth cycles, so a locked-off shot is alive and still measures as locked off). What the
user gave is what is drawn: a place's reference image (or a first-frame image) is the backdrop,
a member's image stands in its place as a framed photo, a member without one is a silhouette in
its own colour, named in the legend; no place image is a neutral backdrop. Letters appear only
in the header and notes strips (`storyboard.layout.text_areas`). Frames are a contract, as on a real
image-to-video model: a user's first frame (`image`, e.g. the exact last frame of the shot this one
continues) is the clip's first frame, full frame, dissolving into the scene over BLEND seconds (a storyboard
still is repainted instead, above); a `last_frame_image` is its final frame, dissolved into over the last
BLEND seconds, a storyboard still included (its pixels: the next shot of a chained pair starts from it). Quoted dialogue is spoken offline
(or the user's audio reference is played); sound words become an ambience bed ducked under speech.
Output is deterministic for a given request.
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
from vidpipe.media.frames import scan_audio
from vidpipe.media.speech import speak
from vidpipe.schema import frame_size
from vidpipe.storyboard.art import draw_clock, draw_tag, header, notes
from vidpipe.storyboard.figures import Placement, bubble_tail, card_box, draw_card, draw_member, draw_move, performed, placements
from vidpipe.storyboard.layout import Layout, layout
from vidpipe.storyboard.plan import Panel, camera_move, panels
from vidpipe.storyboard.scene import backdrop, cover, texture, user_image

__all__ = ["animatic", "storyboard_frame", "camera_move", "panels", "RENDER_VERSION", "STILL_MARK"]

RENDER_VERSION = "6"  # part of the preview's endpoint id, so a changed renderer re-renders cached previews
HEADROOM = 1.45  # panels are painted larger than the frame so the camera can move across them
ZOOM = 1.25  # a push-in ends (a pull-out starts) at least this much closer ...
ZOOM_RATE = 0.08  # ... and closes in at least this fast (ln scale per second): a slower zoom is lost to the encoder
ORBIT_ZOOM = 1.1  # an orbit ends at least this much closer (a long orbit closes in as fast as a slow push-in)
STILL_MARK = "vidpipe-preview"  # PNG text key on storyboard frames: an animatic repaints them, not their pixels
GRAIN = 16.0  # the paper's grain over the whole picture (grey levels), fixed to the scene like the backdrop
FILM_GRAIN = 7.0  # per-frame grain (grey levels, 3 px grains): a held picture is alive, as on film; being
# random in every frame it has no direction a camera-motion estimate could read
MOTES = 8  # pairs of drifting motes: life in an empty locked-off frame, moving in opposite phase (net zero)
BLEND = 0.5  # seconds over which the clip dissolves out of its first frame and into its last frame
Box = tuple[float, float, float, float]


def zoom_range(seconds: float) -> float:
    """How much closer a push-in ends after `seconds` (at most 3x)."""
    return min(3.0, max(ZOOM, math.exp(ZOOM_RATE * seconds)))


def _crop(move: str, u: float, bw: int, bh: int, seed: int, seconds: float = 5.0) -> Box:
    """The camera's crop of the panel at progress `u` in [0, 1]: what the frame shows.

    Every move is a transform of the whole scene (backdrop, cast, grain): the camera moves, the
    picture follows, and nothing else drifts.
    """
    z = zoom_range(seconds)
    zoom = {"zoom_in": z ** u, "zoom_out": z ** (1 - u), "handheld": 1.06,
            "orbit": max(ORBIT_ZOOM, z ** 0.5) ** u}.get(move, 1.0)
    cw, ch = bw / (HEADROOM * zoom), bh / (HEADROOM * zoom)
    cx, cy = bw / 2, bh / 2
    span_x, span_y = (bw - cw) / 2, (bh - ch) / 2
    if move == "pan_left":  # the camera turns left: the crop travels left, the scene slides right
        cx += span_x * (0.9 - 1.8 * u)
    elif move == "pan_right":
        cx += span_x * (-0.9 + 1.8 * u)
    elif move in ("tilt_up", "crane_up"):  # the crop travels up, the scene slides down
        cy += span_y * (0.9 - 1.8 * u)
    elif move in ("tilt_down", "crane_down"):
        cy += span_y * (-0.9 + 1.8 * u)
    elif move == "orbit":  # the scene slides past and closes in a little
        cx += span_x * (-0.9 + 1.8 * u)
    elif move == "handheld":
        t = u * 40 + seed % 7
        cx += span_x * 0.3 * (math.sin(t * 1.7) + 0.5 * math.sin(t * 3.1))
        cy += span_y * 0.3 * (math.sin(t * 2.3) + 0.5 * math.sin(t * 4.7))
    return (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)


def _images(request: dict[str, Any]) -> list[Image.Image | None]:
    """The request's reference images in [ImageN] order (None where there is no picture the user gave)."""
    return [user_image(str(r), STILL_MARK) for r in request.get("reference_images") or []]


@dataclass
class _Board:
    """One panel ready to film: its backdrop, grain and motes, its cast (photos or silhouettes), its strips."""

    panel: Panel
    setting: Image.Image
    grain: Image.Image
    motes: list[tuple[float, float, float, float, float, float]]  # (x, y, dx, dy, radius, phase) in the setting
    mote: tuple[int, int, int]
    cast: list[Placement]
    photos: dict[str, Image.Image]
    head: Image.Image
    clock: tuple[int, int, int, int]
    notes: Any


def _place_image(panel: Panel, images: list[Image.Image | None]) -> Image.Image | None:
    """The first place member's own image (a place is the backdrop)."""
    for m in panel.members:
        if m.kind == "place":
            pics = [im for n in m.cites if 0 < n <= len(images) and (im := images[n - 1]) is not None]
            if pics:
                return pics[0]
    return None


def _board(panel: Panel, lay: Layout, still: Image.Image | None, images: list[Image.Image | None], *,
           label: str, model: str, seed: int) -> _Board:
    w, h = lay.width, lay.height
    bw, bh = int(w * HEADROOM), int(h * HEADROOM)
    ox, oy = (bw - w) / 2, (bh - h) / 2
    pic = lay.picture
    pic_panel = (int(ox + pic[0]), int(oy + pic[1]), int(ox + pic[2]), int(oy + pic[3]))
    place = still if still is not None else _place_image(panel, images)
    setting = cover(place, (bw, bh)) if place is not None else backdrop(panel, (bw, bh), pic_panel, seed=seed)
    cast = [] if still is not None else placements(panel, pic_panel)
    photos: dict[str, Image.Image] = {}
    for p in cast:
        pics = [im for n in p.member.cites if 0 < n <= len(images) and (im := images[n - 1]) is not None]
        if pics:
            photos[p.member.key] = pics[0]
    key = seed * 7919 + panel.index
    grain = Image.fromarray(np.clip(texture((bw, bh), key + 1, GRAIN) + 128, 0, 255).astype(np.uint8))
    rng = np.random.default_rng(key + 2)
    motes = []
    for k in range(MOTES):
        x, y = rng.uniform(0.1, 0.85) * bw, rng.uniform(pic_panel[1] + 0.1 * bh, pic_panel[3] - 0.1 * bh)
        ang, amp, r = rng.uniform(0, math.pi), 0.05 * w, rng.uniform(0.022, 0.032) * min(w, h)
        off = k * math.pi / MOTES  # pairs out of step, so some mote is always moving
        motes += [(x, y, amp * math.cos(ang), amp * math.sin(ang), r, off),
                  (x + 0.05 * bw, y + 0.04 * bh, -amp * math.cos(ang), -amp * math.sin(ang), r, off)]
    mean = np.asarray(setting.resize((8, 8)), np.float32).reshape(-1, 3).mean(axis=0)
    mote = tuple(int(c) for c in np.clip(mean + (60 if mean.mean() < 150 else -60), 0, 255))
    speaker_x = next((p.x - ox for p in cast if panel.speaker and p.member.key == panel.speaker.key), None)
    head_img, clock = header(lay, panel, label=label, model=model)
    return _Board(panel, setting, grain, motes, mote, cast, photos,  # type: ignore[arg-type]
                  head_img, clock, notes(lay, panel, speaker_x=speaker_x))


def _cycles(seconds: float, period: float = 2.0) -> int:
    """Whole back-and-forth cycles of about `period` s in a panel (at least one)."""
    return max(1, round(seconds / period))


def _frame(b: _Board, lay: Layout, t: float, seed: int) -> Image.Image:
    """The frame at clip time `t`: the camera's crop of the scene with the cast acting in it, arrow, strips."""
    w, h = lay.width, lay.height
    bw, bh = b.setting.size
    seg = b.panel
    length = max(1e-6, seg.end - seg.start)
    u = min(1.0, max(0.0, (t - seg.start) / length))
    box = _crop(seg.move, u, bw, bh, seed + seg.index, length)
    if seg.move == "static":
        x0, y0 = int(round(box[0])), int(round(box[1]))
        frame = b.setting.crop((x0, y0, x0 + w, y0 + h))
        grain = b.grain.crop((x0, y0, x0 + w, y0 + h))
    else:
        frame = b.setting.resize((w, h), Image.Resampling.BILINEAR, box=box)
        grain = b.grain.resize((w, h), Image.Resampling.BILINEAR, box=box)
    s = w / (box[2] - box[0])
    pic = lay.picture
    d = ImageDraw.Draw(frame)
    phase = 2 * math.pi * _cycles(length) * u
    for x, y, dx, dy, r, off in b.motes:  # motes drift there and back; the two of a pair in opposite directions
        f = math.sin(phase + off)
        fx, fy, fr = (x + dx * f - box[0]) * s, (y + dy * f - box[1]) * s, r * s
        d.ellipse([fx - fr, fy - fr, fx + fr, fy + fr], fill=b.mote)
    pw, ph = (pic[2] - pic[0]) / s, (pic[3] - pic[1]) / s
    mouth = subject = None
    for p in b.cast:
        photo = b.photos.get(p.member.key)
        q = p if photo is not None else performed(p, t - seg.start, u, pw, ph, _cycles(length))  # a photo holds
        fx, fy, fu = (q.x - box[0]) * s, (q.y - box[1]) * s, q.unit * s
        if photo is not None:
            cb = card_box(q, fx, fy, fu, (pic[3] - pic[1]) * s)  # its rest size, scaled by the camera
            draw_card(frame, photo, cb, p.member.colour)
            voice, foot = (fx, cb[1] + (cb[3] - cb[1]) * 0.2), (fx, cb[3])
        else:
            voice, foot = draw_member(d, q, fx, fy, fu, phase, bottom=h)
        if subject is None and p.member is (seg.members[0] if seg.members else None):
            subject = (foot[0], min(max(foot[1], pic[1] + ph * s * 0.2), pic[3] - ph * s * 0.12))
        if seg.speaker is not None and p.member.key == seg.speaker.key:
            mouth = voice
    noise = np.random.default_rng([seed, int(round(t * 1000))]).normal(0, FILM_GRAIN, (h // 3 + 1, w // 3 + 1))
    noise = np.repeat(np.repeat(noise, 3, axis=0), 3, axis=1)[:h, :w]
    grained = np.asarray(frame, np.int16) + (np.asarray(grain, np.int16) - 128 + noise.astype(np.int16))[:, :, None]
    frame = Image.fromarray(np.clip(grained, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(frame)
    draw_move(d, seg.move, pic, (w, h), subject or (w / 2, (pic[1] + pic[3]) / 2), ZOOM)
    frame.paste(b.head, (0, 0))
    frame.paste(b.notes.image, (0, h - lay.bottom))
    if b.notes.bubble is not None:
        bubble_tail(d, b.notes.bubble, mouth or (w / 2, (pic[1] + pic[3]) / 2), pic)
    draw_clock(frame, b.clock, t)
    return frame


def _frame_image(request: dict[str, Any], key: str, size: tuple[int, int]) -> Image.Image | None:
    """A requested frame covering the whole frame, marked or not (None without one, or a URL / missing file)."""
    path = request.get(key)
    if not isinstance(path, str) or not Path(path).is_file():
        return None
    try:
        with Image.open(path) as im:
            return cover(im, size)
    except OSError:
        return None


def _framed(frame: Image.Image, first: Image.Image | None, last: Image.Image | None, t: float, final: float) -> Image.Image:
    """The clip starts exactly on `first` and ends exactly on `last` (when given), dissolving over BLEND s."""
    span = min(BLEND, final / 2)
    if first is not None and t < span - 1e-9:
        frame = Image.blend(first, frame, t / span)
    if last is not None and t > final - span + 1e-9:
        frame = Image.blend(frame, last, min(1.0, (t - (final - span)) / span) if span > 0 else 1.0)
    return frame


def storyboard_frame(prompt: str, out: Path, *, width: int, height: int, label: str = "",
                     seed: int | None = None) -> Path:
    """A storyboard still (PNG): the picture only, the PREVIEW tag in its corner, no caption.

    It is marked (PNG text `vidpipe-preview`) so an image-to-video animatic repaints the scene
    from the video prompt rather than filming these pixels, and a plate made from it counts as
    "no image" (a labelled silhouette), not as the user's picture.
    """
    panel = panels(prompt, 1.0)[0]
    full = (0, 0, width, height)
    img = backdrop(panel, (width, height), full, seed=seed or 0)
    d = ImageDraw.Draw(img)
    for p in placements(panel, full):
        draw_member(d, p, p.x, p.y, p.unit, 0.0, bottom=height)
    draw_tag(img, layout(width, height))
    info = PngImagePlugin.PngInfo()
    info.add_text(STILL_MARK, f"storyboard {label}".strip())
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, "PNG", optimize=False, pnginfo=info)
    return out


def _voice_track(request: dict[str, Any], n: int) -> np.ndarray | None:
    """The user's own audio references (a lip-sync or avatar voice), mixed, from 0.3 s; None without any."""
    out = np.zeros(n, np.float32)
    found = False
    for ref in request.get("reference_audios") or []:
        if not Path(str(ref)).is_file():
            continue
        scan = scan_audio(str(ref), rate=SR)
        if scan is None or not scan.samples.size:
            continue
        x = scan.samples.mean(axis=0) if scan.samples.ndim == 2 else scan.samples
        at = int(0.3 * SR)
        n = max(0, min(len(out) - at, len(x)))
        out[at: at + n] += x[:n]
        found = True
    return out if found else None


def _audio(request: dict[str, Any], prompt: str, duration: float, segs: list[Panel], out: Path) -> Path:
    """Ambience from the sound words, each panel's quoted line spoken at its start (or the user's own
    voice reference instead), the ambience ducked under the voice so a listener (and QC) hears it."""
    sound = prompt.split("Sound:", 1)[1] if "Sound:" in prompt else prompt
    bed = ambience_samples(sound, duration, seed=int(request.get("seed") or 0)) * 0.6
    voice = _voice_track(request, len(bed))
    if voice is None:
        voice = np.zeros(len(bed), np.float32)
        for seg in segs:
            if not seg.line:
                continue
            pcm, sr = speak(seg.line)
            said = np.interp(np.arange(0, len(pcm) * SR / sr) * sr / SR, np.arange(len(pcm)), pcm) / 32768.0
            at = int((seg.start + 0.3) * SR)
            end = min(len(voice), at + len(said))
            if end > at:
                voice[at:end] += 0.8 * said[: end - at]
    level = np.abs(voice)
    if level.any():  # duck the bed by 12 dB wherever someone speaks (a 0.2 s envelope)
        k = int(0.2 * SR)
        env = np.convolve(level, np.ones(k) / k, mode="same")
        duck = 1.0 - 0.75 * np.clip(env / max(1e-6, float(env.max()) * 0.1), 0, 1)
        bed = bed * duck[:, None]
    return write_wav(np.clip(bed + voice[:, None], -0.98, 0.98), out)


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
    still = user_image(request.get("image"), STILL_MARK)
    images = _images(request)
    boards = [_board(s, lay, still if i == 0 else None, images, label=label, model=model, seed=seed)
              for i, s in enumerate(segs)]
    first = cover(still, (w, h)) if still is not None else None  # a storyboard still is repainted, not opened on
    last = _frame_image(request, "last_frame_image", (w, h))
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
                frame = _framed(_frame(boards[k], lay, t, seed), first, last, t, (n_frames - 1) / fps)
                proc.stdin.write(frame.tobytes())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise FfmpegFailed(f"preview render of {label or out.name} failed", args=args, stderr=err)
    return out
