"""What was learned flows back: lesson lint for prompts and learned routing.

- lesson_lint(request, *, category, lessons_path) -> list[Finding]   (codes `lesson:<id>`, warnings)
- learned_route(category, mode, default_model, store) -> LearnedChoice | None
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.learning.features import INTENT_FEATURES, extract_features
from vidpipe.learning.lessons import read_lessons
from vidpipe.learning.mine import defect_losers, model_stats, significant
from vidpipe.paths import Paths
from vidpipe.schema import Finding


@dataclass(frozen=True)
class LearnedChoice:
    model: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _when_matches(when: dict[str, Any], feats: dict[str, Any], request: dict[str, Any]) -> bool:
    return all(feats.get(k, request.get(k)) == v for k, v in when.items())


def lesson_lint(request: dict[str, Any], *, category: str | None = None, lessons_path: Path | None = None,
                model: str | None = None) -> list[Finding]:
    """Warnings for lessons with a machine-checkable LINT rule that this request breaks.

    Rules: `require_any` (one of these phrases must appear), `forbid`, `max_words`, and
    `avoid_model` (a mined routing lesson: warn when the job is explicitly on, or auto-routed
    toward, the model the evidence says loses for this category).
    """
    if lessons_path is None:
        lessons_path = Paths.from_env().lessons
    linted = [lesson for lesson in read_lessons(lessons_path) if lesson.lint]
    if not linted:  # the features cost more than the rest of validation; no rule, no need
        return []
    prompt = str(request.get("prompt") or "").lower()
    feats = extract_features(request, category=category, intent=any(
        k in INTENT_FEATURES for lesson in linted for k in (lesson.lint or {}).get("when", {})))
    out = []
    for lesson in linted:
        rule = lesson.lint or {}
        if not _when_matches(rule.get("when", {}), feats, request):
            continue
        broken = None
        if rule.get("require_any") and not any(w.lower() in prompt for w in rule["require_any"]):
            broken = f"add one of: {', '.join(rule['require_any'])}"
        elif rule.get("forbid") and any(w.lower() in prompt for w in rule["forbid"]):
            broken = f"avoid: {', '.join(w for w in rule['forbid'] if w.lower() in prompt)}"
        elif rule.get("max_words") and feats["word_count"] > int(rule["max_words"]):
            broken = f"keep it under {rule['max_words']} words"
        elif rule.get("avoid_model") and model in (rule["avoid_model"], "auto", None):
            broken = f"route to {rule.get('prefer_model')} rather than {rule['avoid_model']}"
        if broken:
            out.append(Finding(code=f"lesson:{lesson.id}", severity="warning", message=f"{lesson.lesson} ({broken})"))
    return out


def learned_route(category: str | None, mode: str | None, default_model: str, store: Any = None) -> LearnedChoice | None:
    """Another model for this category when the QC history says so significantly (see learning.mine)."""
    if store is None or not category:
        return None

    models = model_stats(store, category).get(category, {})
    base = models.get(default_model)
    if base is None:
        return _defect_route(category, default_model, store)
    best = max(((m, s) for m, s in models.items() if m != default_model and significant(s, base)),
               key=lambda ms: ms[1][1], default=None)
    if best is None:
        return _defect_route(category, default_model, store)
    m, (n, mean, ci) = best
    return LearnedChoice(
        m,
        f"learned: for {category}, {m} scores {mean:.2f}±{ci:.2f} (n={n}) vs {default_model} "
        f"{base[1]:.2f}±{base[2]:.2f} (n={base[0]})",
        {"category": category, "model": m, "n": n, "mean": mean, "default": default_model,
         "default_n": base[0], "default_mean": base[1]},
    )


def _defect_route(category: str, default_model: str, store: Any) -> LearnedChoice | None:
    """Another model when the default loses significantly on a QC defect in this category (learning.mine)."""
    p = defect_losers(store, category).get(default_model)
    if p is None or p.other is None:
        return None
    return LearnedChoice(p.other, f"learned: {p.text()}",
                         {"category": category, "model": p.other, "code": p.code, "n": p.n, "rate": p.k / p.n,
                          "default": default_model, "other_n": p.other_n, "other_rate": p.other_k / max(1, p.other_n)})
