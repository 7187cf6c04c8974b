"""The corrections of issue 21 that are not the preflight itself: dated snapshots with sources, prompt rewriting
off unless a shot allows it, take variety on models without a seed, Seedance's reference-video limits before
any upload, and `vidpipe doctor --online` against the loopback fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import FAKE_ELEVEN_KEY, eleven_fake, fal_fake, make_clip, media_files  # noqa: F401
from vidpipe import model_caps
from vidpipe.cli import main
from vidpipe.episode import load_episode
from vidpipe.pipeline.takes import take_jobs
from vidpipe.providers import contracts, fal_models
from vidpipe.refcheck import MediaInfo, media_info
from vidpipe.schema import CanonicalRequest, Job
from vidpipe.shots import shot_to_job


def test_every_snapshot_names_its_source_and_date() -> None:
    for name, source, read_on in contracts.sources():
        assert source.startswith(("https://", "/work/shared/", "elevenlabs Python SDK")), name
        assert read_on.year == 2026, name
    fal = contracts.fal_schemas()
    assert "seed" not in fal.endpoints["bytedance/seedance-2.0/text-to-video"].fields  # dropped since April
    flf = fal.endpoints["fal-ai/veo3.1/first-last-frame-to-video"].fields
    assert flf["first_frame_url"].required and flf["last_frame_url"].required
    assert fal.endpoints["fal-ai/wan/v2.7/image-to-video"].fields["enable_prompt_expansion"].default is True
    assert fal.endpoints["fal-ai/veo3.1"].fields["auto_fix"].default is True
    assert {p.endpoint_id for p in contracts.fal_prices().prices} <= set(fal.endpoints)
    retired = contracts.gemini_models().retired_by_id()
    assert {"gemini-2.5-flash-image", "gemini-3-pro-image-preview", "veo-3.1-generate-preview"} <= set(retired)


def test_every_translator_field_is_in_the_snapshot() -> None:
    """Each field a translator can emit exists in the endpoint's published schema (the data, not the fake)."""
    reqs = [{"prompt": "a kite", "duration": 8, "seed": 3, "allow_prompt_rewrite": True, **extra} for extra in (
        {}, {"image": "a.png"}, {"image": "a.png", "last_frame_image": "b.png"}, {"reference_images": ["a.png"]},
        {"reference_images": ["a.png"], "reference_audios": ["v.mp3"]})]
    endpoints = contracts.fal_schemas().endpoints
    seen = set()
    for model in fal_models.VIDEO_TRANSLATORS:
        for req in reqs:
            try:
                endpoint, body = fal_models.translate(model, req)
            except fal_models.UnsupportedOnModel:
                continue
            seen.add(endpoint)
            assert set(body) <= set(endpoints[endpoint].fields), (model, endpoint, set(body) - set(endpoints[endpoint].fields))
    assert "fal-ai/veo3.1/first-last-frame-to-video" in seen and "fal-ai/veo3.1/reference-to-video" in seen


def test_prompt_rewriting_is_off_unless_the_episode_or_shot_allows_it(tmp_path: Path) -> None:
    ep_dir = tmp_path / "ep"
    ep_dir.mkdir()
    (ep_dir / "episode.yaml").write_text(
        "title: T\nallow_prompt_rewrite: false\nshots:\n"
        "  - {id: a, subject: a kite, duration: 4}\n"
        "  - {id: b, subject: a kite, duration: 4, allow_prompt_rewrite: true}\n")
    ep = load_episode(ep_dir)
    a, b = (shot_to_job(ep, s, episode_dir=ep_dir) for s in ep.shots)
    assert "allow_prompt_rewrite" not in a.input and b.input["allow_prompt_rewrite"] is True
    img = {"image": "https://x.test/a.png"}
    wan_a = fal_models.translate("wan-2.7-i2v", CanonicalRequest.model_validate({**a.input, **img}).body())[1]
    wan_b = fal_models.translate("wan-2.7-i2v", CanonicalRequest.model_validate({**b.input, **img}).body())[1]
    assert wan_a["enable_prompt_expansion"] is False and wan_b["enable_prompt_expansion"] is True
    veo = fal_models.translate("veo-3.1", CanonicalRequest.model_validate({**a.input, "duration": 4}).body())[1]
    assert veo["auto_fix"] is False


