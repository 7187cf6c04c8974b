"""Continuity across a cut: the exact last frame of one clip (the next shot's first frame) and how well they meet.

The last frame is written by ffmpeg as a lossless PNG: seeking a second before the end and letting
`-update 1` overwrite the file with every decoded frame leaves the very last one, pixel for pixel what a
decoder shows. The seam is SSIM (scikit-image) between that frame and the new clip's first frame, on
luma at a small size: 1.0 is the same picture, a generated clip that drifted at its first frame scores low.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

from vidpipe.errors import MediaError
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.verify import Verified, write_verified

SEAM_MIN_SSIM = 0.6   # below this the cut visibly jumps: a warning in QC, never a block
SEAM_SIZE = (160, 90)


def last_frame_png(clip: Path, out: Path) -> Verified:
    """The clip's last video frame as a lossless PNG at `out` (verified, then renamed into place)."""
    def produce(tmp: Path) -> None:
        run_ffmpeg(["-y", "-sseof", "-1", "-i", str(clip), "-map", "0:v:0", "-update", "1", "-c:v", "png",
                    "-f", "image2", str(tmp)], what=f"last frame of {clip.name}")

    return write_verified(out, produce, "image")


def first_frame(clip: Path) -> Image.Image:
    """The clip's first decoded video frame."""
    with av.open(str(clip)) as c:
        for f in c.decode(video=0):
            return f.to_image()
    raise MediaError(f"{clip}: no video frame to read")


def seam_ssim(before: Image.Image, after: Image.Image) -> float:
    """SSIM of two frames' luma at SEAM_SIZE (aspect differences are squeezed, which SSIM then reports)."""
    from skimage.metrics import structural_similarity  # lazy: ~1 s import, only for continuing shots

    a = np.asarray(before.convert("L").resize(SEAM_SIZE, Image.Resampling.BILINEAR), dtype=np.float64)
    b = np.asarray(after.convert("L").resize(SEAM_SIZE, Image.Resampling.BILINEAR), dtype=np.float64)
    return round(float(structural_similarity(a, b, data_range=255.0)), 4)
