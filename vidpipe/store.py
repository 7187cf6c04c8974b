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

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
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
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Store:
    """A DuckDB file. Every method opens, does its work and closes (never across a provider call)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._migrated = False

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open()
        try:
            if not self._migrated:
                self._migrate(con)
            yield con
        finally:
            con.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        # Another process may hold the write lock for a moment; wait briefly rather than fail.
        delay = 0.05
        for attempt in range(40):
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException:
                if attempt == 39:
                    raise
                time.sleep(delay)
                delay = min(delay * 1.5, 1.0)
        raise AssertionError("unreachable")

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        current = (row[0] if row else None) or 0
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version > current:
                con.execute(sql)
                con.execute("INSERT INTO schema_version VALUES (?)", [version])
        self._migrated = True

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        with self.connect() as con:
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
        return int(got[0]) if got else -1

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
