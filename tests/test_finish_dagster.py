"""The finishing assets through real Dagster materializations: edit_export writes every format, an imported
edit is observed as a new version of edited_timeline and makes final_cut Unsynced, delivery_formats runs
per (episode, format)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from tests.test_dagster_partitions import _stale
from tests.test_finish_roundtrip import _edited, coded  # noqa: F401  (the fixture)
from vidpipe.finish.roundtrip import import_timeline
from vidpipe.paths import Paths


def _observe(instance: dg.DagsterInstance, cursor: dict[str, str | None]) -> int:
    """One sensor tick (the cursor carried like the daemon does); its observations reported to the instance."""
    from resources import build_resources
    from sensors.edit_import import edit_import_watch

    with dg.build_sensor_context(instance=instance, resources=build_resources(), cursor=cursor.get("c")) as ctx:
        res = edit_import_watch(ctx)
    if isinstance(res, dg.SkipReason):
        return 0
    cursor["c"] = res.cursor
    for ev in res.asset_events:
        instance.report_runless_asset_event(ev)
    return len(res.asset_events)


def _meta(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    for ev in result.get_asset_materialization_events():
        mat = ev.step_materialization_data.materialization
        if mat.asset_key.path[-1] == asset:
            return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    raise AssertionError(f"{asset} not materialized")


def test_import_makes_the_cut_unsynced_and_exports_materialize(coded: Paths, tmp_path: Path) -> None:  # noqa: F811
    from assets.edit import final_cut
    from assets.finish import FINISH_ASSETS, delivery_formats, edit_export
    from resources import build_resources

    res = build_resources()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("episodes", ["mini"])
        cursor: dict[str, str | None] = {}
        assert _observe(instance, cursor) == 1  # "generated": no imported edit yet
        assert _observe(instance, cursor) == 0  # nothing changed, nothing observed
        assert dg.materialize([final_cut, *FINISH_ASSETS[:1]], partition_key="mini", instance=instance,
                              resources=res, selection=[final_cut]).success
        assert _stale(instance, "final_cut", "mini") == "FRESH"

        out = dg.materialize([edit_export, *FINISH_ASSETS[:1]], partition_key="mini", instance=instance,
                             resources=res, selection=[edit_export])
        files = _meta(out, "edit_export")["files"]
        assert sorted(files) == ["edl", "fcp7", "fcpxml", "kdenlive", "otio"]
        assert all(Path(p).is_file() for p in files.values())

        import_timeline(coded, "mini", _edited(coded, tmp_path / "edited.otio"), recut=False)
        assert _observe(instance, cursor) == 1
        assert _stale(instance, "final_cut", "mini") == "STALE"

        key = dg.MultiPartitionKey({"episode": "mini", "format": "9x16_streaming"})
        assert dg.materialize([final_cut, *FINISH_ASSETS[:1]], partition_key="mini", instance=instance,
                              resources=res, selection=[final_cut]).success
        assert _stale(instance, "final_cut", "mini") == "FRESH"
        got = dg.materialize([delivery_formats], partition_key=key, instance=instance, resources=res)
        meta = _meta(got, "delivery_formats")
        assert meta["size"] == "480x852" and abs(meta["loudness_lufs"] - (-14.0)) <= 1.0