def test_takes_vary_by_prompt_where_the_model_has_no_seed() -> None:
    """Seedance has no seed on fal: without a different prompt, takes 2..N would be one paid request copied."""
    sd = take_jobs(Job(id="s", model="seedance-2.0", input={"prompt": "a kite", "duration": 4}), 3)
    bodies = [fal_models.translate("seedance-2.0", j.input)[1] for j in sd]
    assert len({json.dumps(b, sort_keys=True) for b in bodies}) == 3 and all("seed" not in b for b in bodies)
    assert sd[0].input["prompt"] == "a kite" and "Alternative take 2" in sd[1].input["prompt"]
    wan = take_jobs(Job(id="w", model="wan-2.7-i2v", input={"prompt": "a kite", "image": "a.png"}), 2)
    assert wan[1].input["prompt"] == "a kite" and wan[1].input["seed"] != wan[0].input.get("seed")


def test_take_help_says_where_variety_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    main(["take", "--help"])
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "Seedance 2.0, Kling and the talking avatars have no seed on fal" in out


def test_seedance_reference_videos_total_size_and_resolution() -> None:
    caps = "seedance-2.0"
    big = {"a.mp4": MediaInfo("video", 4.0, 30_000_000, 854, 480), "b.mp4": MediaInfo("video", 4.0, 25_000_000, 854, 480)}
    req = {"prompt": "x", "reference_videos": ["a.mp4", "b.mp4"]}
    [why] = model_caps.media_reasons(caps, req, big.get)
    assert "50 MB in total" in why and "55.0 MB" in why  # each is under 50 MB: the old per-file check passed them
    small = {"c.mp4": MediaInfo("video", 4.0, 1_000, 320, 180), "d.mp4": MediaInfo("video", 4.0, 1_000, 1920, 1080),
             "e.mp4": MediaInfo("video", 4.0, 1_000, 1280, 720)}
    reasons = model_caps.media_reasons(caps, {"prompt": "x", "reference_videos": list(small)}, small.get)
    assert len(reasons) == 2 and "c.mp4 is 320x180 (too small)" in reasons[0] and "d.mp4 is 1920x1080 (too large)" in reasons[1]


def test_validate_measures_a_real_reference_video(tmp_path: Path) -> None:
    from vidpipe.validate import check_job

    clip = make_clip(tmp_path / "tiny.mp4", seconds=2.0, width=320, height=180, audio=False)
    assert (media_info(clip).width, media_info(clip).height) == (320, 180)
    job = Job(id="r", model="seedance-2.0", input={"prompt": "[Video1] a kite in the same motion", "duration": 4,
                                                   "reference_videos": [str(clip)]})
    _, findings = check_job(job)
    assert any(f.code == "unsupported_on_model" and "320x180 (too small)" in f.message for f in findings)


def test_doctor_online_reads_the_fakes(fal_fake: FalFake, eleven_fake: object, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    assert main(["doctor", "--online", "--json", "--voice", "voice123"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["online"]["refused"] == [] and len(facts["online"]["snapshots"]) == 4
    asked = {e for path, ids in fal_fake.platform.calls for e in ids if path == "/v1/models"}
    assert asked == set(contracts.fal_schemas().endpoints)  # every endpoint vidpipe may call
    fal_fake.platform.drop("fal-ai/veo3.1", "auto_fix")
    fal_fake.platform.retire("veed/fabric-1.0")
    assert main(["doctor", "--online", "--voice", "nope"]) == 1
    said = " ".join(capsys.readouterr().out.split())
    assert "fal no longer lists veed/fabric-1.0" in said and "fal removed `auto_fix` from fal-ai/veo3.1" in said
    assert "elevenlabs voice nope does not exist" in said and FAKE_ELEVEN_KEY not in said


def test_a_seed_on_a_model_without_one_is_a_warning_not_silence() -> None:
    said = model_caps.adjustments("seedance-2.0", {"prompt": "x", "seed": 5}, lambda _: None)
    assert said == ["seedance-2.0 has no seed: seed 5 is not sent (takes of a shot differ by their prompt)"]
    assert model_caps.adjustments("wan-2.7-i2v", {"prompt": "x", "seed": 5, "resolution": "720p"}, lambda _: None) == []
