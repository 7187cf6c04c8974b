"""Check an edit list against the real media and turn it into a plan, before anything is encoded.

Every error a person can make in an edit list is caught here and reported as a SpecError that
names the clip (its 1-based index and its path as written) — a missing file, a trim outside the
clip, a crossfade that does not fit, an unknown transition — so a broken edit never costs an
encode and never leaves a half-written output behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidpipe.errors import MediaError, SpecError
from vidpipe.media.probe import probe
from vidpipe.schema import RESOLUTION_HEIGHT, Probe, load_model, read_json
from vidpipe.edit_schema import EditList

TRANSITIONS = ("cut", "crossfade")
EDIT_RESOLUTIONS = ("480p", "720p", "1080p")
_EPS = 1e-3  # container durations are rounded to the millisecond


@dataclass(frozen=True)
class PlannedClip:
    """One clip as it will be cut: resolved file, trim window, how it joins the previous clip."""

    index: int            # 1-based, as a person counts clips in the edit list
    path: Path
    written: str          # the path as written in the edit list (for messages)
    probe: Probe
    start: float
    end: float
    transition: str       # "cut" or "crossfade" (the first clip is always "cut")
    transition_dur: float  # seconds of overlap with the previous clip (0 for a cut)

    @property
    def length(self) -> float:
        return self.end - self.start

    @property
    def label(self) -> str:
        return f"clip {self.index} ({self.written})"


@dataclass(frozen=True)
class PlannedTrack:
    """One extra audio layer, resolved and probed (its length bounds its fades)."""

    index: int
    path: Path
    kind: str
    start: float
    gain_db: float
    fade_in: float
    fade_out: float
    duck: bool
    duration_s: float


@dataclass
class EditPlan:
    """Everything the filter graph needs, already validated."""

    output: Path
    width: int
    height: int
    fps: int
    clips: list[PlannedClip]
    audio: Path | None = None
    tracks: list[PlannedTrack] = field(default_factory=list)
    srt: Path | None = None

    @property
    def duration_s(self) -> float:
        """Sum of trimmed clip lengths minus the crossfades — the edit's exact length."""
        return sum(c.length for c in self.clips) - sum(c.transition_dur for c in self.clips)


def load_edit_list(path: str | Path) -> EditList:
    """Read an edit list JSON file; errors name the file and the field (exit code 2 in the CLI)."""
    edit: EditList = load_model(EditList, read_json(path), path=str(path))
    return edit


def resolve(p: str, base_dir: Path | None) -> Path:
    """Relative paths in an edit list are relative to the edit file's folder."""
    q = Path(p).expanduser()
    return q if q.is_absolute() or base_dir is None else base_dir / q


def output_size(resolution: str, first: Probe) -> tuple[int, int]:
    """Output frame: the resolution is the short side, in the first clip's orientation and aspect.

    The skill's edit list has no aspect field; the first clip sets it, every other clip is boxed in.
    """
    short = RESOLUTION_HEIGHT[resolution]
    w0, h0 = first.width or 16, first.height or 9
    w, h = (round(short * w0 / h0), short) if w0 >= h0 else (short, round(short * h0 / w0))
    return w - w % 2, h - h % 2


def _plan_clip(edit: EditList, i: int, base_dir: Path | None) -> PlannedClip:
    c = edit.clips[i - 1]
    name = f"clip {i} ({c.path})"
    if c.transition not in TRANSITIONS:
        raise SpecError(f"{name}: unknown transition {c.transition!r} (use cut or crossfade)")
    if i == 1 and c.transition == "crossfade":
        raise SpecError(f"{name}: the first clip cannot crossfade — there is no previous clip (use cut)")
    if c.trim_start < 0 or (c.trim_end is not None and c.trim_end < 0):
        raise SpecError(f"{name}: trim times cannot be negative (trim_start {c.trim_start}, trim_end {c.trim_end})")
    if c.trim_end is not None and c.trim_start >= c.trim_end:
        raise SpecError(f"{name}: trim_start {c.trim_start} s must be before trim_end {c.trim_end} s")
    path = resolve(c.path, base_dir)
    if not path.is_file():
        raise SpecError(f"{name}: file not found ({path})")
    try:
        pr = probe(path)
    except MediaError as exc:
        raise SpecError(f"{name}: not a readable video ({exc})") from None
    if not pr.has_video or not pr.width or not pr.height:
        raise SpecError(f"{name}: has no video stream")
    end = pr.duration_s if c.trim_end is None else c.trim_end
    if end > pr.duration_s + _EPS:
        raise SpecError(f"{name}: trim_end {end} s is past the end of the clip ({pr.duration_s:.3f} s)")
    if c.trim_start >= min(end, pr.duration_s):
        raise SpecError(f"{name}: trim_start {c.trim_start} s leaves nothing of the clip ({pr.duration_s:.3f} s)")
    dur = c.transition_dur if c.transition == "crossfade" else 0.0
    if c.transition == "crossfade" and dur <= 0:
        raise SpecError(f"{name}: a crossfade needs transition_dur > 0 (got {c.transition_dur})")
    return PlannedClip(i, path, c.path, pr, c.trim_start, min(end, pr.duration_s), c.transition, dur)


