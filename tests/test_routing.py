"""Routing: the intent table, explicit models, profile preferences and `avoid`, learned routing, fallback."""

from __future__ import annotations

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


def test_explicit_avoided_model_is_replaced_for_the_profile() -> None:
    req = {"prompt": P, "image": "me.png", "reference_audios": ["v.mp3"]}
    r = route(req, model="veed-fabric-1.0", profile=profile(), me=True)
    assert r.model != "veed-fabric-1.0" and r.overridden_by == "profile"
    assert "avoid" in r.reason


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
