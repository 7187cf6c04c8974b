"""fal queue adapter over the real `fal_client.SyncClient`: submit, resumable polling, uploads, downloads.

The key is read from FAL_KEY when the client is first needed and handed to SyncClient (never
logged). fal_client has no constructor option for its hosts, so `VIDPIPE_FAL_QUEUE_URL` sets
`fal_client.client.QUEUE_URL_FORMAT` and `VIDPIPE_FAL_STORAGE_URL` sets its `REST_URL`/`CDN_URL`;
`VIDPIPE_FAL_API_URL` is the platform API (request history; tests, proxies; providers.md §1.7–1.8).

The paid submit is our own single POST, not fal-client's: fal-client 1.0.x retries its submit up
to 10 times on any timeout or transport error, also after fal has accepted (and billed) the
request, and fal has no idempotency key (providers.md §0). Here a submit is sent again only when
it provably never left this machine (the connection was never opened: refused, DNS, connect
timeout) or fal answered 429 (an explicit "not queued"); anything else without a request id is
SubmitUnknown, and `find_request` looks it up in fal's request history (fal_history.py).
fal-client still does what is safe to repeat: status, result, uploads (with its own retries).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import mimetypes
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from vidpipe.errors import ProviderError, ProviderNotConfigured, ProviderRejected, ProviderTimeout
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.providers import fal_history, fal_models
from vidpipe.providers.base import (
    MODERATION_CODES, HttpFailure, Ticket, download, http_error, provider_errors, video_url,
)
from vidpipe.providers.keys import require_key
from vidpipe.providers.refs import UploadCache, file_sha256, is_local

POLL_INTERVAL_S = 2.0             # status poll period (tests lower it)
UPLOAD_LIFETIME = "30d"           # fal storage keeps our uploads this long; the cache trusts them a day less
TEXT_KEYS = ("prompt", "text", "negative_prompt")


def parse_fal_error(exc: BaseException) -> HttpFailure | ProviderError | None:
    """fal_client's own exception types → HttpFailure / a vidpipe error (httpx is handled in base)."""
    import fal_client.auth
    from fal_client.client import FalClientHTTPError, FalClientTimeoutError

    if isinstance(exc, FalClientHTTPError):
        return fal_failure(int(exc.status_code), exc.message, exc.error_type, exc.response_headers or {})
    if isinstance(exc, FalClientTimeoutError):
        return ProviderTimeout(f"fal timed out: {exc}", provider="fal", code="timeout")
    if isinstance(exc, fal_client.auth.MissingCredentialsError):  # only if a client is built without a key
        return ProviderNotConfigured("fal has no credentials: set FAL_KEY or use --backend preview",
                                     provider="fal", code="not_configured")
    return None


def fal_failure(status: int, detail: Any, error_type: str | None, headers: Any) -> HttpFailure:
    """fal's error body (`detail`: text, or a list for 422 model errors) in the one shape."""
    if isinstance(detail, list) and detail:  # 422 model errors: [{loc, msg, type, ...}]
        first = detail[0] if isinstance(detail[0], dict) else {}
        error_type = error_type or first.get("type")
        loc = ".".join(str(x) for x in first.get("loc", []) if x != "body")
        detail = f"{first.get('msg', 'rejected')}" + (f" (field {loc})" if loc else "")
    names = {str(k).lower() for k in headers}
    return HttpFailure(status, str(detail)[:500], error_type, reached_app="x-fal-request-id" in names)


def response_failure(resp: httpx.Response) -> HttpFailure:
    """An HTTP error answer from fal (what fal_client's _raise_for_status reads, read here)."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    detail: Any = resp.text
    etype = None
    if isinstance(body, dict):
        detail, etype = body.get("detail", resp.text), body.get("error_type")
    return fal_failure(resp.status_code, detail, etype or resp.headers.get("x-fal-error-type"), resp.headers)


@contextlib.contextmanager
def map_fal_errors(*, submit: bool = False, **ctx: Any) -> Iterator[None]:
    """fal_client / httpx errors → the vidpipe tree (with `from exc`)."""
    with provider_errors("fal", parse_fal_error, submit=submit, **ctx):
        yield


SUBMIT_TIMEOUT = httpx.Timeout(120.0, connect=15.0)  # fal-client's submit timeout, a shorter connect
SUBMIT_SEND_ATTEMPTS = 3     # for connections that never opened
SUBMIT_RATE_LIMIT_ATTEMPTS = 6  # for 429s (fal's concurrency limit; nothing was queued)
SUBMIT_RETRY_BASE_S = 0.5    # backoff base; tests set it to ~0


def queue_url_override() -> str | None:
    """`VIDPIPE_FAL_QUEUE_URL` as fal_client's QUEUE_URL_FORMAT (trailing slash), or None."""
    url = os.environ.get("VIDPIPE_FAL_QUEUE_URL", "").strip()
    return url.rstrip("/") + "/" if url else None


