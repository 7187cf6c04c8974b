"""One job's life: cache → claim → submit once → persist → poll → download → verify → rename → record.

A paid request is never resubmitted automatically. Once a cache key has a request id (in its
claim, see claims.py) every later run resumes that request — status, result, download — whatever
went wrong before: a failed, truncated or empty download, a 5xx on the result, an undecodable
result, a local write error. Only `resubmit` (`vidpipe generate --resubmit JOB`) pays again, once
per run, and the ledger keeps both requests with their costs. A submission whose outcome is
unknown is recorded as `submit_unknown` and waits for a person.

Stages reported to `on_stage(job_id, stage)`: claimed, submitting, submitted, polling,
downloading, verified, done (also cached, failed, invalid, over_budget).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vidpipe.errors import ProviderError, VidpipeError
from vidpipe.generate.claims import Claims, Output
from vidpipe.generate.output import copy_verified, fetch_verified, record, shape_warnings, tmp_dir, trusted, verify_clip
from vidpipe.generate.plan import GenerationResult, Plan, plan_job
from vidpipe.generate.records import base_fields, finish, request_fields, side_path, write_side
from vidpipe.generate.retry import TRANSIENT, with_retries
from vidpipe.generate.submit import Submitter
from vidpipe.ledger import Ledger, not_saved_status
from vidpipe.pricing import actual_clip_cost
from vidpipe.providers.base import Backend, Ticket, is_moderation
from vidpipe.providers.registry import get_backend
from vidpipe.schema import Job
from vidpipe.sidecar import read_sidecar
from vidpipe.store import Store

FALLBACK_MODEL = "kling-3.0-omni"
PROVIDER_FAILED = frozenset({"job_failed", "bad_status"})  # the provider ran the request and it failed
StageHook = Callable[[str, str], None]


def _iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Runner:
    """State shared by the worker threads of one generate_jobs call."""

    def __init__(self, out_dir: Path, *, backend: str | None, fallback: bool, budget_usd: float | None,
                 ledger: Ledger | None, deadline_s: float, claims: Claims, resubmit: set[str] | None = None,
                 on_stage: StageHook | None = None, refs: Any = None):
        self.out_dir = out_dir
        self.requested_backend = backend
        self.fallback = fallback
        self.budget_usd = budget_usd
        self.ledger = ledger
        self.deadline_s = deadline_s
        self.claims = claims
        self.resubmit = set(resubmit or ())
        self.on_stage = on_stage
        self.refs = refs  # refcheck.RefPolicy for local references (None: the project's roots)
        self.backends: dict[str, Backend] = {}
        self._guard = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.committed_usd = 0.0
        self.refused: dict[str, str] = {}  # job_id -> budget message
        self.submitter = Submitter(out_dir, claims=claims, ledger=ledger, stage=self.stage)

    # -- planning ---------------------------------------------------------------------------
    def backend(self, name: str) -> Backend:
        with self._guard:
            if name not in self.backends:
                self.backends[name] = get_backend(name)
            return self.backends[name]

    def plan(self, job: Job, *, model: str | None, store: Store | None) -> Plan:
        """Validate, route and translate `job`; adapters are built once and shared by the threads."""
        return plan_job(job, backend=self.requested_backend, model=model, store=store, resolve=self.backend,
                        refs=self.refs)

    def prefetch(self, plans: list[Plan]) -> None:
        """Ledger rows of every key in a few queries (older runs recorded request ids only there)."""
        if self.ledger is not None:
            self.submitter.known = self.ledger.prefetch(p.cache_key for p in plans if p.cache_key)

    def reserve_budget(self, plans: list[Plan]) -> None:
        """In job order: new paid submissions that would exceed the budget are refused up front."""
        if self.budget_usd is None:
            return
        for p in plans:
            if p.errors or p.est_cost_usd <= 0 or not self._would_submit(p):
                continue
            if self.committed_usd + p.est_cost_usd > self.budget_usd + 1e-9:
                self.refused[p.job.id] = self._budget_message(p.job.id, p.model, p.est_cost_usd)
            else:
                self.committed_usd += p.est_cost_usd

    def _would_submit(self, p: Plan) -> bool:
        if p.job.id in self.resubmit:
            return True
        claim = self.claims.read(p.cache_key)
        return not (claim and (claim.request_id or claim.status != "done")) and not self.submitter.legacy_rid(p)

    def _budget_message(self, job_id: str, model: str, est: float) -> str:
        return (f"job {job_id} on {model} would cost ~${est:.2f} (estimate); budget ${self.budget_usd:.2f}, "
                f"already committed ${self.committed_usd:.2f} in this run — refused (over by "
                f"${self.committed_usd + est - (self.budget_usd or 0):.2f})")

    def stage(self, job_id: str, stage: str) -> None:
        if self.on_stage is not None:
            self.on_stage(job_id, stage)

    # -- one job ----------------------------------------------------------------------------
    def run(self, plan: Plan) -> GenerationResult:
        job = plan.job
        if plan.errors:
            code, msg = plan.errors[0]
            more = f" (+{len(plan.errors) - 1} more)" if len(plan.errors) > 1 else ""
            self.stage(job.id, "invalid")
            return finish(self.out_dir, plan, GenerationResult(
                job_id=job.id, status="invalid", model=plan.model, backend=plan.backend, endpoint=plan.endpoint or None,
                error=f"{code}: {msg}{more}", error_code=code))
        if job.id in self.refused:
            self.stage(job.id, "over_budget")
            return finish(self.out_dir, plan, GenerationResult(
                job_id=job.id, status="over_budget", model=plan.model, backend=plan.backend, endpoint=plan.endpoint,
                est_cost_usd=plan.est_cost_usd, error=self.refused[job.id], error_code="budget_exceeded"))
        try:
            return self._attempt(plan, fallback_from=None)
        except ProviderError as exc:
            if is_moderation(exc) and self.fallback and plan.model != FALLBACK_MODEL:
                return self._fall_back(plan, exc)
            return self._failed(plan, exc)
        except (VidpipeError, OSError) as exc:  # media conversion, disk: this job fails, the run goes on
            return self._failed(plan, ProviderError(f"{type(exc).__name__}: {exc}", code=type(exc).__name__))

    def _fall_back(self, plan: Plan, exc: ProviderError) -> GenerationResult:
        """Moderation refused the job: reroute to kling-3.0-omni (a different moderation gateway)."""
        requested = None if self.requested_backend == "gemini" else self.requested_backend
        alt = plan_job(plan.job, backend=requested, fallback=True, resolve=self.backend, refs=self.refs)
        why = f"{exc.code} on {plan.model}: {exc}"
        if alt.errors:
            return self._failed(plan, exc, extra=f"; fallback to {FALLBACK_MODEL} impossible — {alt.errors[0][1]}")
        if self.budget_usd is not None and self._would_submit(alt):
            with self._guard:
                if self.committed_usd + alt.est_cost_usd > self.budget_usd + 1e-9:
                    msg = self._budget_message(plan.job.id, alt.model, alt.est_cost_usd)
                    return finish(self.out_dir, alt, GenerationResult(
                        job_id=plan.job.id, status="over_budget", model=alt.model, backend=alt.backend,
                        endpoint=alt.endpoint, est_cost_usd=alt.est_cost_usd, fallback_from=plan.model,
                        error=f"{why}; fallback refused: {msg}", error_code="budget_exceeded"))
                self.committed_usd += alt.est_cost_usd
        try:
            return self._attempt(alt, fallback_from=plan.model)
        except ProviderError as exc2:
            return self._failed(alt, exc2, fallback_from=plan.model, extra=f" (after {why})")
        except (VidpipeError, OSError) as exc2:
            err = ProviderError(f"{type(exc2).__name__}: {exc2}", code=type(exc2).__name__)
            return self._failed(alt, err, fallback_from=plan.model, extra=f" (after {why})")

    def _key_lock(self, key: str) -> threading.Lock:
        """In this process one thread owns a key for its whole life (identical jobs are sent once)."""
        with self._guard:
            return self._key_locks.setdefault(key, threading.Lock())

    def _attempt(self, plan: Plan, *, fallback_from: str | None) -> GenerationResult:
        impl = self.backend(plan.backend)
        out = self.out_dir / f"{plan.job.id}.mp4"
        deadline = time.monotonic() + self.deadline_s
        with self._key_lock(plan.cache_key):
            force = plan.job.id in self.resubmit and plan.cache_key not in self.submitter.resubmitted
            if not force:
                hit = self._cached(plan, out, fallback_from)
                if hit is not None:
                    return hit
            timings: dict[str, Any] = {"started_at": _iso()}
            rid, resumed = self.submitter.claim(plan, impl, force=force, deadline=deadline,
                                                fallback_from=fallback_from, timings=timings)
            return self._resume(plan, impl, rid, out, resumed=resumed, deadline=deadline,
                                fallback_from=fallback_from, timings=timings)

    # -- cache ------------------------------------------------------------------------------
    def _cached(self, plan: Plan, out: Path, fallback_from: str | None) -> GenerationResult | None:
        """A verified output of this key: ours (sidecar), another folder's (claim), or a pre-hash sidecar."""
        side = read_sidecar(side_path(self.out_dir, plan)) or {}
        same = side.get("cache_key") == plan.cache_key and side.get("status") == "done"
        if same and side.get("output"):
            try:
                rec = trusted(Output.model_validate(side["output"]))
            except ValidationError:
                rec = None
            if rec is not None and Path(rec.path) == out:
                return self._hit(plan, side.get("request_id"), rec, fallback_from)
        claim = self.claims.read(plan.cache_key)
        rec = trusted(claim.output) if claim else None
        if claim is not None and rec is not None:
            if Path(rec.path) != out:
                rec = copy_verified(rec, out)
            return self._hit(plan, claim.request_id, rec, fallback_from)
        if same and not side.get("output") and out.exists():  # written before outputs were hashed
            try:
                info = verify_clip(out)
            except ProviderError:
                return None
            return self._hit(plan, side.get("request_id"), record(out, duration_s=info.duration_s), fallback_from)
        return None

    def _hit(self, plan: Plan, request_id: str | None, rec: Output, fallback_from: str | None) -> GenerationResult:
        self.stage(plan.job.id, "cached")
        row = self.submitter.known.get(plan.cache_key) or {}
        if self.ledger is not None and row.get("status") != "done":  # e.g. a killed run's batched rows were lost
            self.ledger.done(plan.cache_key, request_id, gen=base_fields(plan), req=request_fields(plan),
                             output_path=rec.path, cost_usd=None, duration_s=rec.duration_s, durable=False)
        res = GenerationResult(
            job_id=plan.job.id, status="done", path=rec.path, model=plan.model, endpoint=plan.endpoint,
            backend=plan.backend, request_id=request_id, cache_hit=True, fallback_from=fallback_from,
            duration_s=rec.duration_s, sha256=rec.sha256)
        return finish(self.out_dir, plan, res, timings={"cache_hit_at": _iso()}, output=rec)

    # -- resume: poll → download → verify → record -------------------------------------------
    def _resume(self, plan: Plan, impl: Backend, rid: str, out: Path, *, resumed: bool, deadline: float,
                fallback_from: str | None, timings: dict[str, Any]) -> GenerationResult:
        job = plan.job
        retries = [0]
        t0 = time.monotonic()
        if resumed:
            timings["resumed"] = True
        ticket = Ticket(job.id, plan.model, plan.endpoint, plan.body, tmp_dir(self.out_dir), request_id=rid,
                        on_status=lambda s: self.stage(job.id, "polling"))
        completed = False
        try:
            self.stage(job.id, "polling")
            result = with_retries(lambda: impl.poll(ticket, deadline=deadline), deadline=deadline,
                                  counter=retries, what="poll")
            completed = True
            url = impl.result_url(result)
            self.stage(job.id, "downloading")
            info, rec = fetch_verified(impl, url, out, deadline=deadline, counter=retries,
                                       before_rename=lambda: self.stage(job.id, "verified"))
        except BaseException as exc:
            err = self._not_saved(plan, rid, exc, completed=completed, fallback_from=fallback_from)
            if err is exc:
                raise
            raise err from exc
        timings["finished_at"] = _iso()
        timings["total_s"] = round(time.monotonic() - t0, 3)
        cost = actual_clip_cost(plan.model, plan.backend, plan.request, info.duration_s, ref_seconds=plan.ref_seconds)
        paid = plan.backend != "preview"
        with self.claims.hold(plan.cache_key, deadline=deadline, job_id=job.id):
            claim = self.claims.read(plan.cache_key)
            if claim is not None and claim.request_id == rid:
                claim.status, claim.output = "done", rec
                self.claims.write(claim, durable=paid)
        if self.ledger is not None:
            self.ledger.done(plan.cache_key, rid, gen=base_fields(plan), req=request_fields(plan), output_path=str(out),
                             cost_usd=cost, duration_s=info.duration_s, retries=retries[0],
                             fallback_from=fallback_from, durable=paid)
        res = GenerationResult(
            job_id=job.id, status="done", path=str(out), model=plan.model, endpoint=plan.endpoint,
            backend=plan.backend, request_id=rid, est_cost_usd=0.0 if resumed else plan.est_cost_usd, cost_usd=cost,
            resumed=resumed, fallback_from=fallback_from, retries=retries[0], duration_s=info.duration_s,
            sha256=rec.sha256, warnings=shape_warnings(plan.model, plan.backend, plan.request, info))
        self.stage(job.id, "done")
        return finish(self.out_dir, plan, res, timings=timings, clip=info.__dict__, output=rec)

    def _not_saved(self, plan: Plan, rid: str, exc: BaseException, *, completed: bool,
                   fallback_from: str | None) -> BaseException:
        """The request stays this key's request: record why nothing was saved (and what it may have cost).

        Returns the error to raise: provider and local errors carry the request id and how to go on."""
        code = getattr(exc, "code", None) or type(exc).__name__
        status = not_saved_status(provider_failed=is_moderation(exc) or code in PROVIDER_FAILED,
                                  maybe_running=isinstance(exc, TRANSIENT) and not completed)
        text = f"{exc}" if isinstance(exc, ProviderError) else f"{type(exc).__name__}: {exc}"
        msg = text[:1500] if status == "failed" else (
            f"{text[:1500]} — request {rid} is kept: a rerun resumes it at no new cost; "
            f"--resubmit {plan.job.id} pays for a new one")
        err: BaseException = exc
        if isinstance(exc, ProviderError):
            exc.request_id = exc.request_id or rid
            exc.args = (msg,)
        elif isinstance(exc, Exception):
            err = ProviderError(msg, code=code, request_id=rid, model=plan.model, job_id=plan.job.id)
        if self.ledger is not None:
            try:
                self.ledger.not_saved(plan.cache_key, rid, status, gen=base_fields(plan), req=request_fields(plan),
                                      error=msg, fallback_from=fallback_from)
            except Exception:  # noqa: BLE001 - never hide the original error behind a ledger one
                pass
        try:
            write_side(self.out_dir, plan, {"status": status, "request_id": rid, "error": msg,
                                            "fallback_from": fallback_from})
        except OSError:
            pass
        return err

    def _failed(self, plan: Plan, exc: ProviderError, *, fallback_from: str | None = None,
                extra: str = "") -> GenerationResult:
        self.stage(plan.job.id, "failed")
        msg = f"{exc}{extra}"
        try:
            claim = self.claims.read(plan.cache_key) if plan.cache_key else None
        except VidpipeError:  # an unreadable claim: the error says so; it may record a request, so no "failed" row
            claim, exc.code = None, exc.code or "claim_unreadable"
        rid = exc.request_id or (claim.request_id if claim else None)
        if plan.cache_key and self.ledger is not None and rid is None and exc.code != "submit_unknown":
            self.ledger.failed(plan.cache_key, gen=base_fields(plan), error=msg, fallback_from=fallback_from)
        return finish(self.out_dir, plan, GenerationResult(
            job_id=plan.job.id, status="failed", model=plan.model, endpoint=plan.endpoint, backend=plan.backend,
            request_id=rid, est_cost_usd=plan.est_cost_usd, error=msg,
            error_code=exc.code or type(exc).__name__, fallback_from=fallback_from))
