"""Shot → canonical job (frame, audio, still, refs, profile) and the profile loader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vidpipe.episode import load_episode
from vidpipe.errors import ProfileMissing, SpecError
from vidpipe.paths import Paths
from vidpipe.profile import load_profile
from vidpipe.routing import route
from vidpipe.schema import Episode, Profile, Refs, Shot, StillSpec
from vidpipe.shots import shot_to_job
from vidpipe.validate import validate_request

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "episodes" / "demo"


@pytest.fixture(scope="module")
def demo() -> Episode:
    return load_episode(DEMO)


@pytest.fixture
def me_profile(tmp_path: Path) -> Profile:
    shutil.copy(REPO / "profile" / "profile.example.json", tmp_path / "profile.json")
    return load_profile(tmp_path / "profile.json")


def test_demo_shot_s001(demo: Episode) -> None:
    job = shot_to_job(demo, demo.shot("s001"), paths=Paths.from_env(), episode_dir=DEMO)
    assert (job.id, job.model, job.episode, job.shot, job.category, job.mode) == (
        "demo-s001", "auto", "demo", "s001", "landscape", "text-to-video")
    assert job.input["duration"] == 5 and job.input["resolution"] == "720p" and job.input["aspect_ratio"] == "16:9"
    assert job.input["generate_audio"] is True  # the shot directs sound
    assert job.input["prompt"].startswith("A lighthouse on a sea cliff")
    assert "image" not in job.input and "seed" not in job.input


@pytest.mark.parametrize("shot_id", ["s001", "s002", "s003", "s004", "s005"])
def test_every_demo_shot_validates_without_errors(demo: Episode, shot_id: str) -> None:
    # the still is made by an earlier stage under the media root: not there yet, and that is fine
    still = str(Paths.from_env().shot_media("demo", "s002") / "still.png") if shot_id == "s002" else None
    job = shot_to_job(demo, demo.shot(shot_id), still_path=still, paths=Paths.from_env(), episode_dir=DEMO)
    errors = [f for f in validate_request(job.input, model=job.model, job=job) if f.severity == "error"]
    assert errors == []


def test_image_to_video_uses_the_still_as_first_frame(demo: Episode) -> None:
    job = shot_to_job(demo, demo.shot("s002"), still_path="/media/demo/s002/still.png", episode_dir=DEMO)
    assert job.input["image"] == "/media/demo/s002/still.png" and "reference_images" not in job.input
    assert route(job.input).model == "wan-2.7-i2v"


def test_reference_still_goes_to_reference_images(demo: Episode) -> None:
    shot = Shot(id="r", subject="a keeper", action="he waits", still=StillSpec(role="reference"))
    job = shot_to_job(demo, shot, still_path="/m/plate.png", episode_dir=DEMO)
    assert job.input["reference_images"] == ["/m/plate.png"] and "image" not in job.input


def test_shot_overrides_frame_and_refs_become_absolute(demo: Episode, tmp_path: Path) -> None:
    shot = Shot(id="o", subject="x", action="y", aspect_ratio="9:16", resolution="1080p", seed=11, generate_audio=False,
                refs=Refs(images=["faces/a.png", "https://cdn/b.png"], audios=["/abs/v.mp3"]))
    job = shot_to_job(demo, shot, episode_dir=tmp_path)
    assert (job.input["aspect_ratio"], job.input["resolution"], job.input["seed"]) == ("9:16", "1080p", 11)
    assert job.input["generate_audio"] is False
    assert job.input["reference_images"] == [str((tmp_path / "faces/a.png").resolve()), "https://cdn/b.png"]
    assert job.input["reference_audios"] == ["/abs/v.mp3"]


def test_silent_shot_defaults_audio_off(demo: Episode) -> None:
    job = shot_to_job(demo, Shot(id="q", subject="a still pond", action="a leaf drifts"), episode_dir=DEMO)
    assert job.input["generate_audio"] is False


def test_me_shot_applies_the_profile(demo: Episode, me_profile: Profile) -> None:
    shot = Shot(id="m", me=True, mode="talking-avatar", subject="me at a desk", action="I explain the plan")
    job = shot_to_job(demo, shot, still_path="/ignored/still.png", profile=me_profile, episode_dir=DEMO)
    assert job.input["reference_images"] == [me_profile.avatar.image] and "image" not in job.input
    assert "[Image1]" in job.input["prompt"] and "mic to the side, mouth unobstructed" in job.input["prompt"]
    assert job.me and job.real_person is not None and job.real_person.basis == "self"
    r = route(job.input, model=job.model, profile=me_profile, me=True, mode=job.mode)
    assert r.model == "wan-2.7-i2v" and r.model not in me_profile.model_preferences.avoid


def test_me_shot_without_profile_says_how_to_set_it_up(demo: Episode) -> None:
    with pytest.raises(ProfileMissing, match="profile.example.json"):
        shot_to_job(demo, Shot(id="m", me=True, subject="me"), episode_dir=DEMO)


# -- profile ------------------------------------------------------------------------------------
def test_missing_profile_message(tmp_path: Path) -> None:
    with pytest.raises(ProfileMissing) as exc:
        load_profile(tmp_path / "profile.json")
    msg = str(exc.value)
    assert "copy profile/profile.example.json to profile/profile.json" in msg
    assert "avatar" in msg and "ElevenLabs voice id" in msg


def test_default_profile_path_follows_the_project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    with pytest.raises(ProfileMissing, match=str(tmp_path / "profile" / "profile.json")):
        load_profile()


def test_example_profile(me_profile: Profile, tmp_path: Path) -> None:
    prefs = me_profile.model_preferences
    assert (prefs.talking_avatar_default, prefs.talking_avatar_alternate, prefs.avoid) == (
        "wan-2.7-i2v", "omnihuman-1.5", ["veed-fabric-1.0"])
    assert me_profile.avatar.image == str((tmp_path / "avatar.png").resolve())  # relative to the profile folder
    assert any("100% faithful" in r for r in me_profile.avatar.rules)


def test_invalid_profile_names_file_and_field(tmp_path: Path) -> None:
    f = tmp_path / "profile.json"
    f.write_text(json.dumps({"avatar": {"rules": []}}))
    with pytest.raises(SpecError, match=r"profile\.json.*avatar\.image"):
        load_profile(f)
