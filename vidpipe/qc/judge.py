"""Judges fill the rubric: a person (`vidpipe score`) or a VLM on Gemini. Nothing invents a score.

Capping rule: a technical defect of severity error caps overall at 2 (a clip with black frames,
missing audio or the wrong shape is not a keeper however pretty); `overall_raw` keeps the judge's
own number. Content findings (vidpipe.qc.content) are shown to the VLM judge, which confirms or
rejects each one; a rejected finding keeps its record in qc.json (`confirmed: false`) but no longer
caps the score nor counts as a failure mode. A person's judgement adds to the detectors' modes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from vidpipe.errors import ProviderError, ProviderNotConfigured, SpecError
from vidpipe.learning.lessons import append_lesson, new_lesson
from vidpipe.qc.content import CONTENT_CODES, failure_modes
from vidpipe.qc.verdict import DEFECT_CAP
from vidpipe.schema import FAILURE_MODES, QCReport, Scores
from vidpipe.store import Store, now

VLM_MODEL = "gemini-2.5-flash"


class FindingCheck(BaseModel):
    """The judge's verdict on one detector finding (by its index in the `findings` list it was shown)."""

    index: int
    confirmed: bool
    note: str | None = None


class Judgement(BaseModel):
    """What a judge returns (validated; the VLM's JSON must match this)."""

    scores: Scores
    failure_modes: list[str] = Field(default_factory=list)
    what_worked: str | None = None
    what_to_change: str | None = None
    lesson: str | None = None
    finding_checks: list[FindingCheck] = Field(default_factory=list)


def _findings(report: QCReport) -> list[tuple[int, Any]]:
    """(index into report.defects, defect) for the content findings a judge is asked about."""
    return [(i, d) for i, d in enumerate(report.defects) if d.code in CONTENT_CODES]


def with_checks(report: QCReport, checks: list[FindingCheck]) -> QCReport:
    """The report with each checked content finding marked confirmed / rejected."""
    shown = _findings(report)
    defects = list(report.defects)
    for c in checks:
        if 0 <= c.index < len(shown):
            i, d = shown[c.index]
            defects[i] = d.model_copy(update={"confirmed": c.confirmed})
    return report.model_copy(update={"defects": defects})


def capped(scores: Scores, report: QCReport) -> Scores:
    if any(d.confirmed is not False for d in report.blocking_defects()) and scores.overall > DEFECT_CAP:
        return scores.model_copy(update={"overall": DEFECT_CAP})
    return scores


def _qc_json(clip_or_qc: Path) -> Path:
    p = Path(clip_or_qc)
    if p.name == "qc.json" or p.is_dir():
        return p if p.name == "qc.json" else p / "qc.json"
    own = p.parent / "review" / p.stem / "qc.json"
    if own.is_file():
        return own
    # a job id can differ from the file name: find the report that was made of this very file
    mine = [q for q in sorted((p.parent / "review").glob("*/qc.json")) if _report_of(q, p)]
    if len(mine) != 1:
        why = "no QC report of this clip" if not mine else f"{len(mine)} QC reports claim this clip"
        raise SpecError(f"{p}: {why}; run `vidpipe qc {p}` first (or pass the qc.json to score)")
    return mine[0]


def _report_of(qc_json: Path, clip: Path) -> bool:
    try:
        report = QCReport.model_validate_json(qc_json.read_text())
    except (OSError, ValidationError):
        return False
    return Path(report.clip).resolve() == clip.resolve()


def apply_judgement(qc_path: Path, judgement: Judgement, *, judge: str, store: Store | None = None,
                    lessons_path: Path | None = None, context: dict[str, Any] | None = None) -> QCReport:
    """Save a judgement: qc.json, a DuckDB `scores` row, and LESSONS.md when a lesson is given."""
    unknown = [m for m in judgement.failure_modes if m not in FAILURE_MODES]
    if unknown:
        raise SpecError(f"unknown failure mode(s) {unknown}; choose from: {', '.join(FAILURE_MODES)}")

    report = with_checks(QCReport.model_validate_json(qc_path.read_text()), judgement.finding_checks)
    final = capped(judgement.scores, report)
    modes = list(judgement.failure_modes)
    modes += [m for m in failure_modes(report.defects) if m not in modes]
    report = report.model_copy(update={
        "scores": final, "judge": judge, "failure_modes_observed": modes,
        "what_worked": judgement.what_worked, "what_to_change": judgement.what_to_change, "lesson": judgement.lesson,
    })
    qc_path.write_text(report.model_dump_json(indent=2))
    ctx = context or {}
    row: dict[str, Any] = {}
    if store is not None:
        rows = store.query("SELECT episode, shot, model, features FROM qc WHERE clip_id = ? ORDER BY id DESC LIMIT 1",
                           [report.clip_id])
        row = rows[0] if rows else {}
        store.execute(
            "INSERT INTO scores (clip, clip_id, episode, shot, model, judge, prompt_fidelity, subject_consistency, "
            "camera_and_motion, audio_match, overall, overall_raw, failure_modes, what_worked, what_to_change, "
            "lesson, features, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [report.clip, report.clip_id, ctx.get("episode", row.get("episode")), ctx.get("shot", row.get("shot")),
             ctx.get("model", row.get("model") or report.model), judge, final.prompt_fidelity,
             final.subject_consistency, final.camera_and_motion, final.audio_match, final.overall,
             judgement.scores.overall, modes, judgement.what_worked, judgement.what_to_change,
             judgement.lesson, row.get("features") or json.dumps(ctx.get("features") or {}), now()],
        )
    if judgement.lesson and lessons_path is not None:
        feats = json.loads(row.get("features") or "{}") if row else (ctx.get("features") or {})
        model = ctx.get("model") or row.get("model") or report.model or "unknown"
        append_lesson(lessons_path, new_lesson(model, feats.get("category", "general"),
                                               final.overall, judgement.lesson, f"{judge} judged {report.clip_id}"))
    return report


