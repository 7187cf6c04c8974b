"""What each video model can take, as data, so validation and routing agree before any money is spent.

The provider translators (providers/fal_models.py, providers/gemini.py) are the last word at
submit time; this table lets `validate` report `unsupported_on_model` up front and lets routing
skip a candidate that could not run the request. Limits: providers.md §0 and §2 (checked against
fal's llms.txt pages and Google's Veo docs, 2026-12):

- Veo 3.1: 4/6/8 s only (a 5 s request would be billed as 6 s, so it is refused, not rounded);
  1080p only at 8 s; reference images (≤3) only at 8 s and 16:9; a last frame with a first frame
  (fal: /first-last-frame-to-video, /reference-to-video).
- OmniHuman 1.5: audio ≤30 s at 1080p, ≤60 s at 720p; the clip is as long as the audio.
- VEED Fabric: 480p/720p; the clip is as long as the audio.
- Kling: text-to-video in 16:9, 9:16, 1:1 (with a first frame the frame sets the shape).
- Seedance on fal: ≤9 images (≤30 MB each), ≤3 videos (50 MB and 2–15 s in total, each between
  640×640 and 834×1112 pixels' worth), ≤3 audios (≤15 MB each, ≤15 s in total), ≤12 files in total,
  no 9:21, no seed (fal_schemas.json).
- Wan 2.7: 720p/1080p, one driving audio of 2–30 s (≤15 MB), image ≤20 MB.

`unsupported_reasons` is pure (routing calls it for every candidate); `media_reasons` and
`adjustments` take the measured reference files (validate calls them for the chosen model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vidpipe.schema import ASPECT_RATIOS, MODELS, RESOLUTIONS

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
    resolutions: tuple[str, ...] = RESOLUTIONS  # what it makes; another is moved to the nearest (reported)
    durations_1080p: frozenset[int] | None = None  # durations allowed at 1080p (None: any)
    ref_image_durations: frozenset[int] | None = None  # with reference images, only these durations
    ref_image_aspects: frozenset[str] | None = None  # with reference images, only these aspects
    audio_max_s: dict[str, float] | None = None  # longest driving audio per resolution (None: the canonical 15 s)
    audio_min_s: float | None = None
    video_refs_min_s: float | None = None  # reference videos must total at least this long
    max_mb: tuple[float | None, float | None, float | None] = (None, None, None)  # per image / video / audio file
    length_from_audio: bool = False  # the clip is as long as its audio (and billed so)
    takes_seed: bool = True  # False: the provider has no seed field, so takes differ by their prompt
    videos_total_mb: float | None = None  # all reference videos together
    video_pixels: tuple[int, int] | None = None  # each reference video's width×height, min..max


CAPS: dict[str, ModelCaps] = {
    "seedance-2.0": ModelCaps(
        "seedance-2.0", ALL_ASPECTS - {"9:21"}, max_total_refs=12, video_refs_min_s=2.0, max_mb=(30, None, 15),
        takes_seed=False, videos_total_mb=50.0, video_pixels=(640 * 640, 834 * 1112),
        note="fal's Seedance has no 9:21 and takes at most 12 reference files in total",
    ),
    "kling-3.0-omni": ModelCaps(
        "kling-3.0-omni", frozenset({"16:9", "9:16", "1:1", "adaptive"}), max_images=0, max_videos=0,
        max_audios=0, frame_sets_aspect=True, takes_seed=False,
        note="text-to-video or image-to-video from one `image`; no references",
    ),
    "wan-2.7-i2v": ModelCaps(
        "wan-2.7-i2v", None, max_images=1, max_videos=0, max_audios=1, needs_frame=True,
        resolutions=("720p", "1080p"), audio_max_s={"720p": 30.0, "1080p": 30.0}, audio_min_s=2.0,
        max_mb=(20, None, 15), note="image-to-video only: one first frame, optionally one driving audio",
    ),
    "veo-3.1": ModelCaps(
        "veo-3.1", frozenset({"16:9", "9:16", "adaptive"}), durations=frozenset({-1, 4, 6, 8}), max_images=3,
        max_videos=0, max_audios=0, resolutions=("720p", "1080p"), durations_1080p=frozenset({-1, 8}),
        ref_image_durations=frozenset({8}), ref_image_aspects=frozenset({"16:9"}),
        note="16:9 or 9:16, 4/6/8 s; up to 3 reference images at 8 s and 16:9",
    ),
    "veed-fabric-1.0": ModelCaps(
        "veed-fabric-1.0", None, max_images=1, max_videos=0, max_audios=1, last_frame=False,
        needs_frame=True, needs_speech=True, resolutions=("480p", "720p"), length_from_audio=True, takes_seed=False,
        note="talking head: one face image + one speech clip",
    ),
    "omnihuman-1.5": ModelCaps(
        "omnihuman-1.5", None, max_images=1, max_videos=0, max_audios=1, last_frame=False,
        needs_frame=True, needs_speech=True, resolutions=("720p", "1080p"), length_from_audio=True, takes_seed=False,
        audio_max_s={"720p": 60.0, "1080p": 30.0}, note="talking avatar: one face image + one speech clip",
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
                       + (" or use seedance-2.0" if model != "seedance-2.0" else ""))
    duration = req.get("duration", 5)
    if caps.durations is not None and type(duration) is int and duration not in caps.durations:
        allowed = "/".join(str(d) for d in sorted(caps.durations) if d > 0)
        billed = next((d for d in sorted(caps.durations) if d >= duration), None) if duration > 0 else None
        extra = f" (a {duration} s request would be made and billed as {billed} s)" if billed else ""
        out.append(f"{model} makes {allowed} s clips only{extra}; set duration to one of those or use seedance-2.0")
    res = req.get("resolution", "720p")
    if res == "1080p" and caps.durations_1080p is not None and type(duration) is int \
            and duration not in caps.durations_1080p:
        out.append(f"{model} makes 1080p only at 8 s (asked {duration} s); use duration 8 or 720p")
    if images and caps.ref_image_durations is not None and type(duration) is int \
            and duration not in caps.ref_image_durations:
        out.append(f"{model} takes reference images only at 8 s (asked {duration} s); use duration 8")
    if images and caps.ref_image_aspects is not None and isinstance(aspect, str) \
            and aspect not in caps.ref_image_aspects:
        out.append(f"{model} takes reference images only at 16:9 (asked {aspect}); use 16:9")
    if caps.needs_frame and not has_image and len(images) != 1:
        out.append(f"{model} needs one image to animate ({caps.note}): set `image` (or one reference image)")
    if caps.needs_speech and not audios:
        out.append(f"{model} needs a speech clip in reference_audios (e.g. from `vidpipe tts`) ({caps.note})")
    return out


def _local(req: dict[str, Any], key: str) -> list[str]:
    return [v for v in _items(req, key) if isinstance(v, str) and not v.startswith(("http://", "https://", "data:",
                                                                                        "gs://", "s3://"))]


def media_reasons(model: str, req: dict[str, Any], info: Callable[[str], Any]) -> list[str]:
    """Limits that need the reference files measured (`info(path)` → refcheck.MediaInfo, or None if unreadable)."""
    caps = CAPS.get(model)
    if caps is None:
        return []
    out: list[str] = []
    for key, limit in zip(("reference_images", "reference_videos", "reference_audios"), caps.max_mb):
        if limit is None:
            continue
        for ref in _local(req, key):
            mi = info(ref)
            if mi is not None and mi.size > limit * 1_000_000:
                out.append(f"{model} takes {key} files up to {limit:g} MB; {ref} is {mi.size / 1e6:.1f} MB")
    audios = [info(r) for r in _local(req, "reference_audios")]
    res = req.get("resolution", "720p")
    if caps.audio_max_s is not None and isinstance(res, str):
        cap = caps.audio_max_s.get(res) or max(caps.audio_max_s.values())
        for ref, mi in zip(_local(req, "reference_audios"), audios):
            if mi is not None and mi.seconds is not None and mi.seconds > cap + 0.05:
                longer = [r for r, s in caps.audio_max_s.items() if s >= mi.seconds]
                hint = f"; at {longer[0]} it may be up to {caps.audio_max_s[longer[0]]:g} s" if longer else "; trim it"
                out.append(f"{model} takes audio up to {cap:g} s at {res}; {ref} is {mi.seconds:.1f} s{hint}")
    if caps.audio_min_s is not None:
        for ref, mi in zip(_local(req, "reference_audios"), audios):
            if mi is not None and mi.seconds is not None and mi.seconds < caps.audio_min_s:
                out.append(f"{model} needs a driving audio of at least {caps.audio_min_s:g} s; {ref} is "
                           f"{mi.seconds:.1f} s")
    videos = _local(req, "reference_videos")
    out += _video_limits(model, caps, videos, info)
    if caps.video_refs_min_s is not None and videos and len(videos) == len(_items(req, "reference_videos")):
        lengths = [getattr(info(v), "seconds", None) for v in videos]
        if all(x is not None for x in lengths) and sum(lengths) < caps.video_refs_min_s:  # type: ignore[arg-type]
            out.append(f"{model} needs reference videos of at least {caps.video_refs_min_s:g} s in total "
                       f"(these are {sum(lengths):.1f} s)")  # type: ignore[arg-type]
    return out


def _video_limits(model: str, caps: ModelCaps, videos: list[str], info: Callable[[str], Any]) -> list[str]:
    """Reference videos' total size and each one's resolution, measured before anything is uploaded."""
    out: list[str] = []
    infos = [(v, info(v)) for v in videos]
    if caps.videos_total_mb is not None:
        total = sum(mi.size for _, mi in infos if mi is not None)
        if total > caps.videos_total_mb * 1_000_000:
            out.append(f"{model} takes reference videos up to {caps.videos_total_mb:g} MB in total; these are "
                       f"{total / 1e6:.1f} MB — re-encode or trim them (e.g. ffmpeg -crf 28)")
    if caps.video_pixels is not None:
        lo, hi = caps.video_pixels
        for ref, mi in infos:
            w, h = getattr(mi, "width", None), getattr(mi, "height", None)
            if w and h and not lo <= w * h <= hi:
                what = "small" if w * h < lo else "large"
                out.append(f"{model} takes reference videos between ~640x640 and ~834x1112 pixels; {ref} is {w}x{h} "
                           f"(too {what}) — scale it, e.g. to {'854x480' if w >= h else '480x854'} or 1280x720")
    return out


def adjustments(model: str, req: dict[str, Any], info: Callable[[str], Any]) -> list[str]:
    """What the model will do differently from the request (reported as warnings, never silent)."""
    caps = CAPS.get(model)
    if caps is None:
        return []
    out: list[str] = []
    if isinstance(req.get("seed"), int) and req["seed"] != -1 and not caps.takes_seed:
        out.append(f"{model} has no seed: seed {req['seed']} is not sent (takes of a shot differ by their prompt)")
    res = req.get("resolution", "720p")
    if isinstance(res, str) and res in RESOLUTIONS and res not in caps.resolutions:
        order = list(RESOLUTIONS)
        near = min(caps.resolutions, key=lambda r: abs(order.index(r) - order.index(res)))
        out.append(f"{model} makes {'/'.join(caps.resolutions)}: {res} is made (and billed) as {near}")
    if caps.length_from_audio:
        audios = _local(req, "reference_audios")
        mi = info(audios[0]) if audios else None
        want = req.get("duration", 5)
        if mi is not None and mi.seconds is not None and type(want) is int and abs(mi.seconds - want) > 0.5:
            out.append(f"{model} makes a clip as long as its audio: {mi.seconds:.1f} s (billed so), not the "
                       f"requested {want if want > 0 else 'auto'} s")
    return out
