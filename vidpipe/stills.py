"""First-frame stills and character plates: Flux (fal), a Gemini image model, or the offline storyboard frame.

Stills are cheap and quick, so there is no ledger/resume machinery here: one paid request (never
re-sent by vidpipe: fal-client retries its own submit), polling retried on transient errors, the
image downloaded (or read from the inline part) and checked to be a real image.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel

from vidpipe.environment import still_backend as decide_still_backend
from vidpipe.errors import ProviderError, ResultMissing, UnsupportedOnModel
from vidpipe.generate.retry import with_retries
from vidpipe.pricing import estimate_still
from vidpipe.providers import fal_models, preflight
from vidpipe.providers.base import Ticket
from vidpipe.providers.fal import FalBackend
from vidpipe.providers.gemini import GeminiBackend, translate_image
from vidpipe.storyboard.animatic import storyboard_frame
from vidpipe.schema import STILL_MODELS, frame_size

STILL_DEADLINE_S = 600.0
LEGACY_NAMES = {"imagen": "gemini-image"}  # Imagen on the Gemini API is shut down; its name now means this


class StillResult(BaseModel):
    path: Path
    paths: list[Path]
    model: str
    backend: str
    request_id: str | None = None
    est_cost_usd: float = 0.0  # the price table at the asked frame size (what `vidpipe estimate` says)
    cost_usd: float = 0.0  # the price table at the delivered images' real size (fal does not return a price)
    width: int | None = None
    height: int | None = None


def still_backend(requested: str | None, model: str) -> str:
    """Flux runs on fal, gemini-image on the Gemini API (decided in vidpipe.environment)."""
    name = decide_still_backend(requested, model)
    if name == "fal" and model == "gemini-image":
        raise UnsupportedOnModel("gemini-image runs on the Gemini API, not fal; use --backend gemini", model=model)
    if name == "gemini" and model != "gemini-image":
        raise UnsupportedOnModel(f"{model} runs on fal, not the Gemini API; use --backend fal or --model gemini-image",
                                 model=model)
    return name


def make_still(prompt: str, out: Path, *, model: str = "flux-schnell", aspect: str = "16:9",
               resolution: str = "720p", backend: str | None = None, n: int = 1,
               seed: int | None = None, image_model: str | None = None) -> StillResult:
    """Make `n` stills for `prompt`; the first is written to `out`, the rest to `<stem>_2.png`…

    `image_model` overrides the Gemini image model id (else VIDPIPE_GEMINI_IMAGE_MODEL, else the default).
    """
    model = LEGACY_NAMES.get(model, model)
    if model not in STILL_MODELS:
        raise ValueError(f"unknown still model {model!r}; choose one of {', '.join(STILL_MODELS)}")
    if not prompt.strip():
        raise ValueError("a still needs a prompt")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    targets = [out] + [out.with_name(f"{out.stem}_{i}{out.suffix or '.png'}") for i in range(2, n + 1)]
    name = still_backend(backend, model)
    width, height = frame_size(resolution, "16:9" if aspect == "adaptive" else aspect)
    if name == "preview":
        for i, t in enumerate(targets):
            storyboard_frame(prompt, t, width=width, height=height, label=f"{model} preview",
                         seed=None if seed is None else seed + i)
        return StillResult(path=out, paths=targets, model=model, backend=name, request_id=None, cost_usd=0.0,
                           width=width, height=height)
    if name == "gemini":
        return _gemini(prompt, targets, aspect=aspect, resolution=resolution, width=width, height=height,
                       image_model=image_model)
    return _flux(prompt, targets, model=model, aspect=aspect, resolution=resolution, n=n, seed=seed,
                 width=width, height=height)


def _flux(prompt: str, targets: list[Path], *, model: str, aspect: str, resolution: str, n: int,
          seed: int | None, width: int, height: int) -> StillResult:
    fal = FalBackend()
    endpoint, body = fal_models.still(model, prompt, aspect="16:9" if aspect == "adaptive" else aspect,
                                      resolution=resolution, n=n, seed=seed)
    body = preflight.check_call("fal", endpoint, body)  # fal's live contract, before the paid POST
    deadline = time.monotonic() + STILL_DEADLINE_S
    retries = [0]
    ticket = Ticket(job_id=targets[0].stem, model=model, endpoint=endpoint, body=body, workdir=targets[0].parent)
    ticket.request_id = fal.submit(ticket)  # one POST (the adapter re-sends only a never-opened connection)
    result: dict[str, Any] = with_retries(lambda: fal.poll(ticket, deadline=deadline), deadline=deadline,
                                          counter=retries, what="poll")
    images = [im for im in result.get("images") or [] if isinstance(im, dict) and im.get("url")]
    if len(images) < n:
        raise ResultMissing(f"{model} returned {len(images)} image(s), asked for {n}", provider="fal", model=model,
                            request_id=ticket.request_id)
    flags = result.get("has_nsfw_concepts") or []
    if any(flags):
        raise ProviderError(f"{model} flagged the image as NSFW (blacked out); rephrase the prompt", provider="fal",
                            model=model, request_id=ticket.request_id, code="content_policy_violation")
    for im, t in zip(images, targets):
        def fetch(url: str = im["url"], target: Path = t) -> None:
            fal.fetch(url, target)

        with_retries(fetch, deadline=deadline, counter=retries, what="download")
        _check_image(t)
    return StillResult(path=targets[0], paths=targets, model=model, backend="fal", request_id=ticket.request_id,
                       est_cost_usd=estimate_still(model, "fal", width=width, height=height, n=n),
                       cost_usd=sum(estimate_still(model, "fal", width=w, height=h) for w, h in map(_size, targets)),
                       width=width, height=height)


def _gemini(prompt: str, targets: list[Path], *, aspect: str, resolution: str, width: int, height: int,
            image_model: str | None) -> StillResult:
    """One generate_content call per still (the image models return one image per answer)."""
    gem = GeminiBackend()
    model_id, config = translate_image(prompt, aspect="16:9" if aspect == "adaptive" else aspect,
                                       resolution=resolution, model=image_model)
    preflight.check_call("gemini", model_id, {})  # the image model is in models.list, before the paid call
    deadline = time.monotonic() + STILL_DEADLINE_S
    for t in targets:
        data, _mime = with_retries(lambda: gem.make_image(model_id, config), deadline=deadline, counter=[0],
                                   what="submit gemini image")  # paid: once (a timeout may have been billed)
        t.write_bytes(data)
        _check_image(t)
    usd = estimate_still("gemini-image", "gemini", width=width, height=height, n=len(targets))  # per image
    return StillResult(path=targets[0], paths=targets, model="gemini-image", backend="gemini", est_cost_usd=usd,
                       cost_usd=usd, width=width, height=height)


def _size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def _check_image(path: Path) -> None:
    """A downloaded still must open as an image; otherwise it is deleted and named as a failure."""
    try:
        with Image.open(path) as im:
            im.verify()
    except (UnidentifiedImageError, OSError) as exc:
        path.unlink(missing_ok=True)
        raise ProviderError(f"the still is not a readable image ({exc.__class__.__name__})",
                            code="result_undecodable") from exc
