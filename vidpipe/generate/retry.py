"""The one retry helper for provider calls (clips, stills, voice): backoff on transient errors, never on a paid POST.

    with_retries(fn, *, deadline, counter, what)

`what` names the call. Reads (`"poll"`, `"status"`, `"result"`, `"download"`, ...) are retried on
ProviderRateLimited / ProviderUnavailable / ProviderTimeout with exponential backoff until
`deadline` (time.monotonic()), counting each retry in `counter[0]`.

A call that pays — `what` is `"submit"` or starts with `"submit"` — is called exactly once. The
SDKs already retry their own POSTs where it is safe (fal-client: connection errors, 408/409/429,
nginx ingress 5xx); a second layer here could pay for the same job twice. When a paid call fails
after the request may have left this machine (a timeout, a reset mid-response, a 5xx from the
provider's app), its outcome is unknown: that raises `SubmitUnknown` (code `submit_unknown`) and
the caller must record it, not try again. A refusal that provably was not accepted (4xx, 429 after
the SDK's retries, a gateway 5xx, a connection that never opened) is re-raised as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from vidpipe.errors import (
    ProviderError, ProviderNotConfigured, ProviderRateLimited, ProviderRejected, ProviderTimeout, ProviderUnavailable,
    SubmitUnknown,
)

T = TypeVar("T")
TRANSIENT = (ProviderRateLimited, ProviderUnavailable, ProviderTimeout)
MAX_RETRIES = 4          # retries of one read call (on top of the SDK's own)
RETRY_BASE_S = 2.0       # backoff base; tests set it to ~0
_sleep = time.sleep      # patched by tests

SUBMIT_UNKNOWN = "submit_unknown"
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)  # the TCP connection never opened


def is_paid(what: str) -> bool:
    return what == "submit" or what.startswith("submit")


def with_retries(fn: Callable[[], T], *, deadline: float, counter: list[int], what: str) -> T:
    """Call `fn`; retry transient errors of reads with backoff until `deadline`; paid calls run once."""
    if is_paid(what):
        return submit_once(fn)
    attempt = 0
    while True:
        try:
            return fn()
        except TRANSIENT:
            attempt += 1
            delay = RETRY_BASE_S * (2 ** (attempt - 1))
            if attempt > MAX_RETRIES or time.monotonic() + delay > deadline:
                raise
            counter[0] += 1
            _sleep(delay)


def submit_once(fn: Callable[[], T]) -> T:
    """Run a paid call once; an error after which the provider may hold the request becomes SubmitUnknown."""
    try:
        return fn()
    except ProviderError as exc:
        if outcome_unknown(exc):
            raise SubmitUnknown(
                f"the submission's outcome is unknown ({exc}); the provider may have accepted and billed it",
                provider=exc.provider, model=exc.model, job_id=exc.job_id, request_id=exc.request_id,
            ) from exc
        raise


def outcome_unknown(exc: ProviderError) -> bool:
    """True when a failed submission may still have been accepted by the provider."""
    if isinstance(exc, (ProviderRejected, ProviderRateLimited, ProviderNotConfigured)):
        return False  # an explicit refusal: nothing was queued
    cause = exc.__cause__
    if isinstance(cause, NOT_SENT):
        return False
    if isinstance(exc, ProviderTimeout):
        return True  # sent, no answer
    if isinstance(exc, ProviderUnavailable):
        # A gateway answered 5xx without reaching the app (no request id): not queued. A dropped
        # connection after the request went out: unknown.
        return exc.code == "connection"
    return exc.code != "not_configured"  # e.g. a 5xx from the provider's app itself
