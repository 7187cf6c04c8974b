"""Global camera motion from the motion thumbnails (128x72 luma of every frame) and its check
against the Camera part of each time-coded block.

Estimate: for consecutive frames, a linear (Lucas-Kanade) least-squares fit of a similarity
motion — translation (dx, dy), zoom and roll — to the brightness-constancy equation over the
whole frame, solved for all frame pairs at once with numpy. Fast pans are first estimated on
the 64x36 level and the fine level refines the residual after an integer shift.

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
from vidpipe.qc.content.intent import CameraBlock
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
PAIR_STRIDE = 3  # one frame pair in three: a third of the cost, the same trend at 24 fps
EDGE_S = 0.2  # frame pairs this close to a block boundary or a cut are not used
_BORDER = 4  # thumbnail pixels ignored at the border (content entering/leaving the frame)


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

    def as_json(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items()}


def _smooth(x: np.ndarray) -> np.ndarray:
    """[1,2,1]/4 separable blur on the last two axes (gradients need a little smoothing; edges kept)."""
    y = x.copy()
    y[..., 1:-1, :] += x[..., 1:-1, :]
    y[..., 1:-1, :] += x[..., :-2, :]
    y[..., 1:-1, :] += x[..., 2:, :]
    y[..., 1:-1, :] *= 0.25
    z = y.copy()
    z[..., 1:-1] += y[..., 1:-1]
    z[..., 1:-1] += y[..., :-2]
    z[..., 1:-1] += y[..., 2:]
    z[..., 1:-1] *= 0.25
    return z


def _fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair (n, h, w): [u, v, zoom, roll] with u, v in pixels, zoom/roll per half-width."""
    m = (a + b) / 2
    ix = (m[:, 1:-1, 2:] - m[:, 1:-1, :-2]) / 2
    iy = (m[:, 2:, 1:-1] - m[:, :-2, 1:-1]) / 2
    it = (b - a)[:, 1:-1, 1:-1]
    k = _BORDER - 1
    ix, iy, it = ix[:, k:-k, k:-k], iy[:, k:-k, k:-k], it[:, k:-k, k:-k]
    h, w = ix.shape[1:]
    half = w / 2
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs, ys = (xs - (w - 1) / 2) / half, (ys - (h - 1) / 2) / half
    n = len(ix)
    cols = np.stack([ix, iy, ix * xs + iy * ys, -ix * ys + iy * xs], axis=1).reshape(n, 4, -1)
    g = cols @ cols.transpose(0, 2, 1) + 1e-3 * np.eye(4, dtype=np.float32)
    rhs = cols @ (-it.reshape(n, -1, 1))
    return np.linalg.solve(g, rhs)[..., 0]


def _shifted_fit(a: np.ndarray, b: np.ndarray, su: int, sv: int) -> np.ndarray:
    """Refine pairs (n, h, w) after moving b back by one integer (su, sv) pixel shift."""
    h, w = a.shape[1:]
    # b(x) = a(x - s): compare a at x with b at x + s
    aa = a[:, max(0, -sv): h + min(0, -sv), max(0, -su): w + min(0, -su)]
    bb = b[:, max(0, sv): h + min(0, sv), max(0, su): w + min(0, su)]
    base = np.array([su, sv, 0, 0], dtype=np.float32)
    if min(aa.shape[1:]) <= 2 * _BORDER + 2:
        return np.repeat(base[None], len(a), axis=0)
    return _fit(aa, bb) + base


