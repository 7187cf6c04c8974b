"""Run failures: a clear record in data/run_failures.jsonl, plus an optional webhook."""


import os

import dagster as dg

from vidpipe.paths import Paths
from vidpipe.pipeline.status import record_failure


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Writes each failed run (job, partition, failed steps, error) to "
                       "data/run_failures.jsonl and POSTs it to $VIDPIPE_FAILURE_WEBHOOK when set.")
def run_failure_record(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    steps = [e.step_key for e in context.get_step_failure_events()]
    error = context.failure_event.message if context.failure_event else None
    record_failure(
        Paths.from_env(),
        {"run_id": run.run_id, "job": run.job_name, "partition": run.tags.get("dagster/partition"),
         "failed_steps": steps, "error": error},
        webhook_url=os.environ.get("VIDPIPE_FAILURE_WEBHOOK"),
    )
