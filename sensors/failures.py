"""Run failures: a clear record in data/run_failures.jsonl, plus an optional webhook carrying the same record."""


import os

import dagster as dg

from resources import MediaRoot
from sensors.asking import STATE_TAG
from vidpipe.pipeline.status import record_failure


def _root_message(error: object) -> str:
    """The user's exception message, not Dagster's "Error occurred while executing op" wrapper."""
    while getattr(error, "cause", None) is not None and "Error occurred while executing" in getattr(error, "message", ""):
        error = error.cause  # type: ignore[attr-defined]
    return str(getattr(error, "message", error)).strip()


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=5,
                       description="Writes each failed run (job, partition, each failed step with its error message) "
                       "to data/run_failures.jsonl and POSTs the same record to $VIDPIPE_FAILURE_WEBHOOK when set.")
def run_failure_record(context: dg.RunFailureSensorContext, media: MediaRoot) -> None:
    run = context.dagster_run
    steps = []
    for ev in context.get_step_failure_events():
        data = ev.step_failure_data
        err = data.error if data else None
        told = data.user_failure_data.description if data and data.user_failure_data else None  # a dg.Failure's line
        steps.append({"step": ev.step_key, "error": told or (_root_message(err) if err else ev.message)})
    error = steps[0]["error"] if steps else (context.failure_event.message if context.failure_event else None)
    record_failure(
        media.paths(),
        {"run_id": run.run_id, "job": run.job_name, "partition": run.tags.get("dagster/partition"),
         "state": run.tags.get(STATE_TAG),
         "failed_steps": [s["step"] for s in steps], "steps": steps, "error": error},
        webhook_url=os.environ.get("VIDPIPE_FAILURE_WEBHOOK"),
    )
