"""Weekly episodic batch: one run request per pending episode.

A plain ScheduleDefinition on a dynamically partitioned job emits one partition-less request,
whose run fails; so the schedule lists pending episodes itself. The run queue's
`tag_concurrency_limits` (dagster.yaml) caps `vidpipe/batch` runs so a batch cannot starve
interactive work.
"""


import dagster as dg

from resources import MediaRoot
from sensors.jobs import episode_spec_job
from vidpipe.pipeline import pending_episodes


@dg.schedule(job=episode_spec_job, cron_schedule="0 6 * * MON", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Mondays 06:00 UTC: re-run every episode whose delivery is missing or older than its spec.")
def weekly_episode_batch(context: dg.ScheduleEvaluationContext, media: MediaRoot) -> list[dg.RunRequest] | dg.SkipReason:
    known = set(context.instance.get_dynamic_partitions("episodes"))
    todo = [ep for ep in pending_episodes(media.paths()) if ep in known]
    if not todo:
        return dg.SkipReason("every episode is delivered and up to date")
    week = context.scheduled_execution_time.strftime("%G-W%V")
    return [dg.RunRequest(partition_key=ep, run_key=f"weekly:{week}:{ep}", tags={"vidpipe/batch": week})
            for ep in todo]
