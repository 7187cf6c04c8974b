"""Gemini API adapter (google-genai): Veo 3.1 clips (predictLongRunning + operation polling) and
Imagen 4 stills (:predict). `VIDPIPE_GEMINI_BASE_URL` overrides the host (tests, proxies).

The key (GEMINI_API_KEY) is read when the client is built and sent only to that host; result
videos are fetched with it only when they live there (a redirect elsewhere goes without it).
"""

from __future__ import annotations

import base64
import contextlib
import mimetypes
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import httpx

from vidpipe.errors import (
    ProviderError, ProviderRateLimited, ProviderRejected, ProviderTimeout, ProviderUnavailable,
)
from vidpipe.pricing import veo_seconds
from vidpipe.providers.keys import require_key
from vidpipe.providers.base import Ticket, UnsupportedOnModel, video_url
from vidpipe.providers.refs import is_local

VEO_MODEL = "veo-3.1-generate-preview"
IMAGEN_MODEL = "imagen-4.0-generate-001"
DEFAULT_BASE = "https://generativelanguage.googleapis.com"
POLL_INTERVAL_S = 5.0
IMAGEN_ASPECTS = ("1:1", "3:4", "4:3", "9:16", "16:9")


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
    res = req.get("resolution", "720p")
    config: dict[str, Any] = {"number_of_videos": 1, "duration_seconds": veo_seconds(duration),
                              "resolution": "1080p" if res == "1080p" else "720p"}
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
    return VEO_MODEL, body


def translate_imagen(prompt: str, *, aspect: str = "16:9", resolution: str = "720p", n: int = 1) -> tuple[str, dict[str, Any]]:
    if aspect not in IMAGEN_ASPECTS:
        raise _refuse("imagen", f"aspect_ratio {aspect} is not offered ({', '.join(IMAGEN_ASPECTS)})")
    if not 1 <= n <= 4:
        raise _refuse("imagen", f"makes 1–4 images per request, asked {n}")
    return IMAGEN_MODEL, {"prompt": prompt, "config": {
        "number_of_images": n, "aspect_ratio": aspect, "image_size": "2K" if resolution == "1080p" else "1K"}}


@contextlib.contextmanager
def map_gemini_errors(**ctx: Any) -> Iterator[None]:
    """google.genai / httpx errors → the vidpipe tree."""
    from google.genai import errors as gerr

    ctx = {"provider": "gemini", **ctx}
    try:
        yield
    except gerr.APIError as exc:
        code, status, msg = int(exc.code or 0), exc.status or "", exc.message or str(exc)
        text = f"gemini {code} {status}: {msg}"
        if code == 429:
            raise ProviderRateLimited(text, code="rate_limited", **ctx) from exc
        if code >= 500:
            raise ProviderUnavailable(text, code="unavailable", **ctx) from exc
        if code in (401, 403):
            raise ProviderRejected(f"gemini {code}: the key in GEMINI_API_KEY was refused", code="unauthorized",
                                   **ctx) from exc
        raise ProviderRejected(text, code=status.lower() or f"http_{code}", **ctx) from exc
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(f"gemini timed out ({type(exc).__name__})", code="timeout", **ctx) from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"cannot reach gemini ({type(exc).__name__})", code="connection", **ctx) from exc


