"""Every translator output goes through its provider's fake and is accepted; wrong bodies get the
provider's refusal. The fakes enforce the dated snapshots of the providers' published contracts
(vidpipe/providers/contracts/*.json, loaded by tests/fakes/fal_contracts.py and gemini_fake.py), not
vidpipe's translators, so a wrong field name, enum value or limit in a translator fails here."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.elevenlabs_fake import ElevenLabsFake
from tests.fakes.fal_contract import ENDPOINTS
from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import FAKE_ELEVEN_KEY, eleven_fake, fal_fake, gemini_fake, media_files  # noqa: F401
from tests.fakes.gemini_fake import GeminiFake
from vidpipe.errors import ProviderRejected, UnsupportedOnModel
from vidpipe.providers import fal_models
from vidpipe.providers.base import Ticket

pytestmark = pytest.mark.timeout(180)

URL = "https://cdn.example.test/ref"
DURATIONS = (-1, 4, 5, 6, 8, 10, 15)
ASPECTS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive")
RESOLUTIONS = ("480p", "720p", "1080p")
MODES: dict[str, dict[str, Any]] = {
    "t2v": {},
    "i2v": {"image": f"{URL}/first.png"},
    "first-last": {"image": f"{URL}/first.png", "last_frame_image": f"{URL}/last.png"},
    "r2v-images": {"reference_images": [f"{URL}/a.png", f"{URL}/b.png"]},
    "r2v-all": {"reference_images": [f"{URL}/a.png"], "reference_videos": [f"{URL}/m.mp4"],
                "reference_audios": [f"{URL}/v.mp3"]},
    "avatar": {"reference_images": [f"{URL}/face.png"], "reference_audios": [f"{URL}/v.mp3"]},
    "face+voice": {"image": f"{URL}/face.png", "reference_audios": [f"{URL}/v.mp3"]},
}


def _canonical(mode: str, duration: int, aspect: str, res: str, audio: bool, seed: int | None) -> dict[str, Any]:
    req = {"prompt": "[Image1] a red kite over dunes", "duration": duration, "aspect_ratio": aspect,
           "resolution": res, "generate_audio": audio, **MODES[mode]}
    return req if seed is None else {**req, "seed": seed}


def test_every_fal_translation_is_accepted_by_the_published_schema() -> None:
    """The whole grid of model × mode × duration × aspect × resolution × audio × seed: each request is
    either refused by vidpipe before sending (UnsupportedOnModel) or valid for the endpoint it names."""
    accepted: dict[tuple[str, str], int] = {}
    problems: list[str] = []
    for model in fal_models.VIDEO_TRANSLATORS:
        for mode, dur, aspect, res, audio, seed in itertools.product(MODES, DURATIONS, ASPECTS, RESOLUTIONS,
                                                                     (True, False), (None, 7)):
            try:
                endpoint, body = fal_models.translate(model, _canonical(mode, dur, aspect, res, audio, seed))
            except UnsupportedOnModel:
                continue
            contract = ENDPOINTS.get(endpoint)
            if contract is None:
                problems.append(f"{model}/{mode}: unknown endpoint {endpoint}")
                continue
            for e in contract.validate(body, ["body"]):
                problems.append(f"{model}/{mode} d={dur} {aspect} {res}: {e['loc']} {e['msg']} ({e['input']!r})")
            accepted[(model, endpoint)] = accepted.get((model, endpoint), 0) + 1
    assert not problems, "\n".join(sorted(set(problems))[:20])
    endpoints = {e for _, e in accepted}
    assert endpoints == {
        "bytedance/seedance-2.0/text-to-video", "bytedance/seedance-2.0/image-to-video",
        "bytedance/seedance-2.0/reference-to-video", "fal-ai/kling-video/o3/standard/text-to-video",
        "fal-ai/kling-video/o3/standard/image-to-video", "fal-ai/wan/v2.7/image-to-video", "fal-ai/veo3.1",
        "fal-ai/veo3.1/image-to-video", "fal-ai/veo3.1/first-last-frame-to-video", "fal-ai/veo3.1/reference-to-video",
        "veed/fabric-1.0", "fal-ai/bytedance/omnihuman/v1.5"}


@pytest.mark.parametrize("model,n,aspect,res,seed", [
    ("flux-schnell", 1, "16:9", "720p", None), ("flux-schnell", 4, "9:21", "1080p", 3),
    ("flux-pro", 2, "1:1", "480p", None), ("flux-pro", 1, "21:9", "1080p", 9)])
def test_still_translations_are_accepted(model: str, n: int, aspect: str, res: str, seed: int | None) -> None:
    endpoint, body = fal_models.still(model, "a lighthouse", aspect=aspect, resolution=res, n=n, seed=seed)
    assert ENDPOINTS[endpoint].output == "images"
    assert ENDPOINTS[endpoint].validate(body, ["body"]) == []


def _local(media: dict[str, Path], tmp: Path) -> dict[str, str]:
    from tests.fakes.fixtures import make_clip
    from vidpipe.media.ffmpeg import run_ffmpeg

    long_wav = tmp / "long.wav"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=200:duration=35:sample_rate=8000", str(long_wav)],
               what="long wav")
    ref = make_clip(tmp / "ref480.mp4", seconds=2.0, width=854, height=480, audio=False)  # in Seedance's pixel range
    return {"png": str(media["still"]), "mp4": str(media["clip"]), "wav": str(media["wav"]), "long": str(long_wav),
            "ref": str(ref)}


def _submit(fal_fake: FalFake, tmp_path: Path, model: str, req: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from vidpipe.providers.fal import FalBackend

    endpoint, body = fal_models.translate(model, req)
    FalBackend().submit(Ticket("t", model, endpoint, body, tmp_path))
    return endpoint, fal_fake.submits[-1]["body"]


def test_one_request_per_model_and_mode_over_the_wire(fal_fake: FalFake, tmp_path: Path,
                                                      media_files: dict[str, Path]) -> None:
    """Through the real fal-client, with real local files uploaded to the fake's storage."""
    f = _local(media_files, tmp_path)
    cases = [
        ("seedance-2.0", {"prompt": "a kite", "duration": -1, "aspect_ratio": "adaptive"}),
        ("seedance-2.0", {"prompt": "a kite", "image": f["png"], "last_frame_image": f["png"], "duration": 15}),
        ("seedance-2.0", {"prompt": "[Image1] [Video1] [Audio1]", "reference_images": [f["png"]],
                          "reference_videos": [f["ref"]], "reference_audios": [f["wav"]], "duration": 4}),
        ("kling-3.0-omni", {"prompt": "a kite", "aspect_ratio": "1:1", "generate_audio": False}),
        ("kling-3.0-omni", {"prompt": "a kite", "image": f["png"], "last_frame_image": f["png"], "duration": 10}),
        ("wan-2.7-i2v", {"prompt": "she speaks", "reference_images": [f["png"]], "reference_audios": [f["wav"]]}),
        ("veo-3.1", {"prompt": "a kite", "duration": 8, "resolution": "1080p", "aspect_ratio": "9:16"}),
        ("veo-3.1", {"prompt": "a kite", "image": f["png"], "duration": 4, "seed": 2}),
        ("veo-3.1", {"prompt": "a kite", "image": f["png"], "last_frame_image": f["png"], "duration": 6}),
        ("veo-3.1", {"prompt": "a kite", "reference_images": [f["png"], f["png"]], "duration": 8}),
        ("veed-fabric-1.0", {"prompt": "x", "image": f["png"], "reference_audios": [f["wav"]], "resolution": "480p"}),
        ("omnihuman-1.5", {"prompt": "she speaks", "image": f["png"], "reference_audios": [f["wav"]],
                           "resolution": "1080p"}),
    ]
    for model, req in cases:
        endpoint, sent = _submit(fal_fake, tmp_path, model, req)
        assert fal_fake.refused == [], fal_fake.refused
        assert fal_fake.submits[-1]["endpoint"] == endpoint
    assert len(fal_fake.submits) == len(cases)


