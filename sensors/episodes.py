"""Episode sensors: discovery (folders → real partitions, observations, spec and shot runs) and the final-cut gate.

Both tick every few seconds and do little work per tick (a folder scan with content hashes; one
event-log query), so a dropped folder has its shot runs requested within seconds, and the final
cut is requested on the tick after its last shot's QC lands. A bad episode is isolated: its error
goes to the tick log, to an `episode_file` observation and to data/episode_errors.json, and the
others carry on.
"""


import json

import dagster as dg

from assets.partitions import OLD_SHOT_SLOTS, episodes, shot_partition, shots, split_shot_partition
from resources import MediaRoot
from sensors.jobs import episode_spec_job, final_cut_job, render_shot_job
from vidpipe.pipeline import episode_status
from vidpipe.pipeline.status import changed_states, partition_sync, record_episode_errors, scan_all, shots_to_render

DISCOVERY_INTERVAL_S = 5
GATE_INTERVAL_S = 3


def _partition_requests(context: dg.SensorEvaluationContext, scans) -> list:  # type: ignore[no-untyped-def]
    inst = context.instance
    sync = partition_sync(scans, set(inst.get_dynamic_partitions("episodes")), set(inst.get_dynamic_partitions("shots")))
    reqs: list = []
    if sync.add_episodes:
        reqs.append(episodes.build_add_request(sync.add_episodes))
    if sync.add_shots:
        reqs.append(shots.build_add_request(sync.add_shots))
    if sync.delete_shots:
        reqs.append(shots.build_delete_request(sync.delete_shots))
    if sync.delete_episodes:
        reqs.append(episodes.build_delete_request(sync.delete_episodes))
    old = inst.get_dynamic_partitions(OLD_SHOT_SLOTS)
    if old:  # an instance from the episode × slot design: drop the phantom-making slot dimension
        reqs.append(dg.DeleteDynamicPartitionsRequest(partitions_def_name=OLD_SHOT_SLOTS, partition_keys=list(old)))
    return reqs


@dg.sensor(jobs=[episode_spec_job, render_shot_job], minimum_interval_seconds=DISCOVERY_INTERVAL_S,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Keeps the partitions equal to the real episodes and shots under data/episodes/ (adds new, "
           "removes deleted), observes each changed episode file and shot entry, and requests episode_spec plus a "
           "render run for every shot without a passing clip for its current spec. A broken episode is reported "
           "(tick log, episode_file observation, data/episode_errors.json) and skipped.")
def episode_discovery(context: dg.SensorEvaluationContext, media: MediaRoot) -> dg.SensorResult | dg.SkipReason:
    paths = media.paths()
    known: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    scans = scan_all(paths)
    runs, events, errors = [], [], {}
    for sc in scans:
        mark = sc.fingerprint if not sc.error else f"error:{sc.error}"
        if sc.error:
            errors[sc.episode] = sc.error
            if known.get(sc.episode) != mark:
                context.log.warning(f"episode {sc.episode} skipped: {sc.error}")
                events.append(dg.AssetObservation("episode_file", partition=sc.episode, metadata={"error": sc.error}))
            known[sc.episode] = mark
            continue
        if known.get(sc.episode) == mark:
            continue
        try:
            todo = shots_to_render(paths, sc.episode)
        except Exception as exc:  # isolation: never let one episode fail the tick
            errors[sc.episode] = f"{exc.__class__.__name__}: {exc}"
            context.log.warning(f"episode {sc.episode} skipped: {errors[sc.episode]}")
            continue
        known[sc.episode] = mark
        events.append(dg.AssetObservation("episode_file", partition=sc.episode, metadata={"shots": len(sc.shots)},
                                          tags={"dagster/data_version": sc.fingerprint}))
        events += [dg.AssetObservation("shot_spec", partition=shot_partition(sc.episode, sid),
                                       tags={"dagster/data_version": sfp}) for sid, sfp in sc.shots.items()]
        runs.append(dg.RunRequest(job_name=episode_spec_job.name, partition_key=sc.episode,
                                  run_key=f"spec:{sc.episode}:{sc.fingerprint}"))
        runs += [dg.RunRequest(job_name=render_shot_job.name, partition_key=shot_partition(sc.episode, sid),
                               run_key=f"shot:{shot_partition(sc.episode, sid)}:{sfp}") for sid, sfp in todo]
    for gone in set(known) - {sc.episode for sc in scans}:
        del known[gone]
    record_episode_errors(paths, errors, stage="discovery", scanned={sc.episode for sc in scans})
    parts = _partition_requests(context, scans)
    if not (runs or events or parts) and context.cursor == json.dumps(known, sort_keys=True):
        return dg.SkipReason("no new or changed episodes")
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=parts, asset_events=events,
                           cursor=json.dumps(known, sort_keys=True))


@dg.sensor(job=final_cut_job, minimum_interval_seconds=GATE_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING,
           description="On each new shot_qc materialization, and whenever a shot's record changes (a take chosen, a clip "
           "accepted, a judgement saved), checks that shot's episode: once every shot's clip passed QC or was "
           "accepted by a person, requests episode_shots → voiceover → final_cut → delivery "
           "(run key = digest of the episode's clips, so a re-render re-cuts and a repeat does not).")
def final_cut_gate(context: dg.SensorEvaluationContext, media: MediaRoot) -> dg.SensorResult | dg.SkipReason:
    cur = json.loads(context.cursor) if context.cursor and context.cursor.startswith("{") else \
        {"after": int(context.cursor) if context.cursor else None, "states": {}}
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("shot_qc"), after_storage_id=cur["after"]), limit=1000, ascending=True
    )
    paths = media.paths()
    changed = changed_states(paths, cur["states"])  # a chosen take, an accepted clip, a saved judgement
    if not result.records and not changed:
        return dg.SkipReason("no new QC passes or decisions")
    eps = sorted({split_shot_partition(r.partition_key)[0] for r in result.records if r.partition_key} | set(changed))
    runs, waiting = [], []
    for ep in eps:
        try:
            status = episode_status(paths, ep)
        except Exception as exc:  # isolation: a broken episode never blocks the others' cuts
            context.log.warning(f"episode {ep}: {exc}")
            continue
        if status.ready:
            runs.append(dg.RunRequest(partition_key=ep, run_key=f"final:{ep}:{status.digest}"))
        else:
            why = "; ".join(f"{s}: {r}" for s, r in status.reasons.items() if s in status.failing)
            waiting.append(f"{ep} (missing {status.missing}, waiting for a decision on {status.failing}"
                           + (f": {why}" if why else "") + ")")
    if waiting:
        context.log.info("waiting: " + "; ".join(waiting))
    after = result.records[-1].storage_id if result.records else cur["after"]
    return dg.SensorResult(run_requests=runs, cursor=json.dumps({"after": after, "states": {**cur["states"], **changed}}))
