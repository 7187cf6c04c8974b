"""QC group: every clip's QC pass stored in DuckDB (and judged when a judge is configured)."""


import dagster as dg

from assets.generation import shot_clip
from assets.metadata import clean, review_link, thumbnail_md
from assets.partitions import episode_shot, shot_key
from resources import DuckDBStore, Judge, MediaRoot
from vidpipe.pipeline import ShotRef, record_qc
from vidpipe.qc.verdict import SCORE_THRESHOLD


@dg.asset(
    partitions_def=episode_shot,
    group_name="qc",
    kinds={"python", "duckdb"},
    owners=["team:production"],
    code_version="1",
    deps=[shot_clip],
    check_specs=[dg.AssetCheckSpec("score_threshold", asset="shot_qc",
                                   description=f"Warn when a judged clip scores overall < {SCORE_THRESHOLD}/5.")],
    description="The shot's QC report (review/<clip_id>/: contact sheet, frames, probe, qc.json) recorded as "
    "one row in DuckDB with the request's features. Scores come only from a judge (VLM or a person); "
    "an unjudged clip keeps scores null.",
)
def shot_qc(context: dg.AssetExecutionContext, media: MediaRoot, store: DuckDBStore, judge: Judge) -> dg.MaterializeResult:
    ep, shot = shot_key(context)
    ref = ShotRef.load(media.paths(), ep, shot)
    report = record_qc(ref, store.store(), judge=judge.enabled())
    scores = report.scores.model_dump() if report.scores else None
    passed = report.passed(SCORE_THRESHOLD)
    check = dg.AssetCheckResult(
        check_name="score_threshold", passed=passed, severity=dg.AssetCheckSeverity.WARN,
        metadata={"overall": scores["overall"] if scores else "unjudged"},
    )
    return dg.MaterializeResult(
        metadata=clean({
            "review_dir": dg.MetadataValue.path(str(ref.review_dir)),
            "uri": media.publish(ref.review_dir / "contact_sheet.jpg"),
            "defects": dg.MetadataValue.json([d.model_dump() for d in report.defects]),
            "defect_count": len(report.defects),
            "scores": dg.MetadataValue.json(scores) if scores else "unjudged",
            "judge": report.judge,
            "failure_modes": dg.MetadataValue.json(report.failure_modes_observed),
            "contact_sheet": thumbnail_md(ref.review_dir / "contact_sheet.jpg", width=360),
            "review": review_link(ep, shot),
        }),
        check_results=[check],
    )