def score_clip(clip_or_qc_json: Path, scores: Scores, *, judge: str = "human", failure_modes: tuple[str, ...] = (),
               what_worked: str | None = None, what_to_change: str | None = None, lesson: str | None = None,
               store: Store | None = None, lessons_path: Path | None = None) -> QCReport:
    """A person's judgement of a clip (CLI `vidpipe score`, and the review room's form)."""
    j = Judgement(scores=scores, failure_modes=list(failure_modes), what_worked=what_worked,
                  what_to_change=what_to_change, lesson=lesson)
    return apply_judgement(_qc_json(clip_or_qc_json), j, judge=judge, store=store, lessons_path=lessons_path)


def vlm_judge(review_dir: Path, *, store: Store | None = None, model: str = VLM_MODEL,
              lessons_path: Path | None = None) -> QCReport:
    """Ask Gemini to score the clip from its contact sheet, frames, probe, defects and prompt."""
    key = os.environ.get("GEMINI_API_KEY", "").strip()
    if not key:
        raise ProviderNotConfigured("the VLM judge needs GEMINI_API_KEY (or score by hand: vidpipe score)",
                                    provider="gemini")
    from google import genai
    from google.genai import errors as genai_errors
    from google.genai import types

    qc_path = Path(review_dir) / "qc.json"
    report = QCReport.model_validate_json(qc_path.read_text())
    images = [Path(review_dir) / "contact_sheet.jpg", *sorted(Path(review_dir).glob("frame_*.jpg"))[:6]]
    parts: list[Any] = [types.Part.from_bytes(data=p.read_bytes(), mime_type="image/jpeg") for p in images if p.exists()]
    shown = _findings(report)
    brief = {"prompt": report.prompt, "probe": report.probe.model_dump(),
             "technical_defects": [d.model_dump() for d in report.defects if (d.code, d.start_s) not in
                                   {(x.code, x.start_s) for _, x in shown}],
             "findings": [{"index": k, "code": d.code, "from_s": d.start_s, "to_s": d.end_s, "severity": d.severity,
                           "measured": d.value, "threshold": d.threshold, "detail": d.detail,
                           "boxes": [r.model_dump() for r in d.regions][:6]} for k, (_, d) in enumerate(shown)],
             "failure_mode_catalogue": list(FAILURE_MODES)}
    parts.append(
        "You are a strict video QC judge. Score this generated clip 1-5 on prompt_fidelity, subject_consistency, "
        "camera_and_motion, audio_match and overall; list failure modes only by catalogue name; say what worked, "
        "what to change and one lesson. Offline detectors reported the `findings` below (with their measured value "
        "and threshold; boxes are fractions of the frame, marked on the contact sheet): for EACH finding return a "
        "finding_checks entry {index, confirmed: true|false, note} saying whether you see it in the frames. "
        "Reply with JSON matching the schema. Clip facts:\n" + json.dumps(brief))
    base = os.environ.get("VIDPIPE_GEMINI_BASE_URL")
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=base) if base else None)
    try:
        resp = client.models.generate_content(
            model=model, contents=parts,
            config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=Judgement))
    except genai_errors.APIError as exc:
        raise ProviderError(f"VLM judge failed: {exc.code} {exc.status}", provider="gemini", model=model) from exc
    try:
        judgement = Judgement.model_validate_json(resp.text or "")
    except ValidationError as exc:
        raise ProviderError(f"VLM judge returned invalid JSON; no score recorded ({exc.error_count()} problems)",
                            provider="gemini", model=model) from None
    judgement.failure_modes = [m for m in judgement.failure_modes if m in FAILURE_MODES]
    return apply_judgement(qc_path, judgement, judge=model, store=store, lessons_path=lessons_path)
