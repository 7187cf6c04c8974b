"""Episode sensors: discovery (folders → partitions + runs), shot fan-out, and the final-cut gate."""


import json

import dagster as dg

from assets.partitions import episodes, shot_slots
from sensors.jobs import episode_spec_job, final_cut_job, render_shot_job
from vidpipe.errors import VidpipeError
from vidpipe.paths import Paths
from vidpipe.pipeline import episode_status
from vidpipe.pipeline.status import scan_episodes, shots_to_render


@dg.sensor(job=episode_spec_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Finds new or changed folders under data/episodes/: adds the episode and its shot "
           "slots as partitions and requests episode_spec for it (run key = content hash, so idempotent).")
def episode_discovery(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    known: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    changes = scan_episodes(Paths.from_env(), known)
    if not changes:
        return dg.SkipReason("no new or changed episodes")
    have_eps = set(context.instance.get_dynamic_partitions("episodes"))
    have_slots = set(context.instance.get_dynamic_partitions("shot_slots"))
    new_eps, new_slots, runs = [], [], []
    for ch in changes:
        known[ch.episode] = ch.fingerprint
        if ch.error:
            context.log.warning(f"episode {ch.episode} skipped: {ch.error}")
            continue
        if ch.episode not in have_eps:
            new_eps.append(ch.episode)
        new_slots += [s for s in ch.shots if s not in have_slots and s not in new_slots]
        runs.append(dg.RunRequest(partition_key=ch.episode, run_key=f"spec:{ch.episode}:{ch.fingerprint}"))
    adds = []
    if new_eps:
        adds.append(episodes.build_add_request(new_eps))
    if new_slots:
        adds.append(shot_slots.build_add_request(new_slots))
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=adds, cursor=json.dumps(known))


@dg.sensor(job=render_shot_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="After an episode_spec materialization, requests a render run for each of that "
           "episode's shots that has no passing clip for its current spec (unchanged shots are not re-run).")
def shot_fanout(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    after = int(context.cursor) if context.cursor else None
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("episode_spec"), after_storage_id=after), limit=100, ascending=True
    )
    if not result.records:
        return dg.SkipReason("no new episode_spec materializations")
    paths = Paths.from_env()
    runs = []
    for rec in result.records:
        ep = rec.partition_key
        if ep is None:
            continue
        try:
            todo = shots_to_render(paths, ep)
        except VidpipeError as exc:
            context.log.warning(f"episode {ep}: {exc}")
            continue
        runs += [
            dg.RunRequest(partition_key=dg.MultiPartitionKey({"episode": ep, "shot": shot}),
                          run_key=f"shot:{ep}|{shot}:{fp}:{rec.storage_id}")
            for shot, fp in todo
        ]
    return dg.SensorResult(run_requests=runs, cursor=str(result.records[-1].storage_id))


@dg.sensor(job=final_cut_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Requests voiceover → final_cut → delivery for an episode once all of its real shots "
           "(not phantom slots of other episodes) have a clip that passed technical QC; again after a re-render.")
def final_cut_gate(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    paths = Paths.from_env()
    runs, waiting = [], []
    for ep in context.instance.get_dynamic_partitions("episodes"):
        try:
            status = episode_status(paths, ep)
        except VidpipeError as exc:
            context.log.warning(f"episode {ep}: {exc}")
            continue
        if status.ready:
            runs.append(dg.RunRequest(partition_key=ep, run_key=f"final:{ep}:{status.digest}"))
        else:
            waiting.append(f"{ep} (missing {status.missing}, failing {status.failing})")
    if not runs:
        return dg.SkipReason("waiting: " + "; ".join(waiting) if waiting else "no episodes")
    return dg.SensorResult(run_requests=runs)
