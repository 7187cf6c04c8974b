"""Price table (USD) per model, per second of output, by resolution and audio on/off.

Snapshot of providers.md §2/§3 (2026-11-24); the same unit prices, in fal's pricing-API shape, are
providers/contracts/fal_prices.json. Values marked [U] are unconfirmed or conflicting in the
sources; [derived] are computed from a documented formula. The runner estimates before every
submission (for --budget) and records an actual cost from the delivered clip's length. When fal's
live price differs from the snapshot, the preflight scales a run's estimates (and `vidpipe
estimate`'s) by live/snapshot for that endpoint (providers/preflight.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (model, backend) -> resolution -> (silent $/s, with-audio $/s)
VIDEO_PRICES: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    # Seedance 2.0 std on fal: $0.014 per 1k tokens, tokens = H*W*s*24/1024; audio is free.
    # 480p [derived: 854*480*24/1024*0.014/1000]; 1080p ≈0.682 [3p].
    ("seedance-2.0", "fal"): {"480p": (0.1345, 0.1345), "720p": (0.3034, 0.3034), "1080p": (0.682, 0.682)},
    # Kling O3 standard: 0.084 silent / 0.112 audio [doc]; no resolution tiers.
    ("kling-3.0-omni", "fal"): {"480p": (0.084, 0.112), "720p": (0.084, 0.112), "1080p": (0.084, 0.112)},
    # Wan 2.7 i2v: 720p 0.10, 1080p 0.15 [doc]; 480p is sent as 720p (the model's floor).
    ("wan-2.7-i2v", "fal"): {"480p": (0.10, 0.10), "720p": (0.10, 0.10), "1080p": (0.15, 0.15)},
    # Veo 3.1 on fal: 0.20 silent / 0.40 audio at 720p and 1080p [doc]; 480p is sent as 720p.
    ("veo-3.1", "fal"): {"480p": (0.20, 0.40), "720p": (0.20, 0.40), "1080p": (0.20, 0.40)},
    # Veo 3.1 on the Gemini API: $0.40/s std [3p, U]; audio is always generated there.
    ("veo-3.1", "gemini"): {"480p": (0.40, 0.40), "720p": (0.40, 0.40), "1080p": (0.40, 0.40)},
    # VEED Fabric 1.0: 480p 0.08, 720p 0.15 [3p]; 1080p is sent as 720p. Length = the audio's.
    ("veed-fabric-1.0", "fal"): {"480p": (0.08, 0.08), "720p": (0.15, 0.15), "1080p": (0.15, 0.15)},
    # OmniHuman 1.5: 0.16/s [doc]; length follows the audio.
    ("omnihuman-1.5", "fal"): {"480p": (0.16, 0.16), "720p": (0.16, 0.16), "1080p": (0.16, 0.16)},
}
# Seedance r2v with video refs: input seconds are billed too, at 0.6x [doc] ($0.1814/s std 720p).
SEEDANCE_VIDEO_REF_FACTOR = 0.6
# Seedance "auto" duration: budget against the longest clip it may return (upper bound).
AUTO_DURATION_S = 15.0
# A remote reference video whose length we cannot probe counts this long [U].
UNKNOWN_REF_SECONDS = 5.0

# Stills: $ per megapixel (flux) or per image (gemini-image).
STILL_PER_MP = {"flux-schnell": 0.003, "flux-pro": 0.04}  # flux-pro 0.04–0.055/MP [U]
STILL_PER_IMAGE = {"gemini-image": 0.039}  # measured on gemini-2.5-flash-image (1290 tokens at $30/M) [3p];
# its successor gemini-3.1-flash-image is priced per output size on Google's page — not re-read here [U]

PRICED_BACKENDS = frozenset({"fal", "gemini"})

# ElevenLabs text-to-speech, $ per 1,000 characters of text, by model: Multilingual v2 / v3 $0.10, Flash / Turbo
# $0.05 (API pricing page as quoted 2026-06 [3p, U]; plans bundle credits, the per-character API rate is this).
VOICE_PER_1K_CHARS = {"eleven_multilingual_v2": 0.10, "eleven_v3": 0.10, "eleven_flash_v2_5": 0.05,
                      "eleven_turbo_v2_5": 0.05, "eleven_flash_v2": 0.05, "eleven_turbo_v2": 0.05}
VOICE_DEFAULT_PER_1K = 0.10  # an unknown model is priced as the dearer tier (never under-budget)

# VLM judge on the Gemini API, $ per 1M tokens (input, output incl. thinking): gemini-2.5-flash $0.30 / $2.50 [3p].
JUDGE_PER_MTOK = {"gemini-3.5-flash": (0.30, 2.50)}  # [U] 2.5 Flash's rates until 3.5 Flash's are confirmed
JUDGE_IMAGE_TOKENS = 258  # a small image (≤384 px a side) counts as 258 input tokens [doc]; tiles cost more [U]
JUDGE_OUTPUT_TOKENS = 1500  # the estimate's allowance for the answer and its thinking [U]


@dataclass(frozen=True)
class Estimate:
    usd: float
    seconds: float
    rate: float
    note: str = ""


def rate_per_second(model: str, backend: str, *, resolution: str = "720p", audio: bool = True) -> float:
    """$/s of output for `model` on `backend` (0 for the offline preview)."""
    if backend not in PRICED_BACKENDS:
        return 0.0
    table = VIDEO_PRICES.get((model, backend))
    if table is None:
        raise KeyError(f"no price for {model} on {backend}")
    silent, with_audio = table.get(resolution, table["720p"])
    return with_audio if audio else silent


def estimate_clip(model: str, backend: str, request: dict[str, Any],
                  *, ref_seconds: dict[str, float] | None = None) -> Estimate:
    """Estimated cost of one clip from the canonical request (before submission).

    `ref_seconds` maps reference media (audio/video) to their probed lengths; talking-avatar
    models bill the audio's length, Seedance bills video-ref input seconds at 0.6x.
    """
    if backend not in PRICED_BACKENDS:
        return Estimate(0.0, _seconds(model, request, ref_seconds), 0.0, "offline preview")
    rate = rate_per_second(model, backend, resolution=str(request.get("resolution", "720p")),
                           audio=bool(request.get("generate_audio", True)))
    seconds = _seconds(model, request, ref_seconds)
    note = ""
    if model == "seedance-2.0" and request.get("reference_videos"):
        known = ref_seconds or {}
        inputs = sum(known.get(v, UNKNOWN_REF_SECONDS) for v in request["reference_videos"])
        rate *= SEEDANCE_VIDEO_REF_FACTOR
        seconds += inputs
        note = f"video refs: {inputs:.1f}s input billed at 0.6x"
    if int(request.get("duration", 5)) == -1:
        note = (note + "; " if note else "") + f"auto duration budgeted as {AUTO_DURATION_S:.0f}s"
    return Estimate(round(rate * seconds, 4), seconds, rate, note)


def actual_clip_cost(model: str, backend: str, request: dict[str, Any], clip_seconds: float,
                     *, ref_seconds: dict[str, float] | None = None) -> float:
    """Cost recorded after delivery: the rate times the clip's real length (plus billed inputs)."""
    est = estimate_clip(model, backend, request, ref_seconds=ref_seconds)
    if est.rate == 0.0:
        return 0.0
    seconds = clip_seconds
    if model == "seedance-2.0" and request.get("reference_videos"):
        seconds += est.seconds - _seconds(model, request, ref_seconds)
    return round(est.rate * seconds, 4)


