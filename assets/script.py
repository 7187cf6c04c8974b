"""Script group: the episode file, its spec, each shot's entry, and each shot's composed, validated request.

`episode_file`[ep] and `shot_spec`[ep|shot] are external assets (the user's YAML): the discovery
sensor observes them with the folder's / the shot's content hash as data version, so an edit
marks exactly the edited episode's spec and the edited shot's request Unsynced.
"""


import dagster as dg

from assets.failures import RETRY, decided_failures
from assets.metadata import clean, inline_thumbnail, prompt_text, review_link
from assets.partitions import all_shots, episodes, shot_key, shots
from resources import DuckDBStore, MediaRoot, StillAPI, VideoAPI
from vidpipe.estimate import estimate_episode
from vidpipe.pipeline.cast_stages import make_cast_plates
from vidpipe.pipeline.episode_stages import spec_summary
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import prepare_request

episode_file = dg.AssetSpec(
    "episode_file", partitions_def=episodes, group_name="script", kinds={"yaml"}, owners=["team:production"],
    description="data/episodes/<ep>/episode.yaml as written by a person. Observed by the episode_discovery sensor "
    "(data version = the folder's content hash); a file that cannot be read is observed with its error.",
)
shot_spec = dg.AssetSpec(
    "shot_spec", partitions_def=shots, group_name="script", kinds={"yaml"}, owners=["team:production"],
    deps=[dg.AssetDep("episode_file", partition_mapping=all_shots)],
    description="One shot's entry in its episode file. Observed by episode_discovery (data version = the shot's "
    "fingerprint), so editing one shot makes only that shot's request Unsynced.",
)


@dg.asset(
    partitions_def=episodes,
    group_name="script",
    kinds={"python", "yaml"},
    owners=["team:production"],
    code_version="1",
    deps=[episode_file],
    description="The episode file (data/episodes/<ep>/episode.yaml) parsed and validated; "
    "writes data/media/<ep>/episode.json. Its data version is the folder's content hash.",
)
@decided_failures
def episode_spec(context: dg.AssetExecutionContext, media: MediaRoot, video_api: VideoAPI,
                 store: DuckDBStore) -> dg.MaterializeResult:
    summary = spec_summary(media.paths(), context.partition_key)
    est = estimate_episode(media.paths(), context.partition_key, backend=video_api.backend_name(), store=store.store())
    context.log.info(est.line())
    priced = {s.shot: s for s in est.shots}
    rows = [
        dg.TableRecord({"shot": s["id"], "mode": s["mode"], "duration_s": s["duration"], "transition": s["transition"],
                        "model": priced[s["id"]].model, "takes": priced[s["id"]].takes,
                        "billed_s": priced[s["id"]].billed_seconds, "est_usd": priced[s["id"]].usd})
        for s in summary["shots"]
    ]
    schema = dg.TableSchema(columns=[dg.TableColumn("shot"), dg.TableColumn("mode"),
                                     dg.TableColumn("duration_s", "int"), dg.TableColumn("transition"),
                                     dg.TableColumn("model"), dg.TableColumn("takes", "int"),
                                     dg.TableColumn("billed_s", "float"), dg.TableColumn("est_usd", "float")])
    return dg.MaterializeResult(
        metadata=clean({
            "title": summary["title"],
            "shots": len(summary["shots"]),
            "cut_duration_s": summary["cut_duration_s"],
            "budget_usd": summary["budget_usd"],
            "estimate_usd": est.total_usd,
            "estimate": est.line(),
            "aspect_ratio": summary["aspect_ratio"],
            "resolution": summary["resolution"],
            "shot_list": dg.MetadataValue.table(rows, schema=schema),
            "review": review_link(context.partition_key),
        }),
        data_version=dg.DataVersion(summary["fingerprint"]),
    )


@dg.asset(
    partitions_def=episodes,
    group_name="script",
    kinds={"python"},
    owners=["team:production"],
    code_version="1",
    deps=[episode_spec],
    description="Reference plates of the episode's cast (members with a `plate:` prompt), made once and cached "
    "under data/media/<ep>/cast/; every shot the member appears in cites it. Shot runs make the plates "
    "they need themselves under the same lock, so this asset never pays twice.",
)
@decided_failures
def cast_plate(context: dg.AssetExecutionContext, media: MediaRoot, still_api: StillAPI) -> dg.MaterializeResult:
    plates = make_cast_plates(media.paths(), context.partition_key, backend=still_api.backend_name())
    meta: dict[str, object] = {"plates": len(plates), "cost_usd": round(sum(p.cost_usd for p in plates), 4)}
    for p in plates:
        meta[f"plate_{p.member}"] = inline_thumbnail(p.path, alt=f"plate of {p.member}")
    return dg.MaterializeResult(metadata=clean(meta))


@dg.asset(
    partitions_def=shots,
    group_name="script",
    kinds={"python"},
    owners=["team:production"],
    code_version="1",
    deps=[shot_spec],
    retry_policy=RETRY,
    check_specs=[dg.AssetCheckSpec("request_valid", asset="shot_request", blocking=True,
                                   description="No validation errors (design.md §2 codes); warnings pass.")],
    description="The shot's prompt composed in 5-part order (Subject → Action → Camera → Style → "
    "Constraints, time-coded blocks for multi-shot clips), validated against the canonical Seedance 2.0 "
    "schema and routed to a model. Blocking check: a request with errors never reaches generation.",
)
@decided_failures
def shot_request(context: dg.AssetExecutionContext, media: MediaRoot, store: DuckDBStore) -> dg.MaterializeResult:
    ep, shot = shot_key(context)
    ref = ShotRef.load(media.paths(), ep, shot)
    out = prepare_request(ref, store=store.store())
    warnings = [f"{f.code}: {f.message}" for f in out.findings if f.severity == "warning"]
    errors = [f"{f.code}: {f.message}" for f in out.errors]
    check = dg.AssetCheckResult(
        check_name="request_valid",
        passed=not errors,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"errors": dg.MetadataValue.json(errors), "warnings": dg.MetadataValue.json(warnings)},
    )
    return dg.MaterializeResult(
        metadata=clean({
            "prompt": prompt_text(out.job.input.get("prompt")),
            "model": out.route_model,
            "route_reason": out.route_reason,
            "duration_s": out.job.input.get("duration"),
            "aspect_ratio": out.job.input.get("aspect_ratio"),
            "errors": len(errors),
            "warnings": dg.MetadataValue.json(warnings),
            "request": dg.MetadataValue.json(out.job.input),
            "review": review_link(ep, shot),
        }),
        data_version=dg.DataVersion(out.key),
        check_results=[check],
    )
