"""Dagster assets: thin recipes that call vidpipe and attach metadata."""

from assets.edit import delivery, episode_shots, final_cut, voiceover
from assets.generation import shot_clip, shot_still
from assets.learning import lessons, qc_scores
from assets.qc import shot_qc
from assets.script import cast_plate, episode_file, episode_spec, shot_request, shot_spec

SHOT_ASSETS = [shot_request, shot_still, shot_clip, shot_qc]
EPISODE_ASSETS = [episode_shots, voiceover, final_cut, delivery]
EXTERNAL_ASSETS = [episode_file, shot_spec]
ALL_ASSETS = [*EXTERNAL_ASSETS, episode_spec, cast_plate, *SHOT_ASSETS, *EPISODE_ASSETS, qc_scores, lessons]

__all__ = [
    "ALL_ASSETS", "EPISODE_ASSETS", "EXTERNAL_ASSETS", "SHOT_ASSETS", "cast_plate", "delivery", "episode_file", "episode_shots",
    "episode_spec", "final_cut", "lessons",
    "qc_scores", "shot_clip", "shot_qc", "shot_request", "shot_spec", "shot_still", "voiceover",
]
