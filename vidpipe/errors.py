"""One exception tree for vidpipe. Every error says what failed, which value, and what to do.

    VidpipeError
    ├── SpecError            bad episode / job / edit list (carries findings with codes)
    ├── ProviderError        a provider call failed (provider, model, job_id, request_id)
    │   ├── ProviderNotConfigured   a key is missing (names the variable, never the value)
    │   ├── ProviderTimeout
    │   ├── ProviderRateLimited
    │   ├── ProviderRejected        moderation / 4xx validation (never retried)
    │   └── ProviderUnavailable     5xx / connection trouble (retried)
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
