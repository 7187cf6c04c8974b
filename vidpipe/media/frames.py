"""One decode pass per stream: tiny gray frames for every checker, plus the contact-sheet picks.

Why one pass: the reference workflow spawned one ffmpeg per sampled frame and then ran
separate detectors; decoding once with PyAV and downscaling each frame with swscale to a tiny
luma array (default 64x36, see small_luma) feeds black/freeze/cut detection and grabs the sample frames at the
same time. Audio is decoded once to float32 at 48 kHz (what the loudness filter expects).
The same point samples, kept at twice that size (128x72, 2x2 samples per pixel), feed the
camera-motion estimate; averaging them 2x2 gives exactly the 64x36 thumbnail, so motion costs no
extra sampling. Native-resolution luma planes at `detail` instants feed the text, blur and
blocking detectors (vidpipe.qc.content).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import av
import numpy as np
from PIL import Image

from vidpipe.errors import MediaError
from vidpipe.media.probe import open_media

ANALYSIS_SIZE = (64, 36)
MOTION_FACTOR = 2  # motion thumbnails are this many times the analysis size per axis
AUDIO_RATE = 48000


@dataclass
class VideoScan:
    """Per-frame measurements from one pass. times[i] is the presentation time of frame i."""

    times: np.ndarray  # (n,) seconds
    luma: np.ndarray  # (n,) mean gray level 0..255
    dark_fraction: np.ndarray  # (n,) share of pixels at or below the black level
    diff: np.ndarray  # (n,) mean |frame_i - frame_{i-1}| (0 for the first frame)
    frame_dur: float  # nominal seconds per frame
    samples: list[tuple[float, Image.Image]] = field(default_factory=list)
    motion: np.ndarray | None = None  # (n, 72, 128) float32 luma for camera motion (presentation order)
    detail: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (time, native uint8 luma)
    comment: str = ""  # container `comment` tag (previews say "vidpipe preview")
    video_bytes: int = 0  # compressed size of the video stream (bits per pixel gates the blocking check)
    width: int = 0
    height: int = 0

    @property
    def bits_per_pixel(self) -> float | None:
        """Compressed video bits per pixel per frame (None when the size is unknown)."""
        px = self.width * self.height * len(self.times)
        return 8.0 * self.video_bytes / px if px and self.video_bytes else None

    @property
    def end_s(self) -> float:
        """End of the last frame (its time plus one frame duration)."""
        return float(self.times[-1] + self.frame_dur) if len(self.times) else 0.0


def sample_times(duration_s: float, n: int) -> list[float]:
    """N evenly spaced instants at the centres of N equal slices (never the black first/last frame)."""
    if n <= 0 or duration_s <= 0:
        return []
    return [duration_s * (k + 0.5) / n for k in range(n)]


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


_PLANAR_8BIT = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"})
_FULL_RANGE = frozenset({"yuvj420p", "yuvj422p", "yuvj444p", "gray"})
_GRID = 4  # point samples per analysis pixel, per axis


def _grid(n: int, k: int) -> np.ndarray:
    """K evenly spaced sample positions over n pixels, centred in their sub-cells."""
    return ((np.arange(k) + 0.5) * n / k).astype(np.intp).clip(0, n - 1)


def small_luma(frame: Any, width: int, height: int, cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]],
               grid: int = _GRID) -> np.ndarray:
    """A `height`x`width` full-range luma thumbnail of a decoded frame.

    Fast path: read the Y plane in place and average a `grid`x`grid` block of point samples per output
    pixel (≈4x cheaper than a swscale area resize at 720p). Other pixel formats go through swscale.
    """
    name = frame.format.name
    if name not in _PLANAR_8BIT:
        return frame.reformat(width=width, height=height, format="gray", interpolation="AREA").to_ndarray().astype(np.float32)
    plane = frame.planes[0]
    y = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
    idx = cache.get((frame.width, frame.height))
    if idx is None:
        idx = cache[(frame.width, frame.height)] = (_grid(frame.height, height * grid), _grid(frame.width, width * grid))
    pts = y[np.ix_(idx[0], idx[1])].reshape(height, grid, width, grid).mean(axis=(1, 3), dtype=np.float32)
    full = name in _FULL_RANGE or frame.color_range == 2
    return pts if full else np.clip((pts - 16.0) * (255.0 / 219.0), 0.0, 255.0)


def scan_video(
    path: str | Path,
    *,
    want: Sequence[float] = (),
    detail: Sequence[float] = (),
    sample_max_side: int = 1280,
    analysis_size: tuple[int, int] = ANALYSIS_SIZE,
    black_level: int = 32,
) -> VideoScan:
    """Decode every video frame once; measure each at `analysis_size`; keep frames nearest `want`
    (RGB, for the review folder) and native luma planes nearest `detail` (for content detectors).

    A frame that fails to decode mid-stream ends the scan (what decoded is still measured);
    a stream with no decodable frame at all is a MediaError.
    """
    p = Path(path)
    container = open_media(p)
    try:
        if not container.streams.video:
            raise MediaError(f"{p}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        frame_dur = 1.0 / float(rate) if rate else 1.0 / 24
        aw, ah = analysis_size
        targets = sorted(want)
        detail_targets = sorted(detail)
        times: list[float] = []
        grays: list[np.ndarray] = []
        samples: list[tuple[float, Image.Image]] = []
        details: list[tuple[float, np.ndarray]] = []
        ti = di = 0
        video_bytes = 0
        comment = str((container.metadata or {}).get("comment", ""))
        grid_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        try:
            for packet in container.demux(stream):
                video_bytes += packet.size
                for frame in packet.decode():
                    t = float(frame.time) if frame.time is not None else len(times) * frame_dur
                    grays.append(small_luma(frame, aw * MOTION_FACTOR, ah * MOTION_FACTOR, grid_cache,
                                            grid=_GRID // MOTION_FACTOR))
                    times.append(t)
                    while di < len(detail_targets) and t + frame_dur / 2 >= detail_targets[di]:
                        details.append((t, native_luma(frame)))
                        di += 1
                    # Keep the first frame at or after each wanted instant (ties: the earliest).
                    while ti < len(targets) and t + frame_dur / 2 >= targets[ti]:
                        sw, sh = _fit(frame.width, frame.height, sample_max_side)
                        samples.append((t, frame.reformat(width=sw, height=sh, format="rgb24").to_image()))
                        ti += 1
        except av.FFmpegError as exc:
            if not times:
                raise MediaError(f"{p}: cannot decode video ({getattr(exc, 'strerror', None) or exc})") from None
    finally:
        container.close()
    if not times:
        raise MediaError(f"{p}: no decodable video frame")
    order = np.argsort(np.asarray(times), kind="stable")  # presentation order, whatever the decoder did
    motion = np.stack([grays[i] for i in order])
    stack = motion.reshape(len(motion), ah, MOTION_FACTOR, aw, MOTION_FACTOR).mean(axis=(2, 4))
    diff = np.zeros(len(stack), dtype=np.float32)
    if len(stack) > 1:
        diff[1:] = np.abs(stack[1:] - stack[:-1]).mean(axis=(1, 2))
    return VideoScan(
        times=np.asarray(times, dtype=np.float64)[order],
        luma=stack.mean(axis=(1, 2)).astype(np.float32),
        dark_fraction=(stack <= black_level).mean(axis=(1, 2)).astype(np.float32),
        diff=diff,
        frame_dur=frame_dur,
        samples=samples,
        motion=motion,
        detail=details,
        comment=comment,
        video_bytes=video_bytes,
        width=int(stream.codec_context.width or 0),
        height=int(stream.codec_context.height or 0),
    )


def native_luma(frame: Any) -> np.ndarray:
    """The frame's luma plane at its own size as uint8 (a copy: the decoder reuses its buffers)."""
    if frame.format.name in _PLANAR_8BIT:
        plane = frame.planes[0]
        return np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width].copy()
    return frame.to_ndarray(format="gray")


@dataclass
class AudioScan:
    """Decoded audio as float32 (channels, samples) at `rate`."""

    samples: np.ndarray
    rate: int

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.rate if self.samples.size else 0.0


def scan_audio(path: str | Path, *, rate: int = AUDIO_RATE) -> AudioScan | None:
    """Decode the first audio stream once, resampled to float planar at `rate`; None if no audio."""
    p = Path(path)
    container = open_media(p)
    try:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", rate=rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except av.FFmpegError as exc:
            if not chunks:
                raise MediaError(f"{p}: cannot decode audio ({getattr(exc, 'strerror', None) or exc})") from None
    finally:
        container.close()
    if not chunks:
        return AudioScan(np.zeros((1, 0), dtype=np.float32), rate)
    return AudioScan(np.concatenate(chunks, axis=1).astype(np.float32, copy=False), rate)


def save_jpeg(image: Image.Image, path: Path, quality: int = 85) -> Path:
    """Write a JPEG (RGB), creating the folder; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, format="JPEG", quality=quality)
    return path
