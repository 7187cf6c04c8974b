"""Trends: mean scores with n and a 95% CI, defect rates, cost per accepted second — by model, category…"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vidpipe.store import Store

GROUPABLE = {"model": "s.model", "category": "json_extract_string(s.features, '$.category')",
             "aspect": "json_extract_string(s.features, '$.aspect_ratio')",
             "mode": "json_extract_string(s.features, '$.mode')", "judge": "s.judge", "episode": "s.episode"}
ACCEPTED = 4  # overall ≥ 4 counts as an accepted take


@dataclass
class TrendRow:
    group: dict[str, Any]
    n: int
    mean_overall: float
    ci95: float
    accept_rate: float
    cost_per_accepted_s: float | None

    def as_record(self) -> dict[str, Any]:
        rec = {**self.group, **{k: v for k, v in asdict(self).items() if k != "group"}}
        return {k: v for k, v in rec.items() if v is not None}


def trends(store: Store, *, by: tuple[str, ...] | list[str] = ("model", "category"), since: str | None = None,
           where: dict[str, str] | None = None) -> list[TrendRow]:
    """Aggregate the scores table; `where` filters on the same keys as `by` (e.g. category=dialogue)."""
    unknown = [b for b in [*by, *(where or {})] if b not in GROUPABLE]
    if unknown:
        raise ValueError(f"cannot group or filter by {unknown}; choose from {', '.join(GROUPABLE)}")
    cols = ", ".join(f"{GROUPABLE[b]} AS {b}" for b in by)
    conds, params = ["1=1"], []
    if since:
        conds.append("s.created_at >= CAST(? AS TIMESTAMP)")
        params.append(since)
    for k, v in (where or {}).items():
        conds.append(f"{GROUPABLE[k]} = ?")
        params.append(v)
    sql = f"""
        SELECT {cols}, count(*) AS n, avg(s.overall) AS mean, stddev_samp(s.overall) AS sd,
               avg(CASE WHEN s.overall >= {ACCEPTED} THEN 1 ELSE 0 END) AS accept_rate,
               sum(coalesce(g.cost_usd, 0)) AS cost,
               sum(CASE WHEN s.overall >= {ACCEPTED} THEN coalesce(g.duration_s, 0) ELSE 0 END) AS accepted_s
        FROM scores s LEFT JOIN generations g ON g.episode = s.episode AND g.shot = s.shot AND g.status = 'done'
        WHERE {' AND '.join(conds)} GROUP BY ALL ORDER BY mean DESC"""
    rows = []
    for r in store.query(sql, params):
        n = int(r["n"])
        ci = 1.96 * float(r["sd"]) / math.sqrt(n) if n > 1 and r["sd"] is not None else float("nan")
        cps = float(r["cost"]) / float(r["accepted_s"]) if r["accepted_s"] else None
        rows.append(TrendRow({b: r[b] for b in by}, n, float(r["mean"]), ci, float(r["accept_rate"]), cps))
    return rows


def plot_trends(rows: list[TrendRow], out: Path) -> Path:
    """A bar chart of mean overall per group with 95% CI whiskers (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [" / ".join(str(v) for v in r.group.values()) for r in rows] or ["(no scores yet)"]
    means = [r.mean_overall for r in rows] or [0]
    errs = [0 if math.isnan(r.ci95) else r.ci95 for r in rows] or [0]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(labels) + 2), 4), dpi=100)
    ax.bar(range(len(labels)), means, yerr=errs, capsize=4, color="#4C78A8")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylim(0, 5.2)
    ax.set_ylabel("mean overall (1–5) ± 95% CI")
    for i, r in enumerate(rows):
        ax.text(i, 0.1, f"n={r.n}", ha="center", color="white", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
