"""Write the episode's timeline for an NLE through OpenTimelineIO's adapter plug-ins, and read it back.

No XML is written here: each format is the adapter's own writer (otio_json, the FCP 7 XML, FCPX XML,
CMX 3600 EDL and Kdenlive plug-ins from PyPI). What a format cannot carry is adapted *before*
writing and said in the export report, never silently lost:
  edl       one picture track only (V1; reels named shot+take so every event names its media)
  fcpxml    the adapter writes no transitions (crossfades become cuts at the dissolve's centre) and makes
            the first video track the primary storyline, every other one connected clips *above* it:
            the alternative takes are left out rather than shown over the cut
  kdenlive  the adapter writes no transitions and no markers (same centre cuts)
The subtitles go alongside as SRT + WebVTT sidecars (vidpipe.media.subtitles).
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from vidpipe.errors import SpecError
from vidpipe.finish.captions import write_episode_captions
from vidpipe.finish.timeline import build_timeline, v1_of
from vidpipe.paths import Paths


@dataclass(frozen=True)
class Format:
    adapter: str
    suffix: str
    transitions: bool = True
    markers: bool = True
    all_tracks: bool = True
    takes: bool = True  # alternative-take tracks (kept under V1, where the picture track covers them)


FORMATS: dict[str, Format] = {
    "otio": Format("otio_json", ".otio"),
    "fcp7": Format("fcp_xml", ".xml"),
    "fcpxml": Format("fcpx_xml", ".fcpxml", transitions=False, takes=False),
    "edl": Format("cmx_3600", ".edl", all_tracks=False),
    "kdenlive": Format("kdenlive", ".kdenlive", transitions=False, markers=False),
}
IMPORT_ADAPTERS = {".otio": "otio_json", ".xml": "fcp_xml", ".fcpxml": "fcpx_xml", ".edl": "cmx_3600",
                   ".kdenlive": "kdenlive"}


@dataclass
class ExportResult:
    format: str
    path: Path
    clips: int
    duration_frames: int
    fps: int
    dropped: list[str] = field(default_factory=list)  # what this format could not carry (said, not hidden)
    sidecars: list[Path] = field(default_factory=list)


def fmt_of(name: str) -> Format:
    if name not in FORMATS:
        raise SpecError(f"--format {name!r}: choose one of {', '.join(FORMATS)}")
    return FORMATS[name]


def _quiet() -> contextlib.redirect_stdout:
    """The Kdenlive adapter prints a deprecation banner on stdout, where `vidpipe export` prints paths."""
    return contextlib.redirect_stdout(io.StringIO())


def _drop_transitions(timeline: otio.schema.Timeline) -> int:
    """Replace every transition with a cut at its centre (the clips already meet there)."""
    n = 0
    for track in timeline.tracks:
        for item in [it for it in track if isinstance(it, otio.schema.Transition)]:
            track.remove(item)
            n += 1
    return n


def adapt(timeline: otio.schema.Timeline, fmt: Format) -> tuple[otio.schema.Timeline, list[str]]:
    """A copy of `timeline` reduced to what `fmt`'s writer keeps, and the list of what was dropped."""
    tl = timeline.deepcopy()
    dropped: list[str] = []
    if not fmt.all_tracks:
        v1 = v1_of(tl).deepcopy()
        for clip in v1.find_clips():
            meta = clip.metadata.get("vidpipe", {})
            clip.metadata["cmx_3600"] = {"reel": f"{meta.get('shot', 'X')}T{meta.get('take', 1)}"[:8]}
        rest = len(tl.tracks) - 1
        tl.tracks[:] = [v1]
        dropped.append(f"{rest} tracks other than V1 (an EDL has one picture track)")
    if not fmt.takes and fmt.all_tracks:
        alts = [t for t in tl.video_tracks() if not t.enabled]
        for t in alts:
            tl.tracks.remove(t)
        if alts:
            dropped.append(f"{len(alts)} alternative-take tracks (the {fmt.adapter} writer cannot mark them disabled)")
    if not fmt.transitions:
        n = _drop_transitions(tl)
        if n:
            dropped.append(f"{n} dissolves on the picture and dialogue tracks (the {fmt.adapter} writer has no "
                           "transitions; each becomes a cut at its centre)")
    if not fmt.markers:
        n = sum(len(c.markers) for c in tl.find_clips())
        for c in tl.find_clips():
            c.markers[:] = []
        if n:
            dropped.append(f"{n} QC markers (the {fmt.adapter} writer has no markers)")
    return tl, dropped


def export_timeline(paths: Paths, episode_id: str, fmt_name: str, out: Path | None = None,
                    sidecars: list[Path] | None = None) -> ExportResult:
    """Write the episode's edit as `fmt_name` (default under data/media/<ep>/export/), plus subtitle sidecars
    (pass `sidecars` already written for this edit to skip finding the words again)."""
    fmt = fmt_of(fmt_name)
    timeline = build_timeline(paths, episode_id)
    out = out or paths.episode_media(episode_id) / "export" / f"{episode_id}{fmt.suffix}"
    out.parent.mkdir(parents=True, exist_ok=True)
    tl, dropped = adapt(timeline, fmt)
    if sidecars is None:
        sidecars = write_episode_captions(paths, episode_id, out.with_suffix(""))
    tl.metadata.setdefault("vidpipe", {})["subtitles"] = [str(p) for p in sidecars]
    tmp = out.with_name(f".{out.name}.part{out.suffix}")
    with _quiet():
        otio.adapters.write_to_file(tl, str(tmp), adapter_name=fmt.adapter)
    tmp.replace(out)
    v1 = v1_of(tl)
    report = ExportResult(fmt_name, out, len(v1.find_clips()), v1.duration().to_frames(),
                          int(tl.metadata["vidpipe"]["fps"]), dropped, sidecars)
    out.with_name(out.name + ".json").write_text(json.dumps(
        {"format": fmt_name, "adapter": fmt.adapter, "clips": report.clips, "duration_frames": report.duration_frames,
         "fps": report.fps, "dropped": dropped, "sidecars": [str(p) for p in sidecars]}, indent=1), encoding="utf-8")
    return report


def read_timeline(path: Path, fps: int | None = None) -> otio.schema.Timeline:
    """Read an NLE file with the adapter its suffix names (the EDL reader needs the sequence rate)."""
    adapter = IMPORT_ADAPTERS.get(path.suffix.lower())
    if adapter is None:
        raise SpecError(f"{path}: unknown timeline type {path.suffix!r} (use {', '.join(IMPORT_ADAPTERS)})")
    if not path.is_file():
        raise SpecError(f"{path}: file not found")
    kwargs = {"rate": fps} if adapter == "cmx_3600" and fps else {}
    try:
        with _quiet():
            return otio.adapters.read_from_file(str(path), adapter_name=adapter, **kwargs)
    except Exception as exc:  # an adapter's parse error: one line naming the file
        raise SpecError(f"{path}: not a readable {adapter} timeline ({type(exc).__name__}: {exc})") from None
