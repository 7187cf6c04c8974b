"""The smallest interface every generation backend implements, plus the errors they share.

A backend is split in two: a *pure* translator (canonical request → endpoint id + wire body,
table-tested, no I/O) and a client that submits, polls and fetches. The runner (generate.py)
only talks to this interface, so the offline preview, fal and Gemini go down one path.

    submit(ticket) -> request_id      pay here; the runner persists the id right after
    poll(ticket, deadline) -> result  resumable from a persisted id alone
    result_url(result) -> url         a named failure when the output is missing
    fetch(url, out)                   download once, retried from the same url by the runner
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlparse

import httpx

try:
    import httpx2
except ImportError:  # only there when an SDK brought it
    httpx2 = None  # type: ignore[assignment]

from vidpipe.errors import (  # noqa: F401 - re-exported: adapters and the runner import them from here
    ProviderError, ProviderRateLimited, ProviderRejected, ProviderTimeout, ProviderUnavailable, ResultMissing,
    ResultUndecodable, SubmitUnknown, UnsupportedOnModel,
)
from vidpipe.environment import KEY_ENV

DOWNLOAD_TIMEOUT = httpx.Timeout(120.0, connect=15.0)
MAX_REDIRECTS = 5


MODERATION_CODES = frozenset({"content_policy_violation", "model_moderated"})


def is_moderation(exc: BaseException) -> bool:
    """True for a moderation refusal (deterministic: never retried, may fall back)."""
    return isinstance(exc, ProviderRejected) and (exc.code or "") in MODERATION_CODES


@dataclass
class Ticket:
    """Everything a backend needs to submit, resume or fetch one generation."""

    job_id: str
    model: str
    endpoint: str
    body: dict[str, Any]
    workdir: Path
    request_id: str | None = None
    on_status: Callable[[str], None] = field(default=lambda _s: None, repr=False)
    # Called with the exact wire body just before a paid POST (the claim keeps it to find the request later).
    on_send: Callable[[dict[str, Any]], None] = field(default=lambda _b: None, repr=False)


class Backend(Protocol):
    """What the runner needs from a provider adapter."""

    NAME: str

    def translate(self, model: str, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(endpoint id, wire body) with local file paths left as they are (pure, no I/O)."""
        ...

    def submit(self, ticket: Ticket) -> str:
        """Submit and return the provider's request id. Calls `ticket.on_send(wire body)` right before the
        paid request leaves: a failure before that call is "not sent", after it maybe accepted."""
        ...

    def poll(self, ticket: Ticket, *, deadline: float) -> dict[str, Any]:
        """Wait for `ticket.request_id` to finish; return the result payload."""
        ...

    def result_url(self, result: dict[str, Any]) -> str:
        """The output's URL, or ResultMissing."""
        ...

    def fetch(self, url: str, out: Path) -> Path:
        """Download `url` to `out` (overwriting)."""
        ...


def video_url(result: dict[str, Any], *, provider: str) -> str:
    """`result["video"]["url"]` (the fal shape, also used by preview), else ResultMissing."""
    video = result.get("video") if isinstance(result, dict) else None
    url = video.get("url") if isinstance(video, dict) else (video if isinstance(video, str) else None)
    if not url:
        keys = ", ".join(sorted(result)) if isinstance(result, dict) else type(result).__name__
        raise ResultMissing(f"the result has no video URL (result keys: {keys or 'none'})", provider=provider)
    return str(url)


@dataclass(frozen=True)
class ClipInfo:
    duration_s: float
    width: int
    height: int
    has_audio: bool