# -- wrong bodies: each gets fal's refusal ---------------------------------------------------------
GOOD = {"prompt": "a kite", "duration": "5", "resolution": "720p", "aspect_ratio": "16:9", "generate_audio": True}
WRONG_FAL = [
    ("field-name", "bytedance/seedance-2.0/text-to-video", {**GOOD, "aspect": "16:9"}, "extra_forbidden"),
    ("int-duration", "bytedance/seedance-2.0/text-to-video", {**GOOD, "duration": 5}, "enum"),
    ("duration-99", "bytedance/seedance-2.0/text-to-video", {**GOOD, "duration": "99"}, "enum"),
    ("aspect-7:3", "bytedance/seedance-2.0/text-to-video", {**GOOD, "aspect_ratio": "7:3"}, "enum"),
    ("numeric-prompt", "bytedance/seedance-2.0/text-to-video", {**GOOD, "prompt": 123}, "string_type"),
    ("no-prompt", "bytedance/seedance-2.0/text-to-video", {"duration": "5"}, "missing"),
    ("seedance-10-images", "bytedance/seedance-2.0/reference-to-video",
     {"prompt": "x", "image_urls": [f"{URL}/{i}.png" for i in range(10)]}, "too_long"),
    ("audio-without-image", "bytedance/seedance-2.0/reference-to-video",
     {"prompt": "x", "audio_urls": [f"{URL}/a.mp3"]}, "value_error"),
    ("data-uri", "fal-ai/kling-video/o3/standard/image-to-video",
     {"prompt": "x", "image_url": "data:image/png;base64,iVBORw0KGgo="}, "url_parsing"),
    ("kling-v3-field", "fal-ai/kling-video/o3/standard/image-to-video",
     {"prompt": "x", "start_image_url": f"{URL}/a.png"}, "extra_forbidden"),
    ("kling-aspect-4:3", "fal-ai/kling-video/o3/standard/text-to-video", {"prompt": "x", "aspect_ratio": "4:3"},
     "enum"),
    ("wan-duration-16", "fal-ai/wan/v2.7/image-to-video", {"prompt": "x", "image_url": f"{URL}/a.png",
                                                           "duration": 16}, "enum"),
    ("wan-string-duration", "fal-ai/wan/v2.7/image-to-video", {"prompt": "x", "image_url": f"{URL}/a.png",
                                                               "duration": "5"}, "enum"),
    ("seedance-seed", "bytedance/seedance-2.0/text-to-video", {**GOOD, "seed": 7}, "extra_forbidden"),
    ("veo-flf-image-url", "fal-ai/veo3.1/first-last-frame-to-video",
     {"prompt": "x", "image_url": f"{URL}/a.png", "last_frame_url": f"{URL}/b.png"}, "extra_forbidden"),
    ("veo-5s", "fal-ai/veo3.1", {"prompt": "x", "duration": "5s"}, "enum"),
    ("veo-1080p-6s", "fal-ai/veo3.1", {"prompt": "x", "duration": "6s", "resolution": "1080p"}, "value_error"),
    ("fabric-no-resolution", "veed/fabric-1.0", {"image_url": f"{URL}/a.png", "audio_url": f"{URL}/a.mp3"},
     "missing"),
    ("flux-5-images", "fal-ai/flux/schnell", {"prompt": "x", "num_images": 5}, "less_than_equal"),
    ("flux-webp", "fal-ai/flux/schnell", {"prompt": "x", "output_format": "webp"}, "enum"),
]


