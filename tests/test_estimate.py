"""`vidpipe estimate`: priced through the runner's own planning, takes counted, lengths measured, budget enforced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidpipe.cli import main
from vidpipe.errors import BudgetExceeded
from vidpipe.estimate import estimate_episode
from vidpipe.generate import plan_job
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.paths import Paths
from vidpipe.pipeline.run import render_episode
from vidpipe.pricing import estimate_clip
from vidpipe.shots import shot_to_job
from vidpipe.episode import load_episode


def _spec(paths: Paths) -> Path:
    return paths.episode_dir("mini") / "episode.yaml"


def test_estimate_matches_the_runner_and_counts_takes(project: Paths) -> None:
    one = estimate_episode(project, "mini", backend="fal")
    s1 = next(s for s in one.shots if s.shot == "s001")
    episode = load_episode(project.episode_dir("mini"))
    plan = plan_job(shot_to_job(episode, episode.shot("s001"), episode_dir=project.episode_dir("mini")), backend="fal")
    assert (s1.model, s1.backend, s1.usd_per_take) == (plan.model, "fal", plan.est_cost_usd) and s1.usd_per_take > 0
    assert s1.billed_seconds == 4 and s1.resolution == "480p"
    _spec(project).write_text(_spec(project).read_text().replace("fps: 24\n", "fps: 24\ntakes: 2\n", 1))
    two = estimate_episode(project, "mini", backend="fal")
    assert two.total_usd == pytest.approx(2 * one.total_usd - sum(s.still_usd for s in one.shots), abs=1e-3)
    assert all(s.takes == 2 for s in two.shots)
    s2 = next(s for s in two.shots if s.shot == "s002")
    assert s2.still_usd > 0  # image-to-video: its first-frame still is priced too
    offline = estimate_episode(project, "mini", backend="preview")
    assert offline.total_usd == 0 and not offline.over_budget


def test_avatar_priced_from_real_audio_and_remote_refs_cannot_be_estimated(project: Paths) -> None:
    folder = project.episode_dir("mini")
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=f=300:d=7.5", str(folder / "line.wav")], what="test audio")
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=gray:s=64x64", "-frames:v", "1", str(folder / "face.png")],
               what="test image")
    spec = _spec(project).read_text() + """\
  - id: s004
    mode: talking-avatar
    model: omnihuman-1.5
    prompt: "[Image1] a keeper speaks to camera, [Audio1] his voice, medium close-up, static camera"
    refs: {images: [face.png], audios: [line.wav]}
    duration: 5
  - id: s005
    mode: motion-transfer
    model: seedance-2.0
    prompt: "[Image1] the keeper walks as in [Video1], tracking shot"
    refs: {images: [face.png], videos: ["https://example.com/walk.mp4"]}
    duration: 5
"""
    _spec(project).write_text(spec)
    est = estimate_episode(project, "mini", backend="fal")
    avatar = next(s for s in est.shots if s.shot == "s004")
    assert avatar.model == "omnihuman-1.5" and avatar.billed_seconds == pytest.approx(7.5, abs=0.05)
    assert avatar.usd_per_take == pytest.approx(estimate_clip("omnihuman-1.5", "fal", {"duration": 5},
                                                              ref_seconds=None).rate * 7.5, abs=0.01)
    remote = next(s for s in est.shots if s.shot == "s005")
    assert remote.cannot_estimate and "https://example.com/walk.mp4" in remote.cannot_estimate
    assert est.cannot_estimate == ["s005"] and "cannot estimate s005" in est.line()


def test_render_refuses_an_episode_over_budget_before_any_spend(project: Paths) -> None:
    _spec(project).write_text(_spec(project).read_text().replace("fps: 24\n", "fps: 24\nbudget_usd: 0.05\n", 1))
    notices: list[str] = []
    with pytest.raises(BudgetExceeded, match="over budget"):
        render_episode(project, "mini", backend="fal", on_notice=notices.append)
    assert notices and notices[0].startswith("estimate mini: $") and "$0.05 budget" in notices[0]
    assert not (project.media / "mini" / "shots").exists()  # nothing was generated, nothing was paid


def test_estimate_cli_json_and_exit_code(project: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "mini", "--backend", "fal", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["shot"] for s in data["shots"]] == ["s001", "s002", "s003"] and data["over_budget"] is False
    _spec(project).write_text(_spec(project).read_text().replace("fps: 24\n", "fps: 24\nbudget_usd: 0.01\n", 1))
    assert main(["estimate", "mini", "--backend", "fal"]) == 1
    assert "of a $0.01 budget" in capsys.readouterr().out
