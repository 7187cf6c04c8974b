"""DuckDB store: generations, QC passes, scores, lessons, costs. Short-lived connections only.

Schema (documented here, migrated forward by `MIGRATIONS`; old data is never dropped):

- generations: one row per cache key: its current request, status, output and cost.
- requests: one row per submission that was (or may have been) accepted; a `--resubmit` adds a
  row, so both requests and their costs stay visible (see vidpipe/ledger.py).
- qc: one row per QC pass of a clip: probe, technical defects, request features.
- scores: one row per judgement (VLM or human) of a clip; `judge` names who scored.
- lessons: lessons mined or written, mirrored from LESSONS.md (`source`: mined / human / vlm / file,
  `author`, `human` true for what a person wrote).
- decisions: one row per person's decision on a shot (accept a failing take, choose a take): who, why, when.
- costs (view): spend by day / model / episode from requests, with money that produced nothing.
  `requests.kind` says what was bought: video, still, plate, voice, judge.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, UTC
from pathlib import Path
from typing import Any

import duckdb

MIGRATIONS: list[str] = [
    # 1: base tables
    """
    CREATE TABLE IF NOT EXISTS generations (
        cache_key VARCHAR PRIMARY KEY,
        job_id VARCHAR, episode VARCHAR, shot VARCHAR,
        backend VARCHAR, model VARCHAR, endpoint VARCHAR,
        request_id VARCHAR, status VARCHAR,
        body JSON, output_path VARCHAR, result_url VARCHAR,
        est_cost_usd DOUBLE, cost_usd DOUBLE, duration_s DOUBLE,
        retries INTEGER DEFAULT 0, fallback_from VARCHAR, error VARCHAR,
        created_at TIMESTAMP, updated_at TIMESTAMP
    );
    CREATE SEQUENCE IF NOT EXISTS qc_seq;
    CREATE TABLE IF NOT EXISTS qc (
        id BIGINT PRIMARY KEY DEFAULT nextval('qc_seq'),
        clip VARCHAR, clip_id VARCHAR, episode VARCHAR, shot VARCHAR, job_id VARCHAR,
        model VARCHAR, backend VARCHAR, prompt VARCHAR, request JSON, features JSON,
        probe JSON, defects JSON, defect_codes VARCHAR[], scores JSON,
        created_at TIMESTAMP
    );
    CREATE SEQUENCE IF NOT EXISTS scores_seq;
    CREATE TABLE IF NOT EXISTS scores (
        id BIGINT PRIMARY KEY DEFAULT nextval('scores_seq'),
        clip VARCHAR, clip_id VARCHAR, episode VARCHAR, shot VARCHAR, model VARCHAR,
        judge VARCHAR, prompt_fidelity INTEGER, subject_consistency INTEGER,
        camera_and_motion INTEGER, audio_match INTEGER, overall INTEGER, overall_raw INTEGER,
        failure_modes VARCHAR[], what_worked VARCHAR, what_to_change VARCHAR, lesson VARCHAR,
        features JSON, created_at TIMESTAMP
    );
    CREATE TABLE IF NOT EXISTS lessons (
        id VARCHAR PRIMARY KEY, date DATE, model VARCHAR, category VARCHAR, overall INTEGER,
        lesson VARCHAR, evidence VARCHAR, source VARCHAR, lint JSON, created_at TIMESTAMP
    );
    CREATE OR REPLACE VIEW costs AS
        SELECT CAST(coalesce(updated_at, created_at) AS DATE) AS day, episode, model, backend,
               count(*) AS generations, sum(coalesce(cost_usd, 0)) AS cost_usd,
               sum(coalesce(est_cost_usd, 0)) AS est_cost_usd
        FROM generations GROUP BY ALL;
    """,
    # 2: one row per paid request (a --resubmit keeps both); costs come from requests
    """
    CREATE TABLE IF NOT EXISTS requests (
        request_key VARCHAR PRIMARY KEY,
        request_id VARCHAR, cache_key VARCHAR, job_id VARCHAR, episode VARCHAR, shot VARCHAR,
        backend VARCHAR, model VARCHAR, endpoint VARCHAR, status VARCHAR,
        est_cost_usd DOUBLE, cost_usd DOUBLE, output_path VARCHAR, error VARCHAR,
        submitted_at TIMESTAMP, updated_at TIMESTAMP
    );
    INSERT INTO requests
        SELECT request_id, request_id, cache_key, job_id, episode, shot, backend, model, endpoint,
               CASE WHEN status = 'done' THEN 'done' WHEN status = 'failed' THEN 'unsaved' ELSE status END,
               est_cost_usd, CASE WHEN status = 'done' THEN cost_usd END, output_path, error,
               created_at, updated_at
        FROM generations WHERE request_id IS NOT NULL ON CONFLICT DO NOTHING;
    CREATE OR REPLACE VIEW costs AS
        SELECT CAST(coalesce(submitted_at, updated_at) AS DATE) AS day, episode, model, backend,
               count(*) AS generations, sum(coalesce(cost_usd, est_cost_usd, 0)) AS cost_usd,
               sum(coalesce(est_cost_usd, 0)) AS est_cost_usd,
               sum(CASE WHEN status IN ('unsaved', 'failed', 'submit_unknown', 'superseded')
                        THEN coalesce(cost_usd, est_cost_usd, 0) ELSE 0 END) AS wasted_usd
        FROM requests GROUP BY ALL;
    """,
    # 3: who wrote a lesson; people's decisions on shots; what each paid request bought
    """
    ALTER TABLE lessons ADD COLUMN IF NOT EXISTS author VARCHAR;
    ALTER TABLE lessons ADD COLUMN IF NOT EXISTS human BOOLEAN;
    CREATE SEQUENCE IF NOT EXISTS decisions_seq;
    CREATE TABLE IF NOT EXISTS decisions (
        id BIGINT PRIMARY KEY DEFAULT nextval('decisions_seq'),
        episode VARCHAR, shot VARCHAR, kind VARCHAR, take INTEGER, clip_hash VARCHAR,
        decided_by VARCHAR, reason VARCHAR, created_at TIMESTAMP
    );
    ALTER TABLE requests ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'video';
    CREATE OR REPLACE VIEW costs AS
        SELECT CAST(coalesce(submitted_at, updated_at) AS DATE) AS day, episode, model, backend,
               coalesce(kind, 'video') AS kind,
               count(*) AS generations, sum(coalesce(cost_usd, est_cost_usd, 0)) AS cost_usd,
               sum(coalesce(est_cost_usd, 0)) AS est_cost_usd,
               sum(CASE WHEN status IN ('unsaved', 'failed', 'submit_unknown', 'superseded')
                        THEN coalesce(cost_usd, est_cost_usd, 0) ELSE 0 END) AS wasted_usd
        FROM requests GROUP BY ALL;
    """,
]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


WRITE_WAIT_S = 8.0  # how long a writer waits for another process's lock before its rows go to the outbox
READ_WAIT_S = 30.0  # readers wait longer: they have nowhere else to go
_PROCESS = threading.RLock()  # DuckDB refuses a read-only and a read-write connection to one file in one process
_LOCAL = threading.local()  # the mode of this thread's open connection (a nested connect reuses it)


class Store:
    """A DuckDB file. Every method opens, does its work and closes (never across a provider call).

    Readers open the file read-only, so a notebook or the review room never takes the write lock.
    A writer that cannot get the lock within WRITE_WAIT_S (another process holds it, e.g. a notebook's
    read-only connection) does not fail: its statements go to the outbox `<db>.outbox.jsonl` beside the
    file, and the next writer that gets the lock replays them in order before its own work.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._migrated = False

    @property
    def outbox(self) -> Path:
        return self.path.with_name(self.path.name + ".outbox.jsonl")

    @contextmanager
    def connect(self, read_only: bool = False, wait_s: float | None = None) -> Iterator[Any]:
        """A connection. Read-only ones may be open in many processes at once (they still keep writers out).
        A writer whose lock is held elsewhere gets a deferred connection: its execute() calls are queued in
        the outbox, its fetches see nothing."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _PROCESS:
            outer = getattr(_LOCAL, "mode", None)
            if outer is not None:  # nested in this thread: DuckDB wants one configuration per file and process
                read_only = outer == "ro"
            elif read_only and not self.path.exists():
                with self.connect():  # create and migrate it first; a reader cannot
                    pass
            elif read_only and self._outbox_waiting():
                self.drain(wait_s=0.0)  # land waiting rows first if the lock is free now, so this read sees them
            con = self._open(read_only, wait_s)
            if con is not None and read_only and outer is None and not self._current(con):
                con.close()  # a file whose creator died before its schema landed, or an older schema
                with self.connect():
                    pass
                con = self._open(read_only, wait_s)
            if con is None:
                deferred = _Deferred()
                yield deferred
                if deferred.statements:
                    self._queue(deferred.statements)
                return
            _LOCAL.mode = "ro" if read_only else "rw"
            try:
                if not read_only:
                    if not self._migrated:
                        self._migrate(con)
                    self._drain(con)
                yield con
            finally:
                _LOCAL.mode = outer
                con.close()

    def _open(self, read_only: bool, wait_s: float | None = None) -> duckdb.DuckDBPyConnection | None:
        """Open, waiting a while for another process's lock; None = a writer that should defer."""
        if wait_s is None:
            wait_s = READ_WAIT_S if read_only else WRITE_WAIT_S
        deadline = time.monotonic() + wait_s
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    if read_only:
                        raise
                    return None
                time.sleep(delay)
                delay = min(delay * 1.5, 1.0)

    # -- the outbox -------------------------------------------------------------------------
    def _queue(self, statements: list[tuple[str, list[Any]]]) -> None:
        """Append one transaction's statements to the outbox, durably (fsync) and under a file lock."""
        line = json.dumps({"at": now().isoformat(), "statements": [[sql, _encode(params)] for sql, params in statements]})
        with self.outbox.open("a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _outbox_waiting(self) -> bool:
        try:
            return self.outbox.stat().st_size > 0
        except FileNotFoundError:
            return False

    def pending(self) -> int:
        """Transactions waiting in the outbox."""
        try:
            return sum(1 for ln in self.outbox.read_text(encoding="utf-8").splitlines() if ln.strip())
        except FileNotFoundError:
            return 0

    def drain(self, wait_s: float | None = None) -> int:
        """Replay the outbox now if the lock can be had (what every writer does first); returns how many
        transactions are still waiting."""
        if not self.pending():
            return 0
        with self.connect(wait_s=wait_s):
            pass
        return self.pending()

    def _drain(self, con: duckdb.DuckDBPyConnection) -> None:
        if not self.outbox.exists():
            return
        with self.outbox.open("r+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            for line in f.read().splitlines():
                if not line.strip():
                    continue
                entry = json.loads(line)
                con.execute("BEGIN TRANSACTION")
                for sql, params in entry["statements"]:
                    con.execute(sql, _decode(params))
                con.execute("COMMIT")
            f.seek(0)
            f.truncate()

    def _current(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Does the file hold every migration? Checked once per Store by its first reader (a cheap catalog query)."""
        if self._migrated:
            return True
        try:
            row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        except duckdb.CatalogException:
            return False
        self._migrated = bool(row and row[0] and row[0] >= len(MIGRATIONS))
        return self._migrated

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        current = (row[0] if row else None) or 0
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version > current:  # one transaction each: a process killed mid-way leaves the previous version
                con.execute("BEGIN TRANSACTION")
                con.execute(sql)
                con.execute("INSERT INTO schema_version VALUES (?)", [version])
                con.execute("COMMIT")
        self._migrated = True

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """A read (read-only connection: never takes the write lock)."""
        with self.connect(read_only=_is_read(sql)) as con:
            cur = con.execute(sql, params or [])
            cols = [d[0] for d in cur.description or []]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        with self.connect() as con:
            con.execute(sql, params or [])

    # -- qc ---------------------------------------------------------------------------------
    def add_qc(self, row: dict[str, Any]) -> int:
        """Insert one QC pass; JSON-able values are serialized. Returns the row id."""
        cols = ["clip", "clip_id", "episode", "shot", "job_id", "model", "backend", "prompt",
                "request", "features", "probe", "defects", "defect_codes", "scores"]
        vals = [_jsonish(row.get(c)) if c in ("request", "features", "probe", "defects", "scores") else row.get(c)
                for c in cols]
        with self.connect() as con:
            got = con.execute(
                f"INSERT INTO qc ({', '.join(cols)}, created_at) VALUES ({', '.join('?' * len(cols))}, ?) RETURNING id",
                [*vals, now()],
            ).fetchone()
        return int(got[0]) if got else -1  # -1: queued in the outbox (the lock was held elsewhere)

    # -- judgements, lessons, decisions -----------------------------------------------------
    def add_score(self, row: dict[str, Any]) -> int:
        """Insert one judgement (VLM or a person) of a clip. Returns the row id."""
        vals = [_jsonish(row.get(c)) if c == "features" and not isinstance(row.get(c), str) else row.get(c)
                for c in SCORE_COLUMNS]
        with self.connect() as con:
            got = con.execute(
                f"INSERT INTO scores ({', '.join(SCORE_COLUMNS)}, created_at) "
                f"VALUES ({', '.join('?' * len(SCORE_COLUMNS))}, ?) RETURNING id", [*vals, now()]).fetchone()
        return int(got[0]) if got else -1

    def put_lessons(self, rows: list[dict[str, Any]]) -> None:
        """Insert or replace lessons by id (the mirror of LESSONS.md; one transaction)."""
        if not rows:
            return
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            for r in rows:
                con.execute(
                    f"INSERT OR REPLACE INTO lessons ({', '.join(LESSON_COLUMNS)}, created_at) "
                    f"VALUES (?, CAST(? AS DATE), {', '.join('?' * (len(LESSON_COLUMNS) - 2))}, ?)",
                    [_jsonish(r.get(c)) if c == "lint" else r.get(c) for c in LESSON_COLUMNS] + [now()])
            con.execute("COMMIT")

    def add_decision(self, row: dict[str, Any]) -> int:
        """Record a person's decision on a shot (accept / take) with who and why."""
        with self.connect() as con:
            got = con.execute(
                f"INSERT INTO decisions ({', '.join(DECISION_COLUMNS)}, created_at) "
                f"VALUES ({', '.join('?' * len(DECISION_COLUMNS))}, ?) RETURNING id",
                [row.get(c) for c in DECISION_COLUMNS] + [now()]).fetchone()
        return int(got[0]) if got else -1



class _Deferred:
    """Stands in for a connection while another process holds the lock: records writes for the outbox."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Any]]] = []

    def execute(self, sql: str, params: list[Any] | None = None) -> _Deferred:
        if sql.strip().upper() not in ("BEGIN", "BEGIN TRANSACTION", "COMMIT", "ROLLBACK"):
            self.statements.append((sql, list(params or [])))
        return self

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []

    description = None


def _is_read(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in ("SELECT", "WITH", "DESCRIBE", "SHOW", "PRAGMA", "EXPLAIN") and "RETURNING" not in sql.upper()


def _encode(params: list[Any]) -> list[Any]:
    """JSON for the outbox; datetimes and dates keep their type."""
    out = []
    for v in params:
        if isinstance(v, datetime):
            out.append({"__datetime__": v.isoformat()})
        elif isinstance(v, date):
            out.append({"__date__": v.isoformat()})
        else:
            out.append(v)
    return out


def _decode(params: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in params:
        if isinstance(v, dict) and "__datetime__" in v:
            out.append(datetime.fromisoformat(v["__datetime__"]))
        elif isinstance(v, dict) and "__date__" in v:
            out.append(date.fromisoformat(v["__date__"]))
        else:
            out.append(v)
    return out


SCORE_COLUMNS = ("clip", "clip_id", "episode", "shot", "model", "judge", "prompt_fidelity", "subject_consistency",
                 "camera_and_motion", "audio_match", "overall", "overall_raw", "failure_modes", "what_worked",
                 "what_to_change", "lesson", "features")
LESSON_COLUMNS = ("id", "date", "model", "category", "overall", "lesson", "evidence", "source", "lint", "author",
                  "human")
DECISION_COLUMNS = ("episode", "shot", "kind", "take", "clip_hash", "decided_by", "reason")


def _jsonish(v: Any) -> Any:
    if v is None:
        return None
    if hasattr(v, "model_dump"):
        v = v.model_dump(mode="json")
    return json.dumps(v, default=str)
