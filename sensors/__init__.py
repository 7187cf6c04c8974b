"""Sensors and schedules: they only turn vidpipe's answers into partitions, run requests and cursors."""

from sensors.decisions import decide_shot_job
from sensors.episodes import episode_discovery, final_cut_gate
from sensors.failures import run_failure_record
from sensors.jobs import JOBS as ASSET_JOBS
from sensors.learning import qc_to_lessons
from sensors.schedules import weekly_final_cuts, weekly_shot_renders

SENSORS = [episode_discovery, final_cut_gate, qc_to_lessons, run_failure_record]
SCHEDULES = [weekly_shot_renders, weekly_final_cuts]
JOBS = [*ASSET_JOBS, decide_shot_job]

__all__ = ["JOBS", "SCHEDULES", "SENSORS"]
