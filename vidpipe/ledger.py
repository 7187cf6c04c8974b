"""The money ledger: one `generations` row per cache key, one `requests` row per paid (or maybe-paid) request.

`generations` says where a key stands (its current request, status, output, cost). `requests`
keeps every submission ever made, so a `--resubmit` shows both requests with their costs, and a
request that finished on the provider but was never saved keeps its (estimated) cost instead of
reporting $0.00. Whether to pay is decided by the claim files (vidpipe.generate.claims), not by
these rows; the ledger is the record people read (`vidpipe costs`).

Every status a row can have is set here, by the named transitions below (submitted,
submit_unknown, adopted, done, not_saved, failed): the runner says what happened, this module
says what that means for the rows. `record`/`record_request` are the raw writes they use.

Writes are short DuckDB connections. `buffered()` groups the writes of free (preview) jobs into
one connection per batch so 10,000 jobs do not open 30,000 connections; writes about real money
(`durable=True`) are flushed at once. Never holds a key or any header.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from vidpipe.store import Store, now

_LOCK = threading.RLock()  # one writer per process; DuckDB connections are short-lived anyway

GENERATION_COLUMNS = (
    "job_id", "episode", "shot", "backend", "model", "endpoint", "request_id", "status", "body",
    "output_path", "result_url", "est_cost_usd", "cost_usd", "duration_s", "retries",
    "fallback_from", "error",
)
COLUMNS = GENERATION_COLUMNS  # (old name)
REQUEST_COLUMNS = (
    "request_id", "cache_key", "job_id", "episode", "shot", "backend", "model", "endpoint", "status",
    "est_cost_usd", "cost_usd", "output_path", "error", "submitted_at", "kind",
)
SPEND_KINDS = ("still", "plate", "voice", "judge", "music")  # what record_spend books beside video (`kind` of a request)
# Request statuses. Everything in `requests` was (or may have been) accepted, so it may be billed.
SUBMITTED, DONE, UNSAVED, FAILED, SUBMIT_UNKNOWN, SUPERSEDED = (
    "submitted", "done", "unsaved", "failed", "submit_unknown", "superseded")
PRODUCED_NOTHING = (UNSAVED, FAILED, SUBMIT_UNKNOWN, SUPERSEDED)
Fields = dict[str, Any]
FLUSH_ROWS = 500
FLUSH_S = 1.0


class Ledger:
    """Typed access to `generations`, `requests` and the `costs` view of a Store."""

    def __init__(self, store: Store):
        self.store = store
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._buffering = 0
        self._last_flush = time.monotonic()

    # -- reads ------------------------------------------------------------------------------
    def get(self, cache_key: str) -> dict[str, Any] | None:
        """The generations row for `cache_key`, or None."""
        with _LOCK:
            rows = self.store.query("SELECT * FROM generations WHERE cache_key = ?", [cache_key])
        return rows[0] if rows else None

    def prefetch(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Rows for many keys in a few queries (one per 1,000 keys)."""
        keys = sorted(set(k for k in keys if k))
        out: dict[str, dict[str, Any]] = {}
        with _LOCK:
            for i in range(0, len(keys), 1000):
                chunk = keys[i:i + 1000]
                rows = self.store.query(
                    f"SELECT * FROM generations WHERE cache_key IN ({', '.join('?' * len(chunk))})", chunk)
                out.update({r["cache_key"]: r for r in rows})
        return out

    def requests_for(self, cache_key: str) -> list[dict[str, Any]]:
        with _LOCK:
            self.flush()
            return self.store.query("SELECT * FROM requests WHERE cache_key = ? ORDER BY submitted_at, request_key",
                                    [cache_key])

    # -- writes -----------------------------------------------------------------------------
    def record(self, cache_key: str, *, durable: bool = True, **fields: Any) -> None:
        """Insert or update the generations row for `cache_key` (unknown names are refused)."""
        self._queue("generations", cache_key, GENERATION_COLUMNS, fields, durable)

    def record_request(self, request_key: str, *, durable: bool = True, **fields: Any) -> None:
        """Insert or update one request row. `request_key` is the request id, or a unique name for a
        submission whose id never came back (`submit_unknown`, prefixed "unknown:")."""
        if not request_key.startswith("unknown:"):
            fields.setdefault("request_id", request_key)
        self._queue("requests", request_key, REQUEST_COLUMNS, fields, durable)

    # -- the transitions (the one place statuses are set) ---------------------------------------
    # `gen`: the generations-row fields of the job (job, route, body, estimate); `req`: the same for
    # its requests rows (so a row a crash lost is rebuilt whole by the next write).
    def submitted(self, cache_key: str, request_id: str, *, gen: Fields, req: Fields, fallback_from: str | None,
                  replaces: str | None = None, durable: bool = True) -> None:
        """A request id came back: the key follows it (a request it replaces is superseded unless done)."""
        if replaces and replaces != request_id:
            prev = [r for r in self.requests_for(cache_key) if r.get("request_id") == replaces]
            if prev and prev[0].get("status") != DONE:
                self.record_request(replaces, status=SUPERSEDED)
        self.record_request(request_id, **req, status=SUBMITTED, submitted_at=now(), durable=durable)
        self.record(cache_key, **gen, request_id=request_id, status=SUBMITTED, fallback_from=fallback_from,
                    error=None, durable=durable)

    def submit_unknown(self, cache_key: str, n: int, *, gen: Fields, req: Fields, error: str) -> None:
        """The `n`th submission of the key whose outcome is unknown: counted at its estimate until resolved."""
        self.record_request(unknown_key(cache_key, n), **req, status=SUBMIT_UNKNOWN, error=error[:2000],
                            submitted_at=now())
        self.record(cache_key, **gen, status=SUBMIT_UNKNOWN, error=error[:2000])

    def adopted(self, cache_key: str, n: int, request_id: str, *, gen: Fields, req: Fields,
                fallback_from: str | None, duplicates: tuple[str, ...] = ()) -> None:
        """The unknown submission `n` was found at the provider as `request_id`: one request, not two.
        `duplicates`: more requests with the same body in the window (each billed, none followed)."""
        for dup in duplicates:
            self.record_request(dup, **req, status=SUPERSEDED, submitted_at=now(),
                                error=f"the same body as {request_id}, sent in the same window")
        with _LOCK:
            self.flush()
            rows = self.store.query("SELECT submitted_at FROM requests WHERE request_key = ?",
                                    [unknown_key(cache_key, n)])
            with self.store.connect() as con:
                con.execute("DELETE FROM requests WHERE request_key = ?", [unknown_key(cache_key, n)])
        self.record_request(request_id, **req, status=SUBMITTED,
                            submitted_at=(rows[0]["submitted_at"] if rows else None) or now())
        self.record(cache_key, **gen, request_id=request_id, status=SUBMITTED, fallback_from=fallback_from,
                    error=None)

    def done(self, cache_key: str, request_id: str | None, *, gen: Fields, req: Fields, output_path: str,
             cost_usd: float | None, duration_s: float | None, retries: int | None = None,
             fallback_from: str | None = None, durable: bool = True) -> None:
        """A verified output was saved (`cost_usd` None: a cache hit, whose cost was recorded before)."""
        extra = {"cost_usd": cost_usd} if cost_usd is not None else {}
        if request_id:
            self.record_request(request_id, **req, **extra, status=DONE, output_path=output_path, error=None,
                                durable=durable)
        fields = dict(gen, request_id=request_id, status=DONE, output_path=output_path, duration_s=duration_s,
                      error=None, **extra)
        if retries is not None:
            fields.update(retries=retries, fallback_from=fallback_from)
        self.record(cache_key, **fields, durable=durable)

    def not_saved(self, cache_key: str, request_id: str, status: str, *, gen: Fields, req: Fields, error: str,
                  fallback_from: str | None) -> None:
        """A followed request saved nothing; `status` from not_saved_status (an unsaved one is billed at its
        estimate: it finished on the provider)."""
        if status not in (FAILED, UNSAVED, SUBMITTED):
            raise ValueError(f"not a status for a request that saved nothing: {status}")
        self.record_request(request_id, **req, status=status,
                            cost_usd=req.get("est_cost_usd") if status == UNSAVED else None, error=error)
        self.record(cache_key, **gen, request_id=request_id, status=status, fallback_from=fallback_from, error=error)

    def failed(self, cache_key: str, *, gen: Fields, error: str, fallback_from: str | None) -> None:
        """The key has no request (refused before being queued, or never sent): nothing was billed."""
        self.record(cache_key, **gen, status=FAILED, error=error[:2000], fallback_from=fallback_from)

    def _queue(self, table: str, pk: str, allowed: tuple[str, ...], fields: dict[str, Any], durable: bool) -> None:
        bad = set(fields) - set(allowed)
        if bad:
            raise ValueError(f"unknown {table} column(s): {', '.join(sorted(bad))}")
        if "body" in fields and not isinstance(fields["body"], (str, type(None))):
            fields["body"] = json.dumps(fields["body"], sort_keys=True, default=str)
        with _LOCK:
            self._pending.setdefault((table, pk), {}).update(fields)
            if durable or not self._buffering or len(self._pending) >= FLUSH_ROWS \
                    or time.monotonic() - self._last_flush > FLUSH_S:
                self.flush()

    @contextlib.contextmanager
    def buffered(self) -> Iterator[Ledger]:
        """Batch non-durable writes until the block ends (or FLUSH_ROWS / FLUSH_S)."""
        with _LOCK:
            self._buffering += 1
        try:
            yield self
        finally:
            with _LOCK:
                self._buffering -= 1
                self.flush()

    def flush(self) -> None:
        with _LOCK:
            pending, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
            if not pending:
                return
            stamp = now()
            try:
                with self.store.connect() as con:
                    con.execute("BEGIN TRANSACTION")
                    for (table, pk), fields in pending.items():
                        con.execute(*_upsert(table, pk, fields, stamp))
                    con.execute("COMMIT")
            except BaseException:
                for k, v in pending.items():  # keep them for the next flush
                    self._pending.setdefault(k, {}).update({**v, **self._pending.get(k, {})})
                raise

    # -- reports ----------------------------------------------------------------------------
    def spend(self, *, episode: str | None = None, exclude_shot: str | None = None) -> float:
        """Money committed so far: every accepted (or maybe-accepted) request, actual cost where known."""
        with _LOCK:
            self.flush()
            rows = self.store.query(
                "SELECT coalesce(sum(coalesce(cost_usd, est_cost_usd, 0)), 0) AS s FROM requests "
                "WHERE (? IS NULL OR episode = ?) AND (? IS NULL OR shot IS DISTINCT FROM ?)",
                [episode, episode, exclude_shot, exclude_shot],
            )
        return float(rows[0]["s"]) if rows else 0.0

    def unknown(self, *, episode: str | None = None) -> list[dict[str, Any]]:
        """Submissions whose outcome is still unknown (maybe billed, never paid again automatically)."""
        with _LOCK:
            self.flush()
            return self.store.query(
                "SELECT job_id, episode, shot, model, endpoint, round(coalesce(est_cost_usd, 0), 4) AS est_cost_usd, "
                "CAST(submitted_at AS VARCHAR) AS submitted_at, error FROM requests WHERE status = ? "
                "AND (? IS NULL OR episode = ?) ORDER BY submitted_at, request_key",
                [SUBMIT_UNKNOWN, episode, episode])

    def costs(self, *, episode: str | None = None) -> dict[str, Any]:
        """Spend by model, episode and day (from `requests`), totals, and money that produced nothing."""
        where = "WHERE episode = ?" if episode else ""
        params = [episode] if episode else []

        def group(col: str) -> list[dict[str, Any]]:
            return self.store.query(
                f"SELECT {col} AS key, sum(generations) AS generations, round(sum(cost_usd), 4) AS cost_usd, "
                f"round(sum(est_cost_usd), 4) AS est_cost_usd, round(sum(wasted_usd), 4) AS wasted_usd "
                f"FROM costs {where} GROUP BY 1 ORDER BY 1",
                params,
            )

        with _LOCK:
            self.flush()
            by_model, by_episode, by_day = group("model"), group("episode"), group("CAST(day AS VARCHAR)")
            by_kind = group("kind")
            lines = self.lines(episode) if episode else []
            wasted = self.store.query(
                "SELECT job_id, episode, shot, model, request_id, status, "
                "round(coalesce(cost_usd, est_cost_usd, 0), 4) AS cost_usd, error, "
                "CAST(submitted_at AS VARCHAR) AS submitted_at FROM requests "
                f"WHERE status IN ({', '.join('?' * len(PRODUCED_NOTHING))}) "
                f"{'AND episode = ?' if episode else ''} AND coalesce(cost_usd, est_cost_usd, 0) > 0 "
                "ORDER BY submitted_at, request_key",
                [*PRODUCED_NOTHING, *params],
            )
            per_generation = self.per_generation(episode) if episode else []
        total = sum(float(r["cost_usd"] or 0) for r in by_model)
        est = sum(float(r["est_cost_usd"] or 0) for r in by_model)
        return {
            "episode": episode, "total_cost_usd": round(total, 4), "total_est_cost_usd": round(est, 4),
            "wasted_usd": round(sum(float(r["cost_usd"] or 0) for r in wasted), 4),
            "by_model": by_model, "by_episode": by_episode, "by_day": by_day, "by_kind": by_kind,
            "produced_nothing": wasted, "per_generation": per_generation, "lines": lines,
        }

    def lines(self, episode: str) -> list[dict[str, Any]]:
        """The episode's spend in the estimate's lines: (kind, shot) → estimated and actual (vidpipe.estimate)."""
        with _LOCK:
            self.flush()
            return self.store.query(
                "SELECT coalesce(kind, 'video') AS kind, shot, count(*) AS requests, "
                "round(sum(coalesce(est_cost_usd, 0)), 4) AS est_cost_usd, "
                "round(sum(coalesce(cost_usd, est_cost_usd, 0)), 4) AS cost_usd FROM requests WHERE episode = ? "
                "GROUP BY ALL ORDER BY kind, shot NULLS FIRST", [episode])

    def per_generation(self, episode: str) -> list[dict[str, Any]]:
        """Every request of `episode`: the estimate it was submitted at beside what it actually cost.

        `cost_usd` is null until the clip is delivered (then the rate times the delivered clip's real
        length, see pricing.actual_clip_cost) or when the request produced nothing and nobody knows
        what it was billed; `delta_usd` is actual − estimate where both are known.
        """
        with _LOCK:
            self.flush()
            return self.store.query(
                "SELECT shot, coalesce(kind, 'video') AS kind, job_id, model, backend, request_id, status, "
                "round(est_cost_usd, 4) AS est_cost_usd, "
                "round(cost_usd, 4) AS cost_usd, round(cost_usd - est_cost_usd, 4) AS delta_usd, "
                "CAST(submitted_at AS VARCHAR) AS submitted_at FROM requests WHERE episode = ? "
                "ORDER BY shot NULLS LAST, job_id, submitted_at, request_key",
                [episode],
            )


