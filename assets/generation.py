"""Generation group: first-frame stills and clips, through the cached, resumable, budgeted runner."""


import dagster as dg

from assets.failures import RETRY, decided_failures
from assets.metadata import clean, file_meta, inline_thumbnail, media_link, prompt_text, review_link
from assets.partitions import all_shots, shot_key, shots
from assets.script import shot_request
from resources import DuckDBStore, MediaRoot, StillAPI, VideoAPI
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import check_clip, render_clip, render_still
from vidpipe.pipeline.converge import clean_dead_temp_files


@dg.asset(
    partitions_def=shots,
    group_name="generation",
    kinds={"python", "fal"},
    owners=["team:production"],
    code_version="1",
    deps=[shot_request, dg.AssetDep("cast_plate", partition_mapping=all_shots)],
    retry_policy=RETRY,
    description="The shot's first-frame still (flux / imagen, or a storyboard frame offline) for "
    "image-to-video shots and character plates; shots that need none record that and pass through.",
)
@decided_failures
def shot_still(context: dg.AssetExecutionContext, media: MediaRoot, still_api: StillAPI) -> dg.MaterializeResult:
    ep, shot = shot_key(context)
    ref = ShotRef.load(media.paths(), ep, shot)
    out = render_still(ref, backend=still_api.backend_name())
    if out.path is None:
        return dg.MaterializeResult(metadata={"needed": False}, data_version=dg.DataVersion("none"))
    return dg.MaterializeResult(
        metadata=clean({
            "needed": True, **file_meta(out.path), "uri": media.publish(out.path),
            "model": out.model, "backend": out.backend,
            "cost_usd": out.cost_usd, "cache_hit": out.cache_hit, "thumbnail": inline_thumbnail(out.path, "still"),
            "full_size": media_link(out.path, media.paths().media),
        }),
        data_version=dg.DataVersion(out.key),
    )


@dg.asset(
    partitions_def=shots,
    group_name="generation",
    kinds={"python", "fal"},
    owners=["team:production"],
    code_version="1",
    pool="video_api",
    deps=[shot_request, shot_still],
    retry_policy=RETRY,
    check_specs=[dg.AssetCheckSpec("technical_qc", asset="shot_clip",
                                   description="No technical defect of severity error (black/frozen frames, "
                                   "duration/resolution/aspect mismatch, missing audio, cut count…).")],
    description="The shot's clip on the routed model (never paid twice: cached by request hash, request id "
    "persisted before polling). Check: technical QC must find no error defect (shot_qc then records the pass "
    "and fails the run with the reason, so the failing shot is red in shot_qc's partitions).",
)
@decided_failures
def shot_clip(context: dg.AssetExecutionContext, media: MediaRoot, store: DuckDBStore,
              video_api: VideoAPI) -> dg.MaterializeResult:
    ep, shot = shot_key(context)
    ref = ShotRef.load(media.paths(), ep, shot)
    for debris in clean_dead_temp_files(ref.dir):
        context.log.info(f"removed {debris.name}, left by a run that died")
    out = render_clip(ref, backend=video_api.backend_name(), store=store.store(), fallback=video_api.fallback)
    report = check_clip(ref)
    bad = [d.code for d in report.blocking_defects()]
    context.log.info(f"{ref.key}: {out.model} via {out.backend}, cache_hit={out.cache_hit}, defects={bad or 'none'}")
    check = dg.AssetCheckResult(
        check_name="technical_qc",
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"defects": dg.MetadataValue.json([d.model_dump() for d in report.defects])},
    )
    prompt = ref.read().prompt
    return dg.MaterializeResult(
        metadata=clean({
            **file_meta(out.path), "uri": media.publish(out.path),
            "model": out.model, "backend": out.backend, "endpoint": out.endpoint or out.backend,
            "request_id": out.request_id, "cost_usd": out.cost_usd, "cache_hit": out.cache_hit,
            "preview": out.backend == "preview",
            "prompt": prompt_text(prompt),
            "thumbnail": inline_thumbnail(out.path, "mid-clip frame"),
            "contact_sheet": inline_thumbnail(ref.review_dir / "contact_sheet.jpg", "contact sheet"),
            "contact_sheet_full": media_link(ref.review_dir / "contact_sheet.jpg", media.paths().media),
            "clip": media_link(out.path, media.paths().media),
            "review": review_link(ep, shot),
        }),
        data_version=dg.DataVersion(out.clip_hash),
        check_results=[check],
    )
