"""Defect rates from the QC history: per group (model × category × any request feature), with n and a
95% Wilson interval; the patterns the miner turns into lessons.

Only the latest QC pass of each clip counts (a re-run replaces, not doubles, the evidence).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from vidpipe.store import Store

Z95 = 1.96


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n (sane at 0 and at small n)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + Z95 * Z95 / n
    mid = (p + Z95 * Z95 / (2 * n)) / den
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 * Z95 / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


@dataclass
class DefectRate:
    group: dict[str, Any]
    code: str
    n: int
    k: int

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else 0.0

    @property
    def ci(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def as_record(self) -> dict[str, Any]:
        lo, hi = self.ci
        return {**self.group, "code": self.code, "n": self.n, "with_defect": self.k, "rate": round(self.rate, 4),
                "ci95_low": round(lo, 4), "ci95_high": round(hi, 4)}


def _feature(row: dict[str, Any], key: str) -> Any:
    if key == "model":
        return row.get("model") or (row["features"] or {}).get("model")
    v = (row["features"] or {}).get(key)
    if key == "category" and v is None:
        return "general"
    return v


def latest_passes(store: Store) -> list[dict[str, Any]]:
    """One row per clip (its newest QC pass): model, features, defect codes."""
    rows = store.query(
        "SELECT model, features, defect_codes FROM qc "
        "QUALIFY row_number() OVER (PARTITION BY coalesce(clip_id, clip) ORDER BY id DESC) = 1")
    for r in rows:
        f = r["features"]
        r["features"] = json.loads(f) if isinstance(f, str) else (f or {})
        r["defect_codes"] = list(r["defect_codes"] or [])
    return rows


def defect_rates(store: Store, *, by: tuple[str, ...] = ("model", "category"), code: str | None = None,
                 where: dict[str, Any] | None = None, codes: tuple[str, ...] | None = None) -> list[DefectRate]:
    """Rate of each defect code per group. `by`/`where` take model, category or any feature key.

    Without `code`/`codes` only codes seen in a group are listed; with them every group gets a row
    for each (a clean group is a 0% row, which comparisons need)."""
    groups: dict[tuple[Any, ...], list[list[str]]] = {}
    for r in latest_passes(store):
        if where and any(str(_feature(r, k)).lower() != str(v).lower() for k, v in where.items()):
            continue
        groups.setdefault(tuple(_feature(r, b) for b in by), []).append(r["defect_codes"])
    out = []
    for key, passes in groups.items():
        wanted = [code] if code else list(codes) if codes else sorted({c for p in passes for c in p})
        for c in wanted:
            out.append(DefectRate(dict(zip(by, key)), c, len(passes), sum(1 for p in passes if c in p)))
    out.sort(key=lambda d: (-d.rate, d.code, str(d.group)))
    return out
