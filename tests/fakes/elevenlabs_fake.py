"""Fake ElevenLabs API: POST /v1/text-to-speech/{voice_id}/with-timestamps (needs xi-api-key).

Answers with a real MP3 (44.1 kHz sine, 50 ms per character) and an even per-character
alignment, like the real `AudioWithTimestampsResponse`. Texts over `char_limit` get a 400.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

from tests.fakes.server import FakeServer, Reply
from vidpipe.media.ffmpeg import run_ffmpeg

SECONDS_PER_CHAR = 0.05


class ElevenLabsFake(FakeServer):
    def __init__(self, char_limit: int = 10_000):
        super().__init__()
        self.char_limit = char_limit
        self.calls: list[dict[str, Any]] = []
        self.keys_seen: set[str] = set()
        self.fail_next: list[Reply] = []

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Reply | None:
        key = headers.get("xi-api-key")
        if not key:
            return Reply(401, {"detail": {"status": "invalid_api_key", "message": "missing key"}})
        self.keys_seen.add(key)
        parts = path.strip("/").split("/")
        if method != "POST" or parts[:2] != ["v1", "text-to-speech"] or parts[-1] != "with-timestamps":
            return Reply(404, {"detail": "not found"})
        if self.fail_next:
            return self.fail_next.pop(0)
        text = (body or {}).get("text", "")
        self.calls.append({"voice_id": parts[2], "query": query, "body": body})
        if len(text) > self.char_limit:
            return Reply(400, {"detail": {"status": "text_too_long", "message": f"{len(text)} > {self.char_limit}"}})
        secs = max(0.3, SECONDS_PER_CHAR * len(text))
        with tempfile.TemporaryDirectory() as tmp:
            mp3 = Path(tmp) / "a.mp3"
            run_ffmpeg(["-y", "-f", "lavfi", "-i", f"sine=frequency=300:duration={secs}:sample_rate=44100",
                        "-c:a", "libmp3lame", "-b:a", "128k", str(mp3)], what="fake tts")
            audio = mp3.read_bytes()
        n = len(text)
        starts = [round(i * secs / n, 3) for i in range(n)]
        ends = [round((i + 1) * secs / n, 3) for i in range(n)]
        al = {"characters": list(text), "character_start_times_seconds": starts, "character_end_times_seconds": ends}
        return Reply(200, {"audio_base64": base64.b64encode(audio).decode(), "alignment": al,
                           "normalized_alignment": al})
