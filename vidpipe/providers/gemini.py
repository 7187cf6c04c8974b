"""Gemini API adapter (google-genai): Veo 3.1 clips (predictLongRunning + operation polling) and
stills from an image-capable Gemini model (`generate_content` with the IMAGE response modality).
`VIDPIPE_GEMINI_BASE_URL` overrides the host (tests, proxies).

Imagen on the Developer API is shut down (providers.md §0); `VIDPIPE_GEMINI_IMAGE_MODEL` picks the
image model (default `gemini-3.1-flash-image`, GA; `gemini-2.5-flash-image` was shut down on
2026-10-02) and `VIDPIPE_GEMINI_VEO_MODEL` the Veo model (default `veo-3.1-generate-001`: the preview
ids were shut down on 2026-10-22). Both are checked against `models.list` by the preflight before
any spend (providers/contracts/gemini_models.json says where each id came from). The key (GEMINI_API_KEY) is read when the client is
built and sent only to that host; result videos are fetched with it only while they live there
(a redirect elsewhere goes without it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import mimetypes
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from vidpipe.errors import ProviderError, ProviderRateLimited, ProviderRejected, ProviderTimeout, ProviderUnavailable
from vidpipe.pricing import veo_seconds
from vidpipe.providers.keys import require_key
from vidpipe.providers.base import (
    HttpFailure, ResultMissing, Ticket, UnsupportedOnModel, download, provider_errors, video_url,
)
from vidpipe.providers.refs import is_local

DEFAULT_VEO_MODEL = "veo-3.1-generate-001"
DEFAULT_IMAGE_MODEL = "gemini-3.1-flash-image"
DEFAULT_BASE = "https://generativelanguage.googleapis.com"
POLL_INTERVAL_S = 5.0
# generate_content image_config.aspect_ratio values (google-genai ImageConfig; Gemini image docs).
IMAGE_ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
BLOCKED = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
                     "SPII", "MODEL_ARMOR"})


def image_model() -> str:
    return os.environ.get("VIDPIPE_GEMINI_IMAGE_MODEL", "").strip() or DEFAULT_IMAGE_MODEL


def veo_model() -> str:
    return os.environ.get("VIDPIPE_GEMINI_VEO_MODEL", "").strip() or DEFAULT_VEO_MODEL


def _refuse(model: str, msg: str) -> UnsupportedOnModel:
    return UnsupportedOnModel(f"{model} (Gemini API): {msg}", model=model, provider="gemini")


def translate_veo(req: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Canonical → generate_videos arguments (JSON-able; local paths kept). Pure."""
    m = "veo-3.1"
    for f in ("reference_videos", "reference_audios"):
        if req.get(f):
            raise _refuse(m, f"cannot take `{f}`; use seedance-2.0")
    refs = req.get("reference_images") or []
    if len(refs) > 3:
        raise _refuse(m, f"takes at most 3 reference images, got {len(refs)}")
    duration = int(req.get("duration", 5))
    if duration > 8:
        raise _refuse(m, f"makes at most 8 s (asked {duration} s)")
    aspect = req.get("aspect_ratio", "16:9")
    if aspect not in ("16:9", "9:16", "adaptive"):
        raise _refuse(m, f"aspect_ratio {aspect} is not offered (16:9, 9:16)")
    res = "1080p" if req.get("resolution", "720p") == "1080p" else "720p"
    seconds = veo_seconds(duration)
    if res == "1080p" and seconds != 8:
        raise _refuse(m, f"makes 1080p only at 8 s (asked {seconds} s); set duration 8 or resolution 720p")
    if refs and (seconds != 8 or aspect != "16:9"):
        raise _refuse(m, f"takes reference images only at 8 s and 16:9 (asked {seconds} s, {aspect}); "
                         "set duration 8 and aspect_ratio 16:9, or use seedance-2.0")
    config: dict[str, Any] = {"number_of_videos": 1, "duration_seconds": seconds, "resolution": res}
    if aspect != "adaptive":
        config["aspect_ratio"] = aspect
    # generate_audio and seed are Vertex-only (the SDK refuses them here): Veo on the Gemini API
    # always generates audio, and a seed is only a reproducibility hint — both are left out.
    body: dict[str, Any] = {"prompt": req["prompt"], "config": config}
    if req.get("image"):
        body["image"] = req["image"]
    if req.get("last_frame_image"):
        body["last_frame"] = req["last_frame_image"]
    if refs:
        body["reference_images"] = list(refs)
    return veo_model(), body


