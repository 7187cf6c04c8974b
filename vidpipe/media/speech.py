"""Offline speech for previews: libespeak-ng from the `espeakng-loader` wheel, bound with ctypes.

espeak keeps global state, so one lock guards initialisation and every synthesis.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

from vidpipe.errors import MediaError
from vidpipe.media.ambience import write_wav

_LOCK = threading.Lock()
_STATE: dict[str, object] = {}
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_RATE, _ESPEAK_PITCH = 1, 3


def _engine() -> tuple[ctypes.CDLL, int, list[np.ndarray]]:
    if "lib" not in _STATE:
        try:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_parent = Path(espeakng_loader.get_data_path()).parent
        except (ImportError, OSError) as exc:
            raise MediaError(f"offline speech unavailable: cannot load libespeak-ng ({exc}); pip install espeakng-loader") from exc
        lib.espeak_Initialize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_parent).encode(), 0)
        if rate <= 0:
            raise MediaError(f"offline speech unavailable: espeak_Initialize failed ({rate})")
        chunks: list[np.ndarray] = []

        def collect(wav, n, _events):  # type: ignore[no-untyped-def]
            if n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        cb = _CALLBACK(collect)
        lib.espeak_SetSynthCallback(cb)
        _STATE.update(lib=lib, rate=rate, chunks=chunks, cb=cb)
    return _STATE["lib"], int(_STATE["rate"]), _STATE["chunks"]  # type: ignore[return-value]


def speak(text: str, *, voice: str = "en", rate_wpm: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Synthesize `text`; return (int16 mono samples, sample rate)."""
    with _LOCK:
        lib, sr, chunks = _engine()
        chunks.clear()
        lib.espeak_SetVoiceByName(voice.encode())
        lib.espeak_SetParameter(_ESPEAK_RATE, int(rate_wpm), 0)
        lib.espeak_SetParameter(_ESPEAK_PITCH, int(pitch), 0)
        raw = text.encode("utf-8")
        lib.espeak_Synth(ctypes.c_char_p(raw), ctypes.c_size_t(len(raw) + 1), 0, _POS_CHARACTER, 0, 0, None, None)
        lib.espeak_Synchronize()
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        chunks.clear()
    return samples.astype(np.int16), sr


def synthesize(text: str, out: Path, *, voice: str = "en", rate_wpm: int = 160, pitch: int = 50) -> Path:
    """Write `text` as speech to a mono 16-bit WAV at `out`."""
    samples, sr = speak(text, voice=voice, rate_wpm=rate_wpm, pitch=pitch)
    if samples.size == 0:
        raise MediaError(f"offline speech produced no audio for {text[:40]!r}")
    return write_wav(samples, out, sr)
