"""The fal endpoints vidpipe may call, as fal publishes them (providers.md §2–§3, the models' llms.txt).

Written independently of vidpipe/providers/fal_models.py: do not import vidpipe's tables here.
Cross-field rules carry the limits fal states in prose (reference counts, Veo's 8 s rules, …).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.contract import Endpoint, Error, F, enum, err

B = ["body"]
STRINGS_4_15 = tuple(str(i) for i in range(4, 16))
STRINGS_3_15 = tuple(str(i) for i in range(3, 16))


# -- Seedance 2.0 (ids without the fal-ai/ prefix) -----------------------------------------------
def _seedance(**extra: F) -> dict[str, F]:
    return {
        "prompt": F("str", required=True, lo=1),
        "resolution": enum("480p", "720p", "1080p"),
        "duration": enum("auto", *STRINGS_4_15),
        "aspect_ratio": enum("auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"),
        "generate_audio": F("bool"),
        "seed": F("int"),
        "end_user_id": F("str"),
        "bitrate_mode": enum("standard", "high"),
        **extra,
    }


def _seedance_refs(body: dict[str, Any]) -> list[Error]:
    imgs, vids, auds = (body.get(k) or [] for k in ("image_urls", "video_urls", "audio_urls"))
    out: list[Error] = []
    if len(imgs) + len(vids) + len(auds) > 12:
        out.append(err(B, "At most 12 reference files in total", "too_many_references"))
    if not (imgs or vids or auds):
        out.append(err(B, "Provide at least one of image_urls, video_urls, audio_urls", "missing"))
    if auds and not (imgs or vids):
        out.append(err([*B, "audio_urls"], "Audio references need an image or video reference", "value_error"))
    return out


# -- Kling O3 (omni) standard ---------------------------------------------------------------------
def _kling(**extra: F) -> dict[str, F]:
    return {
        "prompt": F("str", lo=1),
        "multi_prompt": F("list", lo=1, hi=6),
        "duration": enum(*STRINGS_3_15),
        "generate_audio": F("bool"),
        "shot_type": F("str"),
        **extra,
    }


def _prompt_xor_multi(body: dict[str, Any]) -> list[Error]:
    if ("prompt" in body) == ("multi_prompt" in body):
        return [err(B, "Either prompt or multi_prompt must be provided, but not both", "value_error")]
    return []


# -- Veo 3.1 ---------------------------------------------------------------------------------------
def _veo(**extra: F) -> dict[str, F]:
    return {
        "prompt": F("str", required=True, lo=1),
        "duration": enum("4s", "6s", "8s"),
        "resolution": enum("720p", "1080p", "4k"),
        "generate_audio": F("bool"),
        "negative_prompt": F("str"),
        "seed": F("int"),
        "auto_fix": F("bool"),
        "safety_tolerance": enum("1", "2", "3", "4", "5", "6"),
        **extra,
    }


def _veo_8s(body: dict[str, Any]) -> list[Error]:
    """1080p and 4k only at 8 s (providers.md §0, reported by users)."""
    if body.get("resolution", "720p") != "720p" and body.get("duration", "8s") != "8s":
        return [err([*B, "resolution"], f"{body['resolution']} is only available with duration 8s", "value_error",
                    body["resolution"])]
    return []


# -- Wan 2.7 i2v -----------------------------------------------------------------------------------
def _wan_continuation(body: dict[str, Any]) -> list[Error]:
    if "video_url" in body and "image_url" in body:
        return [err([*B, "video_url"], "video_url cannot be combined with image_url", "value_error")]
    if "video_url" not in body and "image_url" not in body:
        return [err([*B, "image_url"], "Field required", "missing")]
    return []


# -- Flux image size -------------------------------------------------------------------------------
IMAGE_SIZES = ("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9")


def _image_size(body: dict[str, Any]) -> list[Error]:
    v = body.get("image_size")
    if v is None or (isinstance(v, str) and v in IMAGE_SIZES):
        return []
    if isinstance(v, dict) and set(v) == {"width", "height"} and all(
            isinstance(v[k], int) and not isinstance(v[k], bool) and 1 <= v[k] <= 14142 for k in v):
        return []
    return [err([*B, "image_size"], "Input should be an image size name or {width, height} integers", "value_error",
                v)]


FLUX_COMMON = {"prompt": F("str", required=True, lo=1), "image_size": F("any"), "seed": F("int"),
               "num_images": F("int", lo=1, hi=4), "output_format": enum("jpeg", "png"), "sync_mode": F("bool")}

ENDPOINTS: dict[str, Endpoint] = {
    "bytedance/seedance-2.0/text-to-video": Endpoint(_seedance()),
    "bytedance/seedance-2.0/image-to-video": Endpoint(_seedance(image_url=F("url", required=True),
                                                                end_image_url=F("url"))),
    "bytedance/seedance-2.0/reference-to-video": Endpoint(
        _seedance(image_urls=F("urls", hi=9), video_urls=F("urls", hi=3), audio_urls=F("urls", hi=3)),
        rules=(_seedance_refs,)),
    "fal-ai/kling-video/o3/standard/text-to-video": Endpoint(
        _kling(aspect_ratio=enum("16:9", "9:16", "1:1")), rules=(_prompt_xor_multi,)),
    "fal-ai/kling-video/o3/standard/image-to-video": Endpoint(
        _kling(image_url=F("url", required=True), end_image_url=F("url"))),
    "fal-ai/wan/v2.7/image-to-video": Endpoint({
        "prompt": F("str", required=True, lo=1, hi=5000), "image_url": F("url"), "end_image_url": F("url"),
        "video_url": F("url"), "audio_url": F("url"), "resolution": enum("720p", "1080p"),
        "duration": F("int", lo=2, hi=15), "negative_prompt": F("str", hi=500),
        "enable_prompt_expansion": F("bool"), "seed": F("int")}, rules=(_wan_continuation,)),
    "fal-ai/veo3.1": Endpoint(_veo(aspect_ratio=enum("16:9", "9:16")), rules=(_veo_8s,)),
    "fal-ai/veo3.1/image-to-video": Endpoint(
        _veo(aspect_ratio=enum("auto", "16:9", "9:16"), image_url=F("url", required=True)), rules=(_veo_8s,)),
    "fal-ai/bytedance/omnihuman/v1.5": Endpoint({
        "image_url": F("url", required=True), "audio_url": F("url", required=True), "prompt": F("str"),
        "resolution": enum("720p", "1080p"), "turbo_mode": F("bool")}),
    "veed/fabric-1.0": Endpoint({
        "image_url": F("url", required=True), "audio_url": F("url", required=True),
        "resolution": enum("720p", "480p", required=True)}),
    "fal-ai/flux/schnell": Endpoint({
        **FLUX_COMMON, "num_inference_steps": F("int", lo=1, hi=12), "guidance_scale": F("num", lo=1, hi=20),
        "enable_safety_checker": F("bool"), "acceleration": enum("none", "regular", "high")},
        rules=(_image_size,), output="images"),
    "fal-ai/flux-pro/v1.1": Endpoint({
        **FLUX_COMMON, "safety_tolerance": enum("1", "2", "3", "4", "5", "6"), "enhance_prompt": F("bool")},
        rules=(_image_size,), output="images"),
    "fal-ai/seedvr/upscale/video": Endpoint({
        "video_url": F("url", required=True), "upscale_mode": enum("target", "factor"),
        "upscale_factor": F("num", lo=1, hi=10), "target_resolution": enum("720p", "1080p", "1440p", "2160p"),
        "seed": F("int")}),
}

# Audio length limits that depend on another field (checked against the uploaded file's real length).
AUDIO_LIMITS_S: dict[str, dict[str, float]] = {
    "fal-ai/bytedance/omnihuman/v1.5": {"1080p": 30.0, "720p": 60.0},
}
