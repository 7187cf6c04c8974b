"""Frame areas where a clip's own labels are expected, so the text detector ignores them.

The preview backend burns in a header strip along the top (label, timecode, framing, PREVIEW tag)
and a notes strip along the bottom (caption, speech bubble, cast legend). They are labels, not
defects. Their heights come from the storyboard renderer's own layout (vidpipe.storyboard.layout),
so QC and the drawing cannot drift; as fractions of the frame, any resolution agrees.
"""

from __future__ import annotations

from vidpipe.storyboard.layout import TEXT_BANDS

Area = tuple[float, float, float, float]  # (x0, y0, x1, y1) as fractions of width and height

# Without the frame's shape, the strips' heights over every aspect ratio a request may ask for.
PREVIEW_TAG_AREA: Area = (0.0, 0.0, 1.0, TEXT_BANDS[0])
PREVIEW_CAPTION_AREA: Area = (0.0, 1.0 - TEXT_BANDS[1], 1.0, 1.0)
PREVIEW_COMMENT = "vidpipe preview"  # the container comment every preview clip carries


def excluded_areas(*, preview: bool) -> list[Area]:
    """The areas the text detector must not report for this clip."""
    return [PREVIEW_TAG_AREA, PREVIEW_CAPTION_AREA] if preview else []


def is_preview(comment: str | None, model: str | None = None, backend: str | None = None) -> bool:
    """A preview clip says so in its container comment (or the job ran on the preview backend)."""
    return (comment or "").strip() == PREVIEW_COMMENT or model == "preview" or backend == "preview"


def inside(box: Area, areas: list[Area], *, share: float = 0.5) -> bool:
    """Is at least `share` of `box` covered by one of `areas`?"""
    x0, y0, x1, y1 = box
    size = max(1e-9, (x1 - x0) * (y1 - y0))
    for a0, b0, a1, b1 in areas:
        w = max(0.0, min(x1, a1) - max(x0, a0))
        h = max(0.0, min(y1, b1) - max(y0, b0))
        if w * h / size >= share:
            return True
    return False
