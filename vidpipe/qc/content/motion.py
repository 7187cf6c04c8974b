"""Global camera motion from the motion thumbnails (128x72 luma of every frame) and its check
against the Camera part of each time-coded block.

Estimate: for frame pairs PAIR_GAP apart, the camera's similarity motion (translation, zoom, roll) from tracked
background corners (vidpipe.qc.content.tracking): actors, vehicles and lights that move on their own are
out-voted by the background, so a locked-off shot of a dancer measures static. Each block carries the
confidence of its measurement (the share of the frame that agreed with the camera motion found); only a
confident mismatch is an error, a weak one is a warning the judge can confirm.

Conventions written to probe.json `camera_motion` (one entry per block):
  dx, dy — how far the SCENE moved across the frame over the block, in frame widths / heights
           (dx > 0: slid right; dy > 0: slid down). Film convention: "pan left" means the camera
           turns left, so the scene slides right: dx > 0 is kind `pan_left`; dy > 0 is `tilt_up`.
  zoom   — scale of the picture at the block's end relative to its start (> 1: push-in/zoom in).
  kind   — static | pan_left | pan_right | tilt_up | tilt_down | zoom_in | zoom_out | handheld.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from vidpipe.media.frames import VideoScan
from vidpipe.qc.content import tracking
from vidpipe.qc.content.intent import CameraBlock
from vidpipe.qc.content.regions import Area
from vidpipe.qc.technical import BLACK_DARK_FRACTION, _r
from vidpipe.schema import Defect

# Calibration (tests/test_content_motion.py: a real photo moved by known crops at 320x180, every
# direction; preview animatics): a pan of 0.16 source widths over 2 s measures |dx| 0.24..0.27,
# a 35% push-in zoom 1.30..1.35; locked-off clips |dx|,|dy| < 0.005, zoom within 1 ± 0.005.
MOVE_MIN = 0.04  # frame widths/heights (or ln zoom) over a block for it to count as a move …
MOVE_MIN_RATE = 0.008  # … and per second, so a slow drift over a long take is not a "pan" (the storyboard
# preview's 5 s push-in of 3% measures 0.0095/s on the zoom scale and must count)
# handheld test clips (±1.2% wobble) 0.05..0.08 widths/s RMS; locked-off < 0.004.
JITTER_MIN = 0.02  # RMS of the frame-to-frame velocity around its trend, frame widths per second
# A zoom reads at a smaller total: the storyboard preview's 5 s "slow push-in" scales the picture 3%
# (ln 0.030), its "static" drifts 2.1% (ln 0.021) — too close for comfort; photo clips locked off: ±0.005.
ZOOM_MIN = 0.025
# handheld clips drift 0.05 w over 2 s with 0.78 w/s of shake (ratio 0.03); a real pan with shake
# drifts at least a quarter of its accumulated shake.
HANDHELD_DRIFT = 0.25
PAIR_STRIDE = 3  # one frame pair in three: a third of the cost, the same trend at 24 fps …
MAX_PAIRS = 48  # … and fewer on long clips (a 10 s 24 fps clip: one in five), so tracking stays ~0.4 s
PAIR_GAP = 6  # frames between the two of a pair: a slow pan moves ~2 px on the 128-px thumbnail
EDGE_S = 0.2  # frame pairs this close to a block boundary or a cut are not used
# A block's confidence: the median support of its frame pairs (share of the textured frame that moved with
# the camera found). Below this a mismatch is a warning the judge can confirm, not an error.
CONFIDENT = 0.5


@dataclass
class BlockMotion:
    start: float
    end: float
    kind: str
    dx: float
    dy: float
    zoom: float
    jitter: float
    asked: str | None = None
    confidence: float = 1.0

    def as_json(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items()}


def frame_velocities(scan: VideoScan, pairs: np.ndarray, gap: int = PAIR_GAP,
                     excluded: list[Area] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(len(pairs), 4) camera motion per frame over frames i..i+PAIR_GAP as [dx widths, dy heights, ln zoom,
    roll], and its support."""
    if scan.motion is None or len(pairs) == 0:
        return np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.float32)
    return tracking.velocities(scan.motion, pairs, gap, excluded)


