"""Render a whole episode without Dagster (the CLI's `vidpipe render`): the same stages, in the same order
(vidpipe.pipeline.stages), that the Dagster jobs run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vidpipe.episode import load_episode
from vidpipe.errors import BudgetExceeded, VidpipeError
from vidpipe.estimate import estimate_episode
from vidpipe.paths import Paths
from vidpipe.pipeline.cast_stages import make_cast_plates
from vidpipe.pipeline.converge import clean_dead_temp_files
from vidpipe.pipeline.episode_stages import (episode_status, make_delivery, make_final_cut, make_voiceover,
                                             spec_summary)
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import prepare_request, record_qc, render_clip, render_still
from vidpipe.pipeline.stages import CUT, SHOT
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
    if any(m.plate for m in episode.cast):  # SPEC phase: the spec was checked above, then the cast plates
        step("cast plates")
        make_cast_plates(paths, episode_id, backend=backend)
    for s in episode.shots:
        ref = ShotRef(paths, episode, s)
        clean_dead_temp_files(ref.dir)
        try:
            for stage in SHOT.stages:
                step(f"{ref.key}: {stage.removeprefix('shot_')}")
                _SHOT_STAGES[stage](ref, store, backend, run)
        except VidpipeError as exc:
            run.failed[s.id] = str(exc)
    if run.failed:
        return run
    for stage in CUT.stages:
        if stage == "delivery" and not deliver:
            continue
        step(stage.replace("_", " "))
        _EPISODE_STAGES[stage](paths, episode_id, backend, run)
    return run


def _request(ref: ShotRef, store: Store, backend: str | None, run: EpisodeRun) -> None:
    req = prepare_request(ref, store=store)
    if req.errors:
        raise VidpipeError("; ".join(f"{f.code}: {f.message}" for f in req.errors))


def _clip(ref: ShotRef, store: Store, backend: str | None, run: EpisodeRun) -> None:
    clip = render_clip(ref, backend=backend, store=store)
    run.shots.append({"shot": ref.shot.id, "model": clip.model, "backend": clip.backend,
                      "cache_hit": clip.cache_hit, "defects": []})


def _qc(ref: ShotRef, store: Store, backend: str | None, run: EpisodeRun) -> None:
    report = record_qc(ref, store)
    if run.shots and run.shots[-1]["shot"] == ref.shot.id:
        run.shots[-1]["defects"] = [d.code for d in report.defects]
    if not verdict(report):
        raise VidpipeError(f"QC {summary(report)}")


def _shots_ready(paths: Paths, episode_id: str, backend: str | None, run: EpisodeRun) -> None:
    status = episode_status(paths, episode_id)
    if not status.ready:
        raise VidpipeError(f"episode {episode_id}: shots missing {status.missing}, failing {status.failing}")


def _final(paths: Paths, episode_id: str, backend: str | None, run: EpisodeRun) -> None:
    run.final = make_final_cut(paths, episode_id).path


def _delivery(paths: Paths, episode_id: str, backend: str | None, run: EpisodeRun) -> None:
    run.delivery = make_delivery(paths, episode_id).path


# the functions behind each stage name of vidpipe.pipeline.stages (the Dagster assets call the same ones)
_SHOT_STAGES: dict[str, Callable[[ShotRef, Store, str | None, EpisodeRun], None]] = {
    "shot_request": _request,
    "shot_still": lambda ref, store, backend, run: (render_still(ref, backend=backend), None)[1],
    "shot_clip": _clip,
    "shot_qc": _qc,
}
_EPISODE_STAGES: dict[str, Callable[[Paths, str, str | None, EpisodeRun], None]] = {
    "episode_shots": _shots_ready,
    "voiceover": lambda paths, ep, backend, run: (
        make_voiceover(paths, ep, backend=backend if backend == "preview" else None), None)[1],
    "final_cut": _final,
    "delivery": _delivery,
}
assert set(_SHOT_STAGES) == set(SHOT.stages) and set(_EPISODE_STAGES) == set(CUT.stages)