def _refine(fine: np.ndarray, ia: np.ndarray, ib: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Fine-level fits after an integer shift, batched per distinct shift (a steady pan has one)."""
    shifts = np.rint(guess).astype(int)
    out = np.zeros((len(ia), 4), dtype=np.float32)
    for s in {(int(u), int(v)) for u, v in shifts}:
        idx = np.flatnonzero((shifts[:, 0] == s[0]) & (shifts[:, 1] == s[1]))
        out[idx] = _shifted_fit(fine[ia[idx]], fine[ib[idx]], *s)
    return out


def frame_velocities(scan: VideoScan, pairs: np.ndarray) -> np.ndarray:
    """(len(pairs), 4): scene motion from frame i to i+1 as [dx widths, dy heights, ln zoom, roll]."""
    if scan.motion is None or len(pairs) == 0:
        return np.zeros((0, 4), dtype=np.float32)
    frames = scan.motion
    n, h, w = frames.shape
    used, inv = np.unique(np.concatenate([pairs, pairs + 1]), return_inverse=True)
    ia, ib = inv[: len(pairs)], inv[len(pairs):]
    fine = _smooth(frames[used].astype(np.float32))
    coarse = _smooth((fine[:, ::2, ::2] + fine[:, 1::2, ::2] + fine[:, ::2, 1::2] + fine[:, 1::2, 1::2]) * 0.25)
    pc = _fit(coarse[ia], coarse[ib])
    vel = _fit(fine[ia], fine[ib])
    fast = np.flatnonzero(np.abs(pc[:, :2]).max(axis=1) > 0.35)  # > 0.7 px at the fine level: shift first
    if len(fast):
        p = _refine(fine, ia[fast], ib[fast], 2 * pc[fast, :2])
        again = np.rint(p[:, :2]) != np.rint(2 * pc[fast, :2])
        redo = np.flatnonzero(again.any(axis=1))
        if len(redo):
            p[redo] = _refine(fine, ia[fast][redo], ib[fast][redo], p[redo, :2])
        vel[fast] = p
    half = (w - 2 - 2 * (_BORDER - 1)) / 2
    # zoom parameter z: displacement z*x at normalized x (x=1 at half-width) → scale change per frame
    return np.stack([vel[:, 0] / w, vel[:, 1] / h, vel[:, 2] / half, vel[:, 3] / half], axis=1).astype(np.float32)


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


def measure(scan: VideoScan, blocks: list[CameraBlock], cuts: list[float]) -> list[BlockMotion]:
    """Per block: the scene's total motion, its zoom, its jitter and the measured kind."""
    times = scan.times
    n = len(times)
    if n < 3 or scan.motion is None:
        return []
    fps = 1.0 / max(scan.frame_dur, 1e-3)
    black = scan.dark_fraction >= BLACK_DARK_FRACTION
    ok = ~(black[:-1] | black[1:])
    mids = (times[:-1] + times[1:]) / 2
    for c in cuts:
        ok &= np.abs(mids - c) > EDGE_S
    ok[np.arange(len(ok)) % PAIR_STRIDE != 0] = False
    all_pairs = np.flatnonzero(ok)
    vel = frame_velocities(scan, all_pairs)
    out = []
    for b in blocks:
        sel = (mids[all_pairs] >= b.start + EDGE_S) & (mids[all_pairs] <= b.end - EDGE_S)
        seconds = max(0.0, min(b.end, float(scan.end_s)) - b.start)
        if sel.sum() < 3:
            continue
        v = vel[sel]
        mean = _trimmed_mean(v)
        frames = seconds * fps  # velocities are per frame; each used pair stands for PAIR_STRIDE of them
        dx, dy, lnz = (float(mean[k] * frames) for k in range(3))
        trend = np.apply_along_axis(lambda c: np.convolve(c, np.ones(5) / 5, mode="same"), 0, v[:, :2])
        jitter = float(np.sqrt(np.mean((v[:, :2] - trend)[2:-2] ** 2)) * fps) if len(v) > 6 else 0.0
        kind = classify(dx, dy, lnz, jitter, seconds)
        out.append(BlockMotion(_r(b.start), _r(b.end), kind, _r(dx), _r(dy), _r(math.exp(lnz)), _r(jitter), b.asked))
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


def contradicts(asked: str | None, got: BlockMotion) -> bool:
    """Does the measured motion contradict the asked move? Ambiguous cases never do."""
    if asked is None:
        return False
    if asked == "static":
        return got.kind not in ("static", "handheld") or got.jitter >= 3 * JITTER_MIN
    if got.kind == "static":
        return True  # the camera was asked to move and did not
    if asked in _OPPOSITE:
        comp = {"zoom": math.log(max(got.zoom, 1e-6)), "pan": -got.dx, "tilt": -got.dy}
        axis, sign = {"zoom_in": ("zoom", 1), "zoom_out": ("zoom", -1), "pan_left": ("pan", -1),
                      "pan_right": ("pan", 1), "tilt_up": ("tilt", -1), "tilt_down": ("tilt", 1)}[asked]
        # pan right = scene slides left = dx < 0, so -dx > 0. Contradiction: the opposite motion beyond
        # MOVE_MIN, or a different clear move while the asked one stayed under half of MOVE_MIN.
        done = sign * comp[axis]
        least = ZOOM_MIN if axis == "zoom" else MOVE_MIN
        return done <= -least or (done < least / 2 and got.kind not in ("handheld", asked))
    return False  # orbit / handheld / generic moves: any measured motion is acceptable


def camera_defects(motions: list[BlockMotion], blocks: list[CameraBlock]) -> list[Defect]:
    """camera_move_mismatch for each block whose measured motion contradicts its Camera part."""
    words = {(b.start, b.asked): b.words for b in blocks}
    out = []
    for m in motions:
        if not contradicts(m.asked, m):
            continue
        said = words.get((m.start, m.asked), m.asked or "")
        value = {"zoom_in": m.zoom, "zoom_out": m.zoom, "tilt_up": m.dy, "tilt_down": m.dy}.get(m.asked or "", m.dx)
        if m.asked in ("static", "orbit", "handheld", "moving"):
            value = max(abs(m.dx), abs(m.dy), abs(math.log(max(m.zoom, 1e-6))))
        out.append(Defect(
            code="camera_move_mismatch", start_s=m.start, end_s=m.end, severity="error", value=_r(value),
            threshold=MOVE_MIN,
            detail=f"Camera asked for {_ASKED_TEXT.get(m.asked or '', m.asked)} ('{said}'); measured {m.kind} "
                   f"(scene dx {m.dx:+.3f} w, dy {m.dy:+.3f} h, zoom {m.zoom:.3f}, jitter {m.jitter:.3f} w/s)"))
    return out
