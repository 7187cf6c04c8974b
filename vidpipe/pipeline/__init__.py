"""Pipeline stages for episodes and shots: the one implementation behind the CLI, API and Dagster assets."""

from vidpipe.pipeline.cast_stages import PlateOutcome, make_cast_plates
from vidpipe.pipeline.episode_stages import (
    EpisodeStatus,
    build_edit_list,
    cut_duration,
    episode_status,
    make_delivery,
    make_final_cut,
    make_voiceover,
    pending_episodes,
    spec_summary,
    timeline,
)
from vidpipe.pipeline.record import ShotRecord, ShotRef
from vidpipe.pipeline.shot_stages import (
    accept_shot,
    check_clip,
    prepare_request,
    record_qc,
    render_clip,
    render_still,
    use_take,
)

__all__ = [
    "PlateOutcome", "accept_shot", "make_cast_plates",
    "EpisodeStatus", "ShotRef", "build_edit_list", "check_clip", "cut_duration", "episode_status",
    "make_delivery", "make_final_cut", "make_voiceover", "pending_episodes", "prepare_request", "record_qc",
    "render_clip", "render_still", "ShotRecord", "spec_summary", "timeline", "use_take",
]
