"""The fal endpoints vidpipe may call, as fal publishes them: fields, types, enums and required flags from
the dated snapshot (vidpipe/providers/contracts/fal_schemas.json, via tests/fakes/fal_contracts.py); the
cross-field rules here carry the limits fal states in prose (reference counts, Veo's 8 s rules, …).

Written independently of vidpipe/providers/fal_models.py: do not import vidpipe's translators here.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.contract import Endpoint, Error, err
from tests.fakes.fal_contracts import build

B = ["body"]


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


def _prompt_xor_multi(body: dict[str, Any]) -> list[Error]:
    if ("prompt" in body) == ("multi_prompt" in body):
        return [err(B, "Either prompt or multi_prompt must be provided, but not both", "value_error")]
    return []


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


VEO = (_veo_8s,)
RULES = {
    "bytedance/seedance-2.0/reference-to-video": (_seedance_refs,),
    "fal-ai/kling-video/o3/standard/text-to-video": (_prompt_xor_multi,),
    "fal-ai/kling-video/o3/standard/image-to-video": (_prompt_xor_multi,),
    "fal-ai/wan/v2.7/image-to-video": (_wan_continuation,),
    "fal-ai/veo3.1": VEO, "fal-ai/veo3.1/image-to-video": VEO, "fal-ai/veo3.1/first-last-frame-to-video": VEO,
    "fal-ai/veo3.1/reference-to-video": VEO,
    "fal-ai/flux/schnell": (_image_size,), "fal-ai/flux-pro/v1.1": (_image_size,),
}
ENDPOINTS: dict[str, Endpoint] = build(RULES)

# Audio length limits that depend on another field (checked against the uploaded file's real length).
AUDIO_LIMITS_S: dict[str, dict[str, float]] = {
    "fal-ai/bytedance/omnihuman/v1.5": {"1080p": 30.0, "720p": 60.0},
}