@pytest.mark.parametrize("endpoint,body,etype", [c[1:] for c in WRONG_FAL], ids=[c[0] for c in WRONG_FAL])
def test_wrong_fal_bodies_get_a_422(fal_fake: FalFake, tmp_path: Path, endpoint: str, body: dict[str, Any],
                                    etype: str) -> None:
    from vidpipe.providers.fal import FalBackend, map_fal_errors

    with pytest.raises(ProviderRejected) as info, map_fal_errors(submit=True):
        FalBackend().client.submit(endpoint, body)  # the raw wire body (no reference resolution)
    assert info.value.code == etype
    assert fal_fake.refused[-1]["detail"][0]["type"] == etype and fal_fake.submits == []


def test_wrong_endpoint_prefix_is_a_404(fal_fake: FalFake, tmp_path: Path) -> None:
    from vidpipe.providers.fal import FalBackend

    with pytest.raises(ProviderRejected) as info:  # Seedance 2.x ids have no fal-ai/ prefix
        FalBackend().submit(Ticket("w", "m", "fal-ai/bytedance/seedance-2.0/text-to-video", GOOD, tmp_path))
    assert info.value.code == "http_404" and fal_fake.attempts["submit"] == 1


def test_omnihuman_audio_over_30s_at_1080p(fal_fake: FalFake, tmp_path: Path, media_files: dict[str, Path]) -> None:
    f = _local(media_files, tmp_path)
    req = {"prompt": "she speaks", "image": f["png"], "reference_audios": [f["long"]], "resolution": "1080p"}
    with pytest.raises(ProviderRejected) as info:
        _submit(fal_fake, tmp_path, "omnihuman-1.5", req)
    assert info.value.code == "audio_too_long"
    _submit(fal_fake, tmp_path, "omnihuman-1.5", {**req, "resolution": "720p"})  # ≤60 s at 720p: accepted


