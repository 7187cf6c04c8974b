"""speech_missing: voice activity in the decoded audio (WebRTC's VAD, from the webrtcvad-wheels wheel).

The VAD is a small GMM classifier compiled into the wheel (no model file, nothing downloaded).
It sees 30 ms frames of 16 kHz mono 16-bit audio; we feed it the already decoded 48 kHz track
(channels averaged, 3-sample mean then decimate by 3). A frame counts as speech only inside a run
of at least SPEECH_RUN_S. The VAD alone also fires on steady noise and tones, so a run must
also sound like a voice: its level must move like syllables (the frame energy varies by at least
MOD_MIN_DB over a second) and enough of its frames must be voiced (a clear pitch peak in the
autocorrelation, 60–400 Hz).
"""

from __future__ import annotations

import numpy as np

from vidpipe.media.frames import AudioScan
from vidpipe.qc.technical import _r, _runs
from vidpipe.schema import Defect

VAD_RATE = 16000
VAD_FRAME_S = 0.03
VAD_MODE = 3  # most aggressive at rejecting non-speech
# Calibration (tests/test_content_speech.py): an espeak line of ~2.5 s over faint noise gives
# 1.8..2.3 s of speech; white noise at -18 dBFS, a 440 Hz tone, silence and the preview's
# wind/rain ambience beds give 0.00..0.12 s after the run filter. 0.5 s is a short spoken word.
SPEECH_MIN_S = 0.5
SPEECH_RUN_S = 0.24  # 8 consecutive speech frames
MOD_MIN_DB = 4.0  # std of the 30 ms frame level over 1 s: espeak speech 6..12 dB; noise/tone < 1 dB
VOICED_MIN = 0.45  # normalized autocorrelation peak at a 60–400 Hz lag: vowels 0.6..0.9, noise < 0.3
VOICED_SHARE = 0.3  # share of a run's frames that must be voiced


def to_vad_pcm(audio: AudioScan) -> bytes:
    """Mono 16 kHz int16 bytes from the decoded float track."""
    x = audio.samples.mean(axis=0) if audio.samples.ndim == 2 else audio.samples
    factor = max(1, audio.rate // VAD_RATE)
    n = len(x) // factor * factor
    mono = x[:n].reshape(-1, factor).mean(axis=1)
    return (np.clip(mono, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _voice_features(pcm: bytes, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: the level's 1 s modulation (dB std) and voicing (autocorrelation peak)."""
    size = int(VAD_RATE * VAD_FRAME_S)
    x = np.frombuffer(pcm, "<i2")[: n * size].astype(np.float32).reshape(n, size) / 32768.0
    level = 10 * np.log10((x * x).mean(axis=1) + 1e-10)
    half = int(round(0.5 / VAD_FRAME_S))
    pad = np.pad(level, half, mode="reflect") if n > half else np.pad(level, half, mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * half + 1)[:n]
    modulation = win.std(axis=1)
    spec = np.fft.rfft(x - x.mean(axis=1, keepdims=True), n=1024, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, n=1024, axis=1)
    lo, hi = VAD_RATE // 400, VAD_RATE // 60
    voicing = ac[:, lo:hi].max(axis=1) / np.maximum(ac[:, 0], 1e-12)
    return modulation, voicing


def speech_frames(audio: AudioScan) -> np.ndarray:
    """Per 30 ms frame: speech (VAD hit, in a syllable-modulated, partly voiced run of ≥ SPEECH_RUN_S)."""
    import webrtcvad

    vad = webrtcvad.Vad(VAD_MODE)
    pcm = to_vad_pcm(audio)
    step = int(VAD_RATE * VAD_FRAME_S) * 2  # bytes per frame
    flags = np.array([vad.is_speech(pcm[i: i + step], VAD_RATE) for i in range(0, len(pcm) - step + 1, step)],
                     dtype=bool)
    keep = np.zeros_like(flags)
    if not flags.any():
        return keep
    modulation, voicing = _voice_features(pcm, len(flags))
    candidate = flags & (modulation >= MOD_MIN_DB)
    min_run = int(round(SPEECH_RUN_S / VAD_FRAME_S))
    for a, b in _runs(candidate):
        if b - a + 1 >= min_run and float((voicing[a: b + 1] >= VOICED_MIN).mean()) >= VOICED_SHARE:
            keep[a: b + 1] = True
    return keep


def speech_seconds(audio: AudioScan | None) -> float:
    return _r(float(speech_frames(audio).sum()) * VAD_FRAME_S) if audio is not None and audio.samples.size else 0.0


def speech_defects(audio: AudioScan | None, duration_s: float) -> tuple[list[Defect], float]:
    """speech_missing (error) when a speaking shot's audio holds less than SPEECH_MIN_S of speech."""
    found = speech_seconds(audio)
    if found >= SPEECH_MIN_S:
        return [], found
    where = "no audio track" if audio is None else f"{found:.2f} s of speech"
    return [Defect(code="speech_missing", start_s=0.0, end_s=_r(duration_s), severity="error", value=found,
                   threshold=SPEECH_MIN_S,
                   detail=f"a speaking shot, but voice activity found {where} (< {SPEECH_MIN_S} s)")], found