def inspect_clip(path: Path) -> ClipInfo:
    """Open `path` with PyAV and decode one frame; empty or undecodable → ResultUndecodable.

    This is the gate between a provider's bytes and a saved clip: nothing that fails here is
    ever written as DIR/<id>.mp4.
    """
    import av

    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        raise ResultUndecodable("the provider returned an empty file (0 bytes)", code="result_empty")
    try:
        with av.open(str(path)) as container:
            streams = container.streams.video
            if not streams:
                raise ResultUndecodable(f"the result has no video stream ({size} bytes)")
            stream = streams[0]
            frame = next(container.decode(stream), None)
            if frame is None:
                raise ResultUndecodable(f"the result's video stream has no decodable frame ({size} bytes)")
            if container.duration:
                duration = container.duration / 1_000_000
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = 0.0
            return ClipInfo(round(duration, 3), frame.width, frame.height, bool(container.streams.audio))
    except ResultUndecodable:
        raise
    except (av.error.FFmpegError, StopIteration, OSError, ValueError) as exc:
        raise ResultUndecodable(
            f"the result is not a decodable video ({size} bytes: {exc.__class__.__name__})"
        ) from exc


# -- SDK errors → the vidpipe tree ---------------------------------------------------------------
@dataclass(frozen=True)
class HttpFailure:
    """An SDK's HTTP error in one shape; each adapter parses its SDK's exception into this."""

    status: int
    detail: str
    error_type: str | None = None  # fal `error_type`, Google `status`, ElevenLabs `detail.status`
    reached_app: bool = False      # fal: `x-fal-request-id` present — the app ran, the call may be billed


def http_error(provider: str, f: HttpFailure, *, submit: bool = False, **ctx: Any) -> ProviderError:
    """One status → class rule for every provider (the adapters only parse their SDK's error).

    An HTTP answer means the outcome is known, so `submit` changes nothing here (unlike transport_error).
    """
    ctx = {"provider": provider, **ctx}
    text = f"{provider} {f.status}: {f.detail}"
    code = f.error_type
    if f.status == 429:
        return ProviderRateLimited(f"{text} — rate limited after the client's own retries",
                                   code=code or "rate_limited", **ctx)
    if code in MODERATION_CODES:
        return ProviderRejected(f"{text} — moderation refused the request (not retried)", code=code, **ctx)
    if f.status in (401, 403):
        var = KEY_ENV.get(provider, "the provider key")
        return ProviderRejected(f"{provider} {f.status}: the key in {var} was refused ({f.detail}); check it",
                                code="unauthorized", **ctx)
    if f.status in (408, 504) and not f.reached_app:
        return ProviderTimeout(text, code=code or "timeout", **ctx)
    if f.status >= 500:
        if f.reached_app:  # the request reached the app and failed there: may be billed, never auto-resubmitted
            return ProviderError(f"{text} (the request failed on {provider}'s side)", code=code or "server_error",
                                 **ctx)
        return ProviderUnavailable(f"{text} (gateway error)", code=code or "unavailable", **ctx)
    return ProviderRejected(text, code=code or ("validation_error" if f.status == 422 else f"http_{f.status}"),
                            **ctx)


def _httpx(*names: str) -> tuple[type[BaseException], ...]:
    """httpx's exception classes, and httpx2's: google-genai 3.x sends through httpx2 (a fork under its own
    namespace, whose classes are not httpx's) when it is installed."""
    return tuple(getattr(mod, n) for mod in (httpx, httpx2) if mod is not None for n in names)


# Transport failures that happen before a request leaves this machine: safe to send again.
NOT_SENT = _httpx("ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol", "ProxyError",
                  "LocalProtocolError")
TIMEOUTS = _httpx("TimeoutException")
HTTP_ERRORS = _httpx("HTTPError")  # any transport or status failure of either httpx
TRANSPORT = _httpx("TransportError")
STATUS_ERRORS = _httpx("HTTPStatusError")
HTTP_ERRORS = _httpx("HTTPError")
UNREADABLE: tuple[type[BaseException], ...] = (*_httpx("ResponseNotRead"), UnicodeDecodeError)


