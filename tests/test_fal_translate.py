"""Table tests of the pure fal translators: exact endpoint ids and wire field names per model."""

from __future__ import annotations

from typing import Any

import pytest

from vidpipe.errors import ProviderRejected
from vidpipe.providers import fal_models
from vidpipe.providers.base import UnsupportedOnModel
from vidpipe.providers.gemini import translate_image, translate_veo

BASE = {"prompt": "a red kite", "duration": 5, "resolution": "720p", "aspect_ratio": "16:9", "generate_audio": True}


def req(**kw: Any) -> dict[str, Any]:
    return {**BASE, **kw}


CASES = [
    # id, model, request, endpoint, expected body (exact)
    ("seedance-t2v", "seedance-2.0", req(seed=7),
     "bytedance/seedance-2.0/text-to-video",
     {"prompt": "a red kite", "duration": "5", "resolution": "720p", "aspect_ratio": "16:9", "generate_audio": True}),
    ("seedance-auto-adaptive", "seedance-2.0", req(duration=-1, aspect_ratio="adaptive", resolution="480p"),
     "bytedance/seedance-2.0/text-to-video",
     {"prompt": "a red kite", "duration": "auto", "resolution": "480p", "aspect_ratio": "auto", "generate_audio": True}),
    ("seedance-i2v", "seedance-2.0", req(image="a.png", last_frame_image="b.png", duration=15),
     "bytedance/seedance-2.0/image-to-video",
     {"prompt": "a red kite", "duration": "15", "resolution": "720p", "aspect_ratio": "16:9", "generate_audio": True,
      "image_url": "a.png", "end_image_url": "b.png"}),
    ("seedance-r2v", "seedance-2.0",
     req(prompt="[Image1] waves at [Image2] while [Audio1] plays over [Video1]", reference_images=["1.png", "2.png"],
         reference_videos=["m.mp4"], reference_audios=["v.mp3"], duration=4, aspect_ratio="21:9"),
     "bytedance/seedance-2.0/reference-to-video",
     {"prompt": "@Image1 waves at @Image2 while @Audio1 plays over @Video1", "duration": "4", "resolution": "720p",
      "aspect_ratio": "21:9", "generate_audio": True, "image_urls": ["1.png", "2.png"], "video_urls": ["m.mp4"],
      "audio_urls": ["v.mp3"]}),
    ("kling-t2v", "kling-3.0-omni", req(aspect_ratio="9:16", generate_audio=False, seed=3),
     "fal-ai/kling-video/o3/standard/text-to-video",
     {"prompt": "a red kite", "generate_audio": False, "duration": "5", "aspect_ratio": "9:16"}),
    ("kling-i2v", "kling-3.0-omni", req(image="a.png", last_frame_image="b.png", duration=10),
     "fal-ai/kling-video/o3/standard/image-to-video",
     {"prompt": "a red kite", "generate_audio": True, "duration": "10", "image_url": "a.png", "end_image_url": "b.png"}),
    ("kling-auto-duration", "kling-3.0-omni", req(duration=-1, aspect_ratio="adaptive"),
     "fal-ai/kling-video/o3/standard/text-to-video", {"prompt": "a red kite", "generate_audio": True}),
    ("wan-i2v", "wan-2.7-i2v", req(image="a.png", resolution="480p", seed=9, duration=8),
     "fal-ai/wan/v2.7/image-to-video",
     {"prompt": "a red kite", "image_url": "a.png", "resolution": "720p", "duration": 8, "seed": 9,
      "enable_prompt_expansion": False}),
    ("wan-rewrite-allowed", "wan-2.7-i2v", req(image="a.png", allow_prompt_rewrite=True),
     "fal-ai/wan/v2.7/image-to-video",
     {"prompt": "a red kite", "image_url": "a.png", "resolution": "720p", "duration": 5,
      "enable_prompt_expansion": True}),
    ("wan-avatar", "wan-2.7-i2v", req(reference_images=["face.png"], reference_audios=["v.mp3"], resolution="1080p"),
     "fal-ai/wan/v2.7/image-to-video",
     {"prompt": "a red kite", "image_url": "face.png", "resolution": "1080p", "duration": 5, "audio_url": "v.mp3",
      "enable_prompt_expansion": False}),
    ("veo-t2v", "veo-3.1", req(duration=5, seed=1),
     "fal-ai/veo3.1",
     {"prompt": "a red kite", "duration": "6s", "resolution": "720p", "generate_audio": True, "seed": 1,
      "aspect_ratio": "16:9", "auto_fix": False}),
    ("veo-t2v-1080p", "veo-3.1", req(duration=8, resolution="1080p"),
     "fal-ai/veo3.1",
     {"prompt": "a red kite", "duration": "8s", "resolution": "1080p", "generate_audio": True,
      "aspect_ratio": "16:9", "auto_fix": False}),
    ("veo-i2v", "veo-3.1", req(image="a.png", duration=4, aspect_ratio="adaptive", resolution="480p",
                               generate_audio=False),
     "fal-ai/veo3.1/image-to-video",
     {"prompt": "a red kite", "duration": "4s", "resolution": "720p", "generate_audio": False, "aspect_ratio": "auto",
      "image_url": "a.png", "auto_fix": False}),
    ("veo-first-last", "veo-3.1", req(image="a.png", last_frame_image="b.png", duration=6, allow_prompt_rewrite=True),
     "fal-ai/veo3.1/first-last-frame-to-video",
     {"prompt": "a red kite", "duration": "6s", "resolution": "720p", "generate_audio": True, "aspect_ratio": "16:9",
      "first_frame_url": "a.png", "last_frame_url": "b.png", "auto_fix": True}),
    ("veo-references", "veo-3.1", req(reference_images=["1.png", "2.png"], duration=8, seed=4),
     "fal-ai/veo3.1/reference-to-video",
     {"prompt": "a red kite", "duration": "8s", "resolution": "720p", "generate_audio": True, "aspect_ratio": "16:9",
      "image_urls": ["1.png", "2.png"], "auto_fix": False}),
    ("veo-auto", "veo-3.1", req(duration=-1, aspect_ratio="9:16"),
     "fal-ai/veo3.1",
     {"prompt": "a red kite", "duration": "8s", "resolution": "720p", "generate_audio": True, "aspect_ratio": "9:16",
      "auto_fix": False}),
    ("fabric", "veed-fabric-1.0", req(image="face.png", reference_audios=["v.mp3"], resolution="1080p"),
     "veed/fabric-1.0", {"image_url": "face.png", "audio_url": "v.mp3", "resolution": "720p"}),
    ("fabric-ref-face", "veed-fabric-1.0", req(reference_images=["face.png"], reference_audios=["v.mp3", "w.mp3"],
                                               resolution="480p"),
     "veed/fabric-1.0", {"image_url": "face.png", "audio_url": "v.mp3", "resolution": "480p"}),
    ("omnihuman", "omnihuman-1.5", req(reference_images=["face.png"], reference_audios=["v.mp3"], resolution="480p"),
     "fal-ai/bytedance/omnihuman/v1.5",
     {"image_url": "face.png", "audio_url": "v.mp3", "prompt": "a red kite", "resolution": "720p"}),
]


