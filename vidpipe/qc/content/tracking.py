"""The camera's own motion between two frames, from the background only.

A whole-frame fit is dragged by whatever moves most: a dancer, a passing car, a light sweeping a wall.
Here corners are tracked (OpenCV pyramidal Lucas-Kanade, forward and back) on the 128x72 motion
thumbnails, and a similarity motion (shift, zoom, roll) is chosen among candidate fits by a vote of
frame cells: a candidate wins a cell when it explains most of that cell's tracks. The background spans
the frame; a subject, however large or fast, is one compact region, so it wins fewer cells. Candidates:
"nothing moved", the least-squares fit of all tracks, and fits through random pairs of tracks
(RANSAC-style). The winner is refitted on its inliers.

A locked-off camera is preferred when enough of the frame stands still (STILL_SHARE). Support (0..1) is
the share of the frame's textured cells the winner explains and no clearly different motion also does
(a big subject moving against a plain background is ambiguous: low support), scaled down when too few
cells carry tracks: the confidence of the measurement.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_CORNERS = 160
QUALITY = 0.01
MIN_DIST = 4  # px between tracked corners (on the 128x72 thumbnail)
LK_WIN = (9, 9)
LK_LEVELS = 3  # 128 → 16 px at the top: shifts of ~8 px per frame are tracked
FB_MAX = 0.5  # px: a track that does not come back to where it started is dropped
INLIER_PX = 0.35  # px residual for a track to agree with a motion (LK on clean footage: ~0.1 px)
GRID = (4, 3)  # cells across, down
CELL_MIN_TRACKS = 2
CELL_AGREE = 0.5  # a cell votes for the candidate that explains at least this share of its tracks
MIN_CELLS = 5  # fewer textured cells than this and the support is scaled down (too little background seen)
# A locked-off camera wins when at least this share of the textured cells did not move at all (a pan or
# zoom moves every cell; a subject, however large, leaves the rest of the frame still).
STILL_SHARE = 0.3
SAMPLES = 40  # random 2-track candidates per frame pair
_BORDER = 3  # px


def _design(pts: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(2N, 4) rows for u = tx + z·X − r·Y, v = ty + z·Y + r·X at offsets (X, Y) from the centre."""
    x, y = (pts - centre).T
    one, zero = np.ones_like(x), np.zeros_like(x)
    return np.stack([np.stack([one, zero, x, -y], 1), np.stack([zero, one, y, x], 1)], 1).reshape(-1, 4)


def _fit(a: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Least-squares [tx, ty, z, r] for tracks (rows of the design `a`)."""
    g = a.T @ a + 1e-6 * np.eye(4)
    return np.linalg.solve(g, a.T @ flow.reshape(-1))


def _track(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Corners of `a` (outside masked-off label areas) and where they went in `b` (only tracks that survive
    the forward-backward check)."""
    h, w = a.shape
    p0 = cv2.goodFeaturesToTrack(a, MAX_CORNERS, QUALITY, MIN_DIST, mask=mask, blockSize=5)
    if p0 is None or len(p0) < 4:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.01)
    # nextPts is an output here (no OPTFLOW_USE_INITIAL_FLOW); passing a buffer satisfies every opencv stub version.
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(a, b, p0, np.empty_like(p0),
                                           winSize=LK_WIN, maxLevel=LK_LEVELS, criteria=crit)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, p1, np.empty_like(p1),
                                             winSize=LK_WIN, maxLevel=LK_LEVELS, criteria=crit)
    p0, p1, back = p0[:, 0], p1[:, 0], back[:, 0]
    ok = (st1[:, 0] == 1) & (st2[:, 0] == 1) & (np.linalg.norm(back - p0, axis=1) < FB_MAX)
    inside = (p0[:, 0] >= _BORDER) & (p0[:, 0] < w - _BORDER) & (p0[:, 1] >= _BORDER) & (p0[:, 1] < h - _BORDER)
    keep = ok & inside
    return p0[keep], p1[keep]


