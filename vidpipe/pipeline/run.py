"""Render a whole episode without Dagster (the CLI's `vidpipe render`): the same stages the assets call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vidpipe.episode import load_episode
from vidpipe.errors import BudgetExceeded, VidpipeError
from vidpipe.estimate import estimate_episode
from vidpipe.paths import Paths
from vidpipe.pipeline.cast_stages import make_cast_plates
from vidpipe.pipeline.episode_stages import make_delivery, make_final_cut, make_voiceover, spec_summary
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import prepare_request, record_qc, render_clip, render_still
from vidpipe.qc.verdict import summary, verdict
from vidpipe.store import Store


@dataclass
class EpisodeRun:
    episode: str
    final: Path | None = None
    delivery: Path | None = None
    failed: dict[str, str] = field(default_factory=dict)
    shots: list[dict[str, object]] = field(default_factory=list)


def render_episode(paths: Paths, episode_id: str, *, backend: str | None = None, deliver: bool = True,
                   on_step: Callable[[str], None] | None = None,
                   on_notice: Callable[[str], None] | None = None) -> EpisodeRun:
    """Every stage for every shot, then voiceover, cut and delivery. A failing shot does not stop the others.

    Before the first paid call the episode is priced (`on_notice` gets the estimate line); an
    estimate over the episode's budget stops the run before anything is spent.
    """
    step = on_step or (lambda _msg: None)
    store = Store(paths.db)
    spec_summary(paths, episode_id)
    est = estimate_episode(paths, episode_id, backend=backend, store=store)
    (on_notice or step)(est.line())
    if est.over_budget:
        raise BudgetExceeded(f"{est.line()}: over budget by ${est.total_usd - (est.budget_usd or 0):.2f}; "
                             "raise budget_usd, lower takes or durations, or render with --backend preview")
    episode = load_episode(paths.episode_dir(episode_id))
    run = EpisodeRun(episode_id)
    if any(m.plate for m in episode.cast):
        step("cast plates")
        make_cast_plates(paths, episode_id, backend=backend)
    for s in episode.shots:
        ref = ShotRef(paths, episode, s)
        step(f"{ref.key}: request")
        try:
            req = prepare_request(ref, store=store)
            if req.errors:
                raise VidpipeError("; ".join(f"{f.code}: {f.message}" for f in req.errors))
            step(f"{ref.key}: still")
            render_still(ref, backend=backend)
            step(f"{ref.key}: clip ({req.route_model})")
            clip = render_clip(ref, backend=backend, store=store)
            step(f"{ref.key}: qc")
            report = record_qc(ref, store)
            run.shots.append({"shot": s.id, "model": clip.model, "backend": clip.backend, "cache_hit": clip.cache_hit,
                              "defects": [d.code for d in report.defects]})
            if not verdict(report):
                raise VidpipeError(f"QC {summary(report)}")
        except VidpipeError as exc:
            run.failed[s.id] = str(exc)
    if run.failed:
        return run
    step("voiceover")
    make_voiceover(paths, episode_id, backend=backend if backend == "preview" else None)
    step("final cut")
    run.final = make_final_cut(paths, episode_id).path
    if deliver:
        step("delivery")
        run.delivery = make_delivery(paths, episode_id).path
    return run
