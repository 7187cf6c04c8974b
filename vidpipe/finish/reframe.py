"""Reframe a 16:9 master to a narrower screen (9:16, 1:1) keeping the subject in frame, without jitter.

Tracking: frames sampled at SAMPLE_FPS; the subject is the largest frontal face (scikit-image's
bundled LBP cascade, as QC uses; a sample that misses it is interpolated from its neighbours), and
only in a clip with no face at all the saliency centre (where the picture differs most from its
own blur — edges and detail, not flat sky). Smoothing, in order: a median over 5 samples (one bad
detection cannot pull the frame), a dead zone (the crop stays put while the subject is within
DEAD_ZONE of its centre — a locked-off shot stays locked, a moving subject is followed at that
offset), then a centred moving average (the whole track is known: no lag, no corners). The crop window's left edge is a piecewise-linear function
of time handed to ffmpeg's `crop` as an expression: one decode, one encode.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from vidpipe.media.probe import open_media
from vidpipe.qc.content.faces import find_faces

SAMPLE_FPS = 4.0
DEAD_ZONE = 0.12   # of the crop width
SMOOTH_S = 1.0     # centred moving-average window


@dataclass(frozen=True)
class CropPath:
    """The crop window over time: width/height in source pixels, left edge at each key time."""

    src_w: int
    src_h: int
    crop_w: int
    crop_h: int
    times: list[float]
    xs: list[int]
    subjects: list[float]  # the detected subject centre (x, source px) per sample
    faces: int             # samples in which a face was found


def crop_size(src_w: int, src_h: int, aspect: tuple[int, int]) -> tuple[int, int]:
    """The largest even window of `aspect` inside the source."""
    aw, ah = aspect
    w, h = src_w, round(src_w * ah / aw)
    if h > src_h:
        w, h = round(src_h * aw / ah), src_h
    return w - w % 2, h - h % 2


def saliency_x(image: Image.Image) -> float:
    """Centre of detail (distance from a blurred copy), as a fraction of the width."""
    small = image.convert("L").resize((160, max(2, round(160 * image.height / image.width))))
    a = np.asarray(small, dtype=np.float32)
    b = np.asarray(small.filter(ImageFilter.GaussianBlur(6)), dtype=np.float32)
    energy = np.abs(a - b).sum(axis=0)
    return float((energy * np.arange(len(energy))).sum() / energy.sum() / len(energy)) if energy.sum() > 0 else 0.5


def subject_track(path: Path) -> tuple[list[float], list[float], int, int, int]:
    """(times, subject centre x as a width fraction, faces found, width, height) at SAMPLE_FPS."""
    times: list[float] = []
    xs: list[float] = []
    salient: list[tuple[int, float]] = []
    faces = 0
    container = open_media(path)
    try:
        stream = container.streams.video[0]
        w, h = stream.codec_context.width, stream.codec_context.height
        next_t = 0.0
        for frame in container.decode(video=0):
            t = float(frame.time or 0.0)
            if t + 1e-6 < next_t:
                continue
            next_t = t + 1 / SAMPLE_FPS
            img = frame.to_image()
            found = detect_faces(img)
            if found:
                x, _, fw, _ = max(found, key=lambda f: f[2] * f[3])
                xs.append(x + fw / 2)
                faces += 1
            else:
                xs.append(float("nan"))
                salient.append((len(times), saliency_x(img)))
            times.append(t)
    finally:
        container.close()
    return times, fill_gaps(xs, salient), faces, w, h


DETECT_WIDTHS = (200, 160, 128)  # px: the LBP cascade misses a face at one scale that it finds at another
# Following one subject needs precision more than recall: a false face pulls the crop (QC's detector takes
# 2 agreeing windows to find small and turned faces; the reframe asks for 4).
TRACK_NEIGHBOURS = 4


def detect_faces(image: Image.Image) -> list[tuple[float, float, float, float]]:
    """Faces at the detector's own size, else at the first of DETECT_WIDTHS that finds one."""
    found = find_faces(image, neighbours=TRACK_NEIGHBOURS)
    for w in DETECT_WIDTHS:
        if found or w >= image.width:
            break
        found = find_faces(image.resize((w, max(2, round(image.height * w / image.width)))), neighbours=TRACK_NEIGHBOURS)
    return found


def fill_gaps(xs: list[float], salient: list[tuple[int, float]]) -> list[float]:
    """Samples without a face: interpolated between the face samples around them (a missed detection is not a
    new subject); saliency only when the clip shows no face at all."""
    arr = np.array(xs, dtype=np.float64)
    have = ~np.isnan(arr)
    if not have.any():
        for i, v in salient:
            arr[i] = v
        return [float(v) for v in arr]
    idx = np.arange(len(arr))
    return [float(v) for v in np.interp(idx, idx[have], arr[have])]


