"""Edit group: voiceover, the final cut (one filter graph, mixed and loudness-normalised) and delivery."""


import dagster as dg

from assets.generation import shot_clip
from assets.metadata import clean, file_meta, review_link, thumbnail_md
from assets.partitions import episodes
from assets.script import episode_spec
from resources import MediaRoot, VoiceAPI
from vidpipe.pipeline import make_delivery, make_final_cut, make_voiceover


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
    deps=[shot_clip, voiceover],
    description="The episode's cut: every real shot in order with cuts/crossfades, clip audio + voiceover + "
    "ducked music bed, loudness-normalised, SRT from the voice timing. Requested by the final-cut gate "
    "sensor once all of the episode's shots have a passing clip.",
)
def final_cut(context: dg.AssetExecutionContext, media: MediaRoot) -> dg.MaterializeResult:
    out = make_final_cut(media.paths(), context.partition_key)
    return dg.MaterializeResult(
        metadata=clean({
            **file_meta(out.path), "uri": media.publish(out.path), "cache_hit": out.cache_hit,
            "clips": len(out.edit.clips),
            "tracks": dg.MetadataValue.json([t.kind for t in out.edit.tracks]),
            "thumbnail": thumbnail_md(out.path, width=320),
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
def delivery(context: dg.AssetExecutionContext, media: MediaRoot) -> dg.MaterializeResult:
    out = make_delivery(media.paths(), context.partition_key)
    return dg.MaterializeResult(
        metadata=clean({**file_meta(out.path), "uri": media.publish(out.path), "cache_hit": out.cache_hit,
                        "thumbnail": thumbnail_md(out.path, width=320),
                        "review": review_link(context.partition_key)}),
        data_version=dg.DataVersion(out.key),
    )
