"""fal's published contracts for the loopback fake: the dated snapshots in vidpipe/providers/contracts/, served
by a fake platform API and enforced on every submit.

    GET /v1/models?endpoint_id=…[&endpoint_id=…]&expand=openapi-3.0   {models: [{endpoint_id, metadata, openapi}]}
    GET /v1/models/pricing?endpoint_id=…                               {prices: [{endpoint_id, unit_price, unit, currency}]}

The queue validates bodies against the same (mutable) schemas, so a test that renames a field or retires
an endpoint here changes both what the preflight reads and what the queue accepts — as a real change at
fal would. Nothing here reads vidpipe's translators or price table: only the providers' published data.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.contract import Endpoint, Error, F, enum, err
from tests.fakes.server import Reply
from vidpipe.providers import contracts

if TYPE_CHECKING:
    from tests.fakes.fal_fake import FalFake

Rule = Callable[[dict[str, Any]], list[Error]]
IMAGE_ENDPOINTS = ("fal-ai/flux/schnell", "fal-ai/flux-pro/v1.1")


def field_spec(name: str, spec: dict[str, Any]) -> F:
    """A snapshot field (OpenAPI-ish) as the fakes' checker spec."""
    lim = spec.get("limits") or {}
    req = bool(spec.get("required"))
    kind, values = spec["type"], spec.get("enum")
    if values and kind in ("string", "integer"):
        return enum(*values, required=req)
    if kind == "image_size":
        return F("any", required=req)  # a name or {width, height}: checked by the endpoint's rule
    if kind == "array":
        return F("urls" if name.endswith("_urls") else "list", required=req, hi=lim.get("max_items"))
    if kind == "boolean":
        return F("bool", required=req)
    if kind in ("number", "integer"):
        return F("num" if kind == "number" else "int", required=req, lo=lim.get("min"), hi=lim.get("max"))
    if name.endswith("_url"):
        return F("url", required=req)
    return F("str", required=req, hi=lim.get("max_length"))


def endpoint(schema: dict[str, Any], rules: tuple[Rule, ...] = (), output: str = "video") -> Endpoint:
    return Endpoint({n: field_spec(n, s) for n, s in schema["fields"].items()}, rules=rules, output=output)


def snapshot_schemas() -> dict[str, dict[str, Any]]:
    """endpoint id → {status, fields} as published (a deep copy tests may change)."""
    return {ep: spec.model_dump() for ep, spec in contracts.fal_schemas().endpoints.items()}


def build(rules: dict[str, tuple[Rule, ...]]) -> dict[str, Endpoint]:
    """Every snapshot endpoint as a checker, with the cross-field rules fal states in prose."""
    return {ep: endpoint(s, rules.get(ep, ()), "images" if ep in IMAGE_ENDPOINTS else "video")
            for ep, s in snapshot_schemas().items()}


def openapi(endpoint_id: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's input as an OpenAPI 3.0 document, the shape the platform API expands."""
    props: dict[str, Any] = {}
    for name, f in schema["fields"].items():
        p: dict[str, Any] = {"title": name.replace("_", " ").title(), "description": f.get("description", "")}
        if f["type"] == "image_size":
            p["anyOf"] = [{"$ref": "#/components/schemas/ImageSize"}, {"type": "string", "enum": f.get("enum") or []}]
        elif f["type"] == "array":
            p.update(type="array", items={"type": "string"} if f.get("items") == "string" else {"type": "object"})
        else:
            p["type"] = f["type"]
            if f.get("enum"):
                p["enum"] = f["enum"]
        if f.get("default") is not None:
            p["default"] = f["default"]
        props[name] = p
    required = [n for n, f in schema["fields"].items() if f.get("required")]
    return {"openapi": "3.0.4", "info": {"title": endpoint_id, "version": "0.1.0"},
            "paths": {f"/{endpoint_id}": {"post": {"requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Input"}}}}}}},
            "components": {"schemas": {
                "Input": {"type": "object", "properties": props, "required": required},
                "ImageSize": {"type": "object", "properties": {"width": {"type": "integer"},
                                                               "height": {"type": "integer"}}}}}}


