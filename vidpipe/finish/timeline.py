"""The episode's edit as an OpenTimelineIO timeline (what every NLE export is written from).

Layout (why: an editor opens it and can finish without asking what is what):
  takes (off)   "alternative takes" tracks at the bottom: each shot's other takes under its place on
                V1, disabled — and, because no adapter but otio_json writes `enabled`, also *below*
                V1 and never longer than V1's clip, so in any NLE the picture track covers them
  V1 (top)      the chosen take of every shot at its exact used frames; crossfades as SMPTE dissolves
  A1 dialogue   the clips' own audio (native dialogue, effects), mirroring V1
  A2… voiceover / music / ambience: each edit-list track on its own track, gain in the metadata
Every clip's metadata["vidpipe"] carries shot, take, model, request id (lineage for the round trip);
QC findings are markers on the clip at their time range (red: blocking, yellow: warning, green:
a finding the judge rejected — waived).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import opentimelineio as otio

from vidpipe.edit_schema import EditList
from vidpipe.episode import load_episode
from vidpipe.finish.frames import ClipFrames, edit_frames, media_frames, to_frames
from vidpipe.finish.media_index import MediaInfo, episode_media, lookup, takes_of
from vidpipe.errors import SpecError
from vidpipe.paths import Paths
from vidpipe.pipeline.episode_stages import build_edit_list
from vidpipe.pipeline.record import ShotRef
from vidpipe.schema import QCReport

DISSOLVE = otio.schema.TransitionTypes.SMPTE_Dissolve


def rt(frames: int, fps: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, fps)


def trange(start: int, dur: int, fps: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(rt(start, fps), rt(dur, fps))


def media_clip(name: str, path: Path, start: int, dur: int, fps: int, meta: dict[str, Any]) -> otio.schema.Clip:
    ref = otio.schema.ExternalReference(target_url=otio.url_utils.url_from_filepath(str(path)),
                                        available_range=trange(0, media_frames(path, fps), fps))
    clip = otio.schema.Clip(name=name, media_reference=ref, source_range=trange(start, dur, fps))
    clip.metadata["vidpipe"] = meta
    return clip


def _halves(frames: int) -> tuple[int, int]:
    """A crossfade of d frames as (in_offset, out_offset) around the cut; the odd frame goes after."""
    return frames // 2, frames - frames // 2


def picture_track(clips: list[ClipFrames], infos: list[MediaInfo | None], fps: int, *, name: str,
                  kind: str = otio.schema.TrackKind.Video) -> otio.schema.Track:
    """Clips in order; each crossfade becomes a dissolve centred on the cut, the clips trimmed to meet it."""
    track = otio.schema.Track(name=name, kind=kind)
    for i, c in enumerate(clips):
        before = _halves(c.fade_in)[0] if c.fade_in else 0  # in_offset: reached for before the cut
        nxt = clips[i + 1].fade_in if i + 1 < len(clips) else 0
        after = _halves(nxt)[1] if nxt else 0  # out_offset: played past the cut
        info = infos[i]
        meta = info.metadata() if info else {"path": str(c.path)}
        if c.fade_in:
            a, b = _halves(c.fade_in)
            track.append(otio.schema.Transition(name=f"crossfade {c.fade_in}f", transition_type=DISSOLVE,
                                                in_offset=rt(a, fps), out_offset=rt(b, fps)))
        name_ = f"{info.shot} take {info.take}" if info else c.path.stem
        track.append(media_clip(name_, c.path, c.start + before, c.length - before - after, fps, meta))
    return track


def _qc_report(paths: Paths, episode_id: str, info: MediaInfo) -> QCReport | None:
    ref = ShotRef.load(paths, episode_id, info.shot)
    qc = ref.qc_json if info.path == ref.clip_path.resolve() else ref.take_review_dir(info.take) / "qc.json"
    return QCReport.model_validate_json(qc.read_text()) if qc.is_file() else None


def add_qc_markers(clip: otio.schema.Clip, report: QCReport, used: ClipFrames, fps: int) -> None:
    """Each finding as a marker on the clip at its time range (clip source time; whole clip if untimed)."""
    for d in report.defects:
        start = to_frames(d.start_s, fps) if d.start_s is not None else used.start
        end = to_frames(d.end_s, fps) if d.end_s is not None else used.end
        waived = d.confirmed is False
        color = (otio.schema.MarkerColor.GREEN if waived else otio.schema.MarkerColor.RED
                 if d.severity == "error" else otio.schema.MarkerColor.YELLOW)
        m = otio.schema.Marker(name=f"QC {d.code}" + (" (waived)" if waived else ""),
                               marked_range=trange(start, max(1, end - start), fps), color=color)
        m.metadata["vidpipe"] = {"qc": d.model_dump(mode="json", exclude={"regions"}), "waived": waived}
        clip.markers.append(m)


def take_tracks(known: dict[Path, MediaInfo], v1: otio.schema.Track, infos: list[MediaInfo | None],
                clips: list[ClipFrames], fps: int) -> list[otio.schema.Track]:
    """Disabled tracks of alternative takes, each under its shot's place on V1 (as long as both allow)."""
    rows: list[list[tuple[int, MediaInfo, int]]] = []
    v1_clips = [it for it in v1 if isinstance(it, otio.schema.Clip)]
    for k, info in enumerate(infos):
        if info is None:
            continue
        alts = [t for t in takes_of(known, info.shot) if t.take != info.take]
        at = v1.range_of_child(v1_clips[k]).start_time.to_frames()
        dur = v1_clips[k].source_range.duration.to_frames()
        for j, alt in enumerate(alts):
            while len(rows) <= j:
                rows.append([])
            rows[j].append((at, alt, min(dur, media_frames(alt.path, fps))))
    tracks = []
    for j, row in enumerate(rows):
        track = otio.schema.Track(name=f"alternative takes {j + 1}", kind=otio.schema.TrackKind.Video)
        track.enabled = False
        t = 0
        for at, alt, dur in row:
            if at > t:
                track.append(otio.schema.Gap(source_range=trange(0, at - t, fps)))
            track.append(media_clip(f"{alt.shot} take {alt.take}", alt.path, 0, dur, fps, alt.metadata()))
            t = at + dur
        tracks.append(track)
    return tracks


