"""Edit group: voiceover, the final cut (one filter graph, mixed and loudness-normalised) and delivery."""


import dagster as dg

from assets.failures import decided_failures
from assets.metadata import clean, file_meta, inline_thumbnail, media_link, review_link
from assets.partitions import all_shots, episodes, shot_partition
from assets.qc import shot_qc
from assets.script import episode_spec
from resources import MediaRoot, VoiceAPI
from vidpipe.episode import load_episode
from vidpipe.pipeline.episode_stages import episode_status, make_delivery, make_final_cut, make_voiceover


@dg.asset(
    partitions_def=episodes,
    group_name="edit",
    kinds={"python"},
    owners=["team:production"],
    code_version="1",
    deps=[dg.AssetDep(shot_qc, partition_mapping=all_shots)],
    description="The episode's own shots, all rendered with a clip that passed technical QC. Dagster cannot map "
    "an episode to its own dynamic shot partitions, so this depends on every shot (a backfill runs it after "
    "the shots; the graph shows the lineage) and its data version is the digest of *this* episode's clips "
    "only: final_cut[ep] is Unsynced exactly when one of its own shots changed. Fails, naming them, while "
    "any of its shots is missing or failing.",
)
def episode_shots(context: dg.AssetExecutionContext, media: MediaRoot) -> dg.MaterializeResult:
    ep = context.partition_key
    status = episode_status(media.paths(), ep)
    if not status.ready:
        why = "; ".join(f"{s}: {status.reasons[s]}" for s in status.failing if s in status.reasons)
        raise dg.Failure(f"episode {ep}: waiting for shots — missing {status.missing or 'none'}, "
                         f"failed QC and waiting for a person's decision {status.failing or 'none'}"
                         + (f" ({why})" if why else ""))
    return dg.MaterializeResult(
        metadata={"ready": True, "digest": status.digest,
                  "shot_partitions": dg.MetadataValue.json(
                      [shot_partition(ep, s) for s in _episode_shot_ids(media, ep)])},
        data_version=dg.DataVersion(status.digest),
    )


def _episode_shot_ids(media: MediaRoot, ep: str) -> list[str]:
    return [s.id for s in load_episode(media.paths().episode_dir(ep)).shots]


@dg.asset(
    partitions_def=episodes,
    group_name="edit",
    kinds={"python", "elevenlabs"},
    owners=["team:production"],
    code_version="1",
    pool="tts_api",
    deps=[episode_spec],
    description="Narration of every shot voiced (ElevenLabs, or offline speech) and laid on one track at each "
    "shot's place in the cut; subtitle cues from the voice timing.",
)
@decided_failures
def voiceover(context: dg.AssetExecutionContext, media: MediaRoot, voice_api: VoiceAPI) -> dg.MaterializeResult:
    out = make_voiceover(media.paths(), context.partition_key, backend=voice_api.backend_name())
    return dg.MaterializeResult(
        metadata=clean({
            **file_meta(out.path), "uri": media.publish(out.path),
            "lines": len(out.lines), "backend": out.backend, "cache_hit": out.cache_hit,
            "cost_usd": out.cost_usd,
            "script": dg.MetadataValue.md("\n".join(f"- `{ln['start']:.1f}s` ({ln['shot']}) {ln['text']}"
                                                    for ln in out.lines) or "(no narration)"),
        }),
        data_version=dg.DataVersion(out.key),
    )


@dg.asset(
    partitions_def=episodes,
    group_name="edit",
    kinds={"python", "ffmpeg"},
    owners=["team:production"],
    code_version="1",
    deps=[episode_shots, voiceover, "edited_timeline"],  # an NLE edit imported back (assets/finish.py)
    description="The episode's cut: every real shot in order with cuts/crossfades, clip audio + voiceover + "
    "ducked music bed, loudness-normalised, SRT from the voice timing. Requested by the final-cut gate "
    "sensor as soon as the last of the episode's shots has a passing clip.",
)
@decided_failures
def final_cut(context: dg.AssetExecutionContext, media: MediaRoot) -> dg.MaterializeResult:
    out = make_final_cut(media.paths(), context.partition_key)
    return dg.MaterializeResult(
        metadata=clean({
            **file_meta(out.path), "uri": media.publish(out.path), "cache_hit": out.cache_hit,
            "clips": len(out.edit.clips),
            "tracks": dg.MetadataValue.json([t.kind for t in out.edit.tracks]),
            "thumbnail": inline_thumbnail(out.path, "final cut"),
            "storyboard": inline_thumbnail(out.extra["storyboard"], "storyboard"),
            "storyboard_full": media_link(out.extra["storyboard"], media.paths().media),
            "video": media_link(out.path, media.paths().media),
            "review": review_link(context.partition_key),
        }),
        data_version=dg.DataVersion(out.key),
    )


@dg.asset(
    partitions_def=episodes,
    group_name="edit",
    kinds={"python", "ffmpeg"},
    owners=["team:production"],
    code_version="1",
    deps=[final_cut],
    description="The delivered file: the final cut upscaled (Lanczos) to 1080p for delivery.",
)
@decided_failures
def delivery(context: dg.AssetExecutionContext, media: MediaRoot) -> dg.MaterializeResult:
    out = make_delivery(media.paths(), context.partition_key)
    return dg.MaterializeResult(
        metadata=clean({**file_meta(out.path), "uri": media.publish(out.path), "cache_hit": out.cache_hit,
                        "thumbnail": inline_thumbnail(out.path, "delivery"),
                        "review": review_link(context.partition_key)}),
        data_version=dg.DataVersion(out.key),
    )
