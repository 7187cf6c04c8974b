"""ElevenLabs text-to-speech via the official SDK, with character timestamps and sentence chunking.

`ElevenLabs(api_key=..., base_url=VIDPIPE_ELEVENLABS_BASE_URL)`: the key is passed explicitly
because the SDK captures its env default at import. `convert_with_timestamps` is the
non-streaming call. It is paid per character, so it runs with `max_retries=0`: the SDK would
otherwise POST it again on a 408/409/429/5xx answer, and a 5xx or 408 can come after the speech
was made (and billed); only a 429 (nothing made) is asked again here. Transport errors are never retried by the SDK. A lost answer fails the
line; the next run asks again (ElevenLabs bills that again: its history API could find the first).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from vidpipe.errors import ProviderError, ProviderRateLimited, ProviderRejected
from vidpipe.providers.keys import require_key
from vidpipe.providers.base import HttpFailure, provider_errors

DEFAULT_MODEL = "eleven_multilingual_v2"
OUTPUT_FORMAT = "mp3_44100_128"  # MP3, 44.1 kHz, 128 kb/s
# Characters per request [doc]; Eleven v3 ≈5k is unconfirmed [U].
MODEL_CHAR_LIMITS = {"eleven_flash_v2_5": 40_000, "eleven_turbo_v2_5": 40_000, "eleven_flash_v2": 30_000,
                     "eleven_turbo_v2": 30_000, "eleven_multilingual_v2": 10_000, "eleven_english_v2": 10_000,
                     "eleven_v3": 5_000}
SAFETY = 0.9  # stay a little under the documented limit
NO_STITCHING = frozenset({"eleven_v3"})  # rejects previous_text / next_text with a 400 (providers.md §0)
NO_RETRY = {"max_retries": 0}  # a paid POST is sent once (the SDK's default is 2 retries)
RATE_LIMIT_ATTEMPTS = 3         # a 429 made nothing: asked again (as the SDK did), with backoff
RATE_LIMIT_BASE_S = 1.0
_SENTENCE = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")


@dataclass
class Chunk:
    """One request's worth of speech: its MP3 bytes and per-character timings (chunk-relative)."""

    text: str
    audio: bytes
    characters: list[str] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def chunk_text(text: str, max_chars: int) -> list[str]:
    """Split at sentence boundaries into pieces ≤ max_chars (a giant sentence splits at words)."""
    pieces: list[str] = []
    for sentence in split_sentences(text):
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    chunks: list[str] = []
    for p in pieces:
        if chunks and len(chunks[-1]) + 1 + len(p) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {p}"
        else:
            chunks.append(p)
    return chunks


def char_limit(model_id: str) -> int:
    return int(MODEL_CHAR_LIMITS.get(model_id, 5_000) * SAFETY)


def parse_elevenlabs_error(exc: BaseException) -> HttpFailure | ProviderError | None:
    """elevenlabs ApiError (and its 4xx subclasses) / ParsingError → HttpFailure or a vidpipe error.

    Bodies: `{"detail": {"status", "message"}}` (400/401/402/404/429) or FastAPI's
    `{"detail": [{"loc", "msg", "type"}]}` (422).
    """
    from elevenlabs.core.api_error import ApiError
    from elevenlabs.core.parse_error import ParsingError

    if isinstance(exc, ParsingError):
        return ProviderError(f"elevenlabs sent a reply the SDK cannot read: {exc}", provider="elevenlabs",
                             code="bad_reply")
    if not isinstance(exc, ApiError):
        return None
    status = int(exc.status_code or 0)
    detail = exc.body.get("detail") if isinstance(exc.body, dict) else exc.body
    reason: str | None = None
    if isinstance(detail, dict):
        reason = detail.get("status") or detail.get("code")
        text = str(detail.get("message") or reason or detail)
    elif isinstance(detail, list) and detail and isinstance(detail[0], dict):
        loc = ".".join(str(x) for x in detail[0].get("loc", []) if x != "body")
        text = f"{detail[0].get('msg', 'invalid request')}" + (f" (field {loc})" if loc else "")
        reason = "validation_error"
    else:
        text = str(detail)[:300]
    hint = HINTS.get(reason or "")
    if hint or reason == "quota_exceeded":  # quota_exceeded comes as a 401, but the key is fine
        return ProviderRejected(f"elevenlabs {status} {reason}: {text}" + (f" — {hint}" if hint else ""),
                                provider="elevenlabs", code=reason)
    return HttpFailure(status, text[:500], reason)