@pytest.mark.parametrize("model,request_,endpoint,body", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_translation_table(model: str, request_: dict[str, Any], endpoint: str, body: dict[str, Any]) -> None:
    got_endpoint, got_body = fal_models.translate(model, request_)
    assert got_endpoint == endpoint
    assert got_body == body


REFUSED = [
    ("seedance-9:21", "seedance-2.0", req(aspect_ratio="9:21"), "9:21"),
    ("seedance-13-refs", "seedance-2.0", req(reference_images=[f"{i}.png" for i in range(9)],
                                             reference_videos=["a.mp4", "b.mp4"], reference_audios=["a.mp3", "b.mp3"]),
     "12"),
    ("kling-audio-refs", "kling-3.0-omni", req(reference_images=["a.png"], reference_audios=["v.mp3"]), "reference_audios"),
    ("kling-refs-no-image", "kling-3.0-omni", req(reference_images=["a.png", "b.png"]), "needs an `image`"),
    ("kling-4:3", "kling-3.0-omni", req(aspect_ratio="4:3"), "4:3"),
    ("wan-no-image", "wan-2.7-i2v", req(), "needs a first frame"),
    ("wan-two-audios", "wan-2.7-i2v", req(image="a.png", reference_audios=["a.mp3", "b.mp3"]), "one driving audio"),
    ("wan-video-ref", "wan-2.7-i2v", req(image="a.png", reference_videos=["m.mp4"]), "reference_videos"),
    ("veo-audio-ref", "veo-3.1", req(reference_images=["a.png"], reference_audios=["v.mp3"]), "reference_"),
    ("veo-too-long", "veo-3.1", req(duration=12), "at most 8 s"),
    ("veo-1:1", "veo-3.1", req(aspect_ratio="1:1"), "1:1"),
    ("veo-1080p-short", "veo-3.1", req(duration=5, resolution="1080p"), "1080p only at 8 s"),
    ("veo-refs-short", "veo-3.1", req(reference_images=["a.png"], duration=4), "only at 8 s"),
    ("veo-refs-and-frame", "veo-3.1", req(reference_images=["a.png"], image="b.png", duration=8), "cannot combine"),
    ("veo-last-only", "veo-3.1", req(last_frame_image="b.png"), "needs a first frame"),
    ("fabric-no-audio", "veed-fabric-1.0", req(image="face.png"), "speech clip"),
    ("omnihuman-no-face", "omnihuman-1.5", req(reference_audios=["v.mp3"]), "needs a face image"),
    ("omnihuman-two-faces", "omnihuman-1.5", req(reference_images=["a.png", "b.png"], reference_audios=["v.mp3"]),
     "keep one"),
]


@pytest.mark.parametrize("model,request_,needle", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_unsupported_on_model(model: str, request_: dict[str, Any], needle: str) -> None:
    with pytest.raises(UnsupportedOnModel) as info:
        fal_models.translate(model, request_)
    assert info.value.code == "unsupported_on_model"
    assert isinstance(info.value, ProviderRejected) and isinstance(info.value, ValueError)
    assert needle in str(info.value) and model in str(info.value)


def test_still_bodies() -> None:
    assert fal_models.still("flux-schnell", "a lighthouse", aspect="16:9", resolution="720p", seed=5) == (
        "fal-ai/flux/schnell",
        {"prompt": "a lighthouse", "image_size": {"width": 1280, "height": 720}, "num_images": 1,
         "output_format": "png", "num_inference_steps": 4, "seed": 5})
    assert fal_models.still("flux-pro", "a lighthouse", aspect="9:16", resolution="480p", n=2) == (
        "fal-ai/flux-pro/v1.1",
        {"prompt": "a lighthouse", "image_size": {"width": 480, "height": 852}, "num_images": 2, "output_format": "png"})
    with pytest.raises(UnsupportedOnModel):
        fal_models.still("flux-pro", "x", n=5)


def test_gemini_translators() -> None:
    assert translate_veo(req(image="a.png", duration=5, seed=3, generate_audio=False)) == (
        "veo-3.1-generate-001",
        {"prompt": "a red kite", "image": "a.png",
         "config": {"number_of_videos": 1, "duration_seconds": 6, "resolution": "720p", "aspect_ratio": "16:9"}})
    with pytest.raises(UnsupportedOnModel):
        translate_veo(req(reference_images=["1", "2", "3", "4"]))
    assert translate_image("x", aspect="4:3", resolution="1080p") == (
        "gemini-3.1-flash-image", {"prompt": "x", "response_modalities": ["IMAGE"],
                                   "image_config": {"aspect_ratio": "4:3", "image_size": "2K"}})
    assert translate_image("x", aspect="21:9", resolution="1080p", model="gemini-3-pro-image")[1][
        "image_config"] == {"aspect_ratio": "21:9", "image_size": "2K"}
    with pytest.raises(UnsupportedOnModel):
        translate_image("x", aspect="9:21")


def test_gemini_model_ids_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDPIPE_GEMINI_VEO_MODEL", "veo-9-test")
    monkeypatch.setenv("VIDPIPE_GEMINI_IMAGE_MODEL", "gemini-9-image")
    assert translate_veo(req(duration=4))[0] == "veo-9-test"
    assert translate_image("x")[0] == "gemini-9-image"


def test_no_advice_vidpipe_cannot_follow() -> None:
    """There is no Replicate backend: a 9:21 Seedance job is told to use 9:16, the tallest shape fal makes."""
    with pytest.raises(UnsupportedOnModel) as info:
        fal_models.translate("seedance-2.0", req(aspect_ratio="9:21"))
    assert "Replicate" not in str(info.value) and "9:16" in str(info.value)
