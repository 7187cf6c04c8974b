"""Internals of generate.generate_jobs: one job's life (cache → budget → submit → persist → poll →
download → verify → record), budget reservation, progress display and the manifest.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vidpipe import generate as g
from vidpipe.errors import ProviderError, VidpipeError
from vidpipe.ledger import Ledger
from vidpipe.pricing import actual_clip_cost, veo_seconds
from vidpipe.providers.base import Backend, Ticket, is_moderation
from vidpipe.schema import Job
from vidpipe.store import Store

ACTIVE = ("submitted", "running")


def _iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Runner:
    """State shared by the worker threads of one generate_jobs call."""

    def __init__(self, out_dir: Path, *, backend: str | None, fallback: bool, budget_usd: float | None,
                 ledger: Ledger | None, deadline_s: float):
        self.out_dir = out_dir
        self.requested_backend = backend
        self.fallback = fallback
        self.budget_usd = budget_usd
        self.ledger = ledger
        self.deadline_s = deadline_s
        self.refs: Any = None  # refcheck.RefPolicy for local references (None: the project's roots)
        self.backends: dict[str, Backend] = {}
        self._backend_lock = threading.Lock()
        self._budget_lock = threading.Lock()
        self.committed_usd = 0.0
        self.refused: dict[str, str] = {}  # job_id -> BudgetExceeded message
        self.locks = g._Lockbox()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    # -- planning ---------------------------------------------------------------------------
    def backend(self, name: str) -> Backend:
        with self._backend_lock:
            if name not in self.backends:
                from vidpipe.providers import get_backend

                self.backends[name] = get_backend(name)
            return self.backends[name]

    def plan(self, job: Job, *, model: str | None, store: Store | None) -> g.Plan:
        """Validate, route and translate `job`; adapters are built once and shared by the threads."""
        return g.plan_job(job, backend=self.requested_backend, model=model, store=store, resolve=self.backend,
                          refs=self.refs)

    def reserve_budget(self, plans: list[g.Plan]) -> None:
        """In job order: new paid submissions that would exceed the budget are refused up front."""
        if self.budget_usd is None:
            return
        for p in plans:
            if p.errors or p.est_cost_usd <= 0 or self._existing(p) is not None:
                continue
            if self.committed_usd + p.est_cost_usd > self.budget_usd + 1e-9:
                self.refused[p.job.id] = self._budget_message(p.job.id, p.model, p.est_cost_usd)
            else:
                self.committed_usd += p.est_cost_usd

    def _budget_message(self, job_id: str, model: str, est: float) -> str:
        return (f"job {job_id} on {model} would cost ~${est:.2f} (estimate); budget ${self.budget_usd:.2f}, "
                f"already committed ${self.committed_usd:.2f} in this run — refused (over by "
                f"${self.committed_usd + est - (self.budget_usd or 0):.2f})")

    # -- one job ----------------------------------------------------------------------------
    def run(self, plan: g.Plan) -> g.GenerationResult:
        job = plan.job
        if plan.errors:
            code, msg = plan.errors[0]
            more = f" (+{len(plan.errors) - 1} more)" if len(plan.errors) > 1 else ""
            self.status(job.id, "invalid")
            return self._finish(plan, g.GenerationResult(
                job_id=job.id, status="invalid", model=plan.model, backend=plan.backend, endpoint=plan.endpoint or None,
                error=f"{code}: {msg}{more}", error_code=code))
        if job.id in self.refused:
            self.status(job.id, "over budget")
            return self._finish(plan, g.GenerationResult(
                job_id=job.id, status="over_budget", model=plan.model, backend=plan.backend, endpoint=plan.endpoint,
                est_cost_usd=plan.est_cost_usd, error=self.refused[job.id], error_code="budget_exceeded"))
        try:
            return self._attempt(plan, fallback_from=None)
        except ProviderError as exc:
            if is_moderation(exc) and self.fallback and plan.model != g.FALLBACK_MODEL:
                return self._fall_back(plan, exc)
            return self._failed(plan, exc)
        except (VidpipeError, OSError) as exc:  # media conversion, disk: this job fails, the run goes on
            return self._failed(plan, ProviderError(f"{type(exc).__name__}: {exc}", code=type(exc).__name__))

    def _fall_back(self, plan: g.Plan, exc: ProviderError) -> g.GenerationResult:
        """Moderation refused the job: reroute to kling-3.0-omni (a different moderation gateway)."""
        requested = None if self.requested_backend == "gemini" else self.requested_backend
        alt = g.plan_job(plan.job, backend=requested, fallback=True, resolve=self.backend, refs=self.refs)
        why = f"{exc.code} on {plan.model}: {exc}"
        if alt.errors:
            code, msg = alt.errors[0]
            hint = f"; fallback to {g.FALLBACK_MODEL} impossible — {msg}"
            return self._failed(plan, exc, extra=hint)
        if self.budget_usd is not None:
            with self._budget_lock:
                if self.committed_usd + alt.est_cost_usd > self.budget_usd + 1e-9:
                    msg = self._budget_message(plan.job.id, alt.model, alt.est_cost_usd)
                    return self._finish(alt, g.GenerationResult(
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

    def _existing(self, plan: g.Plan) -> dict[str, Any] | None:
        """The ledger row (or, without a store, the sidecar) already holding this cache key."""
        row = self.ledger.get(plan.cache_key) if self.ledger else None
        if row is None:
            side = g.read_sidecar(self.out_dir / f"{plan.job.id}.json")
            if side and side.get("cache_key") == plan.cache_key and side.get("request_id"):
                row = {"status": side.get("status"), "request_id": side.get("request_id"),
                       "output_path": side.get("path"), "cost_usd": side.get("cost_usd"),
                       "duration_s": (side.get("clip") or {}).get("duration_s")}
        return row

    def _attempt(self, plan: g.Plan, *, fallback_from: str | None) -> g.GenerationResult:
        job, impl = plan.job, self.backend(plan.backend)
        out = self.out_dir / f"{job.id}.mp4"
        retries = [0]
        timings: dict[str, Any] = {"started_at": _iso()}
        t0 = time.monotonic()
        deadline = t0 + self.deadline_s
        with self.locks.get(plan.cache_key):
            row = self._existing(plan)
            if row and row.get("status") == "done" and row.get("output_path") and Path(row["output_path"]).exists():
                return self._cache_hit(plan, row, out, fallback_from)
            ticket = Ticket(job.id, plan.model, plan.endpoint, plan.body, self.out_dir,
                            on_status=lambda s: self.status(job.id, s))
            resumed = bool(row and row.get("request_id") and row.get("status") in (*ACTIVE, "done"))
            if resumed:
                ticket.request_id = str(row["request_id"])  # type: ignore[index]
                timings["resumed"] = True
            else:
                self.status(job.id, "submitting")
                ticket.request_id = g.with_retries(lambda: impl.submit(ticket), deadline=deadline,
                                                   counter=retries, what="submit")
                timings["submitted_at"] = _iso()
            # Persist the request id BEFORE polling: a killed run resumes here, never resubmits.
            self._persist(plan, "submitted", ticket.request_id, retries[0], fallback_from, timings)
            self.status(job.id, "running")
            result = g.with_retries(lambda: impl.poll(ticket, deadline=deadline), deadline=deadline,
                                    counter=retries, what="poll")
            url = impl.result_url(result)
            self.status(job.id, "downloading")
            self._record(plan.cache_key, status="running", result_url=url if not url.startswith("file:") else None)
            info = g.fetch_verified(impl, url, out, deadline=deadline, counter=retries)
        timings["finished_at"] = _iso()
        timings["total_s"] = round(time.monotonic() - t0, 3)
        cost = actual_clip_cost(plan.model, plan.backend, plan.request, info.duration_s, ref_seconds=plan.ref_seconds)
        res = g.GenerationResult(
            job_id=job.id, status="done", path=str(out), model=plan.model, endpoint=plan.endpoint,
            backend=plan.backend, request_id=ticket.request_id, est_cost_usd=plan.est_cost_usd, cost_usd=cost,
            fallback_from=fallback_from, retries=retries[0], duration_s=info.duration_s,
            warnings=shape_warnings(plan, info))
        self._record(plan.cache_key, status="done", output_path=str(out), cost_usd=cost, duration_s=info.duration_s,
                     retries=retries[0], error=None)
        self.status(job.id, "done")
        return self._finish(plan, res, timings=timings, clip=info.__dict__)

    def _cache_hit(self, plan: g.Plan, row: dict[str, Any], out: Path, fallback_from: str | None) -> g.GenerationResult:
        src = Path(row["output_path"])
        if src.resolve() != out.resolve():
            shutil.copyfile(src, out)
        self.status(plan.job.id, "done (cached)")
        res = g.GenerationResult(
            job_id=plan.job.id, status="done", path=str(out), model=plan.model, endpoint=plan.endpoint,
            backend=plan.backend, request_id=row.get("request_id"), est_cost_usd=0.0, cost_usd=0.0,
            cache_hit=True, fallback_from=fallback_from, duration_s=row.get("duration_s"))
        return self._finish(plan, res, timings={"cache_hit_at": _iso()})

    def _failed(self, plan: g.Plan, exc: ProviderError, *, fallback_from: str | None = None,
                extra: str = "") -> g.GenerationResult:
        self.status(plan.job.id, "failed")
        msg = f"{exc}{extra}"
        if plan.cache_key:
            # A transient failure after submission stays resumable: the provider may still finish it,
            # and a rerun must poll that request rather than pay for a new one.
            rid = self._request_id(plan)
            status = "submitted" if rid and isinstance(exc, g.TRANSIENT) else "failed"
            self._record(plan.cache_key, **self._base_fields(plan), status=status, error=msg[:2000],
                         fallback_from=fallback_from)
        return self._finish(plan, g.GenerationResult(
            job_id=plan.job.id, status="failed", model=plan.model, endpoint=plan.endpoint, backend=plan.backend,
            request_id=exc.request_id or self._request_id(plan), est_cost_usd=plan.est_cost_usd,
            error=msg, error_code=exc.code or type(exc).__name__, fallback_from=fallback_from))

    def _request_id(self, plan: g.Plan) -> str | None:
        row = self._existing(plan) if plan.cache_key else None
        return str(row["request_id"]) if row and row.get("request_id") else None

    # -- persistence ------------------------------------------------------------------------
    def _record(self, cache_key: str, **fields: Any) -> None:
        if self.ledger is not None:
            self.ledger.record(cache_key, **fields)

    def _base_fields(self, plan: g.Plan) -> dict[str, Any]:
        job = plan.job
        return {"job_id": job.id, "episode": job.episode, "shot": job.shot, "backend": plan.backend,
                "model": plan.model, "endpoint": plan.endpoint, "body": plan.body, "est_cost_usd": plan.est_cost_usd}

    def _persist(self, plan: g.Plan, status: str, request_id: str | None, retries: int,
                 fallback_from: str | None, timings: dict[str, Any]) -> None:
        job = plan.job
        self._record(plan.cache_key, **self._base_fields(plan), request_id=request_id, status=status,
                     retries=retries, fallback_from=fallback_from)
        g.write_sidecar(self.out_dir / f"{job.id}.json", self._sidecar(plan, {
            "status": status, "request_id": request_id, "retries": retries, "fallback_from": fallback_from,
            "est_cost_usd": plan.est_cost_usd, "timings": timings}))

    def _sidecar(self, plan: g.Plan, fields: dict[str, Any]) -> dict[str, Any]:
        return {"job": plan.job.model_dump(mode="json"), "cache_key": plan.cache_key, "model": plan.model,
                "endpoint": plan.endpoint, "backend": plan.backend, "route_reason": plan.route_reason,
                "body": plan.body, **fields}

    def _finish(self, plan: g.Plan, res: g.GenerationResult, *, write_sidecar: bool = True,
                timings: dict[str, Any] | None = None, clip: dict[str, Any] | None = None) -> g.GenerationResult:
        side = self.out_dir / f"{plan.job.id}.json"
        if write_sidecar:
            data = self._sidecar(plan, res.model_dump(mode="json", exclude={"sidecar"}))
            old = g.read_sidecar(side) or {}
            data["timings"] = {**(old.get("timings") or {}), **(timings or {})}
            if clip:
                data["clip"] = clip
            g.write_sidecar(side, data)
            res.sidecar = str(side)
        return res

    def write_manifest(self, results: list[g.GenerationResult]) -> Path:
        """DIR/manifest.json: this run's results merged over earlier entries of other jobs."""
        path = self.out_dir / "manifest.json"
        old = g.read_sidecar(path) or {}
        entries = {e["job_id"]: e for e in old.get("results", []) if isinstance(e, dict) and "job_id" in e}
        for r in results:
            entries[r.job_id] = r.model_dump(mode="json")
        rows = list(entries.values())
        g.write_sidecar(path, {
            "updated_at": _iso(),
            "totals": {
                "jobs": len(rows),
                "done": sum(1 for e in rows if e["status"] == "done"),
                "failed": sum(1 for e in rows if e["status"] == "failed"),
                "invalid": sum(1 for e in rows if e["status"] == "invalid"),
                "over_budget": sum(1 for e in rows if e["status"] == "over_budget"),
                "est_cost_usd": round(sum(e.get("est_cost_usd") or 0 for e in rows), 4),
                "cost_usd": round(sum(e.get("cost_usd") or 0 for e in rows), 4),
            },
            "results": rows,
        })
        return path

    # -- progress ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def progress(self, plans: list[g.Plan], *, enabled: bool) -> Iterator[None]:
        if not enabled:
            yield
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.fields[job]:<18}"), TextColumn("{task.fields[model]:<16}"),
                      TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=False) as prog:
            self._progress = prog
            for p in plans:
                self._tasks[p.job.id] = prog.add_task("queued", total=None, job=p.job.id, model=p.model)
            try:
                yield
            finally:
                self._progress = None

    def status(self, job_id: str, text: str) -> None:
        if self._progress is not None and job_id in self._tasks:
            self._progress.update(self._tasks[job_id], description=text)


def shape_warnings(plan: g.Plan, info: Any) -> list[str]:
    """Roughly the requested length and shape? Mismatches are warnings (QC judges them)."""
    warn: list[str] = []
    req = plan.request
    dur = int(req.get("duration", 5))
    if plan.model not in ("veed-fabric-1.0", "omnihuman-1.5") and dur > 0 and info.duration_s:
        want = veo_seconds(dur) if plan.model == "veo-3.1" and plan.backend != "preview" else dur
        if abs(info.duration_s - want) > max(1.0, 0.25 * want):
            warn.append(f"duration {info.duration_s:.2f}s, requested {want}s")
    aspect = str(req.get("aspect_ratio", "16:9"))
    if aspect != "adaptive" and info.width and info.height:
        w, h = (int(x) for x in aspect.split(":"))
        if abs(info.width / info.height - w / h) > 0.05 * (w / h):
            warn.append(f"frame {info.width}x{info.height}, requested {aspect}")
    return warn


__all__ = ["Runner", "shape_warnings"]