class FalPlatform:
    """The fake's platform API and the schemas its queue enforces; tests change fal through these methods."""

    def __init__(self, fake: "FalFake"):
        self.fake = fake
        self.schemas = snapshot_schemas()
        self.rules = {ep: e.rules for ep, e in fake.endpoints.items()}
        self.prices = {p.endpoint_id: p.model_dump(exclude={"note"}) for p in contracts.fal_prices().prices}
        self.gone: set[str] = set()          # endpoints the platform no longer lists (and the queue 404s)
        self.calls: list[tuple[str, list[str]]] = []
        for ep in self.schemas:
            self._install(ep)

    def _install(self, ep: str) -> None:
        if ep in self.gone:
            self.fake.endpoints.pop(ep, None)
            return
        output = "images" if ep in IMAGE_ENDPOINTS else "video"
        self.fake.endpoints[ep] = endpoint(self.schemas[ep], (*self.rules.get(ep, ()), self._media_rule(ep)), output)

    # -- what a test changes at "fal" ---------------------------------------------------------------
    def retire(self, ep: str, *, status: str | None = None) -> None:
        """Gone from the platform and the queue; or, with `status` (e.g. "deprecated"), listed with that status."""
        if status is None:
            self.gone.add(ep)
        else:
            self.schemas[ep]["status"] = status
        self._install(ep)

    def rename(self, ep: str, old: str, new: str) -> None:
        self.schemas[ep]["fields"][new] = self.schemas[ep]["fields"].pop(old)
        self._install(ep)

    def drop(self, ep: str, field: str) -> None:
        del self.schemas[ep]["fields"][field]
        self._install(ep)

    def set_enum(self, ep: str, field: str, values: list[Any]) -> None:
        self.schemas[ep]["fields"][field]["enum"] = list(values)
        self._install(ep)

    def set_price(self, ep: str, unit_price: float, unit: str | None = None) -> None:
        self.prices[ep]["unit_price"] = unit_price
        if unit is not None:
            self.prices[ep]["unit"] = unit

    # -- HTTP ----------------------------------------------------------------------------------------
    def reply(self, method: str, path: str, query: dict[str, list[str]]) -> Reply | None:
        """The platform API's answer, or None when the path is not one of these two."""
        if method != "GET" or path not in ("/v1/models", "/v1/models/pricing"):
            return None
        ids = [i for v in query.get("endpoint_id", []) for i in v.split(",") if i]
        self.calls.append((path, ids))
        if not ids:
            return Reply(422, {"detail": [err(["query", "endpoint_id"], "Field required", "missing")]})
        if len(ids) > 50:
            return Reply(422, {"detail": [err(["query", "endpoint_id"], "At most 50 endpoint ids", "too_long")]})
        if path == "/v1/models/pricing":
            rows = [copy.deepcopy(self.prices[i]) for i in ids if i in self.prices and i not in self.gone]
            return Reply(200, {"prices": rows, "next_cursor": None, "has_more": False})
        expand = "openapi-3.0" in query.get("expand", [])
        models = []
        for i in ids:
            if i in self.gone or i not in self.schemas:
                continue
            m: dict[str, Any] = {"endpoint_id": i, "metadata": {
                "display_name": i.split("/")[-1], "status": self.schemas[i]["status"], "kind": "inference",
                "category": "text-to-image" if i in IMAGE_ENDPOINTS else "video"}}
            if expand:
                m["openapi"] = openapi(i, self.schemas[i])
            models.append(m)
        return Reply(200, {"models": models, "next_cursor": None, "has_more": False})

    # -- limits on the uploaded media ------------------------------------------------------------------
    def _media_rule(self, ep: str) -> Rule:
        """Per-field limits that need the files (Seedance reference videos: total MB and pixel range)."""
        limits = {n: f.get("limits") or {} for n, f in self.schemas[ep]["fields"].items()}

        def rule(body: dict[str, Any]) -> list[Error]:
            out: list[Error] = []
            for name, lim in limits.items():
                urls = body.get(name) if isinstance(body.get(name), list) else []
                blobs = [self.fake.media.get(u[len(self.fake.url) + len("/media/"):]) for u in urls
                         if isinstance(u, str) and u.startswith(f"{self.fake.url}/media/")]
                if "max_total_mb" in lim and sum(len(b or b"") for b in blobs) > lim["max_total_mb"] * 1_000_000:
                    out.append(err(["body", name], f"Total size must be under {lim['max_total_mb']} MB",
                                   "file_too_large"))
                if "min_pixels" in lim:
                    for i, b in enumerate(blobs):
                        wh = _frame_size(b or b"")
                        if wh and not lim["min_pixels"] <= wh[0] * wh[1] <= lim["max_pixels"]:
                            out.append(err(["body", name, i], f"Video resolution {wh[0]}x{wh[1]} is outside "
                                           "~480p (640x640) .. ~720p (834x1112)", "video_resolution", list(wh)))
            return out

        return rule


def _frame_size(data: bytes) -> tuple[int, int] | None:
    import av

    if not data:
        return None
    fd, name = tempfile.mkstemp(suffix=".mp4")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        with av.open(name) as c:
            if not c.streams.video:
                return None
            cc = c.streams.video[0].codec_context
            return int(cc.width), int(cc.height)
    except (av.error.FFmpegError, OSError):
        return None
    finally:
        os.unlink(name)
