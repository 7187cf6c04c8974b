"""Fake ElevenLabs API for the official SDK, checking requests as ElevenLabs does (providers.md §0, §4).

    POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=…   audio_base64 + alignment
    GET  /v2/voices?page_size=…&next_page_token=…                         the account's voices, paged
    GET  /v1/voices/{voice_id}                                            one voice (404 voice_not_found), the
                                                                          lookup in contracts/elevenlabs.json

Refusals have ElevenLabs' shapes: `{"detail": {"status", "message"}}` for 400 (bad model, text too
long, stitching on eleven_v3), 401 (invalid_api_key), 402 (paid_plan_required), 404
(voice_not_found); FastAPI's `{"detail": [{"loc", "msg", "type"}]}` for 422 (unknown fields,
types, enums, limits). The audio is real and at the sample rate `output_format` names.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

from tests.fakes.contract import F, check, enum, err
from tests.fakes.server import FakeServer, Reply
from vidpipe.media.ffmpeg import run_ffmpeg

SECONDS_PER_CHAR = 0.05
MP3 = {"mp3_22050_32": (22050, 32), "mp3_24000_48": (24000, 48), "mp3_44100_32": (44100, 32),
       "mp3_44100_64": (44100, 64), "mp3_44100_96": (44100, 96), "mp3_44100_128": (44100, 128),
       "mp3_44100_192": (44100, 192)}
PCM = {f"pcm_{r}": r for r in (8000, 16000, 22050, 24000, 44100, 48000)}
OTHER_FORMATS = ("ulaw_8000", "alaw_8000", "opus_48000_32", "opus_48000_64", "opus_48000_96", "opus_48000_128",
                 "opus_48000_192")
# Characters per request: Flash/Turbo v2.5 40k, Flash/Turbo v2 30k, Multilingual/English v2 10k [doc]; v3 ≈5k [U].
MODELS = {"eleven_multilingual_v2": 10_000, "eleven_english_v2": 10_000, "eleven_flash_v2_5": 40_000,
          "eleven_turbo_v2_5": 40_000, "eleven_flash_v2": 30_000, "eleven_turbo_v2": 30_000, "eleven_v3": 5_000}
NO_STITCHING = ("eleven_v3",)
LEGACY_VOICE = "21m00Tcm4TlvDq8ikWAM"  # "Rachel": 402 on free tiers (providers.md §0)

TTS_BODY = {
    "text": F("str", required=True),
    "model_id": F("str"),
    "language_code": F("str"),
    "voice_settings": F("obj", fields={"stability": F("num", lo=0, hi=1), "similarity_boost": F("num", lo=0, hi=1),
                                       "style": F("num", lo=0, hi=1), "use_speaker_boost": F("bool"),
                                       "speed": F("num", lo=0.7, hi=1.2)}),
    "pronunciation_dictionary_locators": F("list", hi=3),
    "seed": F("int", lo=0, hi=4294967295),
    "previous_text": F("str"),
    "next_text": F("str"),
    "previous_request_ids": F("list", hi=3),
    "next_request_ids": F("list", hi=3),
    "apply_text_normalization": enum("auto", "on", "off"),
    "apply_language_text_normalization": F("bool"),
}
MUSIC_BPM = 120
MUSIC_BODY = {
    "prompt": F("str"),
    "composition_plan": F("obj"),
    "music_length_ms": F("int", lo=3000, hi=600000),
    "model_id": enum("music_v1", "music_v2", "music_v2_5"),
    "seed": F("int"),
    "force_instrumental": F("bool"),
    "finetune_id": F("str"),
    "respect_sections_durations": F("bool"),
    "store_for_inpainting": F("bool"),
    "sign_with_c2pa": F("bool"),
}
TTS_QUERY = {"output_format": enum(*MP3, *PCM, *OTHER_FORMATS), "enable_logging": enum("true", "false"),
             "optimize_streaming_latency": enum("0", "1", "2", "3", "4")}


def detail(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"detail": {"status": code, "message": message}})


class ElevenLabsFake(FakeServer):
    def __init__(self, *, key: str | None = None, char_limit: int | None = None):
        super().__init__()
        self.key = key
        self.char_limit = char_limit  # overrides the model's limit (chunking tests)
        self.voices: dict[str, tuple[str, str]] = {
            "voice123": ("Keeper", "cloned"), "v": ("Narrator", "generated"),
            LEGACY_VOICE: ("Rachel", "premade")}
        self.paid_only = {LEGACY_VOICE}
        self.calls: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.keys_seen: set[str] = set()
        self.fail_next: list[Reply] = []
        self.lookups: list[str] = []
        self.music_calls: list[dict[str, Any]] = []

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Reply | None:
        key = headers.get("xi-api-key")
        if not key or (self.key and key != self.key):
            return detail(401, "invalid_api_key", "Invalid API key")
        self.keys_seen.add(key)
        if self.fail_next:
            return self.fail_next.pop(0)
        parts = path.strip("/").split("/")
        if method == "GET" and parts == ["v2", "voices"]:
            return self._voices(query)
        if method == "GET" and parts[:2] == ["v1", "voices"] and len(parts) == 3:
            self.lookups.append(parts[2])
            if parts[2] not in self.voices:
                return detail(404, "voice_not_found", f"A voice with the voice_id {parts[2]} was not found.")
            name, category = self.voices[parts[2]]
            return Reply(200, {"voice_id": parts[2], "name": name, "category": category})
        if method == "POST" and parts[:2] == ["v1", "text-to-speech"] and len(parts) == 4 \
                and parts[3] == "with-timestamps":
            reply = self._tts(parts[2], query, body)
            if reply.status != 200:
                self.refused.append({"voice_id": parts[2], "query": query, "body": body, "reply": reply.body})
            return reply
        if method == "POST" and parts == ["v1", "music"]:
            return self._music(query, body)
        return Reply(404, {"detail": "Not Found"})

    def _music(self, query: dict[str, list[str]], body: Any) -> Reply:
        """POST /v1/music: prompt XOR composition_plan; music_length_ms 3000–600000, only with a prompt [SDK doc].
        Answers a real MP3 of the asked length: clicks at MUSIC_BPM over a soft tone, louder in its middle third."""
        q = {k: v[0] for k, v in query.items()}
        errors = check(q, {"output_format": enum(*MP3, *PCM, *OTHER_FORMATS)}, ["query"]) + \
            check(body, MUSIC_BODY, ["body"])
        if errors:
            return Reply(422, {"detail": errors})
        if ("prompt" in body) == ("composition_plan" in body):
            return detail(400, "invalid_request", "Give exactly one of prompt and composition_plan")
        if "music_length_ms" in body and "prompt" not in body:
            return detail(400, "invalid_request", "music_length_ms is used only with a prompt")
        fmt = q.get("output_format", "mp3_44100_128")
        if fmt not in MP3:
            return detail(400, "unsupported_format_in_fake", f"this fake makes MP3 music only, not {fmt}")
        self.music_calls.append({"query": query, "body": body})
        secs = body.get("music_length_ms", 30_000) / 1000
        return Reply(200, raw=_music(fmt, secs), content_type="audio/mpeg")

    def _voices(self, query: dict[str, list[str]]) -> Reply:
        try:
            size = int(query.get("page_size", ["10"])[0])
        except ValueError:
            size = -1
        if not 1 <= size <= 100:
            return Reply(422, {"detail": [err(["query", "page_size"], "Input should be between 1 and 100",
                                              "less_than_equal", size)]})
        start = int(query.get("next_page_token", ["0"])[0] or 0)
        ids = list(self.voices)
        page = ids[start:start + size]
        more = start + size < len(ids)
        return Reply(200, {"voices": [{"voice_id": v, "name": self.voices[v][0], "category": self.voices[v][1]}
                                      for v in page],
                           "has_more": more, "total_count": len(ids),
                           "next_page_token": str(start + size) if more else None})

    def _tts(self, voice_id: str, query: dict[str, list[str]], body: Any) -> Reply:
        q = {k: v[0] for k, v in query.items()}
        errors = check(q, TTS_QUERY, ["query"]) + check(body, TTS_BODY, ["body"])
        if errors:
            return Reply(422, {"detail": errors})
        model = body.get("model_id", "eleven_multilingual_v2")
        if model not in MODELS:
            return detail(400, "invalid_model_id", f"A model with model ID {model} does not exist")
        if voice_id not in self.voices:
            return detail(404, "voice_not_found", f"A voice with the voice_id {voice_id} was not found.")
        if voice_id in self.paid_only:
            return detail(402, "paid_plan_required", "Free users cannot use library voices via the API. "
                                                     "Please upgrade your subscription to use this voice.")
        text = body["text"]
        if not text.strip():
            return detail(400, "empty_text", "Text must not be empty")
        if model in NO_STITCHING and ("previous_text" in body or "next_text" in body):
            return detail(400, "invalid_request", f"previous_text and next_text are not supported for {model}")
        limit = self.char_limit or MODELS[model]
        if len(text) > limit:
            return detail(400, "max_character_limit_exceeded",
                          f"Text is {len(text)} characters; the limit for {model} is {limit}")
        fmt = q.get("output_format", "mp3_44100_128")
        if fmt not in MP3 and fmt not in PCM:
            return detail(400, "unsupported_format_in_fake", f"this fake makes MP3 and PCM only, not {fmt}")
        self.calls.append({"voice_id": voice_id, "query": query, "body": body})
        secs = max(0.3, SECONDS_PER_CHAR * len(text))
        audio = _audio(fmt, secs)
        n = len(text)
        starts = [round(i * secs / n, 3) for i in range(n)]
        ends = [round((i + 1) * secs / n, 3) for i in range(n)]
        al = {"characters": list(text), "character_start_times_seconds": starts, "character_end_times_seconds": ends}
        return Reply(200, {"audio_base64": base64.b64encode(audio).decode(), "alignment": al,
                           "normalized_alignment": al})


def _audio(fmt: str, secs: float) -> bytes:
    """A sine tone in `fmt`: MP3 at its rate and bitrate, or raw 16-bit little-endian PCM."""
    rate, kbps = MP3[fmt] if fmt in MP3 else (PCM[fmt], 0)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / ("a.mp3" if kbps else "a.pcm")
        codec = ["-c:a", "libmp3lame", "-b:a", f"{kbps}k"] if kbps else ["-f", "s16le", "-c:a", "pcm_s16le"]
        run_ffmpeg(["-y", "-f", "lavfi", "-i", f"sine=frequency=300:duration={secs}:sample_rate={rate}",
                    "-ac", "1", *codec, str(out)], what="fake tts")
        return out.read_bytes()


def _music(fmt: str, secs: float) -> bytes:
    """A click every beat at MUSIC_BPM over a 220 Hz tone, twice as loud in the middle third, as MP3."""
    rate, kbps = MP3[fmt]
    beat = 60 / MUSIC_BPM
    gain = f"if(between(t,{secs / 3:.3f},{2 * secs / 3:.3f}),2,1)"
    click = f"0.4*exp(-mod(t,{beat})*200)*sin(2*PI*1000*t)"
    expr = f"{gain}*({click}+0.05*sin(2*PI*220*t))/2"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m.mp3"
        run_ffmpeg(["-y", "-f", "lavfi", "-i", f"aevalsrc='{expr}':s={rate}:d={secs}", "-ac", "2",
                    "-c:a", "libmp3lame", "-b:a", f"{kbps}k", str(out)], what="fake music")
        return out.read_bytes()