class GeminiBackend:
    """Veo 3.1 through the runner; Imagen stills through `make_images`."""

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

                # v1beta: where predictLongRunning / :predict live (providers.md §2.4); the runner retries.
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
            instance["referenceImages"] = [{"image": self._image(r), "referenceType": "asset"}
                                           for r in b["reference_images"]]
        params: dict[str, Any] = {"sampleCount": cfg.get("number_of_videos", 1),
                                  "durationSeconds": cfg["duration_seconds"], "resolution": cfg["resolution"]}
        if cfg.get("aspect_ratio"):
            params["aspectRatio"] = cfg["aspect_ratio"]
        reply = self._post(f"models/{ticket.endpoint}:predictLongRunning",
                           {"instances": [instance], "parameters": params}, model=ticket.model, job_id=ticket.job_id)
        name = reply.get("name")
        if not name:
            raise ProviderError("gemini returned an operation without a name", provider="gemini", code="bad_operation")
        return str(name)

    def _post(self, path: str, body: dict[str, Any], **ctx: Any) -> dict[str, Any]:
        """One REST call through the SDK's own API client (base URL, key header, error types).

        google-genai 3.x refuses `generate_videos` / `generate_images` on the Gemini Developer API
        (Vertex-only there), while the REST routes still serve them (providers.md §2.4, §3.2); the
        SDK's request channel keeps auth and base-URL handling in one place. Polling uses the
        public `operations.get`.
        """
        import json

        with map_gemini_errors(**ctx):
            resp = self.client._api_client.request("post", path, dict(body))
        try:
            data = json.loads(resp.body or "{}")
        except json.JSONDecodeError as exc:
            raise ProviderError("gemini returned a non-JSON reply", provider="gemini", code="bad_reply") from exc
        return data if isinstance(data, dict) else {}

    def poll(self, ticket: Ticket, *, deadline: float) -> dict[str, Any]:
        from google.genai import types

        rid = str(ticket.request_id)
        ctx = {"model": ticket.model, "job_id": ticket.job_id, "request_id": rid}
        op = types.GenerateVideosOperation(name=rid)
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
            err = op.error if isinstance(op.error, dict) else {}
            code = int(err.get("code") or 0)
            cls = ProviderRateLimited if code == 429 else ProviderError
            raise cls(f"veo operation failed: {err.get('message', op.error)}", provider="gemini",
                      code="rate_limited" if code == 429 else f"operation_error_{code}", **ctx)
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
        """GET the file; the key goes only to the API host, never across a redirect."""
        out.parent.mkdir(parents=True, exist_ok=True)
        api_host = urlparse(self.base_url).netloc
        try:
            for _ in range(5):
                headers = {"x-goog-api-key": require_key("gemini")} if urlparse(url).netloc == api_host else {}
                with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(120, connect=15)) as resp:
                    if resp.is_redirect and resp.headers.get("location"):
                        url = urljoin(url, resp.headers["location"])
                        continue
                    if resp.status_code != 200:
                        raise ProviderUnavailable(f"download of the veo result failed: HTTP {resp.status_code}",
                                                  provider="gemini", code="download_failed")
                    with out.open("wb") as f:
                        for chunk in resp.iter_bytes(1 << 16):
                            f.write(chunk)
                    return out
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"download of the veo result failed ({type(exc).__name__})",
                                      provider="gemini", code="download_failed") from exc
        raise ProviderUnavailable("too many redirects downloading the veo result", provider="gemini",
                                  code="download_failed")

    def make_images(self, endpoint: str, body: dict[str, Any]) -> list[bytes]:
        """Imagen: one :predict call; images come back inline as base64."""
        cfg = body["config"]
        params = {"sampleCount": cfg["number_of_images"], "aspectRatio": cfg["aspect_ratio"],
                  "sampleImageSize": cfg["image_size"], "outputOptions": {"mimeType": "image/png"}}
        reply = self._post(f"models/{endpoint}:predict", {"instances": [{"prompt": body["prompt"]}],
                                                          "parameters": params}, model="imagen")
        preds = [p for p in reply.get("predictions") or [] if isinstance(p, dict)]
        out = [base64.b64decode(p["bytesBase64Encoded"]) for p in preds if p.get("bytesBase64Encoded")]
        if not out:
            why = "; ".join(str(p.get("raiFilteredReason")) for p in preds if p.get("raiFilteredReason"))
            raise ProviderRejected(f"imagen returned no image ({why or 'no predictions'})", provider="gemini",
                                   model="imagen", code="content_policy_violation")
        return out

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
