"""Loudness in numpy: ITU-R BS.1770 integrated loudness (LUFS) and an oversampled true peak (dBTP).

Why not ffmpeg's ebur128 filter: it would be a second decode of the audio in a subprocess.
We already hold the decoded samples, so we apply the K-weighting in the frequency domain: one
rFFT per channel of the (zero-padded) signal, multiplied by the exact complex response of the
two BS.1770 biquads at 48 kHz, then inverted. With enough padding this equals running the IIR
filters (their impulse responses decay within a few thousand samples). The same spectrum,
The true peak follows BS.1770 annex 2 in spirit: 4x polyphase oversampling (a windowed-sinc
interpolator of our own, 12 taps per phase like the annex filter) and the largest absolute value.
Channel weights are all 1.0 (mono/stereo clips; surround weighting is not applied).
"""

from __future__ import annotations

import numpy as np

RATE = 48000
# BS.1770-4 K-weighting at 48 kHz: a high-shelf (head effects) then the RLB high-pass.
_SHELF_B = (1.53512485958697, -2.69169618940638, 1.19839281085285)
_SHELF_A = (1.0, -1.69065929318241, 0.73248077421585)
_HP_B = (1.0, -2.0, 1.0)
_HP_A = (1.0, -1.99004745483398, 0.99007225036621)
_PAD = 8192  # samples of zeros after the signal so the circular FFT filter does not wrap
SILENCE_FLOOR = -120.0


def _biquad_response(b: tuple[float, ...], a: tuple[float, ...], n_fft: int) -> np.ndarray:
    z1 = np.exp(-1j * 2 * np.pi * np.arange(n_fft // 2 + 1) / n_fft)  # z^-1 on the unit circle
    num = b[0] + b[1] * z1 + b[2] * z1 * z1
    den = a[0] + a[1] * z1 + a[2] * z1 * z1
    return num / den


def _db(power: float | np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.maximum(power, 1e-12))


def loudness(samples: np.ndarray, rate: int = RATE) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of float samples shaped (channels, n) at 48 kHz.

    Silence (or nothing above the −70 LUFS absolute gate) gives −inf LUFS.
    """
    if rate != RATE:
        raise ValueError("loudness expects 48 kHz samples (scan_audio resamples to it)")
    x = np.atleast_2d(np.asarray(samples, dtype=np.float64))
    n = x.shape[1]
    if n == 0:
        return float("-inf"), float("-inf")
    n_fft = 1 << int(np.ceil(np.log2(n + _PAD)))
    spec = np.fft.rfft(x, n=n_fft, axis=1)
    h = _biquad_response(_SHELF_B, _SHELF_A, n_fft) * _biquad_response(_HP_B, _HP_A, n_fft)
    weighted = np.fft.irfft(spec * h, n=n_fft, axis=1)[:, :n]
    lufs = _gated_loudness(weighted, rate)
    return lufs, true_peak(x)


def _gated_loudness(weighted: np.ndarray, rate: int) -> float:
    """BS.1770 gating: 400 ms blocks every 100 ms, absolute gate −70 LUFS, relative gate −10 LU."""
    n = weighted.shape[1]
    block, hop = int(0.4 * rate), int(0.1 * rate)
    sq = weighted * weighted
    csum = np.concatenate([np.zeros((sq.shape[0], 1)), np.cumsum(sq, axis=1)], axis=1)
    if n < block:
        z = (csum[:, -1] / max(n, 1))[None, :]
    else:
        starts = np.arange(0, n - block + 1, hop)
        z = ((csum[:, starts + block] - csum[:, starts]) / block).T  # (blocks, channels)
    power = z.sum(axis=1)
    level = -0.691 + _db(power)
    kept = power[level > -70.0]
    if kept.size == 0:
        return float("-inf")
    rel_gate = -0.691 + float(_db(kept.mean())) - 10.0
    kept = power[(level > -70.0) & (level > rel_gate)]
    return float(-0.691 + _db(kept.mean())) if kept.size else float("-inf")


def _interp_taps(factor: int, half: int = 6) -> np.ndarray:
    """Windowed-sinc taps for the factor-1 fractional phases (phase 0 is the sample itself)."""
    m = np.arange(-half + 1, half + 1, dtype=np.float64)
    taps = []
    for k in range(1, factor):
        pos = m - k / factor  # distance from the interpolated instant to each input sample
        window = 0.5 + 0.5 * np.cos(np.pi * pos / (half + 1))
        taps.append(np.sinc(pos) * window)
    return np.asarray(taps)


def true_peak(samples: np.ndarray, factor: int = 4) -> float:
    """Peak of a 4x oversampled (polyphase windowed-sinc) version of the signal, in dBTP."""
    x = np.atleast_2d(np.asarray(samples, dtype=np.float64))
    if x.size == 0:
        return float("-inf")
    peak = float(np.abs(x).max())
    for phase in _interp_taps(factor):
        for ch in x:
            # y[n] = sum_m x[n+m] * h[m]: correlate, aligned so every full-support output counts.
            peak = max(peak, float(np.abs(np.convolve(ch, phase[::-1], mode="valid")).max(initial=0.0)))
    return float(20 * np.log10(peak)) if peak > 0 else float("-inf")


def window_levels(samples: np.ndarray, rate: int, window_s: float = 0.1) -> np.ndarray:
    """RMS level (dBFS, mean power over channels) of consecutive `window_s` windows."""
    x = np.atleast_2d(np.asarray(samples, dtype=np.float64))
    win = max(1, int(window_s * rate))
    count = x.shape[1] // win
    if count == 0:
        return _db(np.array([np.mean(x * x)])) if x.size else np.zeros(0)
    trimmed = x[:, : count * win].reshape(x.shape[0], count, win)
    power = (trimmed * trimmed).mean(axis=(0, 2))
    rest = x[:, count * win :]
    if rest.shape[1] >= win // 2:  # keep a tail window if it is at least half full
        power = np.append(power, float((rest * rest).mean()))
    return np.maximum(_db(power), SILENCE_FLOOR)
