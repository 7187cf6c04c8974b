"""The LLM writer: Gemini writes the draft through structured output against `DraftSpec`.

The model is told the skill's rules (5-part order, one visible verb, named camera moves, 2–3
traits per cast member, time-coded blocks for multi-beat shots) and the project's LESSONS.md, and
must answer JSON matching the schema; the answer is then checked by the same episode loader and
validator as a hand-written file. The model id is configurable (`VIDPIPE_WRITER_MODEL`) because
Gemini ids retire (providers.md §0).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, ValidationError

from vidpipe.errors import ProviderError

WRITER_MODEL = "gemini-3.5-flash"
MODEL_ENV = "VIDPIPE_WRITER_MODEL"


class DraftCast(BaseModel):
    id: str
    name: str
    kind: Literal["person", "object", "place"]
    description: str


class DraftLine(BaseModel):
    speaker: str
    line: str


class DraftBlock(BaseModel):
    start: int
    end: int
    action: str
    camera: str


class DraftShot(BaseModel):
    id: str
    title: str
    category: str
    cast: list[str]
    subject: str
    action: str
    camera: str
    style: str
    constraints: list[str]
    audio: str
    duration: int
    narration: str | None = None
    dialogue: list[DraftLine] = []
    blocks: list[DraftBlock] = []


class DraftSpec(BaseModel):
    """What the model must return: the writable part of an episode."""

    title: str
    cast: list[DraftCast]
    shots: list[DraftShot]


RULES = """You write short video episodes for an AI video pipeline. Return JSON matching the schema.
Rules: every shot in the 5-part order (subject, action, camera, style, constraints); the subject repeats the
cast member's 2-3 concrete traits; ONE visible verb per action; the camera names its move (static tripod shot,
slow push-in, pull-out, pan left/right, tilt up/down, crane up/down, orbit, handheld, zoom) and a shot size;
durations are whole seconds from 4 to 15, avoiding 7, 9, 11, 13, 14; a shot with several beats uses time-coded
blocks (a 15 s clip is usually 3 blocks, never 7); dialogue lines are 4-10 words; constraints pre-empt the
failures in the lessons below (e.g. "no subtitles" on dialogue shots). Cast ids and shot ids are short
lowercase words (shots s001, s002...). Lessons learned so far:
"""


def llm_draft(logline: str, *, shots: int, aspect: str, minutes: float | None, lessons_text: str) -> dict[str, Any]:
    """The episode mapping written by Gemini (one generate_content call; never retried: a person reruns)."""
    key = os.environ.get("GEMINI_API_KEY", "").strip()
    model = os.environ.get(MODEL_ENV) or WRITER_MODEL
    base = os.environ.get("VIDPIPE_GEMINI_BASE_URL")
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=base) if base else None)
    length = f"about {minutes:g} minutes in total" if minutes else "about 5 seconds per shot unless a beat needs more"
    ask = f"{RULES}{lessons_text}\n\nLogline: {logline}\nWrite {shots} shots for a {aspect} episode, {length}."
    try:
        resp = client.models.generate_content(
            model=model, contents=ask,
            config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=DraftSpec))
    except genai_errors.APIError as exc:
        raise ProviderError(f"the writer model {model} failed: {exc.code} {exc.status}", provider="gemini",
                            model=model) from exc
    try:
        spec = DraftSpec.model_validate_json(resp.text or "")
    except ValidationError as exc:
        raise ProviderError(f"the writer model {model} returned JSON that is not a draft "
                            f"({exc.error_count()} problems); nothing was written", provider="gemini",
                            model=model) from None
    data = spec.model_dump(exclude_none=True)
    for m in data["cast"]:  # a plate prompt per member: its look is made once and reused in every shot
        m["plate"] = (f"full-length character reference of {m['name']}, {m['description']}, neutral light"
                      if m["kind"] == "person" else f"{m['name']}, {m['description']}, wide view, even daylight")
    for shot in data["shots"]:
        shot["mode"] = "text-to-video"
        for key_ in ("dialogue", "blocks"):
            if not shot[key_]:
                del shot[key_]
    return {"title": f"DRAFT — {data['title']}", "aspect_ratio": aspect, "resolution": "720p", "fps": 24,
            "cast": data["cast"], "shots": data["shots"]}
