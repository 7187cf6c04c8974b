"""fal queue adapter over the real `fal_client.SyncClient`: submit, resumable polling, downloads.

The key is read from FAL_KEY when the client is first needed and handed to SyncClient (never
logged). `VIDPIPE_FAL_QUEUE_URL` points the queue at another host (tests, proxies): fal_client
has no constructor option for it, so we set `fal_client.client.QUEUE_URL_FORMAT` (providers.md
§1.8). SDK errors become vidpipe errors in one place, `map_fal_errors()`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from vidpipe.errors import (
    ProviderError, ProviderRateLimited, ProviderRejected, ProviderTimeout, ProviderUnavailable,
)
from vidpipe.providers import fal_models
from vidpipe.providers.keys import require_key
from vidpipe.providers.base import MODERATION_CODES, Ticket, video_url
from vidpipe.providers.refs import is_local

INLINE_LIMIT = 1_000_000          # local refs under ~1 MB go inline as data URIs, larger ones are uploaded
POLL_INTERVAL_S = 2.0             # status poll period (tests lower it)
DOWNLOAD_TIMEOUT = httpx.Timeout(120.0, connect=15.0)
AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus")


@contextlib.contextmanager
def map_fal_errors(*, model: str | None = None, job_id: str | None = None,
                   request_id: str | None = None) -> Iterator[None]:
    """Translate fal_client / httpx errors into the vidpipe tree (with `from exc`)."""
    import fal_client
    from fal_client.client import FalClientHTTPError, FalClientTimeoutError

    ctx: dict[str, Any] = {"provider": "fal", "model": model, "job_id": job_id, "request_id": request_id}
    try:
        yield
    except FalClientHTTPError as exc:
        raise _map_http(exc, ctx) from exc
    except FalClientTimeoutError as exc:
        raise ProviderTimeout(f"fal timed out: {exc}", code="timeout", **ctx) from exc
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(f"fal timed out ({type(exc).__name__})", code="timeout", **ctx) from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"cannot reach fal ({type(exc).__name__}: {exc})", code="connection", **ctx) from exc
    except fal_client.auth.MissingCredentialsError as exc:  # only if someone builds a client without a key
        raise ProviderError("fal has no credentials: set FAL_KEY or use --backend preview",
                            code="not_configured", **ctx) from exc


def _map_http(exc: Any, ctx: dict[str, Any]) -> ProviderError:
    status = int(exc.status_code)
    headers = {k.lower(): v for k, v in (exc.response_headers or {}).items()}
    detail = exc.message
    etype = exc.error_type
    if isinstance(detail, list) and detail:  # 422 model errors: [{loc, msg, type, ...}]
        first = detail[0] if isinstance(detail[0], dict) else {}
        etype = etype or first.get("type")
        loc = ".".join(str(x) for x in first.get("loc", []) if x != "body")
        detail = f"{first.get('msg', 'rejected')}" + (f" (field {loc})" if loc else "")
    text = f"fal {status}: {detail}"
    if status == 429:
        return ProviderRateLimited(f"{text} — rate limited after the client's retries", code="rate_limited", **ctx)
    if etype in MODERATION_CODES:
        return ProviderRejected(f"{text} — moderation refused the request (not retried)", code=etype, **ctx)
    if status in (401, 403):
        return ProviderRejected(f"fal {status}: the key in FAL_KEY was refused; check it", code="unauthorized", **ctx)
    if status in (408, 504) and "x-fal-request-id" not in headers:
        return ProviderTimeout(text, code=etype or "timeout", **ctx)
    if status >= 500:
        if "x-fal-request-id" in headers:
            # The request reached fal's app and failed there: it may be billed, so never auto-resubmit.
            return ProviderError(f"{text} (request {headers['x-fal-request-id']} failed on fal's side)",
                                 code=etype or "server_error", **ctx)
        return ProviderUnavailable(f"{text} (gateway error)", code=etype or "unavailable", **ctx)
    return ProviderRejected(text, code=etype or ("validation_error" if status == 422 else f"http_{status}"), **ctx)


def queue_url_override() -> str | None:
    """`VIDPIPE_FAL_QUEUE_URL` as fal_client's QUEUE_URL_FORMAT (trailing slash), or None."""
    url = os.environ.get("VIDPIPE_FAL_QUEUE_URL", "").strip()
    return url.rstrip("/") + "/" if url else None