def smooth(centres: list[float], crop_frac: float) -> list[float]:
    """The crop centre per sample (width fractions): median of 5, a lazy follow, then a centred average.

    The lazy follow moves the centre only as far as needed to keep the subject within DEAD_ZONE of
    it (a still subject: a still frame; a moving one: followed at a constant small offset). The track
    is known in advance, so the final average is centred (no lag) over SMOOTH_S seconds.
    """
    if not centres:
        return []
    x = np.array(centres, dtype=np.float64)
    pad = np.pad(x, 2, mode="edge")
    med = np.median(np.lib.stride_tricks.sliding_window_view(pad, 5), axis=1)
    zone = DEAD_ZONE * crop_frac
    lazy, cur = [], float(med[0])
    for target in med:
        gap = float(target) - cur
        if abs(gap) > zone:
            cur += gap - np.sign(gap) * zone
        lazy.append(cur)
    k = max(1, int(round(SMOOTH_S * SAMPLE_FPS / 2)))
    padded = np.pad(np.array(lazy), k, mode="edge")
    return [float(v) for v in np.convolve(padded, np.ones(2 * k + 1) / (2 * k + 1), mode="valid")]


def plan_crop(path: Path, aspect: tuple[int, int]) -> CropPath:
    times, centres, faces, w, h = subject_track(path)
    cw, ch = crop_size(w, h, aspect)
    clamped = [min(max(c * w - cw / 2, 0), w - cw) for c in smooth(centres, cw / w)]
    k = max(1, int(round(SMOOTH_S * SAMPLE_FPS / 4)))  # ease out of the frame edge too (the clamp is a kink)
    eased = np.convolve(np.pad(np.array(clamped), k, mode="edge"), np.ones(2 * k + 1) / (2 * k + 1), mode="valid")
    lefts = [int(round(v)) for v in eased]
    return CropPath(w, h, cw, ch, times, lefts, [c * w for c in centres], faces)


def key_points(times: list[float], xs: list[int]) -> list[tuple[float, int]]:
    """The path's corners: each straight run (every sample within 1 px of the line) becomes one segment."""
    pts = list(zip(times, xs))
    if len(pts) <= 2:
        return pts

    def straight(a: int, b: int) -> bool:
        (t0, x0), (t1, x1) = pts[a], pts[b]
        return all(abs(x0 + (x1 - x0) * (pts[k][0] - t0) / (t1 - t0) - pts[k][1]) <= 1.0 for k in range(a + 1, b))

    out, a = [pts[0]], 0
    while a < len(pts) - 1:
        b = a + 1
        while b + 1 < len(pts) and straight(a, b + 1):
            b += 1
        out.append(pts[b])
        a = b
    return out


def x_expression(path: CropPath) -> str:
    """The crop's x as a piecewise-linear function of t: an ffmpeg expression, the segments found by a
    balanced tree of if(lt(t, …)) (depth log2 n — ffmpeg refuses a 100-deep chain), commas escaped."""
    pts = key_points(path.times, path.xs)
    if len(pts) < 2:
        return str(pts[0][1] if pts else 0)

    def seg(i: int) -> str:
        (t0, x0), (t1, x1) = pts[i], pts[i + 1]
        return str(x0) if x0 == x1 else f"{x0}+({x1 - x0})*(t-{t0:.4f})/{t1 - t0:.4f}"

    def tree(lo: int, hi: int) -> str:  # segments lo..hi inclusive
        if lo == hi:
            return seg(lo)
        mid = (lo + hi + 1) // 2
        return f"if(lt(t\\,{pts[mid][0]:.4f})\\,{tree(lo, mid - 1)}\\,{tree(mid, hi)})"

    first, last = pts[0], pts[-1]
    inner = tree(0, len(pts) - 2)
    return f"if(lt(t\\,{first[0]:.4f})\\,{first[1]}\\,if(gte(t\\,{last[0]:.4f})\\,{last[1]}\\,{inner}))"


def crop_filter(path: CropPath, out_w: int, out_h: int) -> str:
    """The crop (+ scale to the delivery size) filter chain for `path`."""
    y = (path.src_h - path.crop_h) // 2
    return (f"crop=w={path.crop_w}:h={path.crop_h}:x='{x_expression(path)}':y={y}:exact=1,"
            f"scale={out_w}:{out_h}:flags=lanczos,setsar=1")
