"""The edit in frames: the one comparison point between vidpipe's edit list and any NLE timeline.

An edit list speaks seconds (trim_start/trim_end, crossfade length); an NLE speaks frames at the
sequence rate. `edit_frames` turns an edit list into frames at its fps, `frames_to_edit` turns
frames back into an edit list. Both directions use the same rounding, so an export read back is
compared here frame by frame, not second by second (a 1 ms drift is not "the same edit").

vidpipe's crossfade overlaps the outgoing clip's last d frames with the incoming clip's first d
frames (the cut lasts A + B - d). OTIO puts a transition *around* a cut point: in_offset frames
before it (outgoing side), out_offset after it (incoming side), both clips reaching into their
handles. So a clip's *used* frames are its source range widened by the transitions next to it:
outgoing end = source end + out_offset, incoming start = source start - in_offset, d = in + out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidpipe.edit_schema import EditClip, EditList
from vidpipe.errors import SpecError
from vidpipe.media.edit_plan import resolve
from vidpipe.media.probe import probe


@dataclass(frozen=True)
class ClipFrames:
    """One clip of the cut in frames: media, the frames used [start, end), frames of crossfade into it."""

    path: Path
    start: int
    end: int
    fade_in: int = 0  # frames overlapping the previous clip (0 = a cut)

    @property
    def length(self) -> int:
        return self.end - self.start


def to_frames(seconds: float, fps: int) -> int:
    return int(round(seconds * fps))


def media_frames(path: Path, fps: int) -> int:
    """How many frames of `path` the edit can use at `fps` (its probed length, rounded)."""
    return to_frames(probe(path).duration_s, fps)


def edit_frames(edit: EditList, base_dir: Path | None = None) -> list[ClipFrames]:
    """The edit list's clips in frames at its fps (an open trim_end is the clip's probed end)."""
    out = []
    for i, c in enumerate(edit.clips):
        path = resolve(c.path, base_dir).resolve()
        end = to_frames(c.trim_end, edit.fps) if c.trim_end is not None else media_frames(path, edit.fps)
        fade = to_frames(c.transition_dur, edit.fps) if i and c.transition == "crossfade" else 0
        out.append(ClipFrames(path, to_frames(c.trim_start, edit.fps), end, fade))
    return out


def frames_to_edit(clips: list[ClipFrames], template: EditList) -> EditList:
    """An edit list with `clips` (frames at template.fps) and everything else (tracks, output…) from template."""
    fps = template.fps
    edit_clips = []
    for i, c in enumerate(clips):
        if c.length <= 0:
            raise SpecError(f"clip {i + 1} ({c.path.name}): the edited timeline leaves it no frames")
        edit_clips.append(EditClip(
            path=str(c.path), trim_start=round(c.start / fps, 6), trim_end=round(c.end / fps, 6),
            transition="crossfade" if i and c.fade_in else "cut",
            transition_dur=round(c.fade_in / fps, 6) if i and c.fade_in else 0.5))
    return template.model_copy(update={"clips": edit_clips})


def record_starts(clips: list[ClipFrames]) -> list[int]:
    """The frame of the cut at which each clip starts (a crossfade starts it that many frames early)."""
    out, t = [], 0
    for c in clips:
        t -= c.fade_in
        out.append(t)
        t += c.length
    return out


def record_length(clips: list[ClipFrames]) -> int:
    """Frames in the cut: every clip's length minus the crossfades."""
    return sum(c.length for c in clips) - sum(c.fade_in for c in clips)
