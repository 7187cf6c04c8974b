"""The providers' published contracts as dated data: fal input schemas and prices, Gemini models, ElevenLabs voices.

Each JSON file here says where its facts came from (`source`) and when they were read (`read_on`).
They are not vidpipe's own tables: the translators (fal_models.py, gemini.py) decide what vidpipe
sends; these files say what the provider published. The preflight compares the live answers with
them to describe a drift, the loopback fakes serve and enforce them, and the prices are the
baseline the live prices are compared with. Refresh a file by reading the provider again and
changing `read_on`, never by copying vidpipe's tables into it.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

HERE = Path(__file__).resolve().parent


class _Dated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str
    kind: str
    source: str
    read_on: dt.date
    note: str = ""


class FieldSpec(BaseModel):
    """One input field of a fal endpoint, as its OpenAPI publishes it (plus limits its description states)."""

    model_config = ConfigDict(extra="forbid")

    type: str  # string | boolean | number | integer | array | image_size
    required: bool = False
    enum: list[Any] | None = None
    default: Any = None
    items: str | None = None
    description: str = ""
    limits: dict[str, Any] = Field(default_factory=dict)


class EndpointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "deprecated", "retired"] = "active"
    fields: dict[str, FieldSpec]


class FalSchemas(_Dated):
    published: dt.date | None = None
    endpoints: dict[str, EndpointSpec]


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_id: str
    unit_price: float
    unit: str
    currency: str = "USD"
    note: str = ""


class FalPrices(_Dated):
    prices: list[Price]

    def by_endpoint(self) -> dict[str, Price]:
        return {p.endpoint_id: p for p in self.prices}


class GeminiModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str
    display_name: str = Field("", alias="displayName")
    supported_generation_methods: list[str] = Field(default_factory=list, alias="supportedGenerationMethods")


class Retired(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    shutdown: dt.date
    replacement: str
    source: str


class GeminiModels(_Dated):
    models: list[GeminiModel]
    retired: list[Retired] = Field(default_factory=list)

    def retired_by_id(self) -> dict[str, Retired]:
        return {r.name: r for r in self.retired}


class VoiceLookup(BaseModel):
    method: str
    path: str
    not_found_status: str


class ElevenLabsContract(_Dated):
    voice_lookup: VoiceLookup
    models: list[str]


def _read(name: str) -> dict[str, Any]:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


@cache
def fal_schemas() -> FalSchemas:
    return FalSchemas.model_validate(_read("fal_schemas.json"))


@cache
def fal_prices() -> FalPrices:
    return FalPrices.model_validate(_read("fal_prices.json"))


@cache
def gemini_models() -> GeminiModels:
    return GeminiModels.model_validate(_read("gemini_models.json"))


@cache
def elevenlabs() -> ElevenLabsContract:
    return ElevenLabsContract.model_validate(_read("elevenlabs.json"))


def sources() -> list[tuple[str, str, dt.date]]:
    """(file, source, read_on) of every snapshot — what `doctor` and the closing note list."""
    return [(f, c.source, c.read_on) for f, c in (("fal_schemas.json", fal_schemas()), ("fal_prices.json", fal_prices()),
                                                  ("gemini_models.json", gemini_models()),
                                                  ("elevenlabs.json", elevenlabs()))]
