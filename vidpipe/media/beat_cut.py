"""Move an edit's cut points onto the music's beats, in whole frames, without reshaping any shot much.

A cut point is where the next shot takes over: the end of a shot before a plain cut, the middle of a
crossfade, and the end of the last shot (so the cut, and the bed with it, stops on a beat). A point may
move onto a beat within ±`limit` s of where it was written, and each shot's length changes by at most
`limit` s: trimmed at its tail, or extended only into frames its clip really has (`room`). A point with
no beat in reach keeps its shot's length.
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
    The choices are made together, not cut by cut: trimming one shot moves every later cut, so a greedy
    snap can knock a later cut that was on a beat off it. Over every combination (a dynamic programme on
    where each shot starts) it keeps the one with the most cuts on a beat, then the least movement.
    """
    lim = int(limit * fps + 1e-9)
    written = cut_points(lengths, xfades, fps)
    # start frame of the next shot → (cost, lengths so far, snapped so far); cost = (-on beat, moved s, changed frames)
    states: dict[int, tuple[tuple[int, float, int], list[int], list[bool]]] = {0: ((0, 0.0, 0), [], [])}
    for k, n in enumerate(lengths):
        nxt = xfades[k + 1] if k + 1 < len(lengths) else 0
        floor = xfades[k] + nxt + 1  # a shot must outlast the crossfades it takes part in
        lo_n, hi_n = max(floor, n - lim), n + min(lim, max(0, room[k]))
        nxt_states: dict[int, tuple[tuple[int, float, int], list[int], list[bool]]] = {}
        for start, (cost, done, hits) in states.items():
            options = {n: False}  # a point with no beat in reach stays (moved only by the shots before it)
            for b in beats:
                new_n = round(b * fps + nxt / 2) - start  # the length whose cut point is the beat, in whole frames
                point = (start + new_n - nxt / 2) / fps
                if lo_n <= new_n <= hi_n and abs(point - written[k]) <= limit + 1e-9:
                    options[new_n] = True
            for new_n, hit in options.items():
                moved = abs((start + new_n - nxt / 2) / fps - written[k]) if hit else 0.0
                c = (cost[0] - hit, round(cost[1] + moved, 6), cost[2] + abs(new_n - n))
                key = start + new_n - nxt
                if key not in nxt_states or c < nxt_states[key][0]:
                    nxt_states[key] = (c, [*done, new_n], [*hits, hit])
        states = nxt_states
    _, after, snapped = min(states.values(), key=lambda v: v[0])
    return Retimed(list(lengths), after, written, cut_points(after, xfades, fps), snapped)
