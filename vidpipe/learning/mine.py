"""Mine the QC history for significant patterns and append them to LESSONS.md.

Significance rule (also used by learned routing): within one category, a model beats another
only when both have at least MIN_SAMPLES judged clips, the difference of mean overall scores is
at least MIN_MARGIN, and their 95% confidence intervals do not overlap. Thin or mixed evidence
yields nothing — the default routing table then holds exactly.

Defect patterns (from the content and technical QC of every clip, judged or not) follow the same
spirit with proportions: a prompt pattern is reported when at least MIN_SAMPLES clips share it and
the 95% Wilson lower bound of its defect rate is at least DEFECT_MIN_RATE; one model loses to another
on a defect when both have MIN_SAMPLES clips, the rates differ by DEFECT_MARGIN and the intervals
do not overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from vidpipe.learning.defects import defect_rates, wilson
from vidpipe.learning.lessons import Lesson, append_lesson, lessons_lock, new_lesson, read_lessons, sync_lessons
from vidpipe.store import Store

MIN_SAMPLES = 8
MIN_MARGIN = 0.75
DEFECT_MIN_RATE = 0.2  # Wilson lower bound: "burnt-in text in 40% (n=20)" has 0.22
DEFECT_MARGIN = 0.2
MINER = "vidpipe learn"  # the author named on mined lessons
# Defects a prompt can pre-empt: code → (feature that is False when the prompt lacks the remedy, phrases)
REMEDIES: dict[str, tuple[str, list[str], str]] = {
    "burnt_in_text": ("forbids_text", ["no subtitles", "no on-screen text", "no captions", "no text"],
                      "without 'no subtitles' in the prompt"),
}
MODEL_DEFECTS = ("burnt_in_text", "camera_move_mismatch", "speech_missing", "face_missing", "faces_extra",
                 "flicker", "blurry", "blocky", "frozen_frames", "black_frames")


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
class DefectPattern:
    """A mined defect rate: a prompt pattern (`remedy` set) or a model losing to another on a defect."""

    category: str
    code: str
    model: str
    n: int
    k: int
    low: float
    other: str | None = None  # the better model (model comparisons)
    other_n: int = 0
    other_k: int = 0
    remedy: list[str] = field(default_factory=list)
    feature: str | None = None
    phrase: str = ""

    @property
    def signature(self) -> str:
        tail = f"{self.feature}" if self.remedy else f"{self.model}>{self.other}"
        return f"[defect:{self.category}:{self.code}:{self.model}:{tail}]"

    def text(self) -> str:
        name = self.code.replace("_", "-")
        if self.remedy:
            return (f"{self.category} on {self.model} {self.phrase}: {name} in {self.k / self.n:.0%} (n={self.n}). "
                    f"Add '{self.remedy[0]}' to Constraints.")
        return (f"For {self.category} shots {self.model} shows {name} in {self.k / self.n:.0%} (n={self.n}) vs "
                f"{self.other} {self.other_k / max(1, self.other_n):.0%} (n={self.other_n}): prefer {self.other}.")

    def evidence(self) -> str:
        return f"{self.signature} {self.k}/{self.n} clips, 95% CI low {self.low:.2f} (QC detectors)"

    def lint(self) -> dict[str, object]:
        if self.remedy and self.feature:
            return {"when": {"category": self.category, self.feature: False}, "require_any": self.remedy}
        return {"when": {"category": self.category}, "avoid_model": self.model, "prefer_model": self.other}


@dataclass
class LearnReport:
    appended: list[Lesson] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    defect_patterns: list[DefectPattern] = field(default_factory=list)


def defect_patterns(store: Store) -> list[DefectPattern]:
    """Significant defect rates: prompt patterns with a remedy, and model-vs-model defect gaps."""
    out: list[DefectPattern] = []
    for code, (feature, phrases, phrase) in REMEDIES.items():
        for r in defect_rates(store, by=("model", "category", feature), code=code):
            if r.group[feature] is False and r.n >= MIN_SAMPLES and r.ci[0] >= DEFECT_MIN_RATE and r.group["model"]:
                out.append(DefectPattern(r.group["category"], code, r.group["model"], r.n, r.k, r.ci[0],
                                         remedy=phrases, feature=feature, phrase=phrase))
    rates = [r for r in defect_rates(store, by=("model", "category"), codes=MODEL_DEFECTS) if r.group["model"]]
    index = {(r.group["category"], r.code, r.group["model"]): r for r in rates}
    counts = {(r.group["category"], r.group["model"]): r.n for r in rates}
    for (cat, code, model), bad in index.items():
        for (cat2, other), n_other in counts.items():
            if cat2 != cat or other == model or bad.n < MIN_SAMPLES or n_other < MIN_SAMPLES:
                continue
            good = index.get((cat, code, other))
            k_other = good.k if good else 0
            if bad.k == 0:
                continue
            lo_bad, _ = bad.ci
            _, hi_good = wilson(k_other, n_other)
            if bad.rate - k_other / n_other >= DEFECT_MARGIN and lo_bad > hi_good:
                out.append(DefectPattern(cat, code, model, bad.n, bad.k, lo_bad, other, n_other, k_other))
    return out


def defect_losers(store: Store, category: str) -> dict[str, DefectPattern]:
    """model → the strongest defect pattern where it loses to another model in this category."""
    out: dict[str, DefectPattern] = {}
    for p in defect_patterns(store):
        if p.category == category and p.other and (p.model not in out or p.low > out[p.model].low):
            out[p.model] = p
    return out


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
    """Append lessons for new significant patterns (idempotent); reversals are appended as contradictions.

    Held under LESSONS.md's lock from reading to appending, so two miners never both add one pattern."""
    with lessons_lock(lessons_path):
        return _learn(store, lessons_path)


def _learn(store: Store, lessons_path: Path) -> LearnReport:
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
            lint={"when": {"category": c.category}, "avoid_model": c.loser, "prefer_model": c.winner},
            author=MINER))
        existing.append(lesson)
        report.appended.append(lesson)
    report.defect_patterns = defect_patterns(store)
    for p in report.defect_patterns:
        if any(p.signature in e.evidence for e in existing):
            continue
        lesson = append_lesson(lessons_path, new_lesson(p.model, p.category, _overall(store, p), p.text(),
                                                        p.evidence(), lint=p.lint(), author=MINER))
        existing.append(lesson)
        report.appended.append(lesson)
    sync_lessons(store, lessons_path)  # every entry, mined or typed by a person, reaches the `lessons` table
    return report


def _overall(store: Store, p: DefectPattern) -> int:
    """The judged mean overall of the pattern's clips, else the defect cap (2) — the heading needs a number."""
    rows = store.query(
        "SELECT avg(s.overall) AS m FROM scores s JOIN qc q ON q.clip_id = s.clip_id "
        "WHERE q.model = ? AND list_contains(q.defect_codes, ?) AND s.overall IS NOT NULL", [p.model, p.code])
    m = rows[0]["m"] if rows else None
    return int(round(m)) if m is not None else 2