HINTS = {
    "voice_not_found": "list your account's voices with `vidpipe voices` and set one",
    "paid_plan_required": "this voice or model needs a paid ElevenLabs plan; pick another voice (`vidpipe voices`)",
}


@contextlib.contextmanager
def map_elevenlabs_errors(**ctx: Any) -> Iterator[None]:
    """elevenlabs / httpx errors → the vidpipe tree."""
    with provider_errors("elevenlabs", parse_elevenlabs_error, **ctx):
        yield


class ElevenLabsTTS:
    """Speech for one voice: `speak(text)` → list of Chunks (one request per chunk)."""

    NAME = "elevenlabs"

    def __init__(self, client: Any = None, *, model_id: str = DEFAULT_MODEL, max_chars: int | None = None):
        self._client = client
        self.model_id = model_id
        self.max_chars = max_chars or char_limit(model_id)

    @property
    def client(self) -> Any:
        if self._client is None:
            from elevenlabs.client import ElevenLabs

            self._client = ElevenLabs(api_key=require_key("elevenlabs"),
                                      base_url=os.environ.get("VIDPIPE_ELEVENLABS_BASE_URL") or None)
        return self._client

    def speak(self, text: str, voice_id: str) -> list[Chunk]:
        """Synthesize `text`; neighbouring chunks are passed as previous/next text for even prosody."""
        pieces = chunk_text(text, self.max_chars)
        if not pieces:
            raise ValueError("nothing to say: the text is blank")
        out: list[Chunk] = []
        for i, piece in enumerate(pieces):
            kwargs: dict[str, Any] = {"text": piece, "model_id": self.model_id, "output_format": OUTPUT_FORMAT}
            if self.model_id not in NO_STITCHING:
                if i > 0:
                    kwargs["previous_text"] = pieces[i - 1][-500:]
                if i + 1 < len(pieces):
                    kwargs["next_text"] = pieces[i + 1][:500]
            resp = self._convert(voice_id, kwargs)
            audio = base64.b64decode(resp.audio_base_64 or "")
            if not audio:
                raise ProviderError("elevenlabs returned no audio", provider="elevenlabs", code="result_empty")
            al = resp.alignment
            out.append(Chunk(piece, audio, list(al.characters) if al else [],
                             list(al.character_start_times_seconds) if al else [],
                             list(al.character_end_times_seconds) if al else []))
        return out


    def _convert(self, voice_id: str, kwargs: dict[str, Any]) -> Any:
        """One paid request; sent again only after a 429 (an explicit refusal: nothing was made)."""
        for attempt in range(RATE_LIMIT_ATTEMPTS):
            try:
                with map_elevenlabs_errors(model=self.model_id):
                    return self.client.text_to_speech.convert_with_timestamps(voice_id, **kwargs,
                                                                              request_options=NO_RETRY)
            except ProviderRateLimited:
                if attempt + 1 == RATE_LIMIT_ATTEMPTS:
                    raise
                time.sleep(RATE_LIMIT_BASE_S * 2 ** attempt)
        raise AssertionError("unreachable")


@dataclass(frozen=True)
class VoiceInfo:
    voice_id: str
    name: str
    category: str


def list_voices(client: Any = None, *, page_size: int = 100) -> list[VoiceInfo]:
    """Every voice the account can use (`GET /v2/voices`, paged), through the SDK."""
    tts = ElevenLabsTTS(client)
    out: list[VoiceInfo] = []
    token: str | None = None
    while True:
        with map_elevenlabs_errors():
            page = tts.client.voices.search(page_size=page_size, next_page_token=token)
        out += [VoiceInfo(v.voice_id, v.name or "", str(getattr(v.category, "value", v.category) or ""))
                for v in page.voices]
        token = page.next_page_token
        if not page.has_more or not token:
            return out
