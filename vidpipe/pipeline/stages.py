"""The one ordering of an episode's stages, shared by `vidpipe render`, launch.py and the Dagster jobs.

Each phase is a named group of stages run for one partition: the episode (its spec and cast plates),
each shot (request → still → clip → QC), the episode again (the cut and its delivery), then the
project-wide learning step. Stage names are the Dagster asset names and phase names the job names,
so the jobs (sensors/jobs.py), launch.py's loop and pipeline/run.py's calls cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Phase:
    job: str  # the Dagster job that runs this phase for one partition
    scope: Literal["episode", "shot", "project"]
    stages: tuple[str, ...]  # in order; the asset names
    description: str


SPEC = Phase("episode_spec_job", "episode", ("episode_spec", "cast_plate"),
             "Parse and validate one episode file; make its cast plates.")
SHOT = Phase("render_shot_job", "shot", ("shot_request", "shot_still", "shot_clip", "shot_qc"),
             "Request → still → clip → QC for one shot (partition `ep|shot`).")
CUT = Phase("final_cut_job", "episode", ("episode_shots", "voiceover", "final_cut", "delivery"),
            "Episode shots → voiceover → final cut → delivery for one episode.")
LEARN = Phase("learning_job", "project", ("qc_scores", "lessons"),
              "Refresh the QC table asset and mine LESSONS.md.")

PHASES: tuple[Phase, ...] = (SPEC, SHOT, CUT, LEARN)
