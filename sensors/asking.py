"""Turning vidpipe's "should this state be asked for?" (vidpipe.pipeline.converge) into run requests.

Each request carries the state it should make in the tag `vidpipe/state` and a run key that is unique
per attempt (`<prefix>:<partition>:<state>:<n>`), so an undone edit or a recovered failure can be asked
for again while a repeated tick still cannot ask twice.
"""

import time

import dagster as dg

from vidpipe.pipeline.converge import Attempt, Decision, next_request

STATE_TAG = "vidpipe/state"
_ACTIVE = {dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
           dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING}
_WILL_RETRY = "dagster/will_retry"  # a failed run Dagster is about to retry by itself is still in play…
_RETRIED_BY = "dagster/auto_retry_run_id"  # …until its retry exists (then the retry stands for it)


def attempts(instance: dg.DagsterInstance, job: str, partition: str, limit: int = 20) -> list[Attempt]:
    """Earlier runs of `job` for `partition`, oldest first (runs without a state tag only count while active)."""
    recs = instance.get_run_records(filters=dg.RunsFilter(job_name=job, tags={"dagster/partition": partition}),
                                    limit=limit)
    out = []
    for r in reversed(recs):
        run = r.dagster_run
        if _RETRIED_BY in run.tags:
            continue
        if run.status in _ACTIVE or (run.status == dg.DagsterRunStatus.FAILURE and run.tags.get(_WILL_RETRY) == "true"):
            status = "active"
        elif run.status == dg.DagsterRunStatus.SUCCESS:
            status = "success"
        else:
            status = "failure"
        state = run.tags.get(STATE_TAG)
        if state is None and status != "active":
            continue  # a run launched by hand (UI, launch.py): not the sensors' business unless still running
        at = (r.end_time or r.update_timestamp.timestamp()) if status != "active" else r.create_timestamp.timestamp()
        out.append(Attempt(state, status, at))
    return out


def ask(instance: dg.DagsterInstance, job: str, partition: str, state: str, prefix: str,
        tags: dict[str, str] | None = None, now: float | None = None) -> tuple[dg.RunRequest | None, Decision]:
    """A run request for `partition` to make `state`, or None (and why) when vidpipe's policy says wait."""
    decision = next_request(state, attempts(instance, job, partition), time.time() if now is None else now)
    if not decision.ask:
        return None, decision
    return dg.RunRequest(job_name=job, partition_key=partition,
                         run_key=f"{prefix}:{partition}:{state}:{decision.attempt}",
                         tags={STATE_TAG: state, **(tags or {})}), decision