def translate_image(prompt: str, *, aspect: str = "16:9", resolution: str = "720p",
                    model: str | None = None) -> tuple[str, dict[str, Any]]:
    """(image model id, generate_content config) for one still. Pure."""
    model = model or image_model()
    if aspect not in IMAGE_ASPECTS:
        raise _refuse(model, f"aspect_ratio {aspect} is not offered ({', '.join(IMAGE_ASPECTS)})")
    image_config: dict[str, Any] = {"aspect_ratio": aspect}
    # gemini-2.5-flash-image makes 1K only; later image models take image_size 1K/2K/4K.
    if resolution == "1080p" and not model.startswith("gemini-2.5-flash-image"):
        image_config["image_size"] = "2K"
    return model, {"prompt": prompt, "response_modalities": ["IMAGE"], "image_config": image_config}


def parse_gemini_error(exc: BaseException) -> HttpFailure | ProviderError | None:
    """google.genai.errors.* → HttpFailure / a vidpipe error (httpx is handled in base)."""
    from google.genai import errors as gerr

    if isinstance(exc, gerr.APIError):
        code, message = int(exc.code or 0), str(exc.message or exc)[:500]
        if code == 400 and "API_KEY_INVALID" in json.dumps(exc.details, default=str):
            code = 401  # Google answers a wrong key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID
        return HttpFailure(code, message, (exc.status or "").lower() or None)
    if isinstance(exc, gerr.UnknownApiResponseError):
        return ProviderError(f"gemini sent a reply the SDK cannot read: {exc}", provider="gemini", code="bad_reply")
    return None


@contextlib.contextmanager
def map_gemini_errors(*, submit: bool = False, **ctx: Any) -> Iterator[None]:
    """google.genai / httpx errors → the vidpipe tree."""
    with provider_errors("gemini", parse_gemini_error, submit=submit, **ctx):
        yield