class FalBackend:
    """Every fal model: pure translation in fal_models, HTTP through fal_client."""

    NAME = "fal"

    def __init__(self, client: Any = None):
        self._client = client
        self._lock = threading.Lock()
        self._uploads: dict[str, str] = {}

    @property
    def client(self) -> Any:
        """The SyncClient, built on first use (reads FAL_KEY now, not at import)."""
        with self._lock:
            if self._client is None:
                import fal_client
                import fal_client.client as fc

                override = queue_url_override()
                if override:
                    fc.QUEUE_URL_FORMAT = override
                self._client = fal_client.SyncClient(key=require_key("fal"))
            return self._client

    def translate(self, model: str, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return fal_models.translate(model, request)

    def submit(self, ticket: Ticket) -> str:
        body = self.resolve_refs(ticket.body, ticket.workdir)
        with map_fal_errors(model=ticket.model, job_id=ticket.job_id):
            handle = self.client.submit(ticket.endpoint, body)
        return str(handle.request_id)

    def poll(self, ticket: Ticket, *, deadline: float) -> dict[str, Any]:
        """Poll status until COMPLETED (or `deadline`), then GET the result by request id."""
        from fal_client.client import Completed, InProgress

        rid = str(ticket.request_id)
        ctx = {"model": ticket.model, "job_id": ticket.job_id, "request_id": rid}
        with map_fal_errors(**ctx):
            handle = self.client.get_handle(ticket.endpoint, rid)
            while True:
                try:
                    status = handle.status(with_logs=False)
                except (KeyError, ValueError) as exc:  # FAILED status or a malformed status body
                    raise ProviderError(f"fal returned an unusable status for {rid}: {exc}",
                                        provider="fal", code="bad_status", **ctx) from exc
                if isinstance(status, Completed):
                    break
                ticket.on_status("running" if isinstance(status, InProgress) else "queued")
                if time.monotonic() + POLL_INTERVAL_S > deadline:
                    raise ProviderTimeout(f"fal request {rid} not finished before the deadline; rerun to resume it",
                                          provider="fal", code="deadline", **ctx)
                time.sleep(POLL_INTERVAL_S)
            result = handle.get(interval=POLL_INTERVAL_S)
        if status.error and not (isinstance(result, dict) and (result.get("video") or result.get("images"))):
            code = status.error_type or "job_failed"
            cls = ProviderRejected if code in MODERATION_CODES else ProviderError
            raise cls(f"fal request {rid} failed: {status.error}", provider="fal", code=code, **ctx)
        return result if isinstance(result, dict) else {"result": result}

    def result_url(self, result: dict[str, Any]) -> str:
        return video_url(result, provider=self.NAME)

    def fetch(self, url: str, out: Path) -> Path:
        """Stream the media URL to `out`. No auth header: fal media URLs are public, keys stay home."""
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as resp:
                if resp.status_code != 200:
                    raise ProviderUnavailable(f"download of the result failed: HTTP {resp.status_code}",
                                              provider="fal", code="download_failed")
                with out.open("wb") as f:
                    for chunk in resp.iter_bytes(1 << 16):
                        f.write(chunk)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"download of the result failed ({type(exc).__name__})",
                                      provider="fal", code="download_failed") from exc
        return out

    # -- local references ---------------------------------------------------------------------
    def resolve_refs(self, body: dict[str, Any], workdir: Path) -> dict[str, Any]:
        """A copy of `body` whose local paths are data URIs (small) or fal storage URLs (large)."""

        def conv(node: Any, key: str | None) -> Any:
            if isinstance(node, dict):
                return {k: conv(v, k) for k, v in node.items()}
            if isinstance(node, list):
                return [conv(v, key) for v in node]
            if isinstance(node, str) and key not in ("prompt", "text") and is_local(node):
                return self.media_ref(Path(node).expanduser(), workdir, audio=bool(key and "audio" in key))
            return node

        return conv(body, None)  # type: ignore[no-any-return]

    def media_ref(self, path: Path, workdir: Path, *, audio: bool = False) -> str:
        import fal_client

        if audio:
            path = to_mp3(path, workdir / ".refs")
        if path.stat().st_size < INLINE_LIMIT:
            return str(fal_client.encode_file(path))
        digest = _sha(path)
        with self._lock:
            if digest in self._uploads:
                return self._uploads[digest]
        with map_fal_errors():
            url = self.upload(path)
        with self._lock:
            self._uploads[digest] = url
        return url

    def upload(self, path: Path) -> str:
        """fal storage upload (its own httpx client; tests stub this method)."""
        return str(self.client.upload_file(path))


def to_mp3(path: Path, cache_dir: Path) -> Path:
    """Reference audio as MP3 44.1 kHz (what every fal audio field accepts), cached by content."""
    from vidpipe.media.ffmpeg import run_ffmpeg

    out = cache_dir / f"{_sha(path)[:20]}.mp3"
    if not out.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{threading.get_ident()}.mp3")
        run_ffmpeg(["-y", "-i", str(path), "-vn", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", str(tmp)],
                   what=f"converting reference audio {path.name} to MP3")
        tmp.replace(out)
    return out


def _sha(path: Path) -> str:
    from vidpipe.providers.refs import file_sha256

    return file_sha256(path) if path.exists() else hashlib.sha256(str(path).encode()).hexdigest()
