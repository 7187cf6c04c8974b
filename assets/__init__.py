"""Dagster assets: thin recipes that call vidpipe and attach metadata."""

from assets.edit import delivery, final_cut, voiceover
from assets.generation import shot_clip, shot_still
from assets.learning import lessons, qc_scores
from assets.qc import shot_qc
from assets.script import episode_spec, shot_request

SHOT_ASSETS = [shot_request, shot_still, shot_clip, shot_qc]
EPISODE_ASSETS = [voiceover, final_cut, delivery]
ALL_ASSETS = [episode_spec, *SHOT_ASSETS, *EPISODE_ASSETS, qc_scores, lessons]

__all__ = [
    "ALL_ASSETS", "EPISODE_ASSETS", "SHOT_ASSETS", "delivery", "episode_spec", "final_cut", "lessons",
    "qc_scores", "shot_clip", "shot_qc", "shot_request", "shot_still", "voiceover",
]