def _upsert(table: str, pk: str, fields: dict[str, Any], stamp: Any) -> tuple[str, list[Any]]:
    key_col = "cache_key" if table == "generations" else "request_key"
    cols = list(fields)
    sets = "".join(f"{c} = excluded.{c}, " for c in cols)
    created = ", created_at" if table == "generations" else ""
    sql = (f"INSERT INTO {table} ({key_col}, {''.join(c + ', ' for c in cols)}updated_at{created}) "
           f"VALUES (?, {''.join('?, ' for _ in cols)}?{', ?' if created else ''}) "
           f"ON CONFLICT ({key_col}) DO UPDATE SET {sets}updated_at = excluded.updated_at")
    return sql, [pk, *fields.values(), stamp, *([stamp] if created else [])]


def unknown_key(cache_key: str, n: int) -> str:
    """The requests-row key of a submission whose id never came back (the key's `n`th such)."""
    return f"unknown:{cache_key[:16]}:{n}"


def not_saved_status(*, provider_failed: bool, maybe_running: bool) -> str:
    """What a followed request that saved nothing is: failed on the provider (its refusal or failure),
    maybe still running (the next run polls it), or finished and not saved (billed)."""
    return FAILED if provider_failed else SUBMITTED if maybe_running else UNSAVED


def record_spend(store: Store, kind: str, key: str, *, model: str, backend: str, est_cost_usd: float,
                 cost_usd: float | None, episode: str | None = None, shot: str | None = None,
                 request_id: str | None = None, output_path: str | None = None, job_id: str | None = None) -> None:
    """Book one paid call that is not a video generation (a still, a cast plate, a voice line, a judge call).

    One `requests` row per call, keyed `<kind>:<key>` (a repeat of the same call updates it), with the
    estimate it was made at and what it cost; `costs`, the budget stop (`Ledger.spend`) and
    `estimate`'s lines all read these rows. Free (offline) calls are not booked.
    """
    if kind not in SPEND_KINDS:
        raise ValueError(f"unknown spend kind {kind!r}; one of {', '.join(SPEND_KINDS)}")
    if not est_cost_usd and not cost_usd:
        return
    Ledger(store).record_request(
        f"{kind}:{key}", request_id=request_id, kind=kind, cache_key=key, job_id=job_id or f"{kind}:{shot or episode or key}",
        episode=episode, shot=shot, backend=backend, model=model, status=DONE, est_cost_usd=est_cost_usd,
        cost_usd=cost_usd, output_path=output_path, submitted_at=now())
