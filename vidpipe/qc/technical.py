"""Technical QC checks: pure functions over one decode pass (VideoScan / AudioScan) and the request.

Each check returns `Defect`s with a contract code and a time range (design.md §5). Thresholds
are module constants so tests, the CLI and learning can cite them. Nothing here scores a clip.
"""

from __future__ import annotations

import re
from typing import Any
from collections.abc import Iterable

import numpy as np

from vidpipe.media.frames import AudioScan, VideoScan
from vidpipe.qc.loudness import loudness, window_levels
from vidpipe.schema import RESOLUTION_HEIGHT, Defect, Probe

BLACK_DARK_FRACTION = 0.98  # share of pixels at or below the black level (gray ≤ 32 of 255)
BLACK_MIN_S = 0.25
FROZEN_MAX_DIFF = 0.25  # mean |Δ| (0..255) on the 64x36 luma; a held frame wobbles ~0.05, surviving grain ≈1
FROZEN_MIN_S = 0.5
CUT_MIN_DIFF = 14.0  # a cut's frame difference is at least this …
CUT_RATIO = 4.0  # … and this many times the local median motion
CUT_MIN_GAP_S = 0.3  # a flash (two spikes close together) is not two cuts
# A flash, or something passing right in front of the lens, ends with the same picture as before it; a cut
# never does. A spike whose frame before comes back within CUT_RETURN_S (the mean difference to it falls
# under CUT_RETURN_SHARE of the spike) is not a cut. Benchmark (benchmarks/qc_bench): lightning flashes on
# a pan and walkers crossing close to a locked-off camera (bikes.mp4) were read as cuts without this.
CUT_RETURN_S = 0.6
CUT_RETURN_SHARE = 0.35
SILENCE_DBFS = -60.0
SILENCE_MIN_S = 1.0
LUFS_RANGE = (-30.0, -8.0)
TRUE_PEAK_MAX = -0.5
DURATION_TOL_S = 0.5
DURATION_TOL_FRAC = 0.10
RESOLUTION_TOL_PX = 2
ASPECT_TOL = 0.02
CUT_COUNT_TOL = 1

_BLOCK = re.compile(r"\[\s*(\d{1,2}):(\d{2})(?:\.\d+)?\s*[-–—]\s*(\d{1,2}):(\d{2})(?:\.\d+)?\s*\]")


def _runs(mask: np.ndarray) -> Iterable[tuple[int, int]]:
    """(first, last) index pairs of consecutive True runs."""
    if not mask.any():
        return []
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def _r(x: float) -> float:
    return round(float(x), 3)


def black_frames(scan: VideoScan, *, min_s: float = BLACK_MIN_S) -> list[Defect]:
    """Runs of near-black frames lasting at least `min_s`."""
    out = []
    for a, b in _runs(scan.dark_fraction >= BLACK_DARK_FRACTION):
        start, end = scan.times[a], scan.times[b] + scan.frame_dur
        if end - start >= min_s - 1e-6:
            out.append(Defect(code="black_frames", start_s=_r(start), end_s=_r(end),
                              detail=f"{b - a + 1} near-black frames ({end - start:.2f} s)"))
    return out


def frozen_frames(scan: VideoScan, *, min_s: float = FROZEN_MIN_S, max_diff: float = FROZEN_MAX_DIFF) -> list[Defect]:
    """Runs of (near-)identical consecutive frames lasting at least `min_s`; black runs are left to black_frames.

    The threshold tolerates encoder wobble on a held frame but not grain that survives encoding,
    so a locked-off camera with visible grain passes while a stuck or looped frame is reported.
    Light grain that the encoder removes (x264 crf 23 skips it) leaves truly identical frames:
    those are frozen as delivered, and reported.
    """
    black = scan.dark_fraction >= BLACK_DARK_FRACTION
    same = (scan.diff <= max_diff) & ~black
    same[0] = False
    out = []
    for a, b in _runs(same):
        first = a - 1  # frame a equals frame a-1: the held picture starts one frame earlier
        start, end = scan.times[first], scan.times[b] + scan.frame_dur
        if end - start >= min_s - 1e-6:
            out.append(Defect(code="frozen_frames", start_s=_r(start), end_s=_r(end),
                              detail=f"{b - first + 1} identical frames ({end - start:.2f} s)"))
    return out


