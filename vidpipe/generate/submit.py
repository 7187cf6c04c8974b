"""Claim a cache key and submit it at most once (under the key's lock, see claims.py).

The submission is the only step that costs money, so it is the only step that is never retried
here: `submit_once` runs the adapter's call once (and the fal adapter owns its POST, so no SDK
layer repeats it either). Before the POST the claim is marked `submitting` and, once the exact
wire body is known, keeps it; after the POST the request id is saved (fsync'd for paid backends)
before the lock is released. A submission whose answer was lost is `submit_unknown`: each later
run looks it up in the provider's request history (where there is one) and adopts the request it
finds; until then nothing pays for the key again unless a person says `--resubmit`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from vidpipe.errors import ProviderError
from vidpipe.generate.claims import Claim, Claims, RequestEntry, now_iso
from vidpipe.generate.output import tmp_dir
from vidpipe.generate.plan import Plan
from vidpipe.generate.records import base_fields, request_fields, side_path, write_side
from vidpipe.generate.retry import SubmitUnknown, submit_once
from vidpipe.ledger import Ledger
from vidpipe.providers.base import Backend, Ticket
from vidpipe.sidecar import read_sidecar


def _iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
        """The request id to follow: the key's existing (or found) one, or a new submission made under its lock."""
        key, job = plan.cache_key, plan.job
        claim = None if force else self.claims.read(key)  # without the lock: only a shortcut
        if claim and claim.request_id:
            return claim.request_id, True
        paid = plan.backend != "preview"
        with self.claims.hold(key, deadline=deadline, job_id=job.id):
            claim = self.claims.read(key)  # again, under the lock: another process may have submitted meanwhile
            if claim and claim.status == "submitting":  # we hold the lock, so its submitter died mid-POST
                self._mark_unknown(plan, claim, None, "a vidpipe process died while submitting this request")
            if not force:
                if claim and claim.request_id:
                    return claim.request_id, True
                if claim and claim.status == "submit_unknown":
                    rid, looked = self._reconcile(plan, impl, claim, fallback_from)
                    if rid:
                        return rid, True
                    raise self._unknown(plan, claim, looked=looked)
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
            sending: list[RequestEntry] = []
            keep_body = callable(getattr(impl, "find_request", None))  # only where it can be looked up

            def on_send(body: dict[str, Any]) -> None:
                """The exact body, on disk before it leaves: a lost answer can then be found by it."""
                entry = RequestEntry(request_id=None, est_cost_usd=plan.est_cost_usd, outcome="sending",
                                     endpoint=plan.endpoint, body=json.loads(json.dumps(body)) if keep_body else None)
                sending[:] = [entry]
                claim.requests.append(entry)
                if paid:  # a free preview has nothing to find later: no extra write per job
                    self.claims.write(claim, durable=True)
                self.stage(job.id, "sending")

            ticket = Ticket(job.id, plan.model, plan.endpoint, plan.body, tmp_dir(self.out_dir), on_send=on_send)
            try:
                rid = submit_once(lambda: impl.submit(ticket), sent=lambda: bool(sending))
            except SubmitUnknown as exc:
                self._mark_unknown(plan, claim, sending[0] if sending else None, str(exc))
                later = f"the next run looks for it in {plan.backend}'s request history" if keep_body else ""
                raise self._unknown(plan, claim, cause=str(exc.__cause__ or exc), looked=later) from exc
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
            entry = sending[0] if sending else RequestEntry(est_cost_usd=plan.est_cost_usd, endpoint=plan.endpoint)
            if not sending:
                claim.requests.append(entry)
            entry.request_id, entry.outcome = rid, "submitted"
            claim.request_id, claim.status = rid, "submitted"
            self.claims.write(claim, durable=paid)
            if force:
                self.resubmitted.add(key)
            timings["submitted_at"] = _iso()
            if self.ledger is not None:
                self.ledger.submitted(key, rid, gen=base_fields(plan), req=request_fields(plan),
                                      fallback_from=fallback_from, replaces=old, durable=paid)
            write_side(self.out_dir, plan, {"status": "submitted", "request_id": rid, "fallback_from": fallback_from,
                                            "est_cost_usd": plan.est_cost_usd, "timings": timings})
        self.stage(job.id, "submitted")
        return rid, False

    # -- a submission whose answer was lost ----------------------------------------------------
    def _mark_unknown(self, plan: Plan, claim: Claim, entry: RequestEntry | None, error: str) -> None:
        """Record (claim first, fsync'd) that a submission may have been accepted: it may be billed."""
        entry = entry or next((e for e in reversed(claim.requests) if e.outcome == "sending"), None)
        if entry is None:
            entry = RequestEntry(request_id=None, est_cost_usd=plan.est_cost_usd, endpoint=plan.endpoint)
            claim.requests.append(entry)
        entry.outcome = "submit_unknown"
        claim.status = "submit_unknown"
        self.claims.write(claim, durable=True)
        if self.ledger is not None:
            self.ledger.submit_unknown(plan.cache_key, claim.requests.index(entry) + 1, gen=base_fields(plan),
                                       req=request_fields(plan), error=error)
        write_side(self.out_dir, plan, {"status": "submit_unknown", "request_id": None, "error": error})

    def _reconcile(self, plan: Plan, impl: Backend, claim: Claim, fallback_from: str | None) -> tuple[str | None, str]:
        """Look each unknown submission up in the provider's request history; adopt the first one found.

        Returns (request id or None, what the lookup said)."""
        find = getattr(impl, "find_request", None)
        pending = [e for e in claim.requests if e.outcome == "submit_unknown" and e.request_id is None and e.body]
        if not callable(find) or not pending:
            return None, ""
        known = {e.request_id for e in claim.requests if e.request_id}
        self.stage(plan.job.id, "reconciling")
        for entry in pending:
            try:
                found = find(entry.endpoint or plan.endpoint, entry.body,
                             since=datetime.fromisoformat(entry.submitted_at), exclude=known)
            except ProviderError as exc:
                return None, f"looking it up in {plan.backend}'s request history failed ({exc}); a rerun looks again"
            if found is None:
                continue
            entry.request_id, entry.outcome = found.request_id, "adopted"
            claim.requests += [RequestEntry(request_id=rid, est_cost_usd=plan.est_cost_usd, endpoint=plan.endpoint,
                                            outcome="superseded") for rid in found.others]  # billed too
            claim.request_id, claim.status = found.request_id, "submitted"
            self.claims.write(claim, durable=True)
            if self.ledger is not None:
                self.ledger.adopted(plan.cache_key, claim.requests.index(entry) + 1, found.request_id,
                                    gen=base_fields(plan), req=request_fields(plan), fallback_from=fallback_from,
                                    duplicates=found.others)
            note = {"request_id": found.request_id, "sent_at": found.sent_at, "found_at": now_iso(),
                    "same_body_requests": found.matches, "others": list(found.others)}
            write_side(self.out_dir, plan, {"status": "submitted", "request_id": found.request_id,
                                            "fallback_from": fallback_from, "adopted_from_history": note})
            self.stage(plan.job.id, "adopted")
            return found.request_id, ""
        return None, (f"it is not in {plan.backend}'s request history as of {_iso()} ({plan.backend} may list a "
                      f"request late: a rerun looks again)")

    def _unknown(self, plan: Plan, claim: Claim, cause: str = "", looked: str = "") -> SubmitUnknown:
        why = f" ({cause})" if cause else ""
        where = looked or (f"check the provider's dashboard for a request made around {claim.updated_at}")
        return SubmitUnknown(
            f"job {plan.job.id}: the submission to {plan.model} ({plan.endpoint}) may or may not have been accepted"
            f"{why}; {where}. Not resubmitted automatically: if it was not accepted, or you accept paying again, "
            f"rerun with --resubmit {plan.job.id}",
            provider=plan.backend, model=plan.model, job_id=plan.job.id)
