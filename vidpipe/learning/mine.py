"""Mine the QC history for significant patterns and append them to LESSONS.md.

Significance rule (also used by learned routing): within one category, a model beats another
only when both have at least MIN_SAMPLES judged clips, the difference of mean overall scores is
at least MIN_MARGIN, and their 95% confidence intervals do not overlap. Thin or mixed evidence
yields nothing — the default routing table then holds exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from vidpipe.learning.lessons import Lesson, append_lesson, new_lesson, read_lessons
from vidpipe.store import Store, now

MIN_SAMPLES = 8
MIN_MARGIN = 0.75


@dataclass
class Comparison:
    category: str
    winner: str
    loser: str
    mean_w: float
    mean_l: float
    n_w: int
    n_l: int

    @property
    def signature(self) -> str:
        return f"[route:{self.category}:{self.winner}>{self.loser}]"

    def evidence(self) -> str:
        return (f"{self.signature} mean overall {self.mean_w:.2f} vs {self.mean_l:.2f} "
                f"(n={self.n_w}/{self.n_l}, margin ≥ {MIN_MARGIN}, 95% CIs apart)")


@dataclass
class LearnReport:
    appended: list[Lesson] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)


def model_stats(store: Store, category: str | None = None) -> dict[str, dict[str, tuple[int, float, float]]]:
    """category → model → (n, mean overall, 95% CI half-width), from judged clips."""
    rows = store.query(
        "SELECT coalesce(json_extract_string(features, '$.category'), 'general') AS category, model, "
        "count(*) AS n, avg(overall) AS mean, coalesce(stddev_samp(overall), 0) AS sd FROM scores "
        "WHERE model IS NOT NULL AND overall IS NOT NULL AND (? IS NULL OR "
        "coalesce(json_extract_string(features, '$.category'), 'general') = ?) GROUP BY ALL",
        [category, category],
    )
    out: dict[str, dict[str, tuple[int, float, float]]] = {}
    for r in rows:
        n = int(r["n"])
        out.setdefault(r["category"], {})[r["model"]] = (n, float(r["mean"]), 1.96 * float(r["sd"]) / math.sqrt(n))
    return out


def significant(a: tuple[int, float, float], b: tuple[int, float, float]) -> bool:
    """Does a beat b under the significance rule?"""
    (na, ma, ca), (nb, mb, cb) = a, b
    return na >= MIN_SAMPLES and nb >= MIN_SAMPLES and ma - mb >= MIN_MARGIN and ma - ca > mb + cb


def compare(store: Store) -> list[Comparison]:
    out = []
    for cat, models in model_stats(store).items():
        for wa, sa in models.items():
            for lo, sl in models.items():
                if wa != lo and significant(sa, sl):
                    out.append(Comparison(cat, wa, lo, sa[1], sl[1], sa[0], sl[0]))
    return out


def learn(store: Store, lessons_path: Path) -> LearnReport:
    """Append lessons for new significant patterns (idempotent); reversals are appended as contradictions."""
    report = LearnReport(comparisons=compare(store))
    existing = read_lessons(lessons_path)
    for c in report.comparisons:
        if any(c.signature in e.evidence for e in existing):
            continue
        reverse = f"[route:{c.category}:{c.loser}>{c.winner}]"
        contra = next((e for e in existing if reverse in e.evidence), None)
        text = f"For {c.category} shots prefer {c.winner} over {c.loser}."
        if contra:
            text += f" (contradicts {contra.id}: newer evidence reverses it)"
        lesson = append_lesson(lessons_path, new_lesson(
            c.winner, c.category, round(c.mean_w), text, c.evidence(),
            lint={"when": {"category": c.category}, "avoid_model": c.loser, "prefer_model": c.winner}))
        existing.append(lesson)
        report.appended.append(lesson)
        store.execute(
            "INSERT OR REPLACE INTO lessons (id, date, model, category, overall, lesson, evidence, source, created_at) "
            "VALUES (?, CAST(? AS DATE), ?, ?, ?, ?, ?, 'mined', ?)",
            [lesson.id, lesson.date, lesson.model, lesson.category, lesson.overall, lesson.lesson, lesson.evidence, now()],
        )
    return report
