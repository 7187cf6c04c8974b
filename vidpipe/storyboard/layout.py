"""Where a storyboard frame puts its letters: a header strip on top, a notes strip at the bottom.

This is the one owner of the text-band geometry: the renderer draws inside these strips and QC's
text detector (vidpipe.qc.content.regions) imports `text_bands` / `TEXT_BANDS` to skip them, so the
two cannot drift apart. Band heights scale with the frame's short side, so as fractions of the
height they depend on the aspect ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidpipe.schema import ASPECT_RATIOS, RESOLUTIONS, frame_size

Box = tuple[int, int, int, int]
HEADER_SHORT = 0.075  # header height as a share of the short side (landscape and square)
NOTES_SHORT = 0.215  # notes strip height as a share of the short side (landscape and square)
PORTRAIT_HEADER_SHORT = 0.15  # a portrait frame has a two-row header ...
PORTRAIT_NOTES_SHORT = 0.40  # ... and taller notes (the caption wraps into more lines)


@dataclass(frozen=True)
class Layout:
    """Where the header, the picture and the notes strip sit in a width x height frame."""

    width: int
    height: int
    top: int
    bottom: int
    pad: int
    portrait: bool

    @property
    def picture(self) -> Box:
        return (0, self.top, self.width, self.height - self.bottom)

    @property
    def header(self) -> Box:
        return (0, 0, self.width, self.top)

    @property
    def notes(self) -> Box:
        return (0, self.height - self.bottom, self.width, self.height)


def layout(width: int, height: int) -> Layout:
    """Band heights scale with the short side; a portrait frame gets a two-row header and taller notes."""
    short = min(width, height)
    portrait = height > width * 1.1
    top = round(short * (PORTRAIT_HEADER_SHORT if portrait else HEADER_SHORT))
    bottom = round(short * (PORTRAIT_NOTES_SHORT if portrait else NOTES_SHORT))
    return Layout(width, height, top, bottom, max(3, round(short * 0.016)), portrait)


def text_areas(width: int, height: int) -> list[Box]:
    """The only boxes (x0, y0, x1, y1) where a preview frame has lettering: header and notes strip.

    A storyboard still (no strips) letters only its PREVIEW tag, which lies inside the header box.
    """
    lay = layout(width, height)
    return [lay.header, lay.notes]


def text_bands(width: int, height: int) -> tuple[float, float]:
    """(header, notes) strip heights as fractions of this frame's height."""
    lay = layout(width, height)
    return lay.top / height, lay.bottom / height


def _widest_bands() -> tuple[float, float]:
    sizes = [frame_size(r, a) for r in RESOLUTIONS for a in ASPECT_RATIOS]
    return max(text_bands(*s)[0] for s in sizes), max(text_bands(*s)[1] for s in sizes)


# The strips' heights over every resolution and aspect ratio a request may ask for: what a reader
# that does not know the frame's shape must skip (3:4 has the tallest strips: 0.1125 and 0.30).
TEXT_BANDS: tuple[float, float] = _widest_bands()
