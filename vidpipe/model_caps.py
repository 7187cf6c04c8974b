"""What each video model can take, as data, so validation and routing agree before any money is spent.

The provider translators (providers/fal_models.py, providers/gemini.py) are the last word at
submit time; this table lets `validate` report `unsupported_on_model` up front and lets routing
skip a candidate that could not run the request. Limits: providers.md §2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vidpipe.schema import ASPECT_RATIOS, MODELS

ALL_ASPECTS = frozenset(ASPECT_RATIOS)


@dataclass(frozen=True)
class ModelCaps:
    """Limits of one video model; counts are maxima, `None` aspects/durations mean 'no extra limit'."""

    name: str
    t2v_aspects: frozenset[str] | None  # aspect ratios without a first frame (None: any canonical one)
    durations: frozenset[int] | None = None  # allowed canonical durations (None: −1 and 4..15)
    max_images: int = 9
    max_videos: int = 3
    max_audios: int = 3
    max_total_refs: int | None = None
    last_frame: bool = True
    needs_frame: bool = False  # needs one image: `image` or a single reference image
    needs_speech: bool = False  # needs a speech clip in reference_audios
    frame_sets_aspect: bool = False  # with a first frame the clip takes the frame's shape
    note: str = ""


CAPS: dict[str, ModelCaps] = {
    "seedance-2.0": ModelCaps(
        "seedance-2.0", ALL_ASPECTS - {"9:21"}, max_total_refs=12,
        note="fal's Seedance has no 9:21 and takes at most 12 reference files in total",
    ),
    "kling-3.0-omni": ModelCaps(
        "kling-3.0-omni", frozenset({"16:9", "9:16", "1:1", "adaptive"}), max_images=0, max_videos=0,
        max_audios=0, frame_sets_aspect=True, note="text-to-video or image-to-video from one `image`; no references",
    ),
    "wan-2.7-i2v": ModelCaps(
        "wan-2.7-i2v", None, max_images=1, max_videos=0, max_audios=1, needs_frame=True,
        note="image-to-video only: one first frame, optionally one driving audio",
    ),
    "veo-3.1": ModelCaps(
        "veo-3.1", frozenset({"16:9", "9:16", "adaptive"}), durations=frozenset({-1, 4, 6, 8}), max_images=3,
        max_videos=0, max_audios=0, note="16:9 or 9:16, 4/6/8 s; reference images only on the Gemini API",
    ),
    "veed-fabric-1.0": ModelCaps(
        "veed-fabric-1.0", None, max_images=1, max_videos=0, max_audios=1, last_frame=False,
        needs_frame=True, needs_speech=True, note="talking head: one face image + one speech clip",
    ),
    "omnihuman-1.5": ModelCaps(
        "omnihuman-1.5", None, max_images=1, max_videos=0, max_audios=1, last_frame=False,
        needs_frame=True, needs_speech=True, note="talking avatar: one face image + one speech clip",
    ),
}
assert set(CAPS) == set(MODELS)

TALKING_AVATAR_MODELS = frozenset(m for m, c in CAPS.items() if c.needs_speech)
SINGLE_FRAME_MODELS = frozenset(m for m, c in CAPS.items() if c.needs_frame)


def _items(req: dict[str, Any], key: str) -> list[Any]:
    value = req.get(key)
    return value if isinstance(value, list) else []


def unsupported_reasons(model: str, req: dict[str, Any]) -> list[str]:
    """Why `model` cannot take `req` (empty when it can). Tolerates wrongly typed fields (ignored)."""
    caps = CAPS.get(model)
    if caps is None:
        return [f"unknown model {model!r}; choose auto or one of {', '.join(MODELS)}"]
    out: list[str] = []
    images, videos, audios = (_items(req, k) for k in ("reference_images", "reference_videos", "reference_audios"))
    image = req.get("image")
    has_image = isinstance(image, str) and bool(image.strip())
    alt = "seedance-2.0 takes it" if model != "seedance-2.0" else "use fewer"
    for what, items, limit in (("reference_images", images, caps.max_images),
                               ("reference_videos", videos, caps.max_videos),
                               ("reference_audios", audios, caps.max_audios)):
        if len(items) > limit:
            if limit == 0 and what == "reference_images" and caps.frame_sets_aspect and not has_image:
                out.append(f"{model} needs an `image` (the first frame) for image-to-video and this request has only "
                           "reference_images; set `image` to the frame to animate, or stay on seedance-2.0")
            elif limit == 0:
                out.append(f"{model} cannot take {what} ({caps.note}); drop them or {alt}")
            else:
                out.append(f"{model} takes at most {limit} {what}, got {len(items)}; {alt}")
    total = len(images) + len(videos) + len(audios)
    if caps.max_total_refs is not None and total > caps.max_total_refs:
        out.append(f"{model} takes at most {caps.max_total_refs} reference files in total, got {total}")
    if req.get("last_frame_image") and not caps.last_frame:
        out.append(f"{model} cannot take last_frame_image ({caps.note})")
    aspect = req.get("aspect_ratio", "16:9")
    if isinstance(aspect, str) and aspect in ALL_ASPECTS and caps.t2v_aspects is not None:
        if aspect not in caps.t2v_aspects and not (has_image and caps.frame_sets_aspect):
            offered = ", ".join(a for a in ASPECT_RATIOS if a in caps.t2v_aspects)
            out.append(f"{model} cannot make aspect_ratio {aspect} (offers {offered}); pick one of those"
                       + (" or use seedance-2.0" if model != "seedance-2.0" else " or run on Replicate"))
    duration = req.get("duration", 5)
    if caps.durations is not None and type(duration) is int and duration not in caps.durations:
        allowed = "/".join(str(d) for d in sorted(caps.durations) if d > 0)
        out.append(f"{model} makes {allowed} s clips only (asked {duration} s); use one of those or seedance-2.0")
    if caps.needs_frame and not has_image and len(images) != 1:
        out.append(f"{model} needs one image to animate ({caps.note}): set `image` (or one reference image)")
    if caps.needs_speech and not audios:
        out.append(f"{model} needs a speech clip in reference_audios (e.g. from `vidpipe tts`) ({caps.note})")
    return out
