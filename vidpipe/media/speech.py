"""Offline speech for previews: libespeak-ng from the `espeakng-loader` wheel, bound with ctypes.

espeak keeps global state, so one lock guards initialisation and every synthesis.
"""

from __future__ import annotations

import ctypes
import re
import threading
from pathlib import Path

import numpy as np

from vidpipe.errors import MediaError
from vidpipe.media.ambience import write_wav

_LOCK = threading.Lock()
_STATE: dict[str, object] = {}


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h): the engine's own word positions, in ms of the audio it produced."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_EVENT_END_OF_LIST, _EVENT_WORD = 0, 1
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
        words: list[tuple[int, int, int]] = []

        def collect(wav, n, events):
            if n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            i = 0
            while events and events[i].type != _EVENT_END_OF_LIST:
                e = events[i]
                if e.type == _EVENT_WORD:
                    words.append((e.text_position, e.length, e.audio_position))
                i += 1
            return 0

        cb = _CALLBACK(collect)
        lib.espeak_SetSynthCallback(cb)
        _STATE.update(lib=lib, rate=rate, chunks=chunks, cb=cb, words=words)
    return _STATE["lib"], int(str(_STATE["rate"])), _STATE["chunks"]  # type: ignore[return-value]


def speak(text: str, *, voice: str = "en", rate_wpm: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Synthesize `text`; return (int16 mono samples, sample rate)."""
    samples, sr, _ = speak_timed(text, voice=voice, rate_wpm=rate_wpm, pitch=pitch)
    return samples, sr


def speak_timed(text: str, *, voice: str = "en", rate_wpm: int = 160,
                pitch: int = 50) -> tuple[np.ndarray, int, list[tuple[str, float, float]]]:
    """Synthesize `text`; (int16 samples, rate, words as (text, start s, end s) from the engine's word events).

    A word ends where the next begins (its trailing pause included); the last ends with the audio.
    """
    with _LOCK:
        lib, sr, chunks = _engine()
        events: list[tuple[int, int, int]] = _STATE["words"]  # type: ignore[assignment]
        chunks.clear()
        events.clear()
        lib.espeak_SetVoiceByName(voice.encode())
        lib.espeak_SetParameter(_ESPEAK_RATE, int(rate_wpm), 0)
        lib.espeak_SetParameter(_ESPEAK_PITCH, int(pitch), 0)
        raw = text.encode("utf-8")
        lib.espeak_Synth(ctypes.c_char_p(raw), ctypes.c_size_t(len(raw) + 1), 0, _POS_CHARACTER, 0, 0, None, None)
        lib.espeak_Synchronize()
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        found = list(events)
        chunks.clear()
        events.clear()
    timed = word_times(text, [(pos, ms / 1000) for pos, _n, ms in found], len(samples) / sr)
    return samples.astype(np.int16), sr, timed


def word_times(text: str, events: list[tuple[int, float]], total: float) -> list[tuple[str, float, float]]:
    """Every whitespace-separated word of `text` (punctuation kept) with its start from the word event at its
    1-based character position; a word espeak folds into its neighbour ("a century") shares that one's span.
    A word ends where the next begins; the last ends with the audio."""
    tokens = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    starts: list[float | None] = []
    for _tok, a, b in tokens:
        hit = [t for pos, t in events if a < pos <= b]
        starts.append(min(hit) if hit else None)
    out: list[tuple[str, float, float]] = []
    k = 0
    while k < len(tokens):
        j = k + 1
        while j < len(tokens) and starts[j] is None:
            j += 1  # tokens k..j-1 share the span from starts[k] to the next timed start
        sk = starts[k]
        t0: float = sk if sk is not None else (out[-1][2] if out else 0.0)
        sj = starts[j] if j < len(tokens) else None
        t1: float = sj if sj is not None else total
        step = (t1 - t0) / (j - k)
        out += [(tokens[i][0], round(t0 + (i - k) * step, 3), round(t0 + (i - k + 1) * step, 3)) for i in range(k, j)]
        k = j
    return out


def synthesize(text: str, out: Path, *, voice: str = "en", rate_wpm: int = 160, pitch: int = 50) -> Path:
    """Write `text` as speech to a mono 16-bit WAV at `out`."""
    return synthesize_timed(text, out, voice=voice, rate_wpm=rate_wpm, pitch=pitch)[0]


def synthesize_timed(text: str, out: Path, *, voice: str = "en", rate_wpm: int = 160,
                     pitch: int = 50) -> tuple[Path, list[tuple[str, float, float]]]:
    """Write `text` as speech to a mono 16-bit WAV at `out`; also return its word timings (speak_timed)."""
    samples, sr, words = speak_timed(text, voice=voice, rate_wpm=rate_wpm, pitch=pitch)
    if samples.size == 0:
        raise MediaError(f"offline speech produced no audio for {text[:40]!r}")
    return write_wav(samples, out, sr), words
