"""Claim a cache key and submit it at most once (under the key's lock, see claims.py).

The submission is the only step that costs money, so it is the only step that is never retried
here: `submit_once` runs the SDK's call once. Before the POST the claim is marked `submitting`;
after it the request id is saved (fsync'd for paid backends) before the lock is released.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vidpipe.errors import ProviderError
from vidpipe.generate.claims import Claim, Claims, RequestEntry
from vidpipe.generate.output import tmp_dir
from vidpipe.generate.plan import Plan
from vidpipe.generate.records import base_fields, request_fields, side_path, write_side
from vidpipe.generate.retry import SubmitUnknown, submit_once
from vidpipe.ledger import Ledger
from vidpipe.providers.base import Backend, Ticket
from vidpipe.sidecar import read_sidecar


def _iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Submitter:
    """Finds or makes the request a key follows; shared by the worker threads of one run."""

    def __init__(self, out_dir: Path, *, claims: Claims, ledger: Ledger | None, stage: Callable[[str, str], None]):
        self.out_dir = out_dir
        self.claims = claims
        self.ledger = ledger
        self.stage = stage
        self.known: dict[str, dict[str, Any]] = {}  # ledger rows of this run's keys (pre-claim vidpipe)
        self.resubmitted: set[str] = set()  # cache keys paid again in this run (once each)

    def legacy_rid(self, plan: Plan) -> str | None:
        """A request id recorded by a vidpipe that had no claims (ledger row, else sidecar)."""
        row = self.known.get(plan.cache_key)
        if row and row.get("request_id"):
            return str(row["request_id"])
        side = read_sidecar(side_path(self.out_dir, plan)) or {}
        if side.get("cache_key") == plan.cache_key and side.get("request_id"):
            return str(side["request_id"])
        return None

    def claim(self, plan: Plan, impl: Backend, *, force: bool, deadline: float, fallback_from: str | None,
               timings: dict[str, Any]) -> tuple[str, bool]:
        """The request id to follow: the key's existing one, or a new submission made under the key's lock."""
        key, job = plan.cache_key, plan.job
        if not force:
            claim = self.claims.read(key)
            if claim and claim.request_id:
                return claim.request_id, True
            if claim and claim.status == "submit_unknown":
                raise self._unknown(plan, claim)
        paid = plan.backend != "preview"
        with self.claims.hold(key, deadline=deadline, job_id=job.id):
            claim = self.claims.read(key)
            if claim and claim.status == "submitting":  # we hold the lock, so its submitter died mid-POST
                claim.status = "submit_unknown"
                claim.requests.append(RequestEntry(request_id=None, est_cost_usd=plan.est_cost_usd,
                                                   outcome="submit_unknown"))
                self.claims.write(claim, durable=True)
                self._record_unknown(plan, claim, "a vidpipe process died while submitting this request")
            if not force:
                if claim and claim.request_id:
                    return claim.request_id, True
                if claim and claim.status == "submit_unknown":
                    raise self._unknown(plan, claim)
                legacy = self.legacy_rid(plan)
                if legacy:
                    self.claims.write(Claim(key=key, job_id=job.id, backend=plan.backend, model=plan.model,
                                            endpoint=plan.endpoint, status="submitted", request_id=legacy,
                                            requests=[RequestEntry(request_id=legacy, est_cost_usd=plan.est_cost_usd)]),
                                      durable=True)
                    return legacy, True
            self.stage(job.id, "claimed")
            previous = claim.model_copy(deep=True) if claim else None
            claim = (claim or Claim(key=key)).model_copy(update={
                "job_id": job.id, "backend": plan.backend, "model": plan.model, "endpoint": plan.endpoint,
                "status": "submitting"})
            self.claims.write(claim, durable=paid)  # the marker: from here on the outcome may be unknown
            self.stage(job.id, "submitting")
            ticket = Ticket(job.id, plan.model, plan.endpoint, plan.body, tmp_dir(self.out_dir))
            try:
                rid = submit_once(lambda: impl.submit(ticket))
            except SubmitUnknown as exc:
                claim.status = "submit_unknown"
                claim.requests.append(RequestEntry(request_id=None, est_cost_usd=plan.est_cost_usd,
                                                   outcome="submit_unknown"))
                self.claims.write(claim, durable=True)
                self._record_unknown(plan, claim, str(exc))
                raise self._unknown(plan, claim, cause=str(exc.__cause__ or exc)) from exc
            except (ProviderError, OSError):  # refused, or never sent: as if nothing happened
                if previous is not None:
                    self.claims.write(previous, durable=paid)
                else:
                    self.claims.forget(key)
                raise
            old = claim.request_id
            for entry in claim.requests:
                if old and entry.request_id == old:
                    entry.outcome = "superseded"
            claim.requests.append(RequestEntry(request_id=rid, est_cost_usd=plan.est_cost_usd))
            claim.request_id, claim.status = rid, "submitted"
            self.claims.write(claim, durable=paid)
            if force:
                self.resubmitted.add(key)
            timings["submitted_at"] = _iso()
            if self.ledger is not None:
                if old and old != rid:
                    prev = [r for r in self.ledger.requests_for(key) if r.get("request_id") == old]
                    if prev and prev[0].get("status") != "done":
                        self.ledger.record_request(old, status="superseded")
                self.ledger.record_request(rid, **request_fields(plan), status="submitted",
                                           submitted_at=datetime.now(timezone.utc).replace(tzinfo=None),
                                           durable=paid)
                self.ledger.record(key, **base_fields(plan), request_id=rid, status="submitted",
                                   fallback_from=fallback_from, error=None, durable=paid)
            write_side(self.out_dir, plan, {"status": "submitted", "request_id": rid, "fallback_from": fallback_from,
                                    "est_cost_usd": plan.est_cost_usd, "timings": timings})
        self.stage(job.id, "submitted")
        return rid, False

    def _unknown(self, plan: Plan, claim: Claim, cause: str = "") -> SubmitUnknown:
        why = f" ({cause})" if cause else ""
        return SubmitUnknown(
            f"job {plan.job.id}: the submission to {plan.model} ({plan.endpoint}) may or may not have been accepted"
            f"{why}. Not resubmitted automatically: check the provider's dashboard for a request made around "
            f"{claim.updated_at}; if there is none, or you accept paying again, rerun with --resubmit {plan.job.id}",
            provider=plan.backend, model=plan.model, job_id=plan.job.id)

    def _record_unknown(self, plan: Plan, claim: Claim, error: str) -> None:
        if self.ledger is not None:
            n = sum(1 for e in claim.requests if e.request_id is None)
            self.ledger.record_request(f"unknown:{plan.cache_key[:16]}:{n}", **request_fields(plan),
                                       status="submit_unknown", error=error[:2000],
                                       submitted_at=datetime.now(timezone.utc).replace(tzinfo=None))
            self.ledger.record(plan.cache_key, **base_fields(plan), status="submit_unknown", error=error[:2000])
        write_side(self.out_dir, plan, {"status": "submit_unknown", "request_id": None, "error": error})