def pair_motion(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """([dx widths, dy heights, zoom (scale change), roll (rad)], support) of the camera from frame a to b."""
    h, w = a.shape
    p0, p1 = _track(a, b, mask)
    n = len(p0)
    if n < 6:
        return np.zeros(4, np.float32), 0.0
    centre = np.array([(w - 1) / 2, (h - 1) / 2], np.float32)
    flow = (p1 - p0).astype(np.float64)
    design = _design(p0.astype(np.float64), centre).reshape(n, 2, 4)
    cells = (np.minimum(GRID[0] - 1, (p0[:, 0] * GRID[0] / w).astype(int))
             + GRID[0] * np.minimum(GRID[1] - 1, (p0[:, 1] * GRID[1] / h).astype(int)))
    ncell = GRID[0] * GRID[1]
    per_cell = np.bincount(cells, minlength=ncell)
    textured = per_cell >= CELL_MIN_TRACKS

    idx = rng.integers(0, n, size=(SAMPLES, 2))
    idx = idx[idx[:, 0] != idx[:, 1]]
    two = design[idx].reshape(len(idx), 4, 4)
    rhs = flow[idx].reshape(len(idx), 4)
    good = np.abs(np.linalg.det(two)) > 1e-6
    samples = np.linalg.solve(two[good], rhs[good][..., None])[..., 0] if good.any() else np.zeros((0, 4))
    cands = np.vstack([np.zeros((1, 4)), _fit(design.reshape(-1, 4), flow)[None], samples])

    pred = np.einsum("nij,kj->kni", design, cands)  # (K, n, 2)
    inl = np.linalg.norm(pred - flow[None], axis=2) < INLIER_PX  # (K, n)
    agree = np.stack([np.bincount(cells, weights=m.astype(float), minlength=ncell) for m in inl])
    won = (agree >= CELL_AGREE * np.maximum(per_cell, 1)) & textured  # (K, cells)
    votes = won.sum(axis=1)
    seen = int(textured.sum())
    best = int(np.argmax(votes + 0.5 * inl.mean(axis=1)))  # cells first, tracks break ties
    # Mean predicted flow per cell: where two candidates predict the same (a zoom near the centre, a slow
    # move), a cell cannot tell them apart and votes for neither against the other.
    cnt = np.maximum(per_cell, 1)
    cell_pred = np.stack([np.stack([np.bincount(cells, weights=pr[:, j], minlength=ncell) / cnt
                                    for j in (0, 1)], -1) for pr in pred])  # (K, cells, 2)

    def apart(k: int, j: int) -> np.ndarray:
        return (np.linalg.norm(cell_pred[k] - cell_pred[j], axis=1) > 2 * INLIER_PX) & textured

    if best != 0:
        split = apart(best, 0)
        if split.any() and (won[0] & split).sum() >= STILL_SHARE * split.sum():
            best = 0  # enough of the frame that would move with this camera stands still: locked off
    motion = cands[best]
    if best != 0 and inl[best].sum() >= 3:
        motion = _fit(design[inl[best]].reshape(-1, 4), flow[inl[best]])
    # Confidence: the cells the winner holds minus the most any clearly different motion holds where
    # the two can be told apart.
    rival = 0
    for k in range(len(cands)):
        split = apart(k, best)
        if k != best and split.any():
            rival = max(rival, int((won[k] & split).sum()))
    support = max(0.0, float(votes[best] - rival)) / max(1, seen) * min(1.0, seen / MIN_CELLS)
    return np.array([motion[0] / w, motion[1] / h, motion[2], motion[3]], np.float32), support


def label_mask(shape: tuple[int, int], excluded: list[tuple[float, float, float, float]]) -> np.ndarray | None:
    """uint8 mask (255 = track here) without the areas where a clip's own labels sit (fractions of the frame)."""
    if not excluded:
        return None
    h, w = shape
    mask = np.full((h, w), 255, np.uint8)
    for x0, y0, x1, y1 in excluded:
        mask[int(y0 * h): int(np.ceil(y1 * h)), int(x0 * w): int(np.ceil(x1 * w))] = 0
    return mask


def velocities(frames: np.ndarray, pairs: np.ndarray, gap: int = 1,
               excluded: list[tuple[float, float, float, float]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per pair (i, i+gap): camera motion per frame [dx, dy, zoom, roll] and its support (float luma thumbnails).

    A gap of a few frames makes slow moves measurable: the vote needs shifts well above INLIER_PX. Corners in
    `excluded` areas (a preview's burnt-in label bands, which never move) are not tracked."""
    rng = np.random.default_rng(0)  # deterministic: the same clip always measures the same
    mask = label_mask(frames.shape[1:], excluded or [])
    vel = np.zeros((len(pairs), 4), np.float32)
    sup = np.zeros(len(pairs), np.float32)
    for k, i in enumerate(pairs):
        a = np.clip(frames[i], 0, 255).astype(np.uint8)
        b = np.clip(frames[i + gap], 0, 255).astype(np.uint8)
        vel[k], sup[k] = pair_motion(a, b, rng, mask)
        vel[k] /= gap
    return vel, sup