def _check_crossfades(clips: list[PlannedClip]) -> None:
    """A crossfade must fit inside both neighbours, and a clip's two crossfades must not overlap."""
    for prev, cur in zip(clips, clips[1:]):
        if cur.transition != "crossfade":
            continue
        short = min(prev.length, cur.length)
        if cur.transition_dur > short + _EPS:
            raise SpecError(f"{cur.label}: crossfade of {cur.transition_dur} s is longer than the adjacent clips "
                            f"(clip {prev.index} lasts {prev.length:.3f} s, clip {cur.index} {cur.length:.3f} s)")
    for cur, nxt in zip(clips[1:], clips[2:]):
        used = cur.transition_dur + nxt.transition_dur
        if used > cur.length + _EPS:
            raise SpecError(f"{cur.label}: its crossfades ({cur.transition_dur} s in, {nxt.transition_dur} s out) "
                            f"overlap — together longer than the clip ({cur.length:.3f} s)")


def _plan_tracks(edit: EditList, base_dir: Path | None) -> list[PlannedTrack]:
    tracks = []
    for k, t in enumerate(edit.tracks, start=1):
        name = f"track {k} ({t.path})"
        path = resolve(t.path, base_dir)
        if not path.is_file():
            raise SpecError(f"{name}: file not found ({path})")
        try:
            pr = probe(path)
        except MediaError as exc:
            raise SpecError(f"{name}: not a readable audio file ({exc})") from None
        if not pr.has_audio:
            raise SpecError(f"{name}: has no audio stream")
        if t.start < 0 or t.fade_in < 0 or t.fade_out < 0:
            raise SpecError(f"{name}: start and fades cannot be negative")
        tracks.append(PlannedTrack(k, path, t.kind, t.start, t.gain_db, t.fade_in, t.fade_out, t.duck, pr.duration_s))
    return tracks


def plan_edit(edit: EditList, base_dir: Path | None = None) -> EditPlan:
    """Validate `edit` against the media on disk and return the plan; raise SpecError naming the clip."""
    if not edit.clips:
        raise SpecError("the edit list has no clips")
    if edit.resolution not in EDIT_RESOLUTIONS:
        raise SpecError(f"resolution {edit.resolution!r} is not one of {', '.join(EDIT_RESOLUTIONS)}")
    if not 1 <= edit.fps <= 120:
        raise SpecError(f"fps {edit.fps} is outside 1–120")
    clips = [_plan_clip(edit, i, base_dir) for i in range(1, len(edit.clips) + 1)]
    _check_crossfades(clips)
    audio = None
    if edit.audio:
        audio = resolve(edit.audio, base_dir)
        if not audio.is_file():
            raise SpecError(f"audio ({edit.audio}): file not found ({audio})")
        try:
            if not probe(audio).has_audio:
                raise SpecError(f"audio ({edit.audio}): has no audio stream")
        except MediaError as exc:
            raise SpecError(f"audio ({edit.audio}): not a readable audio file ({exc})") from None
    tracks = _plan_tracks(edit, base_dir)
    output = resolve(edit.output, base_dir)
    if output.resolve() in {c.path.resolve() for c in clips}:
        raise SpecError(f"output {edit.output} would overwrite one of its own clips")
    srt = None
    subs = edit.subtitles
    if subs and subs.cues:
        for n, cue in enumerate(subs.cues, start=1):
            if cue.start < 0 or cue.end <= cue.start:
                raise SpecError(f"subtitle cue {n} ({cue.text[:30]!r}): needs 0 ≤ start < end (got {cue.start}–{cue.end})")
        srt = resolve(subs.srt, base_dir) if subs.srt else output.with_suffix(".srt")
    elif subs and subs.burn and subs.srt:
        srt = resolve(subs.srt, base_dir)  # burn an existing SRT file
        if not srt.is_file():
            raise SpecError(f"subtitles ({subs.srt}): file not found ({srt})")
    width, height = output_size(edit.resolution, clips[0].probe)
    return EditPlan(output, width, height, edit.fps, clips, audio, tracks, srt)


def cut_runs(plan: EditPlan) -> list[list[int]]:
    """Clip indices grouped into runs joined by cuts; crossfades join consecutive runs."""
    runs: list[list[int]] = []
    for i, c in enumerate(plan.clips):
        if i == 0 or c.transition == "crossfade":
            runs.append([i])
        else:
            runs[-1].append(i)
    return runs
