"""Voiceover: text → MP3 (44.1 kHz) + timed cues for subtitles, on ElevenLabs or the offline preview.

ElevenLabs returns per-character times; we keep them in `<out>.alignment.json`, derive word and
sentence cues, and write `<out>.srt`. The preview speaks with espeak (vidpipe.media.speech) and
times words from espeak-ng's own word events (vidpipe.media.speech.speak_timed).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vidpipe.edit_schema import SubtitleCue
from vidpipe.environment import voice_backend
from vidpipe.errors import ProviderNotConfigured
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.speech import synthesize_timed
from vidpipe.paths import Paths
from vidpipe.pricing import estimate_voice
from vidpipe.profile import load_profile
from vidpipe.providers import require_key
from vidpipe.providers.elevenlabs import DEFAULT_MODEL, ElevenLabsTTS
from vidpipe.providers.refs import media_seconds

TTS_BACKENDS = ("preview", "elevenlabs")
# No default voice: premade/legacy voices answer 402 on free tiers and 404 once retired (providers.md §0).
VOICE_HELP = ("no ElevenLabs voice is set: pass --voice VOICE_ID, or set voice.voice_id in the episode's "
              "episode.yaml, or voice.elevenlabs_voice_id in {profile}; `vidpipe voices` lists your account's voices")
CUE_MAX_CHARS = 84  # two subtitle lines of ~42 characters
_END = re.compile(r"[.!?…][\"')\]]*$")


class Word(BaseModel):
    text: str
    start: float
    end: float


class SpeechResult(BaseModel):
    """A synthesized voiceover line: the MP3, its length, cues (seconds from the start), who spoke."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    path: Path
    duration_s: float
    cues: list[SubtitleCue]
    backend: str
    voice_id: str | None
    words: list[Word] = Field(default_factory=list)
    alignment_path: Path | None = None
    srt_path: Path | None = None
    model: str | None = None  # the ElevenLabs model that spoke (None offline)
    characters: int = 0  # characters the provider processed (its alignment), what it bills
    est_cost_usd: float = 0.0  # the text's characters at the model's rate, before the call
    cost_usd: float = 0.0  # the processed characters at the model's rate (vidpipe.pricing.estimate_voice)


def select_tts_backend(requested: str | None) -> str:
    """Explicit wins; else ElevenLabs when ELEVENLABS_API_KEY is set; else the offline preview."""
    return voice_backend(requested)


def is_placeholder(voice_id: str | None) -> bool:
    """True for "not set": empty, or a template value such as the example profile's YOUR_ELEVENLABS_VOICE_ID."""
    v = (voice_id or "").strip()
    return not v or v.upper().startswith(("YOUR_", "<", "TODO", "CHANGE")) or v.upper() in {"VOICE_ID", "NONE", "NULL"}


def profile_voice() -> str | None:
    """The profile's ElevenLabs voice id, if a profile exists and names a real one."""
    path = Paths.from_env().profile
    if not path.exists():
        return None
    voice = load_profile(path).voice.elevenlabs_voice_id
    return None if is_placeholder(voice) else voice


def elevenlabs_voice(voice_id: str | None) -> str:
    """The voice to speak with: the one given (--voice or the episode's voice.voice_id), else the profile's.

    Raises ProviderNotConfigured (one line, saying where to set it) when none is set.
    """
    if not is_placeholder(voice_id):
        return str(voice_id).strip()
    voice = profile_voice()
    if voice:
        return voice

    raise ProviderNotConfigured(VOICE_HELP.format(profile=Paths.from_env().profile), provider="elevenlabs",
                                code="voice_not_set")


def synthesize_speech(text: str, out: Path, *, voice_id: str | None = None, backend: str | None = None,
                      model_id: str | None = None, max_chars: int | None = None) -> SpeechResult:
    """Speak `text` into `out` (MP3 44.1 kHz), plus `<out>.alignment.json` and `<out>.srt`."""
    if not text.strip():
        raise ValueError("nothing to say: the text is blank")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    name = select_tts_backend(backend)
    model = (model_id or DEFAULT_MODEL) if name == "elevenlabs" else None
    chars: dict[str, Any] | None
    if name == "elevenlabs":
        require_key("elevenlabs")  # a missing key is named before a missing voice
        voice = elevenlabs_voice(voice_id)
        duration, words, chars = _elevenlabs(text, out, voice, model_id, max_chars)
    else:
        voice = voice_id or "en"
        duration, words, chars = _preview(text, out, voice)
    billed = len([c for c in (chars or {}).get("characters", []) if c])
    cues = sentence_cues(words)
    align = out.with_suffix(".alignment.json")
    align.write_text(json.dumps({
        "text": text, "backend": name, "voice_id": voice, "duration_s": duration, "approximate": chars is None,
        "words": [w.model_dump() for w in words], "cues": [c.model_dump() for c in cues],
        "alignment": chars,
    }, indent=1), encoding="utf-8")
    srt = out.with_suffix(".srt")
    srt.write_text(to_srt(cues), encoding="utf-8")
    return SpeechResult(path=out, duration_s=duration, cues=cues, backend=name, voice_id=voice, words=words,
                        alignment_path=align, srt_path=srt, model=model, characters=billed,
                        est_cost_usd=estimate_voice(model or "", name, len(text)),
                        cost_usd=estimate_voice(model or "", name, billed))


