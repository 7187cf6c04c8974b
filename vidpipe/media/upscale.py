"""Finishing: upscale keeping aspect, interpolate motion to a new frame rate, keep the audio.

Local (default): Lanczos scaling to a target short side (`resolution`) or by a factor (`scale`),
and with `fps` motion-compensated interpolation (minterpolate, mi_mode=mci). One encode; the
audio stream is copied untouched. Encoder settings are chosen by benchmarks/bench_media.py:
the same VMAF as the reference (libx264 slow crf 16) in well under its time.

Remote (`backend="fal"`): an ML upscaler on fal behind the same call — default SeedVR2
(`fal-ai/seedvr/upscale/video`, fields `video_url`, `upscale_mode`, `upscale_factor`), endpoint
configurable (`endpoint=` / `--remote ID` / $VIDPIPE_UPSCALE_ENDPOINT). The key comes from
FAL_KEY only; the result is downloaded at once and must decode end to end, or nothing is saved
(its format is the provider's: it is not re-encoded, so it is not held to the playable rule).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from vidpipe.errors import MediaError, ProviderError, SpecError
from vidpipe.media.ffmpeg_progress import run_ffmpeg_progress
from vidpipe.media.probe import probe
from vidpipe.media.verify import write_verified
from vidpipe.providers.fal import FalBackend, map_fal_errors
from vidpipe.schema import RESOLUTION_HEIGHT

UPSCALE_RESOLUTIONS = ("720p", "1080p", "1440p", "4k")
DEFAULT_RESOLUTION = "1080p"
DEFAULT_REMOTE_ENDPOINT = "fal-ai/seedvr/upscale/video"
BACKENDS = ("local", "fal")
# Chosen by benchmarks/bench_media.py (VMAF within 0.5 of slow/crf16 at a fraction of the time).
X264_PRESET, X264_CRF = "veryfast", "14"
# Interpolation: mci with bidirectional motion estimation and overlapped-block compensation was
# clearly better than blend/framerate (ghosting) on moving test content.
# minterpolate only emits frames up to the last source frame minus one interval, so the clip would
# end ~1.5 source frames short: clone the last frame twice first, then trim to the source length.
INTERPOLATE = "tpad=stop_mode=clone:stop=2,minterpolate=fps={fps}:mi_mode=mci,trim=end={end:.6f}"


def target_size(width: int, height: int, *, resolution: str | None, scale: float | None) -> tuple[int, int]:
    """Output size keeping the aspect: short side = `resolution`, or both sides × `scale`; even numbers."""
    if resolution is not None and scale is not None:
        raise SpecError("give a resolution or a scale, not both")
    if scale is not None:
        if not 0 < scale <= 8:
            raise SpecError(f"scale must be in (0, 8], got {scale}")
        w, h = width * scale, height * scale
    else:
        res = resolution or DEFAULT_RESOLUTION
        if res not in UPSCALE_RESOLUTIONS:
            raise SpecError(f"unknown resolution {res!r}; use one of {', '.join(UPSCALE_RESOLUTIONS)}")
        f = RESOLUTION_HEIGHT[res] / min(width, height)
        w, h = width * f, height * f
    return max(2, int(round(w / 2)) * 2), max(2, int(round(h / 2)) * 2)


def default_output(clip: Path, width: int, height: int, fps: int | None) -> Path:
    return clip.with_name(f"{clip.stem}_{min(width, height)}p{f'_{fps}fps' if fps else ''}.mp4")


def upscale(clip: Path, out: Path | None = None, *, resolution: str | None = None, scale: float | None = None,
            fps: int | None = None, backend: str = "local", endpoint: str | None = None,
            progress: Callable[[float], None] | None = None) -> Path:
    """Finish `clip`: upscale (aspect kept) and optionally interpolate to `fps`; return the output path.

    Arguments:
        resolution: target short side (720p | 1080p | 1440p | 4k); default 1080p when no scale is given.
        scale: factor for both sides instead of a resolution (remote: the `upscale_factor`, default 2).
        fps: interpolate motion to this frame rate (local only); the duration stays the same.
        backend: "local" (ffmpeg) or "fal" (remote ML upscaler); endpoint: the fal endpoint id.
    Raises: SpecError (bad arguments or input), FfmpegFailed, ProviderError / ProviderNotConfigured (remote).
    """
    clip = Path(clip)
    if backend not in BACKENDS:
        raise SpecError(f"unknown upscale backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if not clip.is_file():
        raise SpecError("file not found", path=str(clip))
    if fps is not None and not 1 <= fps <= 240:
        raise SpecError(f"fps must be in 1–240, got {fps}")
    if backend == "fal":
        if fps is not None or resolution is not None:
            raise SpecError("the remote upscaler takes --scale only (no --resolution or --fps); "
                            "run a local pass afterwards for those")
        return upscale_remote(clip, out, scale=scale or 2.0, endpoint=endpoint)
    try:
        src = probe(clip)
    except MediaError as exc:
        raise SpecError(f"not a readable video ({exc})", path=str(clip)) from None
    if not src.has_video or not src.width or not src.height:
        raise SpecError("has no video stream to upscale", path=str(clip))
    w, h = target_size(src.width, src.height, resolution=resolution, scale=scale)
    out = Path(out) if out else default_output(clip, w, h, fps)
    if out.resolve() == clip.resolve():
        raise SpecError("the output would overwrite the input", path=str(clip))
    # Interpolate at the source size (cheaper motion search), then scale the result once.
    filters = [INTERPOLATE.format(fps=fps, end=src.duration_s)] if fps else []
    filters.append(f"scale={w}:{h}:flags=lanczos,setsar=1,format=yuv420p")
    vf = ",".join(filters)

    def encode(tmp: Path) -> None:
        args = ["-y", "-i", str(clip), "-map", "0:v:0", "-map", "0:a?", "-vf", vf, "-c:v", "libx264",
                "-preset", X264_PRESET, "-crf", X264_CRF, "-pix_fmt", "yuv420p", "-c:a", "copy",
                "-movflags", "+faststart", "-f", "mp4", str(tmp)]
        run_ffmpeg_progress(args, total_s=src.duration_s, progress=progress, what=f"upscaling {clip.name}")

    # Unique temporary name, decoded end to end and checked playable (H.264 yuv420p High, faststart),
    # then renamed: an interrupted finish never leaves a corrupt delivery in place.
    write_verified(out, encode, "video", playable=True)
    return out


def upscale_remote(clip: Path, out: Path | None = None, *, scale: float = 2.0, endpoint: str | None = None) -> Path:
    """Upscale on fal's ML upscaler: upload (or inline) the clip, subscribe, download, check it decodes."""
    ep = endpoint or os.environ.get("VIDPIPE_UPSCALE_ENDPOINT") or DEFAULT_REMOTE_ENDPOINT
    if not 1 <= scale <= 10:
        raise SpecError(f"the remote upscale factor must be in 1–10, got {scale}")
    out = Path(out) if out else clip.with_name(f"{clip.stem}_x{scale:g}.mp4")
    backend = FalBackend()
    client = backend.client  # ProviderNotConfigured (naming FAL_KEY) before any upload
    video_url = backend.media_ref(Path(clip), out.parent / ".refs")
    with map_fal_errors(model=ep):
        result = client.subscribe(ep, {"video_url": video_url, "upscale_mode": "factor", "upscale_factor": scale})
    url = ((result or {}).get("video") or {}).get("url") if isinstance(result, dict) else None
    if not url:
        raise ProviderError(f"{ep} returned no video for {clip.name}", provider="fal", model=ep, code="result_missing")
    try:
        write_verified(out, lambda tmp: backend.fetch(url, tmp), "video")
    except MediaError as exc:
        raise ProviderError(f"{ep} returned an undecodable video ({exc})", provider="fal", model=ep,
                            code="result_undecodable") from None
    return out
