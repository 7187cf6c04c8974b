"""Finishing group: the edit for an NLE (edit_export), an edit imported back (edited_timeline), and a
delivery per screen and loudness target (delivery_formats). Only wiring; the work is vidpipe.finish.

`edited_timeline`[ep] is external: `vidpipe import` writes data/media/<ep>/edit/edit.json and the
`edit_import_watch` sensor (sensors/edit_import.py) observes its hash as the data version. final_cut
depends on it, so an import makes final_cut[ep] Unsynced in the UI until it is re-cut.
"""

import dagster as dg

from assets.metadata import clean, file_meta, inline_thumbnail
from assets.partitions import episodes
from resources import MediaRoot
from vidpipe.finish.deliver import DELIVERY_FORMATS, make_format_delivery
from vidpipe.finish.formats import FORMATS, export_timeline

edited_timeline = dg.AssetSpec(
    "edited_timeline", partitions_def=episodes, group_name="finish", kinds={"otio"}, owners=["team:production"],
    description="An edit made in an NLE and read back by `vidpipe import` (data/media/<ep>/edit/edit.json); "
    "data version = the file's hash, or 'generated' while the cut follows the episode spec.")

delivery_partitions = dg.MultiPartitionsDefinition(
    {"episode": episodes, "format": dg.StaticPartitionsDefinition(sorted(DELIVERY_FORMATS))})


@dg.asset(
    partitions_def=episodes,
    group_name="finish",
    kinds={"python", "otio"},
    owners=["team:production"],
    code_version="1",
    deps=["episode_shots", "voiceover", edited_timeline],
    description="The episode's edit for an editor: OTIO, FCP 7 XML, FCPXML, CMX 3600 EDL and Kdenlive files "
    "written by the OpenTimelineIO adapters, plus SRT/WebVTT sidecars with word timings.",
)
def edit_export(context: dg.AssetExecutionContext, media: MediaRoot) -> dg.MaterializeResult:
    first = export_timeline(media.paths(), context.partition_key, "otio")
    results = [first] + [export_timeline(media.paths(), context.partition_key, fmt, sidecars=first.sidecars)
                         for fmt in FORMATS if fmt != "otio"]
    otio_file = next(r.path for r in results if r.format == "otio")
    return dg.MaterializeResult(
        metadata=clean({
            **file_meta(otio_file),
            "files": dg.MetadataValue.json({r.format: str(r.path) for r in results}),
            "frames": results[0].duration_frames, "clips": results[0].clips,
            "dropped": dg.MetadataValue.json({r.format: r.dropped for r in results if r.dropped}),
            "subtitles": dg.MetadataValue.json([str(p) for p in results[0].sidecars]),
        }),
    )


@dg.asset(
    partitions_def=delivery_partitions,
    group_name="finish",
    kinds={"python", "ffmpeg"},
    owners=["team:production"],
    code_version="1",
    deps=[dg.AssetDep("final_cut", partition_mapping=dg.MultiToSingleDimensionPartitionMapping("episode"))],
    description="A delivery per screen: the final cut reframed (9:16, 1:1: the subject tracked and smoothed) "
    "and normalised to its loudness target (streaming -14 LUFS, broadcast -23 LUFS), with a poster frame "
    "from the best-scored shot.",
)
def delivery_formats(context: dg.AssetExecutionContext, media: MediaRoot) -> dg.MaterializeResult:
    key = context.partition_key.keys_by_dimension
    out = make_format_delivery(media.paths(), key["episode"], key["format"])
    return dg.MaterializeResult(
        metadata=clean({**file_meta(out.path), "format": key["format"], "size": f"{out.width}x{out.height}",
                        "loudness_lufs": out.measured_lufs, "target_lufs": out.target_lufs,
                        "poster": str(out.poster) if out.poster else None,
                        "thumbnail": inline_thumbnail(out.path, key["format"]), "cache_hit": out.cache_hit}),
        data_version=dg.DataVersion(out.key),
    )


FINISH_ASSETS = [edited_timeline, edit_export, delivery_formats]
