"""Pure translators: canonical (Seedance 2.0) request → fal endpoint id + that model's body.

No I/O: local file paths stay as they are (the fal client turns them into data URIs or uploads at
submit time). Anything a model cannot take raises UnsupportedOnModel (code
`unsupported_on_model`) naming the field and what to do — nothing is silently dropped that
would change the picture, except hints a model has no field for (noted per model; `HINTS`).
Field names and enums: providers/contracts/fal_schemas.json (fal's published schemas, dated).
Prompt rewriting (Wan `enable_prompt_expansion`, Veo `auto_fix`) defaults to on at fal; vidpipe
always sends it off unless the request says `allow_prompt_rewrite`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from vidpipe.pricing import veo_seconds
from vidpipe.providers.base import UnsupportedOnModel
from vidpipe.schema import frame_size

Body = dict[str, Any]
# Fields that only hint (reproducibility) and change nothing a person asked for: when fal drops one from
# an endpoint's live schema, the preflight stops sending it instead of refusing the job.
HINTS = frozenset({"seed"})
_CITE = re.compile(r"\[(Image|Video|Audio)(\d+)\]")


def cite_at(prompt: str) -> str:
    """`[Image1]` → `@Image1` (fal's Seedance citation syntax; same for Video/Audio)."""
    return _CITE.sub(r"@\1\2", prompt)


def _refuse(model: str, message: str) -> UnsupportedOnModel:
    return UnsupportedOnModel(f"{model}: {message}", model=model, provider="fal")


def _no(model: str, req: Body, *fields: str, why: str = "") -> None:
    for f in fields:
        if req.get(f):
            raise _refuse(model, f"cannot take `{f}`{why}; drop it or choose another model (seedance-2.0 takes it)")


def _pick_res(model: str, res: str, allowed: tuple[str, ...]) -> str:
    """The requested resolution if the model has it, else the nearest it has (never refuses)."""
    if res in allowed:
        return res
    order = ("480p", "720p", "1080p")
    return min(allowed, key=lambda a: abs(order.index(a) - order.index(res)))


# -- Seedance 2.0 -----------------------------------------------------------------------------
SEEDANCE_ASPECTS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")


def seedance(req: Body) -> tuple[str, Body]:
    """t2v / i2v / r2v chosen from the request; Seedance 2.x ids have no `fal-ai/` prefix."""
    m = "seedance-2.0"
    aspect = req.get("aspect_ratio", "16:9")
    if aspect == "9:21":
        raise _refuse(m, "aspect_ratio 9:21 is not offered on fal (its enum: auto, " + ", ".join(SEEDANCE_ASPECTS)
                      + "); set aspect_ratio to 9:16, the tallest shape it makes")
    duration = int(req.get("duration", 5))
    body: Body = {
        "prompt": cite_at(req["prompt"]),
        "duration": "auto" if duration == -1 else str(duration),
        "resolution": req.get("resolution", "720p"),
        "aspect_ratio": "auto" if aspect == "adaptive" else aspect,
        "generate_audio": bool(req.get("generate_audio", True)),
    }
    # No `seed`: fal's Seedance 2.0 schema dropped it (fal_schemas.json); takes vary by prompt instead.
    images, videos, audios = (req.get(k) or [] for k in ("reference_images", "reference_videos", "reference_audios"))
    if images or videos or audios:
        if req.get("image") or req.get("last_frame_image"):  # reference-to-video has no frame fields
            raise _refuse(m, "cannot combine a first/last frame (`image`, `last_frame_image`) with reference files "
                             "on fal; put the frame into reference_images and cite it as [Image1]")
        if len(images) + len(videos) + len(audios) > 12:
            raise _refuse(m, "fal takes at most 12 reference files in total; use fewer")
        if images:
            body["image_urls"] = list(images)
        if videos:
            body["video_urls"] = list(videos)
        if audios:
            body["audio_urls"] = list(audios)
        return "bytedance/seedance-2.0/reference-to-video", body
    if req.get("image"):
        body["image_url"] = req["image"]
        if req.get("last_frame_image"):
            body["end_image_url"] = req["last_frame_image"]
        return "bytedance/seedance-2.0/image-to-video", body
    return "bytedance/seedance-2.0/text-to-video", body


# -- Kling 3.0 Omni ---------------------------------------------------------------------------
# We use the O3 ("omni") endpoints, not v3: O3 is the family the model name refers to, it takes the
# first frame as `image_url` (v3 wants `start_image_url`), accepts `end_image_url`, and its
# standard tier is the documented $0.084/$0.112 per second. Standard keeps cost down.
KLING_T2V_ASPECTS = ("16:9", "9:16", "1:1")


def kling(req: Body) -> tuple[str, Body]:
    m = "kling-3.0-omni"
    _no(m, req, "reference_videos", "reference_audios", why=" (Kling has no audio/video references)")
    if req.get("reference_images") and not req.get("image"):
        raise _refuse(m, "image-to-video needs an `image` (the first frame); this request has only "
                         "reference_images — set `image` to the frame to animate, or stay on seedance-2.0")
    duration = int(req.get("duration", 5))
    body: Body = {
        "prompt": req["prompt"],  # Kling has no @-citation syntax: the prompt goes as written
        "generate_audio": bool(req.get("generate_audio", True)),  # O3 defaults to false: always send it
    }
    if duration != -1:
        body["duration"] = str(duration)  # "3".."15"; auto (-1) → the model's default 5 s
    # no seed field on Kling: a seed is a reproducibility hint, dropped
    if req.get("image"):
        body["image_url"] = req["image"]
        if req.get("last_frame_image"):
            body["end_image_url"] = req["last_frame_image"]
        return "fal-ai/kling-video/o3/standard/image-to-video", body  # aspect follows the image
    aspect = req.get("aspect_ratio", "16:9")
    if aspect != "adaptive":
        if aspect not in KLING_T2V_ASPECTS:
            raise _refuse(m, f"aspect_ratio {aspect} is not offered (16:9, 9:16, 1:1)")
        body["aspect_ratio"] = aspect
    return "fal-ai/kling-video/o3/standard/text-to-video", body


# -- Wan 2.7 image-to-video ---------------------------------------------------------------------
def wan(req: Body) -> tuple[str, Body]:
    """Open-weights i2v; the face/frame is `image` or the single reference image; one driving audio."""
    m = "wan-2.7-i2v"
    _no(m, req, "reference_videos", why=" (its video_url continuation cannot be combined with a first frame)")
    image = _face(m, req, what="a first frame")
    audios = req.get("reference_audios") or []
    if len(audios) > 1:
        raise _refuse(m, "takes one driving audio (audio_url); merge the clips or use seedance-2.0")
    duration = int(req.get("duration", 5))
    body: Body = {"prompt": req["prompt"], "image_url": image,
                  "resolution": _pick_res(m, req.get("resolution", "720p"), ("720p", "1080p"))}
    if duration != -1:
        body["duration"] = duration  # an integer here, 2..15; auto → model default (5)
    if req.get("last_frame_image"):
        body["end_image_url"] = req["last_frame_image"]
    if audios:
        body["audio_url"] = audios[0]
    if req.get("seed") is not None:
        body["seed"] = req["seed"]
    body["enable_prompt_expansion"] = bool(req.get("allow_prompt_rewrite", False))  # fal's default: true
    return "fal-ai/wan/v2.7/image-to-video", body


# -- Veo 3.1 ------------------------------------------------------------------------------------
VEO_ASPECTS = ("16:9", "9:16")


def veo(req: Body) -> tuple[str, Body]:
    """Text, first frame, first + last frame, or up to 3 reference images → the matching veo3.1 endpoint."""
    m = "veo-3.1"
    _no(m, req, "reference_videos", "reference_audios", why=" (Veo takes images only)")
    duration = int(req.get("duration", 5))
    if duration > 8:
        raise _refuse(m, f"makes at most 8 s (asked {duration} s); split the shot or use seedance-2.0")
    aspect = req.get("aspect_ratio", "16:9")
    if aspect not in (*VEO_ASPECTS, "adaptive"):
        raise _refuse(m, f"aspect_ratio {aspect} is not offered (16:9, 9:16, auto)")
    seconds = veo_seconds(duration)  # "4s"/"6s"/"8s": rounded up; auto → "8s"
    res = _pick_res(m, req.get("resolution", "720p"), ("720p", "1080p"))
    if res == "1080p" and seconds != 8:
        raise _refuse(m, f"makes 1080p only at 8 s (asked {seconds} s); set duration 8 or resolution 720p")
    body: Body = {
        "prompt": req["prompt"],
        "duration": f"{seconds}s",
        "resolution": res,
        "generate_audio": bool(req.get("generate_audio", True)),
        "auto_fix": bool(req.get("allow_prompt_rewrite", False)),  # fal's default rewrites a refused prompt
    }
    refs = req.get("reference_images") or []
    if refs:
        if req.get("image") or req.get("last_frame_image"):
            raise _refuse(m, "cannot combine reference images with a first/last frame on fal; keep one of them")
        if len(refs) > 3:
            raise _refuse(m, f"takes at most 3 reference images, got {len(refs)}")
        if seconds != 8:
            raise _refuse(m, f"takes reference images only at 8 s (asked {seconds} s); set duration 8")
        if aspect != "adaptive":
            body["aspect_ratio"] = aspect
        body["image_urls"] = list(refs)
        return "fal-ai/veo3.1/reference-to-video", body  # no seed field on this endpoint
    if req.get("seed") is not None:
        body["seed"] = req["seed"]
    if req.get("last_frame_image") and not req.get("image"):
        raise _refuse(m, "a last frame needs a first frame: set `image` too")
    if req.get("image"):
        body["aspect_ratio"] = "auto" if aspect == "adaptive" else aspect
        if req.get("last_frame_image"):
            body["first_frame_url"] = req["image"]
            body["last_frame_url"] = req["last_frame_image"]
            return "fal-ai/veo3.1/first-last-frame-to-video", body
        body["image_url"] = req["image"]
        return "fal-ai/veo3.1/image-to-video", body
    if aspect != "adaptive":
        body["aspect_ratio"] = aspect
    return "fal-ai/veo3.1", body


# -- talking avatars ----------------------------------------------------------------------------
def _face(model: str, req: Body, *, what: str = "a face image") -> str:
    images = req.get("reference_images") or []
    if req.get("image"):
        if images:
            raise _refuse(model, "takes one image: `image` or a single reference image, not both")
        return str(req["image"])
    if len(images) == 1:
        return str(images[0])
    if len(images) > 1:
        raise _refuse(model, f"takes one image ({what}), got {len(images)} reference_images; keep one")
    raise _refuse(model, f"needs {what}: set `image` (or one reference image)")


def _speech(model: str, req: Body) -> str:
    _no(model, req, "reference_videos", why=" (talking-avatar models take a face and a voice clip)")
    audios = req.get("reference_audios") or []
    if not audios:
        raise _refuse(model, "needs a speech clip: put it in reference_audios (e.g. from `vidpipe tts`)")
    return str(audios[0])  # the first audio reference drives the lips; the clip's length sets the video's


def fabric(req: Body) -> tuple[str, Body]:
    """VEED Fabric 1.0: face + speech → lip-synced clip. It takes no prompt (the face and voice decide)."""
    m = "veed-fabric-1.0"
    return "veed/fabric-1.0", {
        "image_url": _face(m, req), "audio_url": _speech(m, req),
        "resolution": _pick_res(m, req.get("resolution", "720p"), ("480p", "720p")),  # required, no default
    }


def omnihuman(req: Body) -> tuple[str, Body]:
    m = "omnihuman-1.5"
    return "fal-ai/bytedance/omnihuman/v1.5", {
        "image_url": _face(m, req), "audio_url": _speech(m, req), "prompt": req["prompt"],
        "resolution": _pick_res(m, req.get("resolution", "720p"), ("720p", "1080p")),
    }


VIDEO_TRANSLATORS: dict[str, Callable[[Body], tuple[str, Body]]] = {
    "seedance-2.0": seedance, "kling-3.0-omni": kling, "wan-2.7-i2v": wan, "veo-3.1": veo,
    "veed-fabric-1.0": fabric, "omnihuman-1.5": omnihuman,
}


def translate(model: str, req: Body) -> tuple[str, Body]:
    """(endpoint id, body) for `model` on fal."""
    fn = VIDEO_TRANSLATORS.get(model)
    if fn is None:
        raise _refuse(model, f"is not a fal video model (known: {', '.join(VIDEO_TRANSLATORS)})")
    return fn(req)


# -- stills -------------------------------------------------------------------------------------
STILL_ENDPOINTS = {"flux-schnell": "fal-ai/flux/schnell", "flux-pro": "fal-ai/flux-pro/v1.1"}


def still(model: str, prompt: str, *, aspect: str = "16:9", resolution: str = "720p", n: int = 1,
          seed: int | None = None) -> tuple[str, Body]:
    """Flux body: explicit {width, height} so the still matches the clip's frame exactly."""
    if model not in STILL_ENDPOINTS:
        raise _refuse(model, f"is not a fal still model ({', '.join(STILL_ENDPOINTS)})")
    if not 1 <= n <= 4:
        raise _refuse(model, f"makes 1–4 images per request, asked {n}")
    width, height = frame_size(resolution, aspect)
    body: Body = {"prompt": prompt, "image_size": {"width": width, "height": height}, "num_images": n,
                  "output_format": "png"}
    if model == "flux-schnell":
        body["num_inference_steps"] = 4
    if seed is not None:
        body["seed"] = seed
    return STILL_ENDPOINTS[model], body