# -- Gemini ------------------------------------------------------------------------------------------
def test_every_veo_translation_is_accepted(gemini_fake: GeminiFake, tmp_path: Path,
                                           media_files: dict[str, Path]) -> None:
    from vidpipe.providers.gemini import GeminiBackend, translate_veo

    png = str(media_files["still"])
    modes = {"t2v": {}, "i2v": {"image": png}, "first-last": {"image": png, "last_frame_image": png},
             "refs": {"reference_images": [png, png, png]}, "refs4": {"reference_images": [png] * 4}}
    gem, sent = GeminiBackend(), 0
    for mode, dur, aspect, res in itertools.product(modes, DURATIONS, ("16:9", "9:16", "adaptive"), RESOLUTIONS):
        req = {"prompt": "a kite", "duration": dur, "aspect_ratio": aspect, "resolution": res, **modes[mode]}
        try:
            endpoint, body = translate_veo(req)
        except UnsupportedOnModel:
            continue
        gem.submit(Ticket("v", "veo-3.1", endpoint, body, tmp_path))
        assert gemini_fake.refused == [], (req, gemini_fake.refused)
        sent += 1
    assert sent >= 40 and any("referenceImages" in s["body"]["instances"][0] for s in gemini_fake.submits)


@pytest.mark.parametrize("model", ["gemini-3.1-flash-image", "gemini-3-pro-image"])
def test_every_image_translation_is_accepted(gemini_fake: GeminiFake, model: str) -> None:
    from vidpipe.providers.gemini import GeminiBackend, translate_image

    gem = GeminiBackend()
    for aspect, res in itertools.product(("16:9", "9:16", "1:1", "4:3", "3:4", "21:9"), RESOLUTIONS):
        model_id, config = translate_image("a lighthouse", aspect=aspect, resolution=res, model=model)
        data, mime = gem.make_image(model_id, config)
        assert data.startswith(b"\x89PNG") and mime == "image/png"
    assert gemini_fake.refused == []


VEO_OK = {"instances": [{"prompt": "a kite"}], "parameters": {"durationSeconds": 8, "sampleCount": 1}}
WRONG_GEMINI = [
    ("duration-5", {**VEO_OK, "parameters": {"durationSeconds": 5}}, "durationSeconds"),
    ("aspect-1:1", {**VEO_OK, "parameters": {"aspectRatio": "1:1"}}, "aspectRatio"),
    ("resolution-4K-caps", {**VEO_OK, "parameters": {"resolution": "4K"}}, "resolution"),
    ("1080p-at-6s", {**VEO_OK, "parameters": {"resolution": "1080p", "durationSeconds": 6}}, "only supported"),
    ("50-samples", {**VEO_OK, "parameters": {"sampleCount": 50}}, "sampleCount"),
    ("vertex-only", {**VEO_OK, "parameters": {"generateAudio": True}}, "generateAudio"),
    ("field-name", {"instances": [{"prompt": "x", "last_frame": {}}]}, 'Unknown name "last_frame"'),
    ("lowercase-reference-type", {"instances": [{"prompt": "x", "referenceImages": [
        {"image": {"bytesBase64Encoded": "aGk=", "mimeType": "image/png"}, "referenceType": "asset"}]}],
        "parameters": {"durationSeconds": 8}}, "referenceType"),
]


@pytest.mark.parametrize("body,needle", [c[1:] for c in WRONG_GEMINI], ids=[c[0] for c in WRONG_GEMINI])
def test_wrong_veo_bodies_get_invalid_argument(gemini_fake: GeminiFake, body: dict[str, Any], needle: str) -> None:
    from vidpipe.providers.gemini import GeminiBackend

    with pytest.raises(ProviderRejected) as info:
        GeminiBackend()._post("models/veo-3.1-generate-001:predictLongRunning", body)
    assert info.value.code == "invalid_argument" and needle in str(info.value)
    assert gemini_fake.submits == []


