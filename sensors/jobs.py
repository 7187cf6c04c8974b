"""Asset jobs the sensors and schedule launch (one partition per run)."""

import dagster as dg

from assets import EPISODE_ASSETS, SHOT_ASSETS, cast_plate, episode_spec, lessons, qc_scores

episode_spec_job = dg.define_asset_job("episode_spec_job", selection=[episode_spec, cast_plate],
                                       description="Parse and validate one episode file; make its cast plates.")
render_shot_job = dg.define_asset_job("render_shot_job", selection=SHOT_ASSETS,
                                      description="Request → still → clip → QC for one shot (partition `ep|shot`).")
final_cut_job = dg.define_asset_job("final_cut_job", selection=EPISODE_ASSETS,
                                    description="Episode shots → voiceover → final cut → delivery for one episode.")
learning_job = dg.define_asset_job("learning_job", selection=[qc_scores, lessons],
                                   description="Refresh the QC table asset and mine LESSONS.md.")

JOBS = [episode_spec_job, render_shot_job, final_cut_job, learning_job]
