"""Move an edit's cut points onto the music's beats, in whole frames, without reshaping any shot much.

A cut point is where the next shot takes over: the end of a shot before a plain cut, the middle of a
crossfade, and the end of the last shot (so the cut, and the bed with it, stops on a beat). Each point
moves to the beat nearest where it was written, within ±`limit` s of that and of where the earlier
retimed shots put it, and each shot's length changes by at most `limit` s: trimmed at its tail, or
extended only into frames its clip really has (`room`). A point with no beat in reach stays put.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_SHIFT_S = 0.5


@dataclass(frozen=True)
class Retimed:
    """Shot lengths in frames before and after, and the cut points (seconds) before and after."""

    before: list[int]
    after: list[int]
    points_before: list[float]
    points_after: list[float]
    snapped: list[bool]


def cut_points(lengths: Sequence[int], xfades: Sequence[int], fps: int) -> list[float]:
    """Cut points in seconds for shot lengths and incoming crossfades (frames; xfades[0] is 0)."""
    out, start = [], 0
    for k, n in enumerate(lengths):
        end = start + n
        nxt = xfades[k + 1] if k + 1 < len(lengths) else 0
        out.append((end - nxt / 2) / fps)
        start = end - nxt
    return out


def snap_to_beats(lengths: Sequence[int], xfades: Sequence[int], room: Sequence[int], beats: Sequence[float],
                  fps: int, *, limit: float = MAX_SHIFT_S) -> Retimed:
    """Retime shots (lengths, crossfades and spare tail frames, all in frames) onto `beats` (seconds in the cut).

    Returns the new lengths; every |after - before| ≤ limit·fps frames and never more spare frames than `room`.
    """
    lim = int(limit * fps + 1e-9)
    written = cut_points(lengths, xfades, fps)
    after: list[int] = []
    snapped: list[bool] = []
    start = 0
    for k, n in enumerate(lengths):
        nxt = xfades[k + 1] if k + 1 < len(lengths) else 0
        floor = xfades[k] + nxt + 1  # a shot must outlast the crossfades it takes part in
        lo_n, hi_n = max(floor, n - lim), n + min(lim, max(0, room[k]))
        best: tuple[float, float, int] | None = None
        for b in beats:
            new_n = round(b * fps + nxt / 2) - start  # the length whose cut point is the beat, in whole frames
            point = (start + new_n - nxt / 2) / fps
            if not lo_n <= new_n <= hi_n or abs(point - written[k]) > limit + 1e-9:
                continue
            cand = (abs(point - written[k]), abs(new_n - n), new_n)
            best = cand if best is None or cand < best else best
        after.append(best[2] if best else n)
        snapped.append(best is not None)
        start += after[-1] - nxt
    return Retimed(list(lengths), after, written, cut_points(after, xfades, fps), snapped)
