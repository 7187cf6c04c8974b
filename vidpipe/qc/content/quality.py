"""Picture quality detectors on frames already decoded: flicker, blurry, blocky.

- flicker: per-frame mean luma (the 64x36 thumbnails); its second difference |l[i] − (l[i−1]+l[i+1])/2|
  is the frame-to-frame brightness wobble (a fade or a grade change is linear and cancels; content
  motion barely moves the mean). Reported when the window median is large — one cut or flash
  touches two frames, flicker all of them — AND it is a large share of the median frame
  difference (motion is not flicker).
- blurry: the Crété-Roffet no-reference blur estimate (how little the picture changes when it
  is blurred further: 0 sharp … 1 mush) on native-resolution luma planes.
- blocky: mean luma step across 8-pixel block boundaries over the mean step elsewhere
  (1.0 = no grid; codec blocking makes the boundaries stand out), on the same planes, counted
  only when the stream's bit rate is low enough to starve the encoder.
"""

from __future__ import annotations

import numpy as np

from vidpipe.media.frames import VideoScan
from vidpipe.qc.technical import BLACK_DARK_FRACTION, _r, _runs
from vidpipe.schema import Defect

# Calibration (tests/content_factory.py clips: real photos from scikit-image — astronaut, coffee,
# chelsea — panned/zoomed at 320x180 and 640x360): clean footage 0.00..0.37; brightness alternating
# ±4 levels every frame 6.9..7.1, ±8 levels 15.5. 3.0 keeps an 8x margin over clean footage and
# still catches a ±2-level wobble.
FLICKER_LEVEL = 3.0  # gray levels (0..255), window median of the luma second difference
FLICKER_UNIFORM = 0.35  # its share of the median |frame difference| (motion alone: < 0.1)
FLICKER_WINDOW_S = 1.0
# Same clips: clean 0.36..0.53 (0.50+ is the photo upscaled 2x), Gaussian blur σ1.5 0.62, σ2.5 0.73.
BLUR_MAX = 0.58  # Crété-Roffet blur, median over the detail frames
BLUR_MIN_TEXTURE = 1.5  # mean |Δ| (gray levels) below which a frame is too flat to judge sharpness
# Same clips: clean x264 crf 20 0.94..1.14; x264 crf 51 1.26..1.31; crf 45 without deblocking
# 1.67..2.18; mpeg2 q31 1.88..1.89.
BLOCKY_MAX = 1.22  # block-boundary step ratio, median over the detail frames
BLOCK = 8
# Blocking needs a starved encoder. Graphics drawn on an 8-px grid (lavfi testsrc2) score 2.7..4.0 on
# the ratio at any quality, but carry 0.16..0.40 bits/pixel; the blocky test clips carry 0.006..0.043
# and a 720p clip at 8 Mb/s ~0.36. The ratio only counts below this rate.
BLOCKY_BPP_MAX = 0.12
STRIDE = 4  # measure every 4th row/column: the statistics hold, the cost drops 4x