def audio_tracks(edit: EditList, total: int, music_label: str) -> list[otio.schema.Track]:
    """Each edit-list audio layer on its own track, placed at its start, gain and fades in the metadata."""
    fps, out = edit.fps, []
    for t in edit.tracks:
        path = Path(t.path).resolve()
        start = to_frames(t.start, fps)
        dur = min(media_frames(path, fps), max(1, total - start))
        label = music_label if t.kind == "music" else t.kind
        track = otio.schema.Track(name=label, kind=otio.schema.TrackKind.Audio)
        if start:
            track.append(otio.schema.Gap(source_range=trange(0, start, fps)))
        track.append(media_clip(f"{label} ({t.gain_db:+g} dB)", path, 0, dur, fps,
                                {"kind": t.kind, "gain_db": t.gain_db, "fade_in": t.fade_in, "fade_out": t.fade_out,
                                 "duck": t.duck, "path": str(path)}))
        out.append(track)
    return out


def build_timeline(paths: Paths, episode_id: str, edit: EditList | None = None) -> otio.schema.Timeline:
    """The episode's current edit (generated or imported) as an OTIO timeline."""
    episode = load_episode(paths.episode_dir(episode_id))
    edit = edit or build_edit_list(paths, episode_id)
    fps = edit.fps
    known = episode_media(paths, episode_id)
    clips = edit_frames(edit)
    infos = [lookup(known, c.path) for c in clips]
    v1 = picture_track(clips, infos, fps, name="V1")
    for clip, used, info in zip([it for it in v1 if isinstance(it, otio.schema.Clip)], clips, infos):
        report = _qc_report(paths, episode_id, info) if info else None
        if report is not None:
            add_qc_markers(clip, report, used, fps)
    dialogue = picture_track(clips, infos, fps, name="dialogue", kind=otio.schema.TrackKind.Audio)
    for c in dialogue:
        if isinstance(c, otio.schema.Clip):
            c.metadata["vidpipe"]["gain_db"] = edit.clip_audio_gain_db
    total = v1.duration().to_frames()
    music_label = "ambience" if episode.music and episode.music.ambience and not episode.music.path else "music"
    tl = otio.schema.Timeline(name=f"{episode_id} — {episode.title}", global_start_time=rt(0, fps))
    tl.tracks.extend([*take_tracks(known, v1, infos, clips, fps), v1, dialogue,
                      *audio_tracks(edit, total, music_label)])
    tl.metadata["vidpipe"] = {"episode": episode_id, "fps": fps, "resolution": edit.resolution,
                              "loudness_lufs": edit.loudness_lufs, "true_peak_db": edit.true_peak_db,
                              "clip_audio_gain_db": edit.clip_audio_gain_db}
    return tl


def v1_of(timeline: otio.schema.Timeline) -> otio.schema.Track:
    """The picture track an edit lives on: the topmost enabled video track (what a viewer sees)."""
    for t in reversed(timeline.video_tracks()):
        if t.enabled and t.find_clips():
            return t
    raise SpecError("the timeline has no enabled video track with clips")