def classify(dx: float, dy: float, lnz: float, jitter: float, seconds: float) -> str:
    """The measured camera kind for one block (see module docstring for the signs)."""
    t = max(seconds, 1e-3)
    comps = {"x": abs(dx), "y": abs(dy), "z": abs(lnz) * MOVE_MIN / ZOOM_MIN}  # zoom scaled to the pan scale
    axis = max(comps, key=comps.get)  # type: ignore[arg-type]
    big = comps[axis]
    if big >= MOVE_MIN and big / t >= MOVE_MIN_RATE and _directional(big, jitter, t):
        if axis == "x":
            return "pan_left" if dx > 0 else "pan_right"
        if axis == "y":
            return "tilt_up" if dy > 0 else "tilt_down"
        return "zoom_in" if lnz > 0 else "zoom_out"
    return "handheld" if jitter >= JITTER_MIN else "static"


def _directional(big: float, jitter: float, seconds: float) -> bool:
    """A drift counts as a move unless it is small next to the shake (handheld wander)."""
    return jitter < JITTER_MIN or big >= HANDHELD_DRIFT * jitter * seconds


def measure(scan: VideoScan, blocks: list[CameraBlock], cuts: list[float],
            excluded: list[Area] | None = None) -> list[BlockMotion]:
    """Per block: the scene's total motion, its zoom, its jitter and the measured kind (label areas excluded)."""
    times = scan.times
    n = len(times)
    if n < 3 or scan.motion is None:
        return []
    fps = 1.0 / max(scan.frame_dur, 1e-3)
    black = scan.dark_fraction >= BLACK_DARK_FRACTION
    gap = min(PAIR_GAP, n - 1)
    ok = ~(black[:-gap] | black[gap:])
    mids = (times[:-gap] + times[gap:]) / 2
    for c in cuts:  # no pair may straddle a cut
        ok &= (times[gap:] < c - EDGE_S / 2) | (times[:-gap] > c + EDGE_S / 2)
    stride = max(PAIR_STRIDE, math.ceil(len(ok) / MAX_PAIRS))
    ok[np.arange(len(ok)) % stride != 0] = False
    all_pairs = np.flatnonzero(ok)
    vel, support = frame_velocities(scan, all_pairs, gap, excluded)
    out = []
    for b in blocks:
        sel = (mids[all_pairs] >= b.start + EDGE_S) & (mids[all_pairs] <= b.end - EDGE_S)
        seconds = max(0.0, min(b.end, float(scan.end_s)) - b.start)
        if sel.sum() < 3:
            continue
        v = vel[sel]
        mean = _trimmed_mean(v)
        frames = seconds * fps  # velocities are per frame (each pair spans PAIR_GAP frames, divided out)
        dx, dy, lnz = (float(mean[k] * frames) for k in range(3))
        trend = np.apply_along_axis(lambda c: np.convolve(c, np.ones(5) / 5, mode="same"), 0, v[:, :2])
        jitter = float(np.sqrt(np.mean((v[:, :2] - trend)[2:-2] ** 2)) * fps) if len(v) > 6 else 0.0
        kind = classify(dx, dy, lnz, jitter, seconds)
        conf = float(np.median(support[sel]))
        out.append(BlockMotion(_r(b.start), _r(b.end), kind, _r(dx), _r(dy), _r(math.exp(lnz)), _r(jitter), b.asked,
                               _r(conf)))
    return out


def _trimmed_mean(v: np.ndarray, cut: float = 0.1) -> np.ndarray:
    """Column-wise mean without the top and bottom 10% (a passing object is not the camera)."""
    s = np.sort(v, axis=0)
    k = int(len(s) * cut)
    return s[k: len(s) - k].mean(axis=0) if len(s) - 2 * k > 0 else s.mean(axis=0)


