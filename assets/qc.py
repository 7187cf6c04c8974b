"""QC group: every clip's QC pass stored in DuckDB (and judged when a judge is configured)."""


from collections.abc import Iterator

import dagster as dg

from assets.generation import shot_clip
from assets.failures import RETRY, decided_failures, qc_failure
from assets.metadata import clean, inline_thumbnail, media_link, review_link
from assets.partitions import shot_key, shots
from resources import DuckDBStore, Judge, MediaRoot
from vidpipe.errors import VidpipeError
from vidpipe.pipeline.episode_stages import episode_status
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import record_qc
from vidpipe.qc.verdict import SCORE_THRESHOLD
from vidpipe.review.urls import shot_url


@dg.multi_asset(  # (a multi-asset only so that its checks may go unevaluated: can_subset makes them optional)
    name="shot_qc",
    partitions_def=shots,
    retry_policy=RETRY,
    can_subset=True,
    check_specs=[
        dg.AssetCheckSpec("score_threshold", asset="shot_qc",
                          description=f"Warn when a judged clip scores overall < {SCORE_THRESHOLD}/5. Not evaluated "
                          "(skipped) on a clip nobody scored."),
        dg.AssetCheckSpec("judge_ran", asset="shot_qc",
                          description="Warn when the configured judge failed (the technical QC row is stored, "
                          "the score stays null; score by hand with `vidpipe score` or re-run). Not evaluated "
                          "(skipped) when no judge is configured."),
    ],
    specs=[dg.AssetSpec("shot_qc", group_name="qc", kinds={"python", "duckdb"}, owners=["team:production"],
                        code_version="1", deps=[shot_clip], description="The shot's QC report (review/<clip_id>/: contact sheet, frames, probe, qc.json) recorded as "
    "one row in DuckDB with the request's features. Scores come only from a judge (VLM or a person); "
    "an unjudged clip keeps scores null. Re-records its episode's `episode_shots` digest, so that "
    "episode's final_cut (and only it) turns Unsynced when this shot changed. A clip that fails QC fails this "
    "asset with one line saying why (the partition is red; the row is stored first).")],
)
@decided_failures
def shot_qc(context: dg.AssetExecutionContext, media: MediaRoot, store: DuckDBStore,
            judge: Judge) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    ep, shot = shot_key(context)
    paths = media.paths()
    ref = ShotRef.load(paths, ep, shot)
    report = record_qc(ref, store.store(), judge=judge.enabled())  # stores the technical row before judging
    rec = ref.read()  # the verdict is the record's (vidpipe.pipeline.record), not recomputed here
    judge_error = rec.qc.judge_error if judge.enabled() and rec.qc else None
    if judge_error:
        context.log.warning(f"{ref.key}: judge failed, QC row stored unscored: {judge_error}")
    scores = report.scores.model_dump() if report.scores else None
    checks = []  # a check that did not run reports nothing (the UI shows it as not evaluated, never green)
    if scores:
        checks.append(dg.AssetCheckResult(
            check_name="score_threshold", passed=rec.usable, severity=dg.AssetCheckSeverity.WARN,
            metadata={"overall": scores["overall"], "judge": report.judge or "?", "state": rec.state_line()}))
    if judge.enabled():
        checks.append(dg.AssetCheckResult(
            check_name="judge_ran", passed=judge_error is None, severity=dg.AssetCheckSeverity.WARN,
            metadata=clean({"judge": "vlm", "error": judge_error})))
    _rerecord_episode(context, paths, ep, shot)
    if not rec.usable:  # the record's verdict: failed QC and no person accepted it
        failure = qc_failure(ref.key, report, shot_url(ep, shot))
        context.log_event(dg.AssetObservation(  # the reason, on the partition itself (the run page has it too)
            asset_key="shot_qc", partition=context.partition_key,
            metadata={"verdict": dg.MetadataValue.text(failure.description or "failed QC"), **failure.metadata}))
        raise failure
    yield dg.MaterializeResult(
        metadata=clean({
            "review_dir": dg.MetadataValue.path(str(ref.review_dir)),
            "uri": media.publish(ref.review_dir / "contact_sheet.jpg"),
            "defects": dg.MetadataValue.json([d.model_dump() for d in report.defects]),
            "defect_count": len(report.defects),
            "scores": dg.MetadataValue.json(scores) if scores else "unjudged",
            "judge": report.judge,
            "judge_error": judge_error,
            "failure_modes": dg.MetadataValue.json(report.failure_modes_observed),
            "contact_sheet": inline_thumbnail(ref.review_dir / "contact_sheet.jpg", "contact sheet"),
            "contact_sheet_full": media_link(ref.review_dir / "contact_sheet.jpg", paths.media),
            "review": review_link(ep, shot),
        }),
    )
    yield from checks


def _rerecord_episode(context: dg.AssetExecutionContext, paths, ep: str, shot: str) -> None:  # type: ignore[no-untyped-def]
    """Record episode_shots[ep] with the episode's new shot digest (Dagster cannot map ep → its own shots)."""
    try:
        status = episode_status(paths, ep)
    except VidpipeError as exc:
        context.log.warning(f"episode {ep}: {exc}")
        return
    context.log_event(dg.AssetMaterialization(
        asset_key="episode_shots", partition=ep,
        tags={"dagster/data_version": status.digest},
        metadata={"recorded_by": f"shot_qc[{ep}|{shot}]", "ready": status.ready,
                  "missing": dg.MetadataValue.json(status.missing), "failing": dg.MetadataValue.json(status.failing)},
    ))
