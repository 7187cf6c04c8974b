"""Asset jobs the sensors, the schedule and launch.py launch (one partition per run), one per phase of
vidpipe.pipeline.stages, so every way of running an episode runs the same stages in the same order."""

import dagster as dg

from assets import ALL_ASSETS
from vidpipe.pipeline.stages import CUT, LEARN, SPEC, SHOT, Phase

_BY_NAME = {a.key.to_user_string(): a for a in ALL_ASSETS if isinstance(a, dg.AssetsDefinition)}


def _job(phase: Phase):  # type: ignore[no-untyped-def]
    return dg.define_asset_job(phase.job, selection=[_BY_NAME[s] for s in phase.stages], description=phase.description)


episode_spec_job = _job(SPEC)
render_shot_job = _job(SHOT)
final_cut_job = _job(CUT)
learning_job = _job(LEARN)

JOBS = [episode_spec_job, render_shot_job, final_cut_job, learning_job]
