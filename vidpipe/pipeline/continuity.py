"""Continuity across a cut, at the stages: which frame a shot ends on, and how well the seam meets.

Two modes, decided by one function, `vidpipe.shots.chained` (spec-level and pure, so the request, the
still, the fingerprint and this seam check always agree):

- sequential: B's first frame is the exact last frame of A's chosen clip (shot_stages._continuity_still),
  so B waits for A, and another take of A makes B stale;
- chained: A's request carries B's own still as `last_frame_image` and B starts from that same still, so
  neither waits for the other's clip and the seam is exact by construction (as exact as A's model lands
  on its last frame, which the seam metric measures).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PIL import Image

from vidpipe.media.seam import SEAM_MIN_SSIM, first_frame, last_frame_png, seam_ssim
from vidpipe.pipeline.record import ShotRef
from vidpipe.schema import Defect, QCReport
from vidpipe.shots import chain_successor, chained


def successor(ref: ShotRef) -> ShotRef | None:
    """The chained shot whose still this shot's clip must end on, else None."""
    nxt = chain_successor(ref.episode, ref.shot)
    return ShotRef(ref.paths, ref.episode, nxt) if nxt is not None else None


def last_frame_path(ref: ShotRef) -> str | None:
    """The request's `last_frame_image`: the chained successor's still (the exact file), else None."""
    nxt = successor(ref)
    return str(nxt.still_path) if nxt is not None else None


def source(ref: ShotRef) -> ShotRef:
    """The shot this one continues (it must have `continue_from`)."""
    return ShotRef(ref.paths, ref.episode, ref.episode.shot(ref.shot.continue_from or ""))


def _seam_before(ref: ShotRef) -> Image.Image | None:
    """The frame the cut leaves: sequential, this shot's still (A's last frame, extracted); chained, the last
    frame of A's chosen clip as generated (it was asked to end on our still), or our still before A has one."""
    src = source(ref)
    if chained(ref.episode, ref.shot) and src.clip_path.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "last.png"
            last_frame_png(src.clip_path, png)
            with Image.open(png) as im:
                return im.convert("RGB")
    if not ref.still_path.is_file():
        return None
    with Image.open(ref.still_path) as still:
        return still.convert("RGB")


def with_seam(ref: ShotRef, clip: Path, report: QCReport) -> QCReport:
    """For a shot that continues another: the seam's SSIM (the frame the cut leaves against this clip's first)
    as a QC metric, and a `continuity_seam` warning when the cut would visibly jump (never a block)."""
    if ref.shot.continue_from is None:
        return report
    before = _seam_before(ref)
    if before is None:
        return report
    ssim = seam_ssim(before, first_frame(clip))
    defects = list(report.defects)
    if ssim < SEAM_MIN_SSIM:
        defects.append(Defect(code="continuity_seam", severity="warning", value=ssim, threshold=SEAM_MIN_SSIM,
                              detail=f"the first frame differs from {ref.shot.continue_from}'s last frame "
                                     f"(SSIM {ssim:.2f} < {SEAM_MIN_SSIM}): the cut will jump"))
    return report.model_copy(update={"metrics": {**report.metrics, "continuity_seam_ssim": ssim},
                                     "defects": defects})