def scene_cuts(scan: VideoScan) -> list[float]:
    """Times (s) of hard cuts: frame-difference spikes well above the local motion.

    Spikes into or out of black are not counted (a black gap is reported as black_frames). Repeated frames
    (a 12.5 fps source shown at 25 fps) do not count as the local motion, and a spike after which the
    earlier picture comes back (a flash, a passer-by right at the lens) is not a cut — nor are the spikes
    until it is back.
    """
    d = scan.diff
    if len(d) < 3:
        return []
    black = scan.dark_fraction >= BLACK_DARK_FRACTION
    half = 12
    padded = np.pad(d[1:], half, mode="edge")
    cuts: list[float] = []
    quiet_until = -1
    for i in range(1, len(d)):
        if i <= quiet_until or d[i] < CUT_MIN_DIFF or black[i] or black[i - 1]:
            continue
        window = np.concatenate([padded[i - 1 : i - 1 + half], padded[i + half : i + 2 * half]])
        moving = window[window > FROZEN_MAX_DIFF]
        level = float(np.median(moving)) if len(moving) >= half // 2 else float(np.median(window))
        if d[i] < CUT_RATIO * max(level, 1.0):
            continue
        t = float(scan.times[i])
        if cuts and t - cuts[-1] < CUT_MIN_GAP_S:
            continue
        back = _comes_back(scan, i)
        if back is not None:
            quiet_until = back
            continue
        cuts.append(_r(t))
    return cuts


def _comes_back(scan: VideoScan, i: int) -> int | None:
    """The frame where the picture from before the spike at frame i returns within CUT_RETURN_S (a flash, a
    passing occluder), or None (a cut: it never does)."""
    if scan.motion is None:
        return None
    k = max(2, int(round(CUT_RETURN_S / max(scan.frame_dur, 1e-3))))
    before = scan.motion[i - 1]
    after = scan.motion[i + 1: i + 1 + k]
    if not len(after):
        return None
    gaps = np.abs(after - before[None]).mean(axis=(1, 2))
    j = int(np.argmin(gaps))
    return i + 1 + j if gaps[j] < CUT_RETURN_SHARE * float(np.abs(scan.motion[i] - before).mean()) else None


def prompt_blocks(prompt: str | None) -> list[tuple[float, float]]:
    """Time-coded blocks `[00:00-00:04]` in a prompt, as (start, end) seconds."""
    if not prompt:
        return []
    return [(int(a) * 60 + int(b), int(c) * 60 + int(d)) for a, b, c, d in _BLOCK.findall(prompt)]


# Constraints that forbid any cut: "single continuous take", "no cuts", "one shot", "unbroken take", "oner".
SINGLE_TAKE = re.compile(r"\b(?:single|one)\s+(?:continuous\s+|unbroken\s+)?(?:take|shot)\b"
                         r"|\b(?:continuous|unbroken)\s+(?:single\s+)?take\b|\bno\s+(?:hard\s+)?(?:cuts?|edits?)\b"
                         r"|\bwithout\s+(?:any\s+)?cuts\b|\boner\b", re.I)


def cut_count(cuts: list[float], prompt: str | None, duration_s: float) -> list[Defect]:
    """Detected cuts against what the prompt allows.

    A single-take constraint (SINGLE_TAKE) makes any cut an error: the rule was stated and broken.
    Otherwise the count is compared with the time-coded blocks − 1 (a prompt without blocks is one shot:
    0 expected) and a difference beyond CUT_COUNT_TOL is a warning (the edit can still use the clip).
    """
    at = ", ".join(f"{t:.2f}" for t in cuts) or "none"
    if prompt and (m := SINGLE_TAKE.search(prompt)) and cuts:
        return [Defect(code="cut_count_mismatch", start_s=0.0, end_s=_r(duration_s), severity="error",
                       value=float(len(cuts)), threshold=1.0,
                       detail=f"{len(cuts)} cut(s) detected (at {at} s), but the prompt asks for '{m.group(0)}'")]
    blocks = prompt_blocks(prompt)
    expected = max(0, len(blocks) - 1)
    off = abs(len(cuts) - expected)
    if off <= CUT_COUNT_TOL:
        return []
    said = f"prompt has {len(blocks)} blocks" if len(blocks) >= 2 else "prompt describes one shot"
    return [Defect(code="cut_count_mismatch", start_s=0.0, end_s=_r(duration_s), severity="warning",
                   value=float(off), threshold=float(CUT_COUNT_TOL + 1),
                   detail=f"{len(cuts)} cuts detected (at {at} s), {said} → {expected} expected")]


