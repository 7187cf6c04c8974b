"""A music track as the cut needs it: its beats, its energy, the window that fits the cut, and the fitted bed.

Beats come from librosa's dynamic-programming beat tracker (the standard one on PyPI), each refined to
the nearest backtracked onset so a beat sits on the attack, not on the analysis frame after it (~10 ms
instead of ~25 ms: a cut must land within one video frame). Energy is numpy RMS of the decoded track.

The window is the best-energy stretch of the cut's length that ends on a phrase boundary (a bar line:
every 4th beat, phase chosen by onset strength; any beat if the track has too few bars). The bed file is
that window with fades baked in, so the mix, the NLE export and a person listening hear the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vidpipe.errors import MediaError
from vidpipe.media.ambience import write_wav
from vidpipe.media.verify import Verified, write_verified

ANALYSIS_SR = 22050
HOP = 256                 # 11.6 ms analysis frames
ONSET_SNAP_S = 0.06       # a beat moves onto a backtracked onset this close
BEATS_PER_BAR = 4
BED_SR = 48000
FADE_IN_S = 1.0
FADE_OUT_S = 1.5
AUDIO_EXTS = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".m4a", ".aac", ".opus")


@dataclass
class TrackAnalysis:
    """What the fitter needs to know about one music file (cached as JSON by the caller)."""

    duration_s: float
    tempo_bpm: float
    beats: list[float]            # seconds into the track
    bar_beats: list[float]        # the beats that start a bar (phrase boundaries)
    rms: list[float]              # RMS per HOP frame of the mono mix
    hop_s: float = HOP / ANALYSIS_SR

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Window:
    """The stretch [start, end] of a track the bed plays; end sits on a phrase boundary when it can."""

    start: float
    end: float
    energy_db: float
    on_beat: bool
    beats: list[float] = field(default_factory=list)  # beats inside the window, in seconds from its start

    @property
    def length(self) -> float:
        return self.end - self.start


def audio_files(folder: Path) -> list[Path]:
    """The audio files of a music folder, sorted by name (so a choice among equals is stable)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTS)


def decode(path: Path, sr: int, *, channels: int = 1) -> np.ndarray:
    """The whole track as float32 samples, shape (n, channels), resampled to `sr` (PyAV)."""
    import av  # lazy: PyAV is only needed when music is analysed or fitted

    layout = "mono" if channels == 1 else "stereo"
    chunks: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaError(f"{path}: has no audio stream")
            resampler = av.AudioResampler(format="flt", layout=layout, rate=sr)
            for frame in container.decode(container.streams.audio[0]):
                chunks += [f.to_ndarray().reshape(-1, channels) for f in resampler.resample(frame)]
            chunks += [f.to_ndarray().reshape(-1, channels) for f in resampler.resample(None)]
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: not a readable audio file ({exc})") from None
    if not chunks:
        raise MediaError(f"{path}: decoded to no samples")
    return np.concatenate(chunks).astype(np.float32)


def frame_rms(y: np.ndarray, hop: int = HOP) -> np.ndarray:
    """RMS of each `hop`-sample frame of a mono signal."""
    n = len(y) // hop
    if n == 0:
        return np.array([float(np.sqrt(np.mean(y ** 2)))]) if len(y) else np.zeros(1)
    return np.sqrt(np.mean(y[: n * hop].reshape(n, hop) ** 2, axis=1))


def track_beats(y: np.ndarray, sr: int = ANALYSIS_SR) -> tuple[float, np.ndarray, np.ndarray]:
    """(tempo, beat times, onset strength at each beat) with librosa; beats refined onto onsets."""
    import librosa  # lazy: numba compiles the tracker on first import (seconds); only music analysis needs it

    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP)
    tempo, frames = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=HOP)
    beats = librosa.frames_to_time(frames, sr=sr, hop_length=HOP)
    onsets = librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=HOP, units="time", backtrack=True)
    if len(onsets):
        near = np.abs(beats[:, None] - onsets[None, :])
        k = near.argmin(axis=1)
        close = near[np.arange(len(beats)), k] <= ONSET_SNAP_S
        beats = np.where(close, onsets[k], beats)
    strength = env[np.clip(frames, 0, len(env) - 1)] if len(frames) else np.zeros(0)
    return float(np.atleast_1d(tempo)[0]), beats, strength


