"""Observes `edited_timeline`[ep]: the hash of the edit `vidpipe import` wrote (or "generated" when there is none).

final_cut depends on edited_timeline, so a new observation makes final_cut[ep] Unsynced until it is re-cut.
"""

import json

import dagster as dg

from resources import MediaRoot
from vidpipe.finish.roundtrip import edit_version


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Observes each episode's imported NLE edit (data/media/<ep>/edit/edit.json) with its hash as "
           "the data version of edited_timeline, so an import shows the cut as stale.")
def edit_import_watch(context: dg.SensorEvaluationContext, media: MediaRoot) -> dg.SensorResult | dg.SkipReason:
    paths = media.paths()
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    events = []
    for ep in context.instance.get_dynamic_partitions("episodes"):
        version = edit_version(paths, ep)
        if seen.get(ep) != version:
            seen[ep] = version
            events.append(dg.AssetObservation("edited_timeline", partition=ep,
                                              tags={"dagster/data_version": version}))
    if not events:
        return dg.SkipReason("no imported edit changed")
    return dg.SensorResult(asset_events=events, cursor=json.dumps(seen, sort_keys=True))