def estimate_still(model: str, backend: str, *, width: int, height: int, n: int = 1) -> float:
    """Cost of `n` stills of width×height."""
    if backend not in PRICED_BACKENDS:
        return 0.0
    if model in STILL_PER_IMAGE:
        return round(STILL_PER_IMAGE[model] * n, 4)
    return round(STILL_PER_MP[model] * (width * height / 1e6) * n, 5)


def _seconds(model: str, request: dict[str, Any], ref_seconds: dict[str, float] | None) -> float:
    if model in ("veed-fabric-1.0", "omnihuman-1.5"):
        audios = request.get("reference_audios") or []
        if audios and ref_seconds and audios[0] in ref_seconds:
            return float(ref_seconds[audios[0]])
    duration = int(request.get("duration", 5))
    if duration == -1:
        return AUTO_DURATION_S
    if model == "veo-3.1":
        return float(veo_seconds(duration))
    return float(duration)


def veo_seconds(duration: int) -> int:
    """Veo takes 4, 6 or 8 seconds: the smallest that holds the request (8 for auto/longer)."""
    for allowed in (4, 6, 8):
        if 0 < duration <= allowed:
            return allowed
    return 8


def estimate_voice(model_id: str, backend: str, characters: int) -> float:
    """ElevenLabs bills per character of text at the model's rate; the offline voice is free."""
    if backend != "elevenlabs" or characters <= 0:
        return 0.0
    return round(VOICE_PER_1K_CHARS.get(model_id, VOICE_DEFAULT_PER_1K) * characters / 1000, 5)


def judge_cost(model: str, input_tokens: int, output_tokens: int) -> float:
    """A VLM judge call's cost from its token counts (what the API's usage block reports)."""
    rate_in, rate_out = JUDGE_PER_MTOK.get(model, max(JUDGE_PER_MTOK.values()))
    return round((input_tokens * rate_in + output_tokens * rate_out) / 1e6, 6)


def estimate_judge(model: str, *, images: int, prompt_chars: int) -> float:
    """Before the call: images at their token count, text at ~4 characters a token, a fixed answer allowance."""
    return judge_cost(model, images * JUDGE_IMAGE_TOKENS + prompt_chars // 4, JUDGE_OUTPUT_TOKENS)
