"""How the assets fail: one line a person can act on, retries only for what can pass on a second try.

A QC failure or a bad spec is decided: retrying cannot change it, so it is raised as `dg.Failure`
(one-line description, metadata, no retry) — the run page and the partition show that line, not a stack
trace. A timeout, a rate limit, a provider outage or a DuckDB lock held elsewhere may pass a few seconds
later: those propagate unchanged and RETRY (the shot assets' RetryPolicy) runs the step again with
exponential backoff. The runner never pays twice, so a retry only resumes or re-reads.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import dagster as dg
import duckdb

from vidpipe.errors import ProviderRateLimited, ProviderTimeout, ProviderUnavailable, VidpipeError
from vidpipe.schema import QCReport

TRANSIENT = (ProviderTimeout, ProviderRateLimited, ProviderUnavailable, duckdb.IOException, TimeoutError,
             ConnectionError)
RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

F = TypeVar("F", bound=Callable[..., Any])


def one_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines() or [type(error).__name__])[0][:400]


def decided_failures(fn: F) -> F:
    """Wrap an asset body: a vidpipe error that is not transient becomes a one-line dg.Failure (no retry)."""

    def decided(exc: VidpipeError) -> dg.Failure:
        return dg.Failure(description=one_line(exc), metadata={"error": type(exc).__name__}, allow_retries=False)

    if inspect.isgeneratorfunction(fn):  # (an asset that yields only some of its checks' results)
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except (dg.Failure, *TRANSIENT):
                raise
            except VidpipeError as exc:
                raise decided(exc) from None

        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (dg.Failure, *TRANSIENT):
            raise
        except VidpipeError as exc:
            raise decided(exc) from None

    return wrapper  # type: ignore[return-value]


def qc_failure(key: str, report: QCReport, review_url: str) -> dg.Failure:
    """The shot failed QC: say which defect, what was measured, and what a person can do."""
    blocking = report.blocking_defects()
    if blocking:
        d = blocking[0]
        measured = f" ({d.detail})" if d.detail else (f" (value {d.value:g}, limit {d.threshold:g})"
                                                      if d.value is not None and d.threshold is not None else "")
        more = f" and {len(blocking) - 1} more" if len(blocking) > 1 else ""
        why = f"{d.code}{measured}{more}"
    else:
        overall = report.scores.overall if report.scores else "?"
        why = f"judged {overall}/5, below the threshold"
    return dg.Failure(
        description=f"{key} failed QC: {why} — accept it, pick another take or re-render (vidpipe status)",
        metadata={"defects": dg.MetadataValue.json([x.model_dump(mode="json") for x in blocking]),
                  "review": dg.MetadataValue.url(review_url)},
        allow_retries=False,
    )