def transport_error(provider: str, exc: BaseException, *, submit: bool = False, **ctx: Any) -> ProviderError:
    """httpx / socket trouble. A submit that may have reached the provider is SubmitUnknown."""
    ctx = {"provider": provider, **ctx}
    name = type(exc).__name__
    if isinstance(exc, NOT_SENT):
        return ProviderUnavailable(f"cannot reach {provider} ({name})", code="connection", **ctx)
    if submit:
        return SubmitUnknown(
            f"{provider} submit got no answer ({name}): the job may have been accepted and billed — it is not "
            "resubmitted automatically; check the provider's dashboard before running it again",
            **ctx)
    if isinstance(exc, (*TIMEOUTS, TimeoutError)):
        return ProviderTimeout(f"{provider} timed out ({name})", code="timeout", **ctx)
    return ProviderUnavailable(f"connection to {provider} failed ({name})", code="connection", **ctx)


Parser = Callable[[BaseException], "HttpFailure | ProviderError | None"]


def map_exception(provider: str, exc: BaseException, parse: Parser, *, submit: bool = False,
                  **ctx: Any) -> ProviderError | None:
    """The vidpipe error for an SDK/httpx exception, or None when it is not a provider error."""
    if isinstance(exc, ProviderError):
        return exc
    parsed = parse(exc)
    if isinstance(parsed, ProviderError):
        for k, v in ctx.items():  # the adapter's context (model, job, request id) on the SDK-specific error
            if getattr(parsed, k, None) is None:
                setattr(parsed, k, v)
        return parsed
    if isinstance(parsed, HttpFailure):
        return http_error(provider, parsed, submit=submit, **ctx)
    if isinstance(exc, STATUS_ERRORS):
        r = exc.response  # type: ignore[attr-defined]
        return http_error(provider, HttpFailure(r.status_code, _short(r)), submit=submit, **ctx)
    if isinstance(exc, (*TRANSPORT, TimeoutError)):
        return transport_error(provider, exc, submit=submit, **ctx)
    if isinstance(exc, HTTP_ERRORS):  # TooManyRedirects, DecodingError
        return ProviderUnavailable(f"{provider}: {type(exc).__name__}: {exc}", provider=provider,
                                   code="connection", **ctx)
    return None


@contextlib.contextmanager
def provider_errors(provider: str, parse: Parser, *, submit: bool = False, **ctx: Any) -> Iterator[None]:
    """Run an SDK call; its errors leave as vidpipe errors (`raise … from exc`), others untouched."""
    try:
        yield
    except Exception as exc:
        err = map_exception(provider, exc, parse, submit=submit, **ctx)
        if err is None or err is exc:
            raise
        raise err from exc


def _short(resp: Any) -> str:
    try:
        return resp.text[:300] or resp.reason_phrase
    except UNREADABLE:
        return resp.reason_phrase


# -- downloads -----------------------------------------------------------------------------------
def download(url: str, out: Path, *, provider: str, auth_for: Callable[[str], dict[str, str]] | None = None,
             timeout: httpx.Timeout = DOWNLOAD_TIMEOUT) -> Path:
    """Stream `url` to `out`, following redirects by hand so `auth_for(url)` decides per hop which
    headers go along (a key never crosses to another host). Failures → ProviderUnavailable."""
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            headers = auth_for(url) if auth_for else {}
            with httpx.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=False) as resp:
                if resp.is_redirect and resp.headers.get("location"):
                    url = urljoin(url, resp.headers["location"])
                    continue
                if resp.status_code != 200:
                    raise ProviderUnavailable(f"download of the result failed: HTTP {resp.status_code}",
                                              provider=provider, code="download_failed")
                with out.open("wb") as f:
                    for chunk in resp.iter_bytes(1 << 16):
                        f.write(chunk)
                return out
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"download of the result failed ({type(exc).__name__})", provider=provider,
                                  code="download_failed") from exc
    raise ProviderUnavailable(f"too many redirects downloading the result from {urlparse(url).netloc}",
                              provider=provider, code="download_failed")
