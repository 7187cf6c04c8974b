"""The generation runner: validate, translate, submit concurrently, resume, cache, fall back, download.

Never pay twice: a cache key (model, endpoint, translated body, content of local refs) is
looked up before anything is sent; the provider's request_id goes to DuckDB and the sidecar
`DIR/<id>.json` *before* polling, so a killed run resumes polling instead of resubmitting.
Every backend (offline preview included) goes down this one path.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from vidpipe.sidecar import read_sidecar, write_sidecar  # noqa: F401 - used by _runner via g.*
from vidpipe.errors import (
    ProviderError, ProviderRateLimited, ProviderTimeout, ProviderUnavailable,
)
from vidpipe.ledger import Ledger
from vidpipe.pricing import estimate_clip
from vidpipe.providers import get_backend, select_backend
from vidpipe.providers.base import Backend, ClipInfo, UnsupportedOnModel, inspect_clip
from vidpipe.providers.refs import local_refs, ref_durations, ref_hashes
from vidpipe.schema import CanonicalRequest, Job, describe_validation_error
from vidpipe.store import Store

Status = Literal["done", "failed", "invalid", "over_budget"]
FALLBACK_MODEL = "kling-3.0-omni"
TRANSIENT = (ProviderRateLimited, ProviderUnavailable, ProviderTimeout)
MAX_RETRIES = 4          # runner-level retries of one call (on top of the SDK's own)
RETRY_BASE_S = 2.0       # backoff base; tests set it to ~0
DOWNLOAD_ATTEMPTS = 3    # the same result URL is fetched up to this many times
DEADLINE_S = 1800.0      # a job that has not finished in this long fails (its id stays resumable)
_sleep = time.sleep      # patched by tests


class GenerationResult(BaseModel):
    """What happened to one job (also the shape of a manifest entry)."""

    job_id: str
    status: Status
    path: str | None = None
    model: str | None = None
    endpoint: str | None = None
    backend: str | None = None
    request_id: str | None = None
    est_cost_usd: float = 0.0
    cost_usd: float = 0.0
    cache_hit: bool = False
    error: str | None = None
    error_code: str | None = None
    fallback_from: str | None = None
    retries: int = 0
    sidecar: str | None = None
    duration_s: float | None = None
    warnings: list[str] = Field(default_factory=list)


@dataclass
class Plan:
    """A job after validation, routing and translation: what would be sent, and for how much."""

    job: Job
    model: str
    backend: str
    endpoint: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    cache_key: str = ""
    est_cost_usd: float = 0.0
    ref_seconds: dict[str, float] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)  # canonical, defaults filled in
    errors: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    route_reason: str = ""


def plan_job(job: Job, *, backend: str | None = None, model: str | None = None,
             store: Store | None = None, resolve: Callable[[str], Backend] | None = None,
             fallback: bool = False, refs: Any = None) -> Plan:
    """Validate, route and translate one job (no network). Errors land in `Plan.errors`.

    Routing and validation are `validate.check_job`, the same call `vidpipe validate` makes.
    """
    from vidpipe.validate import check_job

    r, findings = check_job(job, model=model, store=store, fallback=fallback, refs=refs)
    errors = [(f.code, f.message) for f in findings if f.severity == "error"]
    chosen, reason = r.model, r.reason
    name = select_backend(backend, chosen)
    plan = Plan(job=job, model=chosen, backend=name, errors=errors, route_reason=reason)
    if errors:
        return plan
    try:
        plan.request = CanonicalRequest.model_validate(job.input).body()
    except ValidationError as exc:
        plan.errors.append(("invalid_request", describe_validation_error(exc)))
        return plan
    impl = (resolve or get_backend)(name)
    try:
        plan.endpoint, plan.body = impl.translate(chosen, dict(plan.request))
    except UnsupportedOnModel as exc:
        plan.errors.append(("unsupported_on_model", str(exc)))
        return plan
    plan.ref_seconds = ref_durations(plan.request)
    plan.est_cost_usd = estimate_clip(chosen, name, plan.request, ref_seconds=plan.ref_seconds).usd
    plan.cache_key = cache_key(chosen, plan.endpoint, plan.body)
    return plan


def cache_key(model: str, endpoint: str, body: dict[str, Any]) -> str:
    """sha256 over model, endpoint, translated body and the content hashes of its local refs."""
    import hashlib

    blob = json.dumps({"model": model, "endpoint": endpoint, "body": body, "refs": ref_hashes(local_refs(body))},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def generate_jobs(jobs: list[Job], out_dir: Path, *, backend: str | None = None, model: str | None = None,
                  fallback: bool = False, budget_usd: float | None = None, concurrency: int = 4,
                  store: Store | None = None, progress: bool = False,
                  deadline_s: float = DEADLINE_S,
                  on_plans: Callable[[list[Plan]], None] | None = None, refs: Any = None) -> list[GenerationResult]:
    """Generate every job into `out_dir` (DIR/<id>.mp4, DIR/<id>.json, DIR/manifest.json).

    Invalid jobs are reported and never submitted; the rest run `concurrency` at a time.
    `on_plans` sees every plan (model, backend, estimate) before anything is submitted.
    `refs` (a refcheck.RefPolicy) says where local references may come from (default: the project's roots).
    Returns one result per job, in input order.
    """
    from vidpipe._runner import Runner

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runner = Runner(out_dir, backend=backend, fallback=fallback, budget_usd=budget_usd,
                    ledger=Ledger(store) if store is not None else None, deadline_s=deadline_s)
    runner.refs = refs
    plans = [runner.plan(job, model=model, store=store) for job in jobs]
    runner.reserve_budget(plans)
    if on_plans is not None:
        on_plans(plans)
    with runner.progress(plans, enabled=progress):
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="vidpipe-gen") as pool:
            results = list(pool.map(runner.run, plans))
    runner.write_manifest(results)
    return results


def with_retries(fn: Any, *, deadline: float, counter: list[int], what: str) -> Any:
    """Call `fn`, retrying transient provider errors with exponential backoff until `deadline`."""
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


def fetch_verified(impl: Backend, url: str, out: Path, *, deadline: float, counter: list[int]) -> ClipInfo:
    """Download `url` (retried from the same URL) to a temp file, verify it, then move it to `out`."""
    tmp = out.with_name(f".{out.name}.part")
    for attempt in range(DOWNLOAD_ATTEMPTS):
        try:
            impl.fetch(url, tmp)
            break
        except (ProviderError, OSError) as exc:
            if attempt + 1 == DOWNLOAD_ATTEMPTS or time.monotonic() > deadline:
                tmp.unlink(missing_ok=True)
                raise ProviderUnavailable(
                    f"download failed {DOWNLOAD_ATTEMPTS} times from the result URL: {exc}", code="download_failed"
                ) from exc
            counter[0] += 1
            _sleep(RETRY_BASE_S * (2 ** attempt))
    try:
        info = inspect_clip(tmp)
    except ProviderError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    return info


class _Lockbox:
    """One lock per cache key, so identical requests in one run are sent once."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