def _elevenlabs(text: str, out: Path, voice: str, model_id: str | None,
                max_chars: int | None) -> tuple[float, list[Word], dict[str, Any]]:
    chunks = ElevenLabsTTS(model_id=model_id or DEFAULT_MODEL, max_chars=max_chars).speak(text, voice)
    chars: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    offset = 0.0
    with tempfile.TemporaryDirectory(prefix="vidpipe-tts-") as tmp:
        parts = []
        for i, ch in enumerate(chunks):
            part = Path(tmp) / f"part{i:03d}.mp3"
            part.write_bytes(ch.audio)
            parts.append(part)
            if i:  # a space between chunks keeps words apart
                chars.append(" ")
                starts.append(offset)
                ends.append(offset)
            chars += ch.characters
            starts += [round(s + offset, 3) for s in ch.starts]
            ends += [round(e + offset, 3) for e in ch.ends]
            offset += media_seconds(part) or (ch.ends[-1] if ch.ends else 0.0)
        if len(parts) == 1:
            out.write_bytes(chunks[0].audio)
        else:
            _concat_mp3(parts, out)
    alignment = {"characters": chars, "character_start_times_seconds": starts, "character_end_times_seconds": ends}
    return media_seconds(out) or offset, words_from_chars(chars, starts, ends), alignment


def _preview(text: str, out: Path, voice: str) -> tuple[float, list[Word], dict[str, Any] | None]:
    """espeak's own word events give the words' times (None → spread by length, marked approximate)."""
    with tempfile.TemporaryDirectory(prefix="vidpipe-tts-") as tmp:
        wav, timed = synthesize_timed(text, Path(tmp) / "speech.wav", voice=voice, rate_wpm=160)
        run_ffmpeg(["-y", "-i", str(wav), "-ar", "44100", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "128k", str(out)],
                   what="preview speech to MP3")
    duration = media_seconds(out) or 0.0
    if not timed:
        return duration, approximate_words(text, duration), None
    words = [Word(text=w, start=s, end=min(e, duration) if duration else e) for w, s, e in timed]
    return duration, words, {"engine": "espeak-ng", "word_events": [[w.text, w.start, w.end] for w in words]}


def _concat_mp3(parts: list[Path], out: Path) -> None:
    args: list[str] = ["-y"]
    for p in parts:
        args += ["-i", str(p)]
    graph = "".join(f"[{i}:a]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1[a]"
    run_ffmpeg([*args, "-filter_complex", graph, "-map", "[a]", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k",
                str(out)], what="joining speech chunks")


def words_from_chars(chars: list[str], starts: list[float], ends: list[float]) -> list[Word]:
    """Group per-character timings into words (whitespace separates)."""
    words: list[Word] = []
    buf, w0, w1 = "", 0.0, 0.0
    for c, s, e in zip(chars, starts, ends):
        if c.isspace():
            if buf:
                words.append(Word(text=buf, start=w0, end=w1))
            buf = ""
            continue
        if not buf:
            w0 = s
        buf += c
        w1 = e
    if buf:
        words.append(Word(text=buf, start=w0, end=w1))
    return words


def approximate_words(text: str, duration: float) -> list[Word]:
    """Spread words over `duration` by character count (the preview has no real timings)."""
    tokens = text.split()
    total = sum(len(t) + 1 for t in tokens) or 1
    t, words = 0.0, []
    for tok in tokens:
        span = duration * (len(tok) + 1) / total
        words.append(Word(text=tok, start=round(t, 3), end=round(t + span, 3)))
        t += span
    return words


def sentence_cues(words: list[Word]) -> list[SubtitleCue]:
    """Subtitle cues: one per sentence, split where a sentence outgrows two lines."""
    cues: list[SubtitleCue] = []
    cur: list[Word] = []

    def flush() -> None:
        if cur:
            cues.append(SubtitleCue(start=cur[0].start, end=cur[-1].end, text=" ".join(w.text for w in cur)))
            cur.clear()

    for w in words:
        if cur and len(" ".join(x.text for x in cur)) + 1 + len(w.text) > CUE_MAX_CHARS:
            flush()
        cur.append(w)
        if _END.search(w.text):
            flush()
    flush()
    return cues


def to_srt(cues: list[SubtitleCue]) -> str:
    def ts(x: float) -> str:
        ms = int(round(x * 1000))
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return "".join(f"{i}\n{ts(c.start)} --> {ts(c.end)}\n{c.text}\n\n" for i, c in enumerate(cues, 1))
