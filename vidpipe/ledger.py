"""The generations ledger: one DuckDB row per cache key (= one paid request), and spend reports.

Queries live here rather than in store.py so the runner owns its table's semantics. A row is
written with its request_id *before* polling starts; that is what makes a killed run resume
instead of paying twice. Never holds a key or any header.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from vidpipe.store import Store, now

_LOCK = threading.Lock()  # one writer per process; DuckDB connections are short-lived anyway

COLUMNS = (
    "job_id", "episode", "shot", "backend", "model", "endpoint", "request_id", "status", "body",
    "output_path", "result_url", "est_cost_usd", "cost_usd", "duration_s", "retries",
    "fallback_from", "error",
)


class Ledger:
    """Typed access to `generations` and the `costs` view of a Store."""

    def __init__(self, store: Store):
        self.store = store

    def get(self, cache_key: str) -> dict[str, Any] | None:
        """The row for `cache_key`, or None."""
        with _LOCK:
            rows = self.store.query("SELECT * FROM generations WHERE cache_key = ?", [cache_key])
        return rows[0] if rows else None

    def record(self, cache_key: str, **fields: Any) -> None:
        """Insert or update the row for `cache_key` with `fields` (unknown names are refused)."""
        bad = set(fields) - set(COLUMNS)
        if bad:
            raise ValueError(f"unknown generations column(s): {', '.join(sorted(bad))}")
        if "body" in fields and not isinstance(fields["body"], (str, type(None))):
            fields["body"] = json.dumps(fields["body"], sort_keys=True, default=str)
        cols = list(fields)
        stamp = now()
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols)
        sql = (
            f"INSERT INTO generations (cache_key, {', '.join(cols)}, created_at, updated_at) "
            f"VALUES (?, {', '.join('?' * len(cols))}, ?, ?) "
            f"ON CONFLICT (cache_key) DO UPDATE SET {sets}{', ' if sets else ''}updated_at = excluded.updated_at"
        )
        with _LOCK:
            self.store.execute(sql, [cache_key, *fields.values(), stamp, stamp])

    def spend(self, *, episode: str | None = None, exclude_shot: str | None = None) -> float:
        """Money committed so far (actual where known, else the estimate), optionally leaving one shot out."""
        with _LOCK:
            rows = self.store.query(
                "SELECT coalesce(sum(coalesce(cost_usd, est_cost_usd, 0)), 0) AS s FROM generations "
                "WHERE status IN ('done', 'submitted', 'running') AND (? IS NULL OR episode = ?) "
                "AND (? IS NULL OR shot IS DISTINCT FROM ?)",
                [episode, episode, exclude_shot, exclude_shot],
            )
        return float(rows[0]["s"]) if rows else 0.0

    def costs(self, *, episode: str | None = None) -> dict[str, Any]:
        """Spend by model, by episode and by day from the `costs` view (plus totals)."""
        where = "WHERE episode = ?" if episode else ""
        params = [episode] if episode else []

        def group(col: str) -> list[dict[str, Any]]:
            return self.store.query(
                f"SELECT {col} AS key, sum(generations) AS generations, round(sum(cost_usd), 4) AS cost_usd, "
                f"round(sum(est_cost_usd), 4) AS est_cost_usd FROM costs {where} GROUP BY 1 ORDER BY 1",
                params,
            )

        with _LOCK:
            by_model, by_episode, by_day = group("model"), group("episode"), group("CAST(day AS VARCHAR)")
        total = sum(float(r["cost_usd"] or 0) for r in by_model)
        est = sum(float(r["est_cost_usd"] or 0) for r in by_model)
        return {
            "episode": episode, "total_cost_usd": round(total, 4), "total_est_cost_usd": round(est, 4),
            "by_model": by_model, "by_episode": by_episode, "by_day": by_day,
        }
