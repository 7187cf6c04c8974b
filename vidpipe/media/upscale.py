"""Finishing: Lanczos upscale keeping aspect, motion-compensated interpolation to a new fps."""

from __future__ import annotations

from pathlib import Path

from vidpipe.errors import SpecError
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.probe import probe
from vidpipe.schema import RESOLUTION_HEIGHT

UPSCALE_RESOLUTIONS = ("720p", "1080p", "1440p", "4k")


def target_size(width: int, height: int, *, resolution: str | None, scale: float | None) -> tuple[int, int]:
    """Output size: the resolution's short side (or width/height × scale), aspect kept, even numbers."""
    if scale is not None:
        if scale <= 0:
            raise SpecError(f"--scale must be positive, got {scale}")
        w, h = width * scale, height * scale
    else:
        if resolution not in RESOLUTION_HEIGHT:
            raise SpecError(f"unknown resolution {resolution!r}; use one of {', '.join(UPSCALE_RESOLUTIONS)}")
        short = RESOLUTION_HEIGHT[resolution]
        f = short / min(width, height)
        w, h = width * f, height * f
    return int(round(w / 2) * 2), int(round(h / 2) * 2)


def upscale(clip: Path, out: Path | None = None, *, resolution: str | None = "1080p", scale: float | None = None,
            fps: int | None = None, crf: int = 13, preset: str = "faster") -> Path:
    """Upscale `clip` with Lanczos; with `fps`, interpolate motion (minterpolate, motion-compensated)."""
    src = probe(clip)
    if not src.width or not src.height:
        raise SpecError(f"{clip}: has no video stream to upscale")
    w, h = target_size(src.width, src.height, resolution=None if scale else resolution, scale=scale)
    out = out or clip.with_name(f"{clip.stem}_{h}p{f'_{fps}fps' if fps else ''}.mp4")
    filters = []
    if fps:
        filters.append(f"minterpolate=fps={fps}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1")
    filters.append(f"scale={w}:{h}:flags=lanczos,setsar=1,format=yuv420p")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part.mp4")
    run_ffmpeg(["-y", "-i", str(clip), "-vf", ",".join(filters), "-c:v", "libx264", "-preset", preset,
                "-crf", str(crf), "-c:a", "copy", "-movflags", "+faststart", str(tmp)], what=f"upscale {clip.name}")
    tmp.replace(out)
    return out


DEFAULT_REMOTE_ENDPOINT = "fal-ai/seedvr/upscale/video"


def upscale_remote(clip: Path, out: Path | None = None, *, scale: float = 2.0, endpoint: str | None = None) -> Path:
    """Upscale on a remote ML upscaler on fal (endpoint configurable: --endpoint or $VIDPIPE_UPSCALE_ENDPOINT).

    Same contract as `upscale`: the result is downloaded at once and must decode, or nothing is saved.
    """
    import os

    from vidpipe.errors import MediaError, ProviderError
    from vidpipe.providers.fal import FalBackend, map_fal_errors

    ep = endpoint or os.environ.get("VIDPIPE_UPSCALE_ENDPOINT") or DEFAULT_REMOTE_ENDPOINT
    out = out or clip.with_name(f"{clip.stem}_x{scale:g}.mp4")
    backend = FalBackend()
    video_url = backend.media_ref(Path(clip), out.parent / ".refs")
    with map_fal_errors(model=ep):
        result = backend.client.subscribe(ep, {"video_url": video_url, "upscale_factor": scale})
    url = ((result or {}).get("video") or {}).get("url")
    if not url:
        raise ProviderError(f"{ep} returned no video for {clip.name}", provider="fal", model=ep, code="result_missing")
    tmp = out.with_suffix(".part.mp4")
    backend.fetch(url, tmp)
    try:
        probe(tmp)
    except MediaError as exc:
        tmp.unlink(missing_ok=True)
        raise ProviderError(f"{ep} returned an undecodable video ({exc})", provider="fal", model=ep,
                            code="result_undecodable") from None
    tmp.replace(out)
    return out