class GeminiBackend:
    """Veo 3.1 through the runner; stills through `make_image`."""

    NAME = "gemini"

    def __init__(self, client: Any = None):
        self._client = client
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return (os.environ.get("VIDPIPE_GEMINI_BASE_URL") or DEFAULT_BASE).rstrip("/")

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from google import genai
                from google.genai import types

                # v1beta: where predictLongRunning lives (providers.md §2.4). One attempt: the SDK's
                # own retry is off so a paid submit is never sent twice behind our back.
                opts = types.HttpOptions(base_url=os.environ.get("VIDPIPE_GEMINI_BASE_URL") or None,
                                         api_version="v1beta", retry_options=types.HttpRetryOptions(attempts=1))
                self._client = genai.Client(api_key=require_key("gemini"), http_options=opts)
            return self._client

    def translate(self, model: str, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if model != "veo-3.1":
            raise _refuse(model, "only veo-3.1 runs on the Gemini API; use --backend fal for the others")
        return translate_veo(request)

    def submit(self, ticket: Ticket) -> str:
        """POST models/{model}:predictLongRunning; the operation name is the request id."""
        b = ticket.body
        cfg = b["config"]
        instance: dict[str, Any] = {"prompt": b["prompt"]}
        if b.get("image"):
            instance["image"] = self._image(b["image"])
        if b.get("last_frame"):
            instance["lastFrame"] = self._image(b["last_frame"])
        if b.get("reference_images"):
            instance["referenceImages"] = [{"image": self._image(r), "referenceType": "ASSET"}
                                           for r in b["reference_images"]]
        params: dict[str, Any] = {"sampleCount": cfg.get("number_of_videos", 1),
                                  "durationSeconds": cfg["duration_seconds"], "resolution": cfg["resolution"]}
        if cfg.get("aspect_ratio"):
            params["aspectRatio"] = cfg["aspect_ratio"]
        payload = {"instances": [instance], "parameters": params}
        ticket.on_send(payload)
        reply = self._post(f"models/{ticket.endpoint}:predictLongRunning", payload, model=ticket.model,
                           job_id=ticket.job_id)
        name = reply.get("name")
        if not name:
            raise ProviderError("gemini returned an operation without a name", provider="gemini", code="bad_operation")
        return str(name)

    def _post(self, path: str, body: dict[str, Any], **ctx: Any) -> dict[str, Any]:
        """One REST call through the SDK's request channel (base URL, key header, error types).

        No public call exists for this: google-genai 3.x's `models.generate_videos` raises
        ValueError on the Gemini Developer API ("only supported in … Agent Platform mode") while
        the REST route still serves Veo (providers.md §2.4). Polling uses the public
        `operations.get`, stills the public `models.generate_content`.
        """
        with map_gemini_errors(submit=True, **ctx):
            resp = self.client._api_client.request("post", path, dict(body))
        try:
            data = json.loads(resp.body or "{}")
        except json.JSONDecodeError as exc:
            raise ProviderError("gemini returned a non-JSON reply", provider="gemini", code="bad_reply") from exc
        return data if isinstance(data, dict) else {}

    def poll(self, ticket: Ticket, *, deadline: float) -> dict[str, Any]:
        from google.genai import types

        rid = str(ticket.request_id)
        ctx: dict[str, Any] = {"model": ticket.model, "job_id": ticket.job_id, "request_id": rid}
        op = types.GenerateVideosOperation(name=rid)  # type: ignore[call-arg]  # (a pydantic model: the stub lists no fields)
        while True:
            with map_gemini_errors(**ctx):
                op = self.client.operations.get(op)
            if op.done:
                break
            ticket.on_status("running")
            if time.monotonic() + POLL_INTERVAL_S > deadline:
                raise ProviderTimeout(f"veo operation {rid} not done before the deadline; rerun to resume it",
                                      provider="gemini", code="deadline", **ctx)
            time.sleep(POLL_INTERVAL_S)
        if op.error:
            raise operation_error(op.error, **ctx)
        resp = op.response or op.result
        videos = (resp.generated_videos if resp else None) or []
        if not videos or not videos[0].video or not videos[0].video.uri:
            if resp and resp.rai_media_filtered_count:
                reasons = "; ".join(resp.rai_media_filtered_reasons or []) or "filtered"
                raise ProviderRejected(f"veo filtered the output: {reasons}", provider="gemini",
                                       code="content_policy_violation", **ctx)
            return {}
        return {"video": {"url": videos[0].video.uri}}

    def result_url(self, result: dict[str, Any]) -> str:
        return video_url(result, provider=self.NAME)

    def fetch(self, url: str, out: Path) -> Path:
        """GET the file; the key goes only to the API host, never across a redirect to another."""
        api_host = urlparse(self.base_url).netloc

        def auth_for(hop: str) -> dict[str, str]:
            return {"x-goog-api-key": require_key("gemini")} if urlparse(hop).netloc == api_host else {}

        return download(url, out, provider="gemini", auth_for=auth_for)

    def make_image(self, model: str, config: dict[str, Any]) -> tuple[bytes, str]:
        """One still: `models.generate_content` with the IMAGE modality; the inline image part's bytes."""
        from google.genai import types

        cfg = types.GenerateContentConfig(response_modalities=config["response_modalities"],
                                          image_config=types.ImageConfig(**config["image_config"]))
        with map_gemini_errors(submit=True, model=model):  # a paid call: no answer is not retried blindly
            resp = self.client.models.generate_content(model=model, contents=config["prompt"], config=cfg)
        for cand in resp.candidates or []:
            for part in (cand.content.parts if cand.content else None) or []:
                if part.inline_data and part.inline_data.data:
                    return bytes(part.inline_data.data), part.inline_data.mime_type or "image/png"
        block = resp.prompt_feedback.block_reason if resp.prompt_feedback else None
        reasons = [str(getattr(c.finish_reason, "value", c.finish_reason)) for c in resp.candidates or []
                   if c.finish_reason]
        why = str(getattr(block, "value", block)) if block else ", ".join(reasons) or "no image part"
        if block or BLOCKED & set(reasons):
            raise ProviderRejected(f"{model} refused the still ({why}); rephrase the prompt", provider="gemini",
                                   model=model, code="content_policy_violation")
        raise ResultMissing(f"{model} returned no image ({why})", provider="gemini", model=model)

    def _image(self, ref: str) -> dict[str, str]:
        """{bytesBase64Encoded, mimeType} from a local path, data URI or URL (the API takes bytes)."""
        if ref.startswith("data:"):
            head, _, data = ref.partition(",")
            return {"bytesBase64Encoded": data, "mimeType": head[5:].split(";")[0]}
        if is_local(ref):
            p = Path(ref).expanduser()
            return {"bytesBase64Encoded": base64.b64encode(p.read_bytes()).decode(),
                    "mimeType": mimetypes.guess_type(p.name)[0] or "image/png"}
        try:
            r = httpx.get(ref, timeout=60, follow_redirects=True)
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"cannot fetch reference image {ref[:80]}", provider="gemini",
                                      code="reference_fetch") from exc
        return {"bytesBase64Encoded": base64.b64encode(r.content).decode(),
                "mimeType": r.headers.get("content-type", "image/png").split(";")[0]}


def operation_error(error: Any, **ctx: Any) -> ProviderError:
    """A finished operation's `error {code, message}` (google.rpc.Status, gRPC codes) → a vidpipe error.

    Not transient: the operation ran (and may be billed); a rerun is a person's decision.
    """
    err = error if isinstance(error, dict) else {}
    code = int(err.get("code") or 0)
    msg = f"veo operation failed: {err.get('message', error)}"
    ctx = {"provider": "gemini", **ctx}
    if code == 8 or code == 429:  # RESOURCE_EXHAUSTED (gRPC 8) / HTTP 429
        return ProviderRateLimited(msg, code="rate_limited", **ctx)
    if code == 3 or code == 400:  # INVALID_ARGUMENT
        return ProviderRejected(msg, code="invalid_argument", **ctx)
    return ProviderError(msg, code=f"operation_error_{code}", **ctx)