class FalBackend:
    """Every fal model: pure translation in fal_models, HTTP through fal_client."""

    NAME = "fal"

    def __init__(self, client: Any = None, *, uploads: UploadCache | None = None):
        self._client = client
        self._lock = threading.Lock()
        self._uploads = uploads
        self._digest_locks: dict[str, threading.Lock] = {}

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
                storage = os.environ.get("VIDPIPE_FAL_STORAGE_URL", "").strip().rstrip("/")
                if storage:
                    fc.REST_URL = fc.CDN_URL = storage
                self._client = fal_client.SyncClient(key=require_key("fal"))
            return self._client

    @property
    def uploads(self) -> UploadCache:
        with self._lock:
            if self._uploads is None:
                self._uploads = UploadCache.default()
            return self._uploads

    def translate(self, model: str, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return fal_models.translate(model, request)

    def submit(self, ticket: Ticket) -> str:
        """POST the job to fal's queue once; `ticket.on_send(body)` sees the exact body first.

        Sent again only when the connection never opened, or on a 429 (fal queued nothing).
        """
        body = self.resolve_refs(ticket.body, ticket.workdir)
        import fal_client.client as fc

        url = (queue_url_override() or fc.QUEUE_URL_FORMAT) + ticket.endpoint
        headers = {"Authorization": f"Key {require_key('fal')}", "User-Agent": "vidpipe"}
        ctx = {"model": ticket.model, "job_id": ticket.job_id}
        ticket.on_send(body)
        sends = limited = 0
        while True:
            with map_fal_errors(submit=True, **ctx):
                try:  # a fresh connection: a reused keep-alive socket could fail after sending
                    with httpx.Client(timeout=SUBMIT_TIMEOUT, follow_redirects=False) as http:
                        resp = http.post(url, json=body, headers=headers)
                except (httpx.ConnectError, httpx.ConnectTimeout):
                    sends += 1
                    if sends >= SUBMIT_SEND_ATTEMPTS:
                        raise
                    time.sleep(SUBMIT_RETRY_BASE_S * 2 ** (sends - 1))
                    continue
            if resp.status_code == 429 and limited + 1 < SUBMIT_RATE_LIMIT_ATTEMPTS:
                limited += 1
                time.sleep(min(SUBMIT_RETRY_BASE_S * 2 ** (limited - 1), 10.0))
                continue
            break
        if resp.status_code >= 300:
            raise http_error("fal", response_failure(resp), submit=True, **ctx)
        try:
            rid = resp.json().get("request_id")
        except (ValueError, AttributeError):
            rid = None
        if not rid:  # accepted, but we cannot tell which request: unknown, never "not sent"
            raise ProviderError(f"fal answered the submit with HTTP {resp.status_code} but no request id",
                                provider="fal", code="bad_reply", **ctx)
        return str(rid)

    def find_request(self, endpoint: str, body: Any, *, since: datetime,
                     exclude: set[str]) -> fal_history.Found | None:
        """The request in fal's history (platform API) sent with exactly `body` since `since`, or None."""
        with map_fal_errors():
            return fal_history.find_request(endpoint, body, key=require_key("fal"), since=since, exclude=exclude)

    def poll(self, ticket: Ticket, *, deadline: float) -> dict[str, Any]:
        """Poll status until COMPLETED (or `deadline`), then GET the result by request id."""
        from fal_client.client import Completed, InProgress

        rid = str(ticket.request_id)
        ctx: dict[str, Any] = {"model": ticket.model, "job_id": ticket.job_id, "request_id": rid}
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
        return download(url, out, provider="fal")

    # -- local references ---------------------------------------------------------------------
    def resolve_refs(self, body: dict[str, Any], workdir: Path) -> dict[str, Any]:
        """A copy of `body` whose local files (and data URIs) are fal storage URLs.

        URLs are the input form every fal model takes; data URIs only some (providers.md §0).
        """

        def conv(node: Any, key: str | None) -> Any:
            if isinstance(node, dict):
                return {k: conv(v, k) for k, v in node.items()}
            if isinstance(node, list):
                return [conv(v, key) for v in node]
            if isinstance(node, str) and key not in TEXT_KEYS:
                if node.startswith("data:"):
                    return self._data_uri(node, workdir)
                if is_local(node):
                    return self.media_ref(Path(node).expanduser(), workdir, audio=bool(key and "audio" in key))
            return node

        return conv(body, None)

    def media_ref(self, path: Path, workdir: Path, *, audio: bool = False) -> str:
        """The fal storage URL of a local file, uploaded once per content (cached under the data root)."""
        if audio:
            path = to_mp3(path, workdir / ".refs")
        digest = file_sha256(path)
        with self._lock:
            one_at_a_time = self._digest_locks.setdefault(digest, threading.Lock())
        with one_at_a_time:  # two jobs sharing a reference upload it once
            cached = self.uploads.get(digest)
            if cached:
                return cached
            with map_fal_errors():
                url = self.upload(path)
            self.uploads.put(digest, url, name=path.name)
        return url

    def upload(self, path: Path) -> str:
        """fal storage upload through fal-client (CDN token, then POST /files/upload; its own retries)."""
        from fal_client.client import StorageSettings

        settings = StorageSettings(expires_in=UPLOAD_LIFETIME)  # type: ignore[arg-type]  # one of its literals
        return str(self.client.upload_file(path, lifecycle=settings))

    def _data_uri(self, uri: str, workdir: Path) -> str:
        """A data URI given by the user, written to a file named by its hash and uploaded like one."""
        head, _, data = uri.partition(",")
        mime = head[5:].split(";")[0] or "application/octet-stream"
        raw = base64.b64decode(data) if ";base64" in head else data.encode()

        refs = workdir / ".refs"
        refs.mkdir(parents=True, exist_ok=True)
        path = refs / f"{hashlib.sha256(raw).hexdigest()[:20]}{mimetypes.guess_extension(mime) or '.bin'}"
        if not path.exists():
            path.write_bytes(raw)
        return self.media_ref(path, workdir, audio=mime.startswith("audio/"))


def to_mp3(path: Path, cache_dir: Path) -> Path:
    """Reference audio as MP3 44.1 kHz (what every fal audio field accepts), cached by content."""
    if path.suffix.lower() == ".mp3":
        return path
    out = cache_dir / f"{file_sha256(path)[:20]}.mp3"
    if not out.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{threading.get_ident()}.mp3")
        run_ffmpeg(["-y", "-i", str(path), "-vn", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", str(tmp)],
                   what=f"converting reference audio {path.name} to MP3")
        tmp.replace(out)
    return out
