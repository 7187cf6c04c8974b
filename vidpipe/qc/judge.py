"""Judges fill the rubric: a person (`vidpipe score`) or a VLM on Gemini. Nothing invents a score.

Capping rule: a technical defect of severity error caps overall at 2 (a clip with black frames,
missing audio or the wrong shape is not a keeper however pretty); `overall_raw` keeps the judge's
own number. Content findings (vidpipe.qc.content) are shown to the VLM judge, which confirms or
rejects each one; a rejected finding keeps its record in qc.json (`confirmed: false`) but no longer
caps the score nor counts as a failure mode. A person's judgement adds to the detectors' modes. This module only computes; every judgement is
saved by vidpipe.pipeline.scoring through the shot record (ShotRef.apply_qc), which recomputes the verdict.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from vidpipe.errors import ProviderError, ProviderNotConfigured, SpecError
from vidpipe.qc.content import CONTENT_CODES, failure_modes
from vidpipe.pricing import estimate_judge, judge_cost
from vidpipe.qc.verdict import DEFECT_CAP
from vidpipe.schema import FAILURE_MODES, QCReport, Scores

VLM_MODEL = os.environ.get("VIDPIPE_JUDGE_MODEL") or "gemini-3.5-flash"  # gemini-2.5-flash shut down 2026-06-17


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


def qc_json_of(clip_or_qc: Path) -> Path:
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


def judged(report: QCReport, judgement: Judgement, *, judge: str) -> QCReport:
    """The report with a judgement applied: findings confirmed/rejected, the score capped, modes merged."""
    unknown = [m for m in judgement.failure_modes if m not in FAILURE_MODES]
    if unknown:
        raise SpecError(f"unknown failure mode(s) {unknown}; choose from: {', '.join(FAILURE_MODES)}")
    report = with_checks(report, judgement.finding_checks)
    modes = list(judgement.failure_modes)
    modes += [m for m in failure_modes(report.defects) if m not in modes]
    return report.model_copy(update={
        "scores": capped(judgement.scores, report), "judge": judge, "failure_modes_observed": modes,
        "what_worked": judgement.what_worked, "what_to_change": judgement.what_to_change, "lesson": judgement.lesson,
    })


def ask_vlm(review_dir: Path, *, model: str = VLM_MODEL,
            on_spend: Callable[[float, float | None], None] | None = None) -> Judgement:
    """Ask Gemini to score the clip from its contact sheet, frames, probe, defects and prompt (saves nothing:
    vidpipe.pipeline.scoring.vlm_judge saves the answer through the shot record).

    `on_spend(estimate, actual)` is told what the call cost as soon as an answer came back (actual from the
    answer's token counts, None when it has none), before the answer is validated: a bad answer was paid too.
    """
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
    prompt_chars = sum(len(p) for p in parts if isinstance(p, str))
    est = estimate_judge(model, images=len(parts) - 1, prompt_chars=prompt_chars)
    base = os.environ.get("VIDPIPE_GEMINI_BASE_URL")
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=base) if base else None)
    try:
        resp = client.models.generate_content(
            model=model, contents=parts,
            config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=Judgement))
    except genai_errors.APIError as exc:
        raise ProviderError(f"VLM judge failed: {exc.code} {exc.status}", provider="gemini", model=model) from exc
    if on_spend is not None:
        usage = resp.usage_metadata
        tokens_in = usage.prompt_token_count if usage else None
        tokens_out = ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0
        on_spend(est, judge_cost(model, tokens_in, tokens_out) if tokens_in else None)
    try:
        judgement = Judgement.model_validate_json(resp.text or "")
    except ValidationError as exc:
        raise ProviderError(f"VLM judge returned invalid JSON; no score recorded ({exc.error_count()} problems)",
                            provider="gemini", model=model) from None
    judgement.failure_modes = [m for m in judgement.failure_modes if m in FAILURE_MODES]
    return judgement
