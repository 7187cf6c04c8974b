"""Routing: the intent table, explicit models, profile preferences and `avoid`, learned routing, fallback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vidpipe.learning.feedback import LearnedChoice
from vidpipe.routing import Route, fallback_model, route
from vidpipe.schema import Avatar, ModelPreferences, Profile

P = "a keeper climbs the stairs"


def profile(avoid: tuple[str, ...] = ("veed-fabric-1.0",), default: str = "wan-2.7-i2v",
            alternate: str = "omnihuman-1.5") -> Profile:
    return Profile(avatar=Avatar(image="/me.png", rules=["identity 100% faithful"]),
                   model_preferences=ModelPreferences(talking_avatar_default=default,
                                                      talking_avatar_alternate=alternate, avoid=list(avoid)))


TABLE = [
    pytest.param({"prompt": P, "reference_images": ["f.png"], "reference_audios": ["a.mp3"]}, "seedance-2.0",
                 "reference_audios", id="audio-refs"),
    pytest.param({"prompt": P, "reference_images": ["f.png"], "reference_videos": ["m.mp4"]}, "seedance-2.0",
                 "reference_videos", id="video-refs"),
    pytest.param({"prompt": P, "reference_images": ["a.png", "b.png"]}, "seedance-2.0", "2 reference_images",
                 id="two-images"),
    pytest.param({"prompt": P, "image": "first.png"}, "wan-2.7-i2v", "image-to-video", id="single-image-i2v"),
    pytest.param({"prompt": P, "image": "first.png", "last_frame_image": "last.png"}, "wan-2.7-i2v",
                 "image-to-video", id="first+last-frame"),
    pytest.param({"prompt": P}, "seedance-2.0", "Text-led", id="text-only"),
    pytest.param({"prompt": P, "generate_audio": True}, "seedance-2.0", "native audio", id="native-dialogue"),
    pytest.param({"prompt": P, "reference_images": ["a.png"]}, "seedance-2.0", "Text-led", id="one-reference"),
    pytest.param({"prompt": P, "reference_images": "oops", "image": 3}, "seedance-2.0", "Text-led",
                 id="wrong-types-tolerated"),
]


@pytest.mark.parametrize(("req", "model", "why"), TABLE)
def test_routing_table(req: dict[str, Any], model: str, why: str) -> None:
    r = route(req)
    assert (r.model, r.overridden_by) == (model, None)
    assert why in r.reason and r.reason.endswith(".")


def test_explicit_model_wins() -> None:
    r = route({"prompt": P, "image": "first.png"}, model="veo-3.1")
    assert r == Route("veo-3.1", r.reason, {"requested": "veo-3.1"}, "explicit")
    assert "explicitly" in r.reason


@pytest.mark.parametrize(("me", "severity"), [(True, "error"), (False, "warning")])
def test_explicit_avoided_model_is_an_error_for_me_and_a_warning_otherwise(me: bool, severity: str) -> None:
    req = {"prompt": P, "image": "me.png", "reference_audios": ["v.mp3"]}
    r = route(req, model="veed-fabric-1.0", profile=profile(), me=me)
    assert (r.model, r.overridden_by) == ("veed-fabric-1.0", "explicit")
    (f,) = r.findings
    assert (f.code, f.severity) == ("model_avoided", severity) and "avoid list" in f.message


def test_fallback_never_goes_to_an_avoided_model() -> None:
    assert fallback_model({"prompt": P})[0] == "kling-3.0-omni"
    got, why = fallback_model({"prompt": P}, profile(avoid=("kling-3.0-omni",)))
    assert got is None and "avoid kling-3.0-omni" in why


@pytest.mark.parametrize(("prof", "req", "expected", "role"), [
    pytest.param(profile(), {"prompt": P, "reference_images": ["/me.png"]}, "wan-2.7-i2v", "default",
                 id="default-wan"),
    pytest.param(profile(avoid=("wan-2.7-i2v",)), {"prompt": P, "reference_images": ["/me.png"],
                                                   "reference_audios": ["v.mp3"]}, "omnihuman-1.5", "alternate",
                 id="default-avoided-alternate"),
    pytest.param(profile(default="veed-fabric-1.0"), {"prompt": P, "reference_images": ["/me.png"],
                                                      "reference_audios": ["v.mp3"]}, "omnihuman-1.5", "alternate",
                 id="default-is-in-avoid"),
])
def test_talking_avatar_preferences(prof: Profile, req: dict[str, Any], expected: str, role: str) -> None:
    r = route(req, profile=prof, me=True, mode="talking-avatar")
    assert (r.model, r.overridden_by) == (expected, "profile")
    assert r.evidence["profile_preference"] == role


def test_profile_not_applied_when_not_me() -> None:
    assert route({"prompt": P, "reference_images": ["x.png"]}, profile=profile(), mode="talking-avatar").model == \
        "seedance-2.0"


def test_avoided_table_choice_takes_next_candidate() -> None:
    r = route({"prompt": P, "image": "first.png"}, profile=profile(avoid=("wan-2.7-i2v",)), me=True)
    assert r.model not in ("wan-2.7-i2v",) and r.overridden_by == "profile"
    assert "avoid wan-2.7-i2v" in r.reason


class _Store:
    pass


def _learned(model: str) -> Any:
    def fake(category: str | None, mode: str | None, default_model: str, store: Any) -> LearnedChoice:
        assert (category, mode, default_model) == ("landscape", "text-to-video", "seedance-2.0")
        return LearnedChoice(model, f"{model} scored 4.6 vs 3.1 over 12 landscape clips", {"n": 12})
    return fake


def test_learned_route_replaces_the_table_only_with_a_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vidpipe.routing.learned_route", _learned("veo-3.1"))
    req = {"prompt": P, "duration": 8}
    assert route(req, category="landscape", mode="text-to-video").model == "seedance-2.0"
    r = route(req, category="landscape", mode="text-to-video", store=_Store())
    assert (r.model, r.overridden_by) == ("veo-3.1", "learned")
    assert "12 landscape clips" in r.reason and r.evidence["learned"] == {"n": 12}


def test_learned_route_that_cannot_take_the_request_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vidpipe.routing.learned_route", _learned("veo-3.1"))
    r = route({"prompt": P, "duration": 12}, category="landscape", mode="text-to-video", store=_Store())
    assert r.model == "seedance-2.0" and r.evidence["learned_rejected"] == "veo-3.1"


def test_learned_route_never_picks_an_avoided_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vidpipe.routing.learned_route", _learned("veo-3.1"))
    r = route({"prompt": P, "duration": 8}, category="landscape", mode="text-to-video", store=_Store(),
              profile=profile(avoid=("veo-3.1",)))
    assert r.model == "seedance-2.0"


@pytest.mark.parametrize(("req", "model", "why"), [
    pytest.param({"prompt": P}, "kling-3.0-omni", "moderation", id="text-to-video"),
    pytest.param({"prompt": P, "image": "first.png"}, "kling-3.0-omni", "moderation", id="image-to-video"),
    pytest.param({"prompt": P, "reference_images": ["a.png", "b.png"]}, None, "needs", id="refs-without-image"),
    pytest.param({"prompt": P, "reference_images": ["a.png"], "reference_audios": ["v.mp3"]}, None, "image",
                 id="lip-sync"),
    pytest.param({"prompt": P, "aspect_ratio": "21:9"}, None, "aspect_ratio 21:9", id="aspect-kling-lacks"),
])
def test_fallback_model(req: dict[str, Any], model: str | None, why: str) -> None:
    got, reason = fallback_model(req)
    assert got == model and why in reason


def test_me_in_a_lip_sync_scene_keeps_the_table() -> None:
    req = {"prompt": P, "reference_images": ["/me.png"], "reference_audios": ["v.mp3"]}
    assert route(req, profile=profile(), me=True, mode="lip-sync").model == "seedance-2.0"
    assert route(req, profile=profile(), me=True).model == "wan-2.7-i2v"  # a plain job file: face + voice


# -- one truth: `vidpipe route`, `vidpipe validate` and generate's plan agree on a table of jobs ------------
AGREE_PROMPT = ("A red kite climbs over grey dunes at dawn. Camera: low angle, slow tilt up. Style: pastel haze. "
                "Sound: wind over sand.")


def _agreement_jobs(ref_dir: str) -> list[dict[str, Any]]:
    img, wav = f"{ref_dir}/face.png", f"{ref_dir}/voice.wav"
    return [
        {"id": "text", "input": {"prompt": AGREE_PROMPT}},
        {"id": "i2v", "input": {"prompt": AGREE_PROMPT, "image": img}},
        {"id": "explicit", "model": "veo-3.1", "input": {"prompt": AGREE_PROMPT, "duration": 8}},
        {"id": "explicit-avoided", "model": "wan-2.7-i2v", "input": {"prompt": AGREE_PROMPT, "image": img}},
        {"id": "me-avoided", "model": "wan-2.7-i2v", "me": True, "input": {"prompt": AGREE_PROMPT, "image": img}},
        {"id": "learned", "category": "landscape", "input": {"prompt": AGREE_PROMPT, "duration": 8}},
        {"id": "learned-avoided", "category": "portrait", "input": {"prompt": AGREE_PROMPT, "image": img}},
        {"id": "me-talking", "me": True, "mode": "talking-avatar",
         "input": {"prompt": AGREE_PROMPT + ' She says: "the kite is up, come and see."', "reference_images": [img],
                   "reference_audios": [wav]}},
    ]


def _seed_scores(db: Path, category: str, scores: dict[str, tuple[int, list[int]]]) -> None:
    import json

    from vidpipe.store import Store

    store = Store(db)
    for model, (n, values) in scores.items():
        for i in range(n):
            store.execute("INSERT INTO scores (clip, model, judge, overall, features) VALUES (?, ?, 'human', ?, ?)",
                          [f"{model}-{i}.mp4", model, values[i % len(values)], json.dumps({"category": category})])


def test_route_validate_and_generate_plan_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from PIL import Image

    from vidpipe.cli import main
    from vidpipe.generate import plan_job
    from vidpipe.jobfile import load_jobs
    from vidpipe.media.ffmpeg import run_ffmpeg
    from vidpipe.store import Store

    root = tmp_path / "proj"
    (root / "data" / "refs").mkdir(parents=True)
    (root / "profile").mkdir()
    Image.new("RGB", (64, 64), (200, 160, 120)).save(root / "profile" / "me.png")
    Image.new("RGB", (64, 64), (90, 120, 200)).save(root / "data" / "refs" / "face.png")
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=220:duration=3", str(root / "data/refs/voice.wav")],
               what="voice")
    (root / "profile" / "profile.json").write_text(json.dumps({
        "avatar": {"image": "me.png"},
        "model_preferences": {"talking_avatar_default": "omnihuman-1.5", "talking_avatar_alternate": "wan-2.7-i2v",
                              "avoid": ["wan-2.7-i2v", "kling-3.0-omni"]}}))
    db = root / "data" / "vidpipe.duckdb"
    _seed_scores(db, "landscape", {"seedance-2.0": (10, [2, 3]), "veo-3.1": (10, [5, 4, 5])})
    _seed_scores(db, "portrait", {"seedance-2.0": (10, [2, 3]), "wan-2.7-i2v": (10, [5])})  # wan wins, but avoided
    monkeypatch.setenv("VIDPIPE_ROOT", str(root))
    monkeypatch.chdir(root)
    f = root / "jobs.json"
    f.write_text(json.dumps(_agreement_jobs(str(root / "data" / "refs"))))

    assert main(["route", str(f), "--explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    routed = {ln.split(": ", 1)[0]: ln.split(": ", 1)[1] for ln in lines if not ln.startswith(" ")}
    evidence = {k: ln for k, ln in zip(routed, [ln for ln in lines if ln.startswith("  evidence:")])}
    main(["validate", str(f), "--json", "--explain"])
    reports = {r["label"]: r for r in json.loads(capsys.readouterr().out)}
    store = Store(db)
    plans = {j.id: plan_job(j, backend="preview", store=store) for j in load_jobs(f)}

    expected = {"text": "seedance-2.0", "i2v": "seedance-2.0", "explicit": "veo-3.1",
                "explicit-avoided": "wan-2.7-i2v", "me-avoided": "wan-2.7-i2v", "learned": "veo-3.1",
                "learned-avoided": "seedance-2.0", "me-talking": "omnihuman-1.5"}
    assert routed == expected
    assert {k: r["route"] for k, r in reports.items()} == expected
    assert {k: p.model for k, p in plans.items()} == expected
    for k, p in plans.items():  # the same verdicts, not only the same model
        assert sorted(c for c, _ in p.errors) == sorted(e["code"] for e in reports[k]["errors"]), k
    # the avoid list beat the table (i2v → wan) and the learned winner (portrait → wan)
    assert "avoid wan-2.7-i2v" in reports["i2v"]["route_reason"]
    assert [e["code"] for e in reports["me-avoided"]["errors"]] == ["model_avoided"]
    assert "model_avoided" in [w["code"] for w in reports["explicit-avoided"]["warnings"]]
    # --explain names the evidence: the learned comparison with n and means, or the table row
    assert "veo-3.1 mean 4.70 (n=10) vs seedance-2.0 mean 2.50 (n=10)" in evidence["learned"]
    assert "table row: everything else → seedance-2.0" in evidence["text"]


def test_fallback_plan_respects_avoid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from vidpipe.generate import plan_job
    from vidpipe.schema import Job

    (tmp_path / "profile").mkdir()
    (tmp_path / "profile" / "profile.json").write_text(json.dumps(
        {"avatar": {"image": "me.png"}, "model_preferences": {"avoid": ["kling-3.0-omni"]}}))
    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    plan = plan_job(Job(id="x", input={"prompt": AGREE_PROMPT}), backend="preview", fallback=True)
    assert plan.errors and "avoid kling-3.0-omni" in plan.errors[0][1]


def test_validate_episode_and_the_render_path_agree(project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`vidpipe validate --episode` and the render/Dagster path (prepare_request) route and judge every shot alike,
    with a profile whose avoid list changes the table's choice."""
    import json

    from vidpipe.episode import validate_episode
    from vidpipe.pipeline.record import ShotRef
    from vidpipe.pipeline.shot_stages import prepare_request

    (project.root / "profile").mkdir()
    (project.root / "profile" / "profile.json").write_text(json.dumps(
        {"avatar": {"image": "me.png"}, "model_preferences": {"avoid": ["wan-2.7-i2v"]}}))
    ep, reports = validate_episode(project, "mini")
    for report, ref in zip(reports, ShotRef.all(project, ep)):
        req = prepare_request(ref)
        assert (report.route, [f.code for f in report.errors]) == (req.route_model, [f.code for f in req.errors])
    assert reports[1].route == "seedance-2.0"  # the image-to-video shot, with wan avoided
