"""Offline ambience beds for previews: deterministic shaped noise chosen from the sound words."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np

from vidpipe.media.verify import write_verified

SR = 48000

# word → (lowpass smoothing taps, swell period s, level)
_TEXTURES = {
    "wind": (64, 6.0, 0.10), "ocean": (48, 8.0, 0.12), "sea": (48, 8.0, 0.12), "wave": (40, 5.0, 0.12),
    "surf": (40, 5.0, 0.12), "rain": (3, 0.0, 0.06), "storm": (6, 3.0, 0.10), "thunder": (120, 9.0, 0.12),
    "crowd": (8, 2.0, 0.06), "city": (10, 4.0, 0.06), "static": (1, 0.0, 0.03), "gull": (30, 3.0, 0.06),
}


def _tone_layer(desc: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A soft chord for music-like beds ("music", "piano", "strings", "hum")."""
    t = np.arange(n) / SR
    base = 110.0 * (1 + (int(rng.integers(0, 4)) / 12))
    chord = sum(np.sin(2 * np.pi * base * r * t) for r in (1.0, 1.25, 1.5))
    return 0.04 * chord * (0.6 + 0.4 * np.sin(2 * np.pi * t / 7.0))


def ambience_samples(description: str, duration: float, *, seed: int = 0) -> np.ndarray:
    """Stereo float samples in [-1, 1] for `duration` seconds; same input → same output."""
    n = max(1, int(round(duration * SR)))
    digest = hashlib.sha256(f"{description}|{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    desc = description.lower()
    layers = [v for k, v in _TEXTURES.items() if k in desc] or [(24, 7.0, 0.07)]
    out = np.zeros((n, 2))
    t = np.arange(n) / SR
    for taps, period, level in layers:
        for ch in range(2):
            noise = rng.standard_normal(n + taps)
            smooth = np.convolve(noise, np.ones(taps) / np.sqrt(taps), mode="valid")[:n]
            swell = 0.65 + 0.35 * np.sin(2 * np.pi * t / period + ch) if period else 1.0
            out[:, ch] += level * smooth * swell
    if any(w in desc for w in ("music", "piano", "strings", "hum", "tone")):
        out += _tone_layer(desc, n, rng)[:, None]
    fade = min(n // 4, int(0.3 * SR))
    if fade:
        ramp = np.linspace(0, 1, fade)[:, None]
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    peak = np.abs(out).max() or 1.0
    return out * min(1.0, 0.5 / peak)


def write_wav(samples: np.ndarray, out: Path, sr: int = SR) -> Path:
    """A 16-bit WAV of `samples`: floats in [-1, 1] (clipped) or int16 PCM as is; (n,) mono or (n, channels)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pcm = samples.astype("<i2") if samples.dtype == np.int16 else (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(out), "wb") as w:
        w.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return out


def render_ambience(description: str, duration: float, out: Path, *, seed: int = 0) -> Path:
    """Write a stereo 48 kHz WAV ambience bed (wind, ocean, rain, crowd, a soft tone…).

    Through write_verified (unique temporary name, decoded, renamed): an episode's music bed is
    never seen half-written by the cut.
    """
    samples = ambience_samples(description, duration, seed=seed)
    write_verified(out, lambda tmp: write_wav(samples, tmp), "audio")
    return out