def bar_lines(beats: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Every BEATS_PER_BAR-th beat, in the phase whose beats are strongest (a downbeat estimate)."""
    if len(beats) < 2 * BEATS_PER_BAR:
        return beats
    phase = int(np.argmax([strength[p::BEATS_PER_BAR].mean() for p in range(BEATS_PER_BAR)]))
    return beats[phase::BEATS_PER_BAR]


def analyse(path: Path) -> TrackAnalysis:
    """Beats, bars and energy of one music file."""
    y = decode(path, ANALYSIS_SR)[:, 0]
    tempo, beats, strength = track_beats(y)
    bars = bar_lines(beats, strength)
    return TrackAnalysis(duration_s=round(len(y) / ANALYSIS_SR, 4), tempo_bpm=round(tempo, 3),
                         beats=[round(float(b), 4) for b in beats], bar_beats=[round(float(b), 4) for b in bars],
                         rms=[round(float(r), 6) for r in frame_rms(y)])


def _energy_db(cum: np.ndarray, hop_s: float, start: float, end: float) -> float:
    """Mean power of [start, end] from the cumulative sum of squared frame RMS, in dB."""
    a = int(np.clip(round(start / hop_s), 0, len(cum) - 1))
    b = int(np.clip(round(end / hop_s), a + 1, len(cum) - 1))
    power = (cum[b] - cum[a]) / max(1, b - a)
    return float(10 * np.log10(max(power, 1e-12)))


def best_window(a: TrackAnalysis, length: float) -> Window:
    """The best-energy window of `length` seconds ending on a bar line (else a beat, else anywhere).

    Deterministic: ties keep the earliest window. A track shorter than the cut plays whole.
    """
    rms = np.asarray(a.rms, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(rms ** 2)])
    if a.duration_s <= length:
        return _window(a, cum, 0.0, a.duration_s, on_beat=False)
    for ends in (a.bar_beats, a.beats):
        cands = [e for e in ends if e - length >= 0 and e <= a.duration_s]
        if cands:
            energies = [_energy_db(cum, a.hop_s, e - length, e) for e in cands]
            e = cands[int(np.argmax(energies))]
            return _window(a, cum, e - length, e, on_beat=True)
    step = a.hop_s
    starts = np.arange(0.0, a.duration_s - length + 1e-9, step)
    energies = [_energy_db(cum, a.hop_s, s, s + length) for s in starts]
    s = float(starts[int(np.argmax(energies))])
    return _window(a, cum, s, s + length, on_beat=False)


def _window(a: TrackAnalysis, cum: np.ndarray, start: float, end: float, *, on_beat: bool) -> Window:
    start, end = round(start, 4), round(end, 4)
    inside = [round(b - start, 4) for b in a.beats if start - 1e-6 <= b <= end + 1e-6]
    return Window(start, end, round(_energy_db(cum, a.hop_s, start, end), 3), on_beat, inside)


def fit_score(a: TrackAnalysis, length: float) -> tuple[float, bool, float]:
    """How well a track fits a cut of `length` s: (share of the cut it covers, ends on a phrase, window energy)."""
    w = best_window(a, length)
    return (round(min(1.0, a.duration_s / length), 3) if length > 0 else 1.0, w.on_beat, w.energy_db)


def choose_track(analyses: list[TrackAnalysis], length: float) -> int:
    """Index of the track that best fits the cut: covers it, ends on a phrase, then the most energy.

    `max` keeps the first of equals, and callers pass tracks sorted by name: the choice is deterministic.
    """
    if not analyses:
        raise ValueError("choose_track needs at least one track")
    scores = [fit_score(a, length) for a in analyses]
    return max(range(len(scores)), key=lambda i: scores[i])


def fade_gains(n: int, sr: int, fade_in_s: float, fade_out_s: float) -> np.ndarray:
    """Per-sample gain: linear ramps at both edges, each at most a third of the bed."""
    g = np.ones(n, dtype=np.float32)
    fi = min(int(fade_in_s * sr), n // 3)
    fo = min(int(fade_out_s * sr), n // 3)
    if fi:
        g[:fi] = np.linspace(0.0, 1.0, fi, dtype=np.float32)
    if fo:
        g[n - fo:] = np.linspace(1.0, 0.0, fo, dtype=np.float32)
    return g


def render_bed(src: Path, window: Window, out: Path, *, fade_in_s: float = FADE_IN_S,
               fade_out_s: float = FADE_OUT_S) -> Verified:
    """Write the window of `src` as a 48 kHz stereo WAV with its fades baked in (verified, then renamed)."""
    y = decode(src, BED_SR, channels=2)
    a, b = int(round(window.start * BED_SR)), int(round(window.end * BED_SR))
    seg = y[a:b] * fade_gains(len(y[a:b]), BED_SR, fade_in_s, fade_out_s)[:, None]
    return write_verified(out, lambda tmp: write_wav(seg, tmp, BED_SR), "audio")
