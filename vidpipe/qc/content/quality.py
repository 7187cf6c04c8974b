"""Picture quality detectors on frames already decoded: flicker, blurry, blocky.

- flicker: per-frame mean luma (the 64x36 thumbnails) minus its 5-frame moving average is the
  fast brightness wobble; content motion barely moves the mean, a fade or a slow grade change
  is removed by the average, cuts are masked. Reported when its RMS over a 1 s window is large
  AND a large share of the frame difference is that uniform change (motion is not flicker).
- blurry: the Crété-Roffet no-reference blur estimate (how little the picture changes when it
  is blurred further: 0 sharp … 1 mush) on native-resolution luma planes.
- blocky: mean luma step across 8-pixel block boundaries over the mean step elsewhere
  (1.0 = no grid; codec blocking makes the boundaries stand out), on the same planes.
"""

from __future__ import annotations

import numpy as np

from vidpipe.media.frames import VideoScan
from vidpipe.qc.technical import BLACK_DARK_FRACTION, _r, _runs
from vidpipe.schema import Defect

# Calibration (tests/content_factory.py clips: real photos from scikit-image — astronaut, coffee,
# chelsea — panned/zoomed at 320x180 and 640x360): clean footage 0.00..0.22; brightness alternating
# ±4 levels every frame 2.8..2.9, ±8 levels 6.3. 1.5 keeps a 7x margin over clean footage.
FLICKER_RMS = 1.5  # gray levels (0..255), RMS of the luma wobble over a window
FLICKER_UNIFORM = 0.35  # the wobble's share of the mean |frame difference| (motion alone: < 0.1)
FLICKER_WINDOW_S = 1.0
# Same clips: clean 0.36..0.53 (0.50+ is the photo upscaled 2x), Gaussian blur σ1.5 0.62, σ2.5 0.73.
BLUR_MAX = 0.58  # Crété-Roffet blur, median over the detail frames
BLUR_MIN_TEXTURE = 1.5  # mean |Δ| (gray levels) below which a frame is too flat to judge sharpness
# Same clips: clean x264 crf 20 0.94..1.14; x264 crf 51 1.26..1.31; crf 45 without deblocking
# 1.67..2.18; mpeg2 q31 1.88..1.89.
BLOCKY_MAX = 1.22  # block-boundary step ratio, median over the detail frames
BLOCK = 8
STRIDE = 4  # measure every 4th row/column: the statistics hold, the cost drops 4x


def _moving_avg(x: np.ndarray, k: int) -> np.ndarray:
    pad = np.pad(x, k // 2, mode="edge")
    c = np.concatenate([[0.0], np.cumsum(pad, dtype=np.float64)])
    return (c[k:] - c[:-k]) / k


def flicker(scan: VideoScan, cuts: list[float]) -> tuple[list[Defect], float]:
    """Flicker defects and the clip's largest windowed wobble RMS."""
    n = len(scan.luma)
    win = max(3, int(round(FLICKER_WINDOW_S / max(scan.frame_dur, 1e-3))))
    if n < win + 2:
        return [], 0.0
    luma = scan.luma.astype(np.float64)
    wobble = luma - _moving_avg(luma, 5)
    bad = scan.dark_fraction >= BLACK_DARK_FRACTION
    for t in cuts:
        i = int(np.searchsorted(scan.times, t - 1e-6))
        bad[max(0, i - 3): i + 3] = True
    wobble[bad] = 0.0
    sq = _moving_avg(wobble * wobble, win)
    rms = np.sqrt(np.maximum(sq, 0.0))
    motion = _moving_avg(np.where(bad, 0.0, scan.diff.astype(np.float64)), win)
    uniform = rms / np.maximum(motion, 1e-6)
    hit = (rms >= FLICKER_RMS) & (uniform >= FLICKER_UNIFORM)
    out = []
    for a, b in _runs(hit):
        peak = float(rms[a: b + 1].max())
        start = float(scan.times[max(0, a - win // 2)])
        end = float(scan.times[min(n - 1, b + win // 2)] + scan.frame_dur)
        out.append(Defect(code="flicker", start_s=_r(start), end_s=_r(end), severity="warn", value=_r(peak),
                          threshold=FLICKER_RMS,
                          detail=f"brightness wobbles {peak:.1f} levels RMS (≥ {FLICKER_RMS}), "
                                 f"{float(uniform[a: b + 1].max()):.0%} of the frame change"))
    return out, _r(float(rms.max()))


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


def sharpness(details: list[tuple[float, np.ndarray]]) -> tuple[list[Defect], dict[str, float | None]]:
    """blurry / blocky defects from the detail frames (median over frames), and the measured values."""
    blur = [b for _, y in details if (b := blur_score(y)) is not None]
    block = [b for _, y in details if (b := block_score(y)) is not None]
    vals: dict[str, float | None] = {"blur": _r(float(np.median(blur))) if blur else None,
                                     "blockiness": _r(float(np.median(block))) if block else None}
    out = []
    if not details:
        return out, vals
    start, end = _r(details[0][0]), _r(details[-1][0])
    if vals["blur"] is not None and vals["blur"] > BLUR_MAX:
        out.append(Defect(code="blurry", start_s=start, end_s=end, severity="warn", value=vals["blur"],
                          threshold=BLUR_MAX, detail=f"blur {vals['blur']:.2f} > {BLUR_MAX} (Crété-Roffet, "
                                                     f"median of {len(blur)} frames)"))
    if vals["blockiness"] is not None and vals["blockiness"] > BLOCKY_MAX:
        out.append(Defect(code="blocky", start_s=start, end_s=end, severity="warn", value=vals["blockiness"],
                          threshold=BLOCKY_MAX, detail=f"8-px block edges {vals['blockiness']:.2f}x the other "
                                                       f"steps > {BLOCKY_MAX} (median of {len(block)} frames)"))
    return out, vals
