"""Episode sensors: discovery (folders → real partitions, observations, spec and shot runs) and the final-cut gate.

Both decide on *state*, every tick: discovery asks for a render of every shot whose clip is not the
one for its current spec, the gate for a cut of every episode whose delivered cut is not made of its
current clips. Whether to ask (not while a run is in play, again after a failure with backoff, never
twice for one state) is vidpipe.pipeline.converge's rule; each request has a fresh run key
(sensors/asking.py). So an undone edit, a re-take, or a shot whose run died converges like a new episode.
A bad episode is isolated: its error goes to the tick log, an `episode_file` observation and
data/episode_errors.json, once per change, and the others carry on.
"""


import json

import dagster as dg

from assets.partitions import partition_requests, shot_partition
from resources import MediaRoot
from sensors.asking import ask
from sensors.jobs import episode_spec_job, final_cut_job, render_shot_job
from vidpipe.episode import episode_fingerprint
from vidpipe.pipeline.episode_stages import episode_status
from vidpipe.pipeline.cache import stable_hash
from vidpipe.pipeline.converge import CutState, cut_state
from vidpipe.pipeline.status import record_episode_errors, scan_all, shots_to_render
from vidpipe.paths import Paths
from vidpipe.store import Store

DISCOVERY_INTERVAL_S = 5
GATE_INTERVAL_S = 3


def shot_run_requests(context: dg.SensorEvaluationContext | dg.ScheduleEvaluationContext, paths: Paths, ep: str,
                      prefix: str = "shot", tags: dict[str, str] | None = None) -> list[dg.RunRequest]:
    """Render runs for the episode's shots whose clip is not the one for their current spec."""
    runs = []
    for sid, fp in shots_to_render(paths, ep):
        req, decision = ask(context.instance, render_shot_job.name, shot_partition(ep, sid), fp, prefix, tags)
        if req is not None:
            runs.append(req)
        elif "person" in decision.why:
            context.log.debug(f"{ep}|{sid}: {decision.why}")
    return runs


def cut_request_state(paths: Paths, ep: str, cut: CutState | None = None) -> str:
    """What a cut run is asked to make: these clips for this version of the episode file."""
    return stable_hash([(cut or cut_state(paths, ep)).digest, episode_fingerprint(paths.episode_dir(ep))])


def cut_run_request(context: dg.SensorEvaluationContext | dg.ScheduleEvaluationContext, paths: Paths, ep: str,
                    prefix: str = "final", tags: dict[str, str] | None = None) -> tuple[dg.RunRequest | None, str]:
    """A final-cut run when every shot has a passing clip for its spec and the delivered cut is not made of them."""
    status = episode_status(paths, ep)
    if not status.ready:
        return None, f"waiting: missing {status.missing or 'none'}, failing {status.failing or 'none'}"
    if shots_to_render(paths, ep):
        return None, "waiting for shots being re-rendered for their current spec"
    cut = cut_state(paths, ep)
    if cut.current:
        return None, "delivered cut is current"
    req, decision = ask(context.instance, final_cut_job.name, ep, cut_request_state(paths, ep, cut), prefix, tags)
    return req, (cut.reason or "") if req else decision.why


@dg.sensor(jobs=[episode_spec_job, render_shot_job], minimum_interval_seconds=DISCOVERY_INTERVAL_S,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Keeps the partitions equal to the real episodes and shots under data/episodes/ (adds new, "
           "removes deleted), observes each changed episode file and shot entry, requests episode_spec for a changed "
           "file and a render run for every shot whose clip is not the one for its current spec (again after a "
           "failed run, with backoff). A broken episode is reported (tick log, episode_file observation, "
           "data/episode_errors.json) once per change and skipped.")
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
        try:
            shots = shot_run_requests(context, paths, sc.episode)
        except Exception as exc:  # isolation: never let one episode fail the tick
            errors[sc.episode] = f"{exc.__class__.__name__}: {exc}"
            context.log.warning(f"episode {sc.episode} skipped: {errors[sc.episode]}")
            continue
        runs += shots
        if known.get(sc.episode) != mark:
            known[sc.episode] = mark
            events.append(dg.AssetObservation("episode_file", partition=sc.episode,
                                              metadata={"shots": len(sc.shots)},
                                              tags={"dagster/data_version": sc.fingerprint}))
            events += [dg.AssetObservation("shot_spec", partition=shot_partition(sc.episode, sid),
                                           tags={"dagster/data_version": sfp}) for sid, sfp in sc.shots.items()]
            spec, _ = ask(context.instance, episode_spec_job.name, sc.episode, sc.fingerprint, "spec")
            runs += [spec] if spec else []
    for gone in set(known) - {sc.episode for sc in scans}:
        del known[gone]
    record_episode_errors(paths, errors, stage="discovery", scanned={sc.episode for sc in scans})
    parts = partition_requests(context.instance, scans)
    _drain_outbox(context, paths)
    if not (runs or events or parts) and context.cursor == json.dumps(known, sort_keys=True):
        return dg.SkipReason("every shot has its clip for its current spec (or waits for a person)")
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=parts, asset_events=events,
                           cursor=json.dumps(known, sort_keys=True))


def _drain_outbox(context: dg.SensorEvaluationContext, paths: Paths) -> None:
    """DuckDB rows a run could not write (another process held the file) land as soon as the lock is free."""
    store = Store(paths.db)
    if store.pending():
        left = store.drain(wait_s=0.2)
        context.log.info(f"DuckDB outbox: {left} transaction(s) still waiting for the lock" if left
                         else "DuckDB outbox drained")


@dg.sensor(job=final_cut_job, minimum_interval_seconds=GATE_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING,
           description="For every episode whose shots all have a clip that passed QC for their current spec, and "
           "whose delivered cut is not made of exactly those clips (a re-render, a re-take, an undone edit, "
           "changed transitions or narration), requests episode_shots → voiceover → final_cut → delivery.")
def final_cut_gate(context: dg.SensorEvaluationContext, media: MediaRoot) -> dg.SensorResult | dg.SkipReason:
    paths = media.paths()
    runs, waiting = [], []
    for ep in sorted(context.instance.get_dynamic_partitions("episodes")):
        try:
            req, why = cut_run_request(context, paths, ep)
        except Exception as exc:  # isolation: a broken episode never blocks the others' cuts
            waiting.append(f"{ep}: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        if req is not None:
            runs.append(req)
            context.log.info(f"{ep}: cut requested ({why})")
        elif not why.startswith("delivered cut is current"):
            waiting.append(f"{ep}: {why}")
    if not runs:
        return dg.SkipReason("; ".join(waiting) or "every delivered cut is current")
    return dg.SensorResult(run_requests=runs)
