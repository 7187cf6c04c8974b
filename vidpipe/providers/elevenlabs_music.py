"""A score from a prompt: ElevenLabs' music API (`client.music.compose`, POST /v1/music) via the official SDK.

Paid per minute of music, so like speech it runs with `max_retries=0` (the SDK would POST it again on a
408/429/5xx that may come after the music was made). The track is asked a little longer than the cut
(`MARGIN_S`) so the fitter can still choose a window that ends on a phrase. Instrumental only: a bed sits
under narration and dialogue.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from vidpipe.media.verify import Verified, write_verified
from vidpipe.providers.base import provider_errors
from vidpipe.providers.elevenlabs import parse_elevenlabs_error
from vidpipe.providers.keys import require_key

MUSIC_MODEL = "music_v1"
OUTPUT_FORMAT = "mp3_44100_128"
MIN_MS, MAX_MS = 3_000, 600_000  # music_length_ms bounds [SDK docstring]
MARGIN_S = 8.0
# [U] ElevenLabs bills music minutes against the plan; third-party resellers list it at $0.75 per started minute.
# The estimate uses that (the higher figure) until a direct price is confirmed.
USD_PER_STARTED_MINUTE = 0.75


def music_length_ms(cut_s: float) -> int:
    """How long a track to ask for a cut of `cut_s` seconds."""
    return int(min(MAX_MS, max(MIN_MS, math.ceil((cut_s + MARGIN_S) * 1000))))


def estimate_music(length_ms: int, backend: str) -> float:
    """Price of one track of `length_ms` (per started minute); nothing offline."""
    if backend != "elevenlabs":
        return 0.0
    return round(USD_PER_STARTED_MINUTE * math.ceil(length_ms / 60_000), 4)


def compose(prompt: str, length_ms: int, out: Path, *, model_id: str = MUSIC_MODEL, client: Any = None) -> Verified:
    """Ask for one instrumental track and write it to `out` (verified, then renamed). Sent once."""
    if client is None:
        from elevenlabs.client import ElevenLabs

        client = ElevenLabs(api_key=require_key("elevenlabs"),
                            base_url=os.environ.get("VIDPIPE_ELEVENLABS_BASE_URL") or None)

    def produce(tmp: Path) -> None:
        with provider_errors("elevenlabs", parse_elevenlabs_error):
            chunks = client.music.compose(prompt=prompt, music_length_ms=length_ms, model_id=model_id,
                                          force_instrumental=True, output_format=OUTPUT_FORMAT,
                                          request_options={"max_retries": 0})
            with tmp.open("wb") as f:
                for chunk in chunks:
                    f.write(chunk)

    return write_verified(out, produce, "audio")