def audio_checks(audio: AudioScan) -> list[Defect]:
    """silent_audio runs (or the whole track), then loudness_out_of_range unless the track is all silence."""
    levels = window_levels(audio.samples, audio.rate, 0.1)
    dur = audio.duration_s
    if levels.size == 0 or (levels < SILENCE_DBFS).all():
        return [Defect(code="silent_audio", start_s=0.0, end_s=_r(dur),
                       detail=f"the whole audio track is below {SILENCE_DBFS:.0f} dBFS")]
    out = []
    for a, b in _runs(levels < SILENCE_DBFS):
        start, end = a * 0.1, min(dur, (b + 1) * 0.1)
        if end - start >= SILENCE_MIN_S - 1e-6:
            # A pause can be deliberate (a beat between lines): reported, but not blocking.
            out.append(Defect(code="silent_audio", start_s=_r(start), end_s=_r(end), severity="warning",
                              detail=f"audio below {SILENCE_DBFS:.0f} dBFS for {end - start:.1f} s"))
    lufs, peak = loudness(audio.samples, audio.rate)
    problems = []
    if not (LUFS_RANGE[0] <= lufs <= LUFS_RANGE[1]):
        problems.append(f"integrated {lufs:.1f} LUFS outside {LUFS_RANGE[0]:.0f}…{LUFS_RANGE[1]:.0f}")
    if peak > TRUE_PEAK_MAX:
        problems.append(f"true peak {peak:.1f} dBTP above {TRUE_PEAK_MAX} dBTP")
    if problems:
        out.append(Defect(code="loudness_out_of_range", start_s=0.0, end_s=_r(dur), detail="; ".join(problems)))
    return out


def _aspect(ratio: str) -> float:
    w, h = (int(x) for x in ratio.split(":"))
    return w / h


def request_checks(probe: Probe, request: dict[str, Any] | None) -> list[Defect]:
    """Shape checks against the fields the request states explicitly (absent fields are not guessed)."""
    if not request:
        return []
    out: list[Defect] = []
    end = _r(probe.duration_s)
    if request.get("generate_audio") is True and not probe.has_audio:
        out.append(Defect(code="missing_audio", start_s=0.0, end_s=end, detail="generate_audio was true but the clip has no audio stream"))
    want = request.get("duration")
    if isinstance(want, (int, float)) and not isinstance(want, bool) and want > 0:
        off = abs(probe.duration_s - want)
        if off > DURATION_TOL_S or off > DURATION_TOL_FRAC * want:
            out.append(Defect(code="duration_mismatch", start_s=0.0, end_s=end,
                              detail=f"{probe.duration_s:.2f} s, requested {want} s"))
    if probe.width and probe.height:
        res = request.get("resolution")
        short = min(probe.width, probe.height)
        if res in RESOLUTION_HEIGHT and abs(short - RESOLUTION_HEIGHT[res]) > RESOLUTION_TOL_PX:
            out.append(Defect(code="resolution_mismatch", start_s=0.0, end_s=end,
                              detail=f"{probe.width}x{probe.height} (short side {short}), requested {res}"))
        ar = request.get("aspect_ratio")
        if isinstance(ar, str) and re.fullmatch(r"\d+:\d+", ar):
            got = probe.width / probe.height
            if abs(got / _aspect(ar) - 1) > ASPECT_TOL:
                out.append(Defect(code="aspect_ratio_mismatch", start_s=0.0, end_s=end,
                                  detail=f"{probe.width}x{probe.height} is {got:.3f}:1, requested {ar}"))
    return out
