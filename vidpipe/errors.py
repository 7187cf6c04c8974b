"""One exception tree for vidpipe. Every error says what failed, which value, and what to do.

    VidpipeError
    ├── SpecError            bad episode / job / edit list (carries findings with codes)
    ├── ProviderError        a provider call failed (provider, model, job_id, request_id, code)
    │   ├── ProviderNotConfigured   a key or voice is missing (names where to set it, never a value)
    │   ├── ProviderTimeout         transient: the call timed out
    │   ├── ProviderRateLimited     transient: 429 after the SDK's own retries
    │   ├── ProviderUnavailable     transient: 5xx at the gateway / connection refused
    │   ├── ProviderRejected        the provider said no: auth, moderation, 4xx validation (never retried)
    │   │   └── UnsupportedOnModel  refused by vidpipe before sending (the model lacks a field/value/mode)
    │   ├── SubmitUnknown           a paid submit may or may not have been accepted: never resubmitted blindly
    │   ├── ResultMissing           the job finished but its output has no usable URL / image
    │   └── ResultUndecodable       the downloaded output is empty or not decodable media
    ├── MediaError
    │   ├── FfmpegNotFound
    │   └── FfmpegFailed
    ├── BudgetExceeded
    └── ProfileMissing
"""

from __future__ import annotations

from typing import Any


class VidpipeError(Exception):
    """Base of every error vidpipe raises on purpose; the CLI prints it as one line."""

    exit_code = 1


class SpecError(VidpipeError):
    """A spec file (episode, job, edit list, profile) is unreadable or invalid."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, findings: list[Any] | None = None):
        self.path = path
        self.findings = findings or []
        super().__init__(f"{path}: {message}" if path else message)


class ProviderError(VidpipeError):
    """A provider call failed; `code` is a stable snake_case name (tests and the ledger key on it)."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        job_id: str | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ):
        self.provider = provider
        self.model = model
        self.job_id = job_id
        self.request_id = request_id
        self.code = code
        super().__init__(message)


class ProviderNotConfigured(ProviderError):
    pass


class ProviderTimeout(ProviderError):
    pass


class ProviderRateLimited(ProviderError):
    pass


class ProviderRejected(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    pass


class UnsupportedOnModel(ProviderRejected, ValueError):
    """The chosen model cannot take this request (a field, a value or a mode it lacks)."""

    def __init__(self, message: str, *, model: str | None = None, provider: str | None = None):
        super().__init__(message, model=model, provider=provider, code="unsupported_on_model")


class SubmitUnknown(ProviderError):
    """A submit failed in a way that does not tell whether the provider accepted (and bills) it.

    Nothing may post the paid job again (no SDK layer either). The caller records it; the next run
    looks it up in the provider's request history (fal) and adopts what it finds, else a person
    decides (`--resubmit`). Code: `submit_unknown`.
    """

    def __init__(self, message: str, **kw: Any):
        kw["code"] = "submit_unknown"
        super().__init__(message, **kw)


class ResultMissing(ProviderError):
    """The provider said the job finished but its output has no usable video/image URL."""

    def __init__(self, message: str, **kw: Any):
        kw.setdefault("code", "result_missing")
        super().__init__(message, **kw)


class ResultUndecodable(ProviderError):
    """The downloaded output is empty or not a decodable video (never saved as a clip)."""

    def __init__(self, message: str, **kw: Any):
        kw.setdefault("code", "result_undecodable")
        super().__init__(message, **kw)


TRANSIENT = (ProviderRateLimited, ProviderUnavailable, ProviderTimeout)


class MediaError(VidpipeError):
    pass


class FfmpegNotFound(MediaError):
    pass


class FfmpegFailed(MediaError):
    def __init__(self, message: str, *, args: list[str] | None = None, stderr: str = ""):
        self.cmd = args or []
        self.stderr = stderr
        tail = "\n".join(stderr.strip().splitlines()[-8:])
        super().__init__(f"{message}\n{tail}" if tail else message)


class BudgetExceeded(VidpipeError):
    pass


class ProfileMissing(VidpipeError):
    pass


class ClaimTimeout(VidpipeError):
    """Another vidpipe process held a request's claim for longer than our deadline (vidpipe.generate.claims)."""


class NotFound(VidpipeError):
    """An episode, shot or take that does not exist (the review room answers 404)."""