_ASKED_TEXT = {"static": "a locked-off camera", "zoom_in": "a push-in", "zoom_out": "a pull-out",
               "pan_left": "a pan left (scene slides right)", "pan_right": "a pan right (scene slides left)",
               "tilt_up": "a tilt up (scene slides down)", "tilt_down": "a tilt down (scene slides up)",
               "orbit": "an orbit", "handheld": "handheld movement", "moving": "a moving camera"}
_OPPOSITE = {"zoom_in": "zoom_out", "zoom_out": "zoom_in", "pan_left": "pan_right", "pan_right": "pan_left",
             "tilt_up": "tilt_down", "tilt_down": "tilt_up"}


def mismatch(asked: str | None, got: BlockMotion) -> tuple[float, float] | None:
    """(how strongly, its threshold) the measured motion contradicts the asked move; None when it does not.

    The strength is always "higher is worse": the motion a locked-off shot should not have, the motion
    opposite to the asked one, or how far short of a clear move the asked direction stayed. Ambiguous
    cases (an orbit, a handheld or generic move that did move) never contradict.
    """
    if asked is None:
        return None
    zoom_as_pan = abs(math.log(max(got.zoom, 1e-6))) * MOVE_MIN / ZOOM_MIN
    moved = max(abs(got.dx), abs(got.dy), zoom_as_pan)
    if asked == "static":
        if got.kind not in ("static", "handheld"):
            return moved, MOVE_MIN
        return (got.jitter, 3 * JITTER_MIN) if got.jitter >= 3 * JITTER_MIN else None
    if asked not in _OPPOSITE:
        return (MOVE_MIN - moved, MOVE_MIN / 2) if got.kind == "static" and moved < MOVE_MIN / 2 else None
    comp = {"zoom": math.log(max(got.zoom, 1e-6)), "pan": -got.dx, "tilt": -got.dy}
    axis, sign = {"zoom_in": ("zoom", 1), "zoom_out": ("zoom", -1), "pan_left": ("pan", -1),
                  "pan_right": ("pan", 1), "tilt_up": ("tilt", -1), "tilt_down": ("tilt", 1)}[asked]
    # pan right = scene slides left = dx < 0, so -dx > 0. Contradiction: the opposite motion beyond its
    # minimum, or (not handheld) the asked motion under half of its minimum.
    done = sign * comp[axis]
    least = ZOOM_MIN if axis == "zoom" else MOVE_MIN
    if done <= -least:
        return -done, least
    if done < least / 2 and got.kind not in ("handheld", asked):
        return least - done, least / 2
    return None


def camera_defects(motions: list[BlockMotion], blocks: list[CameraBlock]) -> list[Defect]:
    """camera_move_mismatch per block whose measured motion contradicts its Camera part: an error when the
    measurement is confident (CONFIDENT), else a warning for the judge."""
    words = {(b.start, b.asked): b.words for b in blocks}
    out = []
    for m in motions:
        found = mismatch(m.asked, m)
        if found is None:
            continue
        value, threshold = found
        said = words.get((m.start, m.asked), m.asked or "")
        sure = m.confidence >= CONFIDENT and value >= threshold
        out.append(Defect(
            code="camera_move_mismatch", start_s=m.start, end_s=m.end, severity="error" if sure else "warning",
            value=_r(value), threshold=_r(threshold),
            detail=f"Camera asked for {_ASKED_TEXT.get(m.asked or '', m.asked)} ('{said}'); measured {m.kind} "
                   f"(scene dx {m.dx:+.3f} w, dy {m.dy:+.3f} h, zoom {m.zoom:.3f}, jitter {m.jitter:.3f} w/s; "
                   f"confidence {m.confidence:.2f}{'' if sure else f' < {CONFIDENT}: the judge should confirm'})"))
    return out
