"""The one retry helper for provider calls (clips, stills, voice): backoff on transient errors, never on a paid POST.

    with_retries(fn, *, deadline, counter, what)

`what` names the call. Reads (`"poll"`, `"status"`, `"result"`, `"download"`, ...) are retried on
ProviderRateLimited / ProviderUnavailable / ProviderTimeout with exponential backoff until
`deadline` (time.monotonic()), counting each retry in `counter[0]`.

A call that pays — `what` is `"submit"` or starts with `"submit"` — is called exactly once, and
no layer below may repeat it either: the fal adapter owns its submit POST (fal-client would send
it up to 10 times), google-genai runs with one attempt, ElevenLabs with `max_retries=0`. When a
paid call fails after the request may have left this machine (a timeout, a reset mid-response,
any 5xx, a 200 without a request id), its outcome is unknown: that raises `SubmitUnknown` (code
`submit_unknown`) and the caller records it, never tries again. Only an explicit refusal (a 4xx,
a 429) or a connection that never opened (refused, DNS, connect timeout) is "not sent".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from vidpipe.errors import (
    ProviderError, ProviderNotConfigured, ProviderRateLimited, ProviderRejected, ProviderTimeout, ProviderUnavailable,
    SubmitUnknown,
)
from vidpipe.providers.base import NOT_SENT

T = TypeVar("T")
TRANSIENT = (ProviderRateLimited, ProviderUnavailable, ProviderTimeout)
MAX_RETRIES = 4          # retries of one read call (on top of the SDK's own)
RETRY_BASE_S = 2.0       # backoff base; tests set it to ~0
_sleep = time.sleep      # patched by tests

SUBMIT_UNKNOWN = "submit_unknown"


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


def submit_once(fn: Callable[[], T], *, sent: Callable[[], bool] = lambda: True) -> T:
    """Run a paid call once; an error after which the provider may hold the request becomes SubmitUnknown.

    `sent()` False: the call failed before its paid request was sent (preparing it: an upload, a
    file), so whatever the error, nothing can have been accepted."""
    try:
        return fn()
    except ProviderError as exc:
        if sent() and outcome_unknown(exc):
            raise SubmitUnknown(
                f"the submission's outcome is unknown ({exc}); the provider may have accepted and billed it",
                provider=exc.provider, model=exc.model, job_id=exc.job_id, request_id=exc.request_id,
            ) from exc
        raise


def outcome_unknown(exc: ProviderError) -> bool:
    """True unless the failed submission provably was not accepted: an explicit refusal, or a request
    that never left this machine. Everything else (timeouts, resets, any 5xx — a gateway's included,
    the app behind it may have queued the job — a reply without an id) may be billed."""
    if isinstance(exc, (ProviderRejected, ProviderRateLimited, ProviderNotConfigured)):
        return False  # an explicit refusal: nothing was queued
    if isinstance(exc.__cause__, NOT_SENT):
        return False  # the connection never opened
    return exc.code != "not_configured"