def _moving_avg(x: np.ndarray, k: int) -> np.ndarray:
    pad = np.pad(x, k // 2, mode="edge")
    c = np.concatenate([[0.0], np.cumsum(pad, dtype=np.float64)])
    return (c[k:] - c[:-k]) / k


def flicker(scan: VideoScan, cuts: list[float]) -> tuple[list[Defect], float]:
    """Flicker defects and the clip's largest windowed wobble (median |second difference| of mean luma)."""
    n = len(scan.luma)
    win = max(3, int(round(FLICKER_WINDOW_S / max(scan.frame_dur, 1e-3))))
    if n < win + 2:
        return [], 0.0
    luma = scan.luma.astype(np.float64)
    wobble = np.zeros(n)
    wobble[1:-1] = np.abs(luma[1:-1] - (luma[:-2] + luma[2:]) / 2)
    bad = scan.dark_fraction >= BLACK_DARK_FRACTION
    for t in cuts:
        i = int(np.searchsorted(scan.times, t - 1e-6))
        bad[max(0, i - 2): i + 2] = True
    wobble[bad] = 0.0
    motion = np.where(bad, 0.0, scan.diff.astype(np.float64))
    # A median ignores the two frames a cut, a flash or a fade-to-black step touches; flicker hits all.
    level = np.median(np.lib.stride_tricks.sliding_window_view(np.pad(wobble, win // 2, mode="edge"), win)[:n], axis=1)
    moving = np.median(np.lib.stride_tricks.sliding_window_view(np.pad(motion, win // 2, mode="edge"), win)[:n], axis=1)
    uniform = level / np.maximum(moving, 1e-6)
    hit = (level >= FLICKER_LEVEL) & (uniform >= FLICKER_UNIFORM)
    out = []
    for a, b in _runs(hit):
        peak = float(level[a: b + 1].max())
        start = float(scan.times[max(0, a - win // 2)])
        end = float(scan.times[min(n - 1, b + win // 2)] + scan.frame_dur)
        out.append(Defect(code="flicker", start_s=_r(start), end_s=_r(end), severity="warning", value=_r(peak),
                          threshold=FLICKER_LEVEL,
                          detail=f"mean brightness jumps {peak:.1f} levels frame to frame (≥ {FLICKER_LEVEL}), "
                                 f"{float(uniform[a: b + 1].max()):.0%} of the frame change"))
    return out, _r(float(level.max()))


def _lines(luma: np.ndarray, axis: int) -> np.ndarray:
    """Every STRIDE-th line across `axis` (measures along `axis` stay exact, at a quarter of the cost)."""
    return luma[:, ::STRIDE] if axis == 0 else luma[::STRIDE, :]


def blur_score(luma: np.ndarray) -> float | None:
    """Crété-Roffet blur (0 sharp … 1 blurry) of a luma plane; None when it is too flat to say."""
    worst = 0.0
    k = 9
    for axis in (0, 1):
        f = _lines(luma, axis).astype(np.float32)
        pad = [(k // 2, k // 2) if a == axis else (0, 0) for a in (0, 1)]
        c = np.cumsum(np.pad(f, pad, mode="edge"), axis=axis, dtype=np.float32)
        c = np.concatenate([np.zeros_like(c.take([0], axis=axis)), c], axis=axis)
        m = c.shape[axis]
        blurred = (c.take(np.arange(k, m), axis=axis) - c.take(np.arange(0, m - k), axis=axis)) / k
        d_f = np.abs(np.diff(f, axis=axis))
        d_b = np.abs(np.diff(blurred, axis=axis))
        s_f = float(d_f.sum())
        if s_f / max(1, d_f.size) < BLUR_MIN_TEXTURE:
            return None
        s_v = float(np.maximum(d_f - d_b, 0.0).sum())
        worst = max(worst, (s_f - s_v) / s_f)
    return worst


def block_score(luma: np.ndarray) -> float | None:
    """Mean step across 8-px block boundaries over the mean step elsewhere (1.0 = no grid)."""
    ratios = []
    for axis in (0, 1):
        d = np.abs(np.diff(_lines(luma, axis).astype(np.int16), axis=axis))
        m = d.shape[axis]
        if m < 4 * BLOCK:
            continue
        at = np.arange(BLOCK - 1, m, BLOCK)
        edge_sum = float(d.take(at, axis=axis).sum(dtype=np.int64))
        total = float(d.sum(dtype=np.int64))
        n_edge = len(at) * (d.size // m)
        inner = (total - edge_sum) / max(1, d.size - n_edge)
        if inner < 0.5:  # a flat frame has no measurable grid either way
            continue
        ratios.append((edge_sum / max(1, n_edge)) / inner)
    return float(np.mean(ratios)) if ratios else None


def sharpness(details: list[tuple[float, np.ndarray]],
              bits_per_pixel: float | None = None) -> tuple[list[Defect], dict[str, float | None]]:
    """blurry / blocky defects from the detail frames (median over frames), and the measured values."""
    blur = [b for _, y in details if (b := blur_score(y)) is not None]
    block = [b for _, y in details if (b := block_score(y)) is not None]
    vals: dict[str, float | None] = {"blur": _r(float(np.median(blur))) if blur else None,
                                     "blockiness": _r(float(np.median(block))) if block else None}
    out: list[Defect] = []
    if not details:
        return out, vals
    start, end = _r(details[0][0]), _r(details[-1][0])
    if vals["blur"] is not None and vals["blur"] > BLUR_MAX:
        out.append(Defect(code="blurry", start_s=start, end_s=end, severity="warning", value=vals["blur"],
                          threshold=BLUR_MAX, detail=f"blur {vals['blur']:.2f} > {BLUR_MAX} (Crété-Roffet, "
                                                     f"median of {len(blur)} frames)"))
    vals["bits_per_pixel"] = _r(bits_per_pixel) if bits_per_pixel is not None else None
    starved = bits_per_pixel is None or bits_per_pixel <= BLOCKY_BPP_MAX
    if vals["blockiness"] is not None and vals["blockiness"] > BLOCKY_MAX and starved:
        out.append(Defect(code="blocky", start_s=start, end_s=end, severity="warning", value=vals["blockiness"],
                          threshold=BLOCKY_MAX, detail=f"8-px block edges {vals['blockiness']:.2f}x the other "
                                                       f"steps > {BLOCKY_MAX} (median of {len(block)} frames) at "
                                                       f"{bits_per_pixel or 0:.3f} bits/pixel"))
    return out, vals
