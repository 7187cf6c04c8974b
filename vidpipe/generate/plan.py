"""Planning: validate, route and translate one job (no network), and the cache key that names it.

The cache key is what "the same paid request" means everywhere (claims, ledger, sidecars):
sha256 over model, endpoint, the translated wire body and the content hashes of its local refs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from vidpipe.pricing import estimate_clip
from vidpipe.providers import select_backend
from vidpipe.providers.base import Backend, UnsupportedOnModel
from vidpipe.providers.refs import local_refs, ref_durations, ref_hashes
from vidpipe.providers.registry import get_backend
from vidpipe.schema import CanonicalRequest, Job, describe_validation_error
from vidpipe.store import Store
from vidpipe.validate import check_job

Status = Literal["done", "failed", "invalid", "over_budget"]


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
    resumed: bool = False
    error: str | None = None
    error_code: str | None = None
    fallback_from: str | None = None
    retries: int = 0
    sidecar: str | None = None
    sha256: str | None = None
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

    Routing and validation are `validate.check_job`, the same call `vidpipe validate` makes;
    `refs` (a refcheck.RefPolicy) says where local references may come from.
    """
    r, findings = check_job(job, model=model, store=store, fallback=fallback, refs=refs, backend=backend)
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
    blob = json.dumps({"model": model, "endpoint": endpoint, "body": body, "refs": ref_hashes(local_refs(body))},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
