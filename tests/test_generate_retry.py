"""The one retry helper: reads are retried with backoff, a paid call runs once and says when its outcome is unknown."""

from __future__ import annotations

import time

import httpx
import pytest

import vidpipe.generate.retry as retry
from vidpipe.errors import ProviderError, ProviderRateLimited, ProviderRejected, ProviderTimeout, ProviderUnavailable
from vidpipe.generate.retry import SubmitUnknown, outcome_unknown, with_retries


def failing(errors: list[BaseException], value: str = "ok"):  # type: ignore[no-untyped-def]
    calls = [0]

    def fn() -> str:
        calls[0] += 1
        if errors:
            raise errors.pop(0)
        return value
    return fn, calls


def test_reads_are_retried_until_they_succeed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "_sleep", lambda s: None)
    fn, calls = failing([ProviderUnavailable("502"), ProviderTimeout("slow")])
    counter = [0]
    assert with_retries(fn, deadline=time.monotonic() + 60, counter=counter, what="poll") == "ok"
    assert calls[0] == 3 and counter[0] == 2


def test_a_paid_call_runs_once_even_on_a_transient_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "_sleep", lambda s: None)
    fn, calls = failing([ProviderRateLimited("429 after the SDK's retries")])
    with pytest.raises(ProviderRateLimited):
        with_retries(fn, deadline=time.monotonic() + 60, counter=[0], what="submit")
    assert calls[0] == 1


def _caused(exc: ProviderError, cause: BaseException) -> ProviderError:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize("exc,unknown", [
    (ProviderRejected("422 invalid"), False),
    (ProviderRateLimited("429"), False),
    (ProviderUnavailable("nginx 502, no request id", code="unavailable"), True),  # the app may have it
    (_caused(ProviderUnavailable("refused", code="connection"), httpx.ConnectError("refused")), False),
    (_caused(ProviderUnavailable("dns", code="connection"), httpx.ConnectTimeout("connect")), False),
    (_caused(ProviderUnavailable("pool", code="connection"), httpx.PoolTimeout("pool")), False),
    (_caused(ProviderTimeout("read", code="timeout"), httpx.ReadTimeout("read")), True),
    (_caused(ProviderTimeout("write", code="timeout"), httpx.WriteTimeout("write")), True),
    (ProviderError("fal answered 200 without a request id", code="bad_reply"), True),
    (_caused(ProviderUnavailable("reset", code="connection"), httpx.RemoteProtocolError("reset")), True),
    (ProviderTimeout("read timeout"), True),
    (ProviderError("fal 500 (request abc failed on fal's side)", code="server_error"), True),
])
def test_which_submit_failures_may_have_been_accepted(exc: ProviderError, unknown: bool) -> None:
    assert outcome_unknown(exc) is unknown
    fn, _ = failing([exc])
    with pytest.raises(SubmitUnknown if unknown else type(exc)) as got:
        with_retries(fn, deadline=time.monotonic() + 60, counter=[0], what="submit")
    if unknown:
        assert got.value.code == "submit_unknown" and got.value.__cause__ is exc
