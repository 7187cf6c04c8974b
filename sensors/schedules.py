"""Weekly episodic batch: every pending episode carried to its delivery, once per week.

An episode is pending while its delivered cut is not the episode as written (vidpipe.pipeline.converge).
Two schedules at the same minute, because a schedule launches one job: `weekly_shot_renders` asks for
every pending episode's shots that have no clip for their current spec (also the ones the sensors gave
up on after repeated failures), `weekly_final_cuts` for the cut of every pending episode whose shots
are all ready; the final-cut gate cuts the others as their shots land. Run keys are stable within a
week (`weekly:<ISO week>:<partition>`), so a re-evaluated tick asks nothing twice; finished episodes are
left alone; a broken episode is reported once until its file changes (data/episode_errors.json).
The run queue's `tag_concurrency_limits` (deploy/dagster.local.yaml) cap `vidpipe/batch` runs.
"""


import dagster as dg

from assets.partitions import shot_partition
from resources import MediaRoot
from sensors.asking import STATE_TAG, attempts
from sensors.episodes import cut_request_state
from sensors.jobs import final_cut_job, render_shot_job
from vidpipe.paths import Paths
from vidpipe.pipeline.episode_stages import episode_status
from vidpipe.pipeline.episode_stages import pending_episodes
from vidpipe.pipeline.status import record_episode_errors, scan_all, shots_to_render

CRON = "0 6 * * MON"


def _week(context: dg.ScheduleEvaluationContext) -> str:
    return context.scheduled_execution_time.strftime("%G-W%V")


def _pending(context: dg.ScheduleEvaluationContext, paths: Paths, stage: str) -> list[str]:
    """Pending episodes that have partitions; broken ones reported (logged only when their error is new)."""
    scans = scan_all(paths)
    errors = {sc.episode: sc.error for sc in scans if sc.error}
    if record_episode_errors(paths, errors, stage=stage, scanned={sc.episode for sc in scans}):
        for ep, err in errors.items():
            context.log.warning(f"episode {ep} not in this week's batch: {err}")
    known = set(context.instance.get_dynamic_partitions("episodes"))
    return [ep for ep in pending_episodes(paths) if ep in known]


def _busy(context: dg.ScheduleEvaluationContext, job: str, partition: str) -> bool:
    return any(a.status == "active" for a in attempts(context.instance, job, partition))


@dg.schedule(job=render_shot_job, cron_schedule=CRON, execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Mondays 06:00 UTC: renders every shot of every pending episode (delivered cut missing or "
             "not the episode as written) that has no clip for its current spec; the gate then cuts and delivers.")
def weekly_shot_renders(context: dg.ScheduleEvaluationContext, media: MediaRoot) -> list[dg.RunRequest] | dg.SkipReason:
    paths, week = media.paths(), _week(context)
    runs = []
    for ep in _pending(context, paths, "weekly"):
        for sid, fp in shots_to_render(paths, ep):
            key = shot_partition(ep, sid)
            if not _busy(context, render_shot_job.name, key):
                runs.append(dg.RunRequest(partition_key=key, run_key=f"weekly:{week}:{key}",
                                          tags={"vidpipe/batch": week, STATE_TAG: fp}))
    return runs or dg.SkipReason("no pending episode has a shot to render")


@dg.schedule(job=final_cut_job, cron_schedule=CRON, execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Mondays 06:00 UTC: cuts and delivers every pending episode whose shots all have a clip "
             "that passed QC for their current spec.")
def weekly_final_cuts(context: dg.ScheduleEvaluationContext, media: MediaRoot) -> list[dg.RunRequest] | dg.SkipReason:
    paths, week = media.paths(), _week(context)
    runs = []
    for ep in _pending(context, paths, "weekly"):
        if not episode_status(paths, ep).ready or shots_to_render(paths, ep) or _busy(context, final_cut_job.name, ep):
            continue
        runs.append(dg.RunRequest(partition_key=ep, run_key=f"weekly:{week}:{ep}",
                                  tags={"vidpipe/batch": week, STATE_TAG: cut_request_state(paths, ep)}))
    return runs or dg.SkipReason("no pending episode is ready to cut")
