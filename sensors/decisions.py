"""A person's decision from the Dagster UI: accept a clip that failed QC, or put another take into the cut.

Launch `decide_shot_job` from the Launchpad with its config (episode, shot, and either `reason` to accept
or `take` to choose a take). It calls the same functions as `vidpipe accept` / `vidpipe take` and the
review room, so the decision lands in the shot record and the QC history, and the final-cut gate re-cuts.
"""

import dagster as dg

from resources import DuckDBStore, MediaRoot
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import accept_shot, use_take


class Decision(dg.Config):
    episode: str
    shot: str
    reason: str = ""  # accept the current clip for this reason (one line)
    take: int = 0  # or put this take into the cut (0: none)
    by: str = "dagster ui"  # who decides (Dagster does not tell an op who launched it)


@dg.op(description="Accept the shot's failing clip with a reason, or choose one of its takes; the cut follows.")
def decide_shot(context: dg.OpExecutionContext, config: Decision, media: MediaRoot, store: DuckDBStore) -> None:
    if bool(config.reason.strip()) == bool(config.take):
        raise dg.Failure("give either `reason` (accept the current clip) or `take` (put that take into the cut)")
    ref = ShotRef.load(media.paths(), config.episode, config.shot)
    if config.take:
        use_take(ref, config.take, by=config.by, store=store.store())
    else:
        accept_shot(ref, config.reason, by=config.by, store=store.store())
    context.log.info(f"{ref.key}: {ref.read().state_line()}")


@dg.job(description="A person's decision on one shot (accept with a reason, or choose a take); see the config.")
def decide_shot_job() -> None:
    decide_shot()