@pytest.mark.parametrize("model,image_config,needle", [
    ("gemini-3.1-flash-image", {"aspect_ratio": "9:21"}, "aspectRatio"),
    ("gemini-3-pro-image", {"aspect_ratio": "16:9", "image_size": "8K"}, "imageSize"),
    ("gemini-2.5-flash-image", {"aspect_ratio": "16:9"}, "no longer available"),  # shut down 2026-10-02
    ("gemini-3-pro-image-preview", {"aspect_ratio": "16:9"}, "no longer available"),  # shut down 2026-06-25
    ("imagen-4.0-generate-001", {"aspect_ratio": "16:9"}, "not found"),  # shut down
])
def test_wrong_image_requests_are_refused(gemini_fake: GeminiFake, model: str, image_config: dict[str, str],
                                          needle: str) -> None:
    from vidpipe.providers.gemini import GeminiBackend

    with pytest.raises(ProviderRejected) as info:
        GeminiBackend().make_image(model, {"prompt": "x", "response_modalities": ["IMAGE"],
                                           "image_config": image_config})
    assert needle in str(info.value)


def test_retired_veo_preview_is_refused(gemini_fake: GeminiFake) -> None:
    """The old default (veo-3.1-generate-preview, shut down 2026-10-22) is a 404 at the fake, as at Google."""
    from vidpipe.providers.gemini import GeminiBackend

    with pytest.raises(ProviderRejected) as info:
        GeminiBackend()._post("models/veo-3.1-generate-preview:predictLongRunning", VEO_OK)
    assert "no longer available" in str(info.value) and gemini_fake.submits == []


# -- ElevenLabs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", ["eleven_multilingual_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5",
                                      "eleven_v3"])
def test_speech_for_every_model_is_accepted(eleven_fake: ElevenLabsFake, model_id: str) -> None:
    from vidpipe.providers.elevenlabs import ElevenLabsTTS

    chunks = ElevenLabsTTS(model_id=model_id, max_chars=40).speak(
        "The light has stood here. Every night it turns. Ships pass by.", "voice123")
    assert len(chunks) >= 2 and eleven_fake.refused == [], eleven_fake.refused
    stitched = any("previous_text" in c["body"] for c in eleven_fake.calls)
    assert stitched == (model_id != "eleven_v3")  # request stitching only where the model takes it


def _convert(**kw: Any) -> Any:
    from vidpipe.providers.elevenlabs import ElevenLabsTTS, map_elevenlabs_errors

    args = {"text": "Hello there.", "model_id": "eleven_multilingual_v2", "output_format": "mp3_44100_128", **kw}
    voice = args.pop("voice", "voice123")
    with map_elevenlabs_errors():
        return ElevenLabsTTS().client.text_to_speech.convert_with_timestamps(voice, **args)


WRONG_ELEVEN = [
    ("output-format-bogus", {"output_format": "bogus"}, 422, "validation_error"),
    ("model-nope", {"model_id": "nope"}, 400, "invalid_model_id"),
    ("unknown-voice", {"voice": "no-such-voice"}, 404, "voice_not_found"),
    ("legacy-voice", {"voice": "21m00Tcm4TlvDq8ikWAM"}, 402, "paid_plan_required"),
    ("empty-text", {"text": " "}, 400, "empty_text"),
    ("v3-stitching", {"model_id": "eleven_v3", "previous_text": "Before."}, 400, "invalid_request"),
    ("stability-2", {"voice_settings": {"stability": 2.0}}, 422, "validation_error"),
    ("too-long-for-v3", {"model_id": "eleven_v3", "text": "a" * 5001}, 400, "max_character_limit_exceeded"),
    ("field-name", {"request_options": {"additional_body_parameters": {"model": "eleven_v3"}}}, 422,
     "validation_error"),
]


@pytest.mark.parametrize("kw,status,code", [c[1:] for c in WRONG_ELEVEN], ids=[c[0] for c in WRONG_ELEVEN])
def test_wrong_speech_requests_get_elevenlabs_refusals(eleven_fake: ElevenLabsFake, kw: dict[str, Any], status: int,
                                                       code: str) -> None:
    with pytest.raises(ProviderRejected) as info:
        _convert(**kw)
    assert info.value.code == code and f"{status}" in str(info.value)
    assert eleven_fake.calls == []


@pytest.mark.parametrize("fmt,rate", [("mp3_22050_32", 22050), ("mp3_24000_48", 24000), ("mp3_44100_128", 44100)])
def test_output_format_sets_the_real_sample_rate(eleven_fake: ElevenLabsFake, tmp_path: Path, fmt: str,
                                                 rate: int) -> None:
    import base64

    import av

    resp = _convert(output_format=fmt)
    mp3 = tmp_path / "a.mp3"
    mp3.write_bytes(base64.b64decode(resp.audio_base_64))
    with av.open(str(mp3)) as c:
        assert c.streams.audio[0].sample_rate == rate
