"""Saving judgements: a person's score (CLI `vidpipe score`, the review room) or the VLM judge's answer.

The judge module computes (capping, confirmed findings, failure modes); this module turns a
judgement into the rows and the lesson, and hands them to the shot record (`ShotRef.apply_qc`),
the one writer of a shot's QC state. The VLM's call is priced in the ledger like any other spend.
"""

from __future__ import annotations

import getpass
import json
import secrets
from pathlib import Path
from typing import Any

from filelock import FileLock

from vidpipe.errors import SpecError, VidpipeError
from vidpipe.ledger import record_spend
from vidpipe.learning.lessons import LESSON_MAX, Lesson, new_lesson, one_line
from vidpipe.paths import Paths
from vidpipe.pipeline.record import LOCK_TIMEOUT_S, ShotRef, store_rows, write_report
from vidpipe.qc.judge import VLM_MODEL, Judgement, ask_vlm, judged, qc_json_of
from vidpipe.schema import QCReport, Scores
from vidpipe.store import Store


def loose_lock(qc_json: Path) -> FileLock:
    """The lock of a review folder that belongs to no shot (a clip judged outside any episode)."""
    return FileLock(str(Path(qc_json).parent / ".qc.lock"), timeout=LOCK_TIMEOUT_S, is_singleton=True)


def apply_loose_qc(qc_json: Path, report: QCReport, *, store: Store | None = None,
                   score_row: dict[str, Any] | None = None, lesson: Lesson | None = None,
                   lessons_path: Path | None = None) -> None:
    """A judgement of a clip that belongs to no episode (`vidpipe score some/clip.mp4`): same writes, its own lock."""
    with loose_lock(qc_json):
        write_report(Path(qc_json), report)
        store_rows(store, None, score_row, lesson, lessons_path)


def ref_for(qc_json: Path, paths: Paths) -> ShotRef | None:
    """The shot whose media folder holds this qc.json (review/<id>/ or takes/<k>/review/), else None."""
    try:
        rel = Path(qc_json).resolve().relative_to(paths.media.resolve())
    except ValueError:
        return None
    if len(rel.parts) < 5 or rel.parts[1] != "shots":
        return None
    try:
        return ShotRef.load(paths, rel.parts[0], rel.parts[2])
    except (VidpipeError, OSError):
        return None


def apply_judgement(qc_path: Path, judgement: Judgement, *, judge: str, store: Store | None = None,
                    lessons_path: Path | None = None, context: dict[str, Any] | None = None,
                    ref: ShotRef | None = None, by: str | None = None) -> QCReport:
    """Save a judgement through the shot record (qc.json, verdict, `scores` row, the lesson in LESSONS.md).

    `judge` is "human" or the VLM's model; `by` names the person (default: the OS user). A lesson is one
    bounded line of plain text (vidpipe.learning.lessons.one_line): a person's bad lesson is refused
    before anything is written; a VLM's is dropped and its score kept. A clip outside any episode
    (no `ref`, none found) is judged in place under its own lock.
    """
    human = judge == "human"
    if judgement.lesson and not human:
        try:
            one_line(judgement.lesson, "lesson", limit=LESSON_MAX)
        except SpecError:
            judgement = judgement.model_copy(update={"lesson": None})
    elif judgement.lesson:
        judgement = judgement.model_copy(update={"lesson": one_line(judgement.lesson, "lesson", limit=LESSON_MAX)})
    with ref.lock() if ref is not None else loose_lock(qc_path):  # read, judge and write as one step
        report = judged(QCReport.model_validate_json(qc_path.read_text()), judgement, judge=judge)
        final = report.scores
        assert final is not None
        ctx = context or {}
        row: dict[str, Any] = {}
        if store is not None:
            rows = store.query("SELECT episode, shot, model, features FROM qc WHERE clip_id = ? ORDER BY id DESC LIMIT 1",
                               [report.clip_id])
            row = rows[0] if rows else {}
        if ref is not None:
            ctx = {"episode": ref.episode.id, "shot": ref.shot.id, **ctx}
        model = ctx.get("model") or row.get("model") or report.model
        score_row = {
            "clip": report.clip, "clip_id": report.clip_id, "episode": ctx.get("episode", row.get("episode")),
            "shot": ctx.get("shot", row.get("shot")), "model": model, "judge": judge, **final.model_dump(),
            "overall_raw": judgement.scores.overall, "failure_modes": report.failure_modes_observed,
            "what_worked": judgement.what_worked, "what_to_change": judgement.what_to_change,
            "lesson": judgement.lesson, "features": row.get("features") or json.dumps(ctx.get("features") or {}),
        } if store is not None else None
        lesson = None
        if judgement.lesson:
            feats = json.loads(row.get("features") or "{}") if row else (ctx.get("features") or {})
            lesson = new_lesson(model or "unknown", feats.get("category", "general"), final.overall, judgement.lesson,
                                f"{judge} judged {report.clip_id}", source="human" if human else "vlm",
                                author=(by or getpass.getuser()) if human else judge)
        if ref is not None:
            ref.apply_qc(report, qc_json=qc_path, store=store, score_row=score_row, lesson=lesson,
                         lessons_path=lessons_path)
        else:
            apply_loose_qc(qc_path, report, store=store, score_row=score_row, lesson=lesson, lessons_path=lessons_path)
        return report


def score_clip(clip_or_qc_json: Path, scores: Scores, *, judge: str = "human", failure_modes: tuple[str, ...] = (),
               what_worked: str | None = None, what_to_change: str | None = None, lesson: str | None = None,
               store: Store | None = None, lessons_path: Path | None = None, paths: Paths | None = None,
               by: str | None = None) -> QCReport:
    """A person's judgement of a clip (CLI `vidpipe score`, and the review room's form)."""
    j = Judgement(scores=scores, failure_modes=list(failure_modes), what_worked=what_worked,
                  what_to_change=what_to_change, lesson=lesson)
    qc_json = qc_json_of(clip_or_qc_json)
    ref = ref_for(qc_json, paths) if paths is not None else None
    return apply_judgement(qc_json, j, judge=judge, store=store, lessons_path=lessons_path, ref=ref, by=by)


def vlm_judge(review_dir: Path, *, store: Store | None = None, model: str = VLM_MODEL,
              lessons_path: Path | None = None, ref: ShotRef | None = None) -> QCReport:
    """Ask the VLM judge about the clip in `review_dir` and save its answer (see `apply_judgement`); the call is
    booked in the ledger (kind "judge") with its estimate and its cost from the answer's token counts."""
    call = secrets.token_hex(6)

    def book(est: float, actual: float | None) -> None:
        if store is not None:
            record_spend(store, "judge", f"{Path(review_dir).name}:{call}", model=model, backend="gemini",
                         est_cost_usd=est, cost_usd=actual, episode=ref.episode.id if ref else None,
                         shot=ref.shot.id if ref else None)

    judgement = ask_vlm(Path(review_dir), model=model, on_spend=book)
    return apply_judgement(Path(review_dir) / "qc.json", judgement, judge=model, store=store,
                           lessons_path=lessons_path, ref=ref)
