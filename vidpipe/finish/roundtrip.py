"""The round trip: an edited NLE timeline back into the episode's edit list, re-cut by vidpipe's assemble.

The picture track (first enabled video track) is the edit: its clips in order, each clip's used
frames = its source range widened by the transitions next to it (vidpipe.finish.frames explains
the arithmetic), each transition a crossfade. Audio layers keep their files; a track whose clip
was moved takes the new start, one whose gain is in the metadata takes that gain. Every clip
must be a file the episode made (a shot's clip or one of its takes): anything else is refused in
one line naming the clip, before anything is written or encoded.

The result is written to data/media/<ep>/edit/edit.json (the file `build_edit_list` uses in place
of the generated edit while it exists) with edit/import.json saying where it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from vidpipe.edit_schema import AudioTrack, EditList
from vidpipe.errors import SpecError
from vidpipe.finish.formats import read_timeline
from vidpipe.finish.frames import ClipFrames, edit_frames, frames_to_edit, record_length
from vidpipe.finish.media_index import MediaInfo, episode_media, lookup, shot_starts
from vidpipe.finish.timeline import v1_of
from vidpipe.media.edit_plan import plan_edit
from vidpipe.paths import Paths
from vidpipe.pipeline.narration import place_narration
from vidpipe.pipeline.episode_stages import CutOutcome, build_edit_list, generated_edit_list, imported_edit_path, \
    make_final_cut


def media_path(clip: otio.schema.Clip) -> Path | None:
    """The file a clip plays (file:// URL or a plain path, as the Kdenlive adapter writes)."""
    ref = clip.media_reference
    url = getattr(ref, "target_url", None)
    if not url:
        return None
    return Path(otio.url_utils.filepath_from_url(url) if url.startswith("file:") else url)


def v1_frames(timeline: otio.schema.Timeline) -> tuple[list[ClipFrames], list[tuple[Path | None, str | None]]]:
    """The picture track as used frames (transitions folded into the clips next to them), and each clip's
    (media path, EDL reel) as the file names them."""
    items = list(v1_of(timeline))
    clips: list[ClipFrames] = []
    paths: list[tuple[Path | None, str | None]] = []
    for i, item in enumerate(items):
        if not isinstance(item, otio.schema.Clip):
            if isinstance(item, otio.schema.Gap) and item.duration().to_frames() > 0 and clips:
                raise SpecError(f"the picture track has a gap after clip {len(clips)}; close it (vidpipe cuts "
                                "have no black holes)")
            continue
        rng = item.source_range or item.available_range()
        prev = items[i - 1] if i else None
        nxt = items[i + 1] if i + 1 < len(items) else None
        fade = 0
        start, end = rng.start_time.to_frames(), rng.end_time_exclusive().to_frames()
        if isinstance(prev, otio.schema.Transition):
            start -= prev.in_offset.to_frames()
            fade = prev.in_offset.to_frames() + prev.out_offset.to_frames()
        if isinstance(nxt, otio.schema.Transition):
            end += nxt.out_offset.to_frames()
        clips.append(ClipFrames(media_path(item) or Path(item.name), start, end, fade if clips else 0))
        paths.append((media_path(item), item.metadata.get("cmx_3600", {}).get("reel")))
    if not clips:
        raise SpecError("the timeline's picture track has no clips")
    return clips, paths


def _by_reel(known: dict[Path, MediaInfo], reel: str | None) -> MediaInfo | None:
    """The export names each EDL reel shot+take (s002T1); the CMX reader can attach the wrong file comment
    to a dissolve's incoming event, but never the wrong reel, so a reel we wrote wins."""
    if not reel:
        return None
    hits = [i for i in known.values() if f"{i.shot}T{i.take}"[:8] == reel]
    return min(hits, key=lambda i: (not i.chosen, len(str(i.path)))) if hits else None


def known_clips(clips: list[ClipFrames], refs: list[tuple[Path | None, str | None]], known: dict[Path, MediaInfo],
                source: Path) -> list[ClipFrames]:
    """The clips on the episode's own files (resolved); a file the episode did not make is refused in one line."""
    out = []
    for n, (c, (p, reel)) in enumerate(zip(clips, refs), start=1):
        named, by_reel = (lookup(known, p) if p else None), _by_reel(known, reel)
        same = named and by_reel and (named.shot, named.take) == (by_reel.shot, by_reel.take)
        info = named if same or by_reel is None else by_reel
        if info is None:
            raise SpecError(f"{source}: clip {n} plays {p or c.path} — not a clip or take of this episode; "
                            "vidpipe only re-cuts media it made")
        out.append(ClipFrames(info.path, c.start, c.end, c.fade_in))
    return out


def _audio(timeline: otio.schema.Timeline, template: EditList) -> list[AudioTrack]:
    """The template's audio layers, each moved/re-gained as its clip is in the timeline (matched by file)."""
    fps = template.fps
    placed: dict[Path, tuple[float, float | None]] = {}
    for track in timeline.audio_tracks():
        for clip in track.find_clips():
            p = media_path(clip)
            if p is None:
                continue
            start = track.range_of_child(clip).start_time.to_frames() / fps
            gain = clip.metadata.get("vidpipe", {}).get("gain_db")
            placed.setdefault(p.resolve(), (round(start, 6), gain))
    out = []
    for t in template.tracks:
        start, gain = placed.get(Path(t.path).resolve(), (t.start, None))
        out.append(t.model_copy(update={"start": start, "gain_db": t.gain_db if gain is None else float(gain)}))
    return out


def timeline_to_edit(timeline: otio.schema.Timeline, paths: Paths, episode_id: str, source: Path) -> EditList:
    """The edit list an edited timeline describes, on the episode's own media only (else one-line refusal)."""
    template = generated_edit_list(paths, episode_id)
    clips, files = v1_frames(timeline)
    known = episode_media(paths, episode_id)
    clips = known_clips(clips, files, known, source)
    edit = frames_to_edit(clips, template)
    tracks = _audio(timeline, template)
    # Narration follows its shot (a reorder or trim moves it), unless the editor moved the voiceover itself.
    kept = [(t, old) for t, old in zip(tracks, template.tracks) if t.kind != "voiceover" or t.start != old.start]
    if len(kept) == len(tracks):
        return edit.model_copy(update={"tracks": tracks})
    narration = place_narration(paths, episode_id, shot_starts(known, clips, template.fps),
                                record_length(clips) / template.fps)
    tracks = [t for t, _ in kept]
    if narration.track is not None:
        tracks.insert(0, AudioTrack(path=str(narration.track), kind="voiceover"))
    subtitles = template.subtitles.model_copy(update={"cues": narration.cues}) if template.subtitles else None
    return edit.model_copy(update={"tracks": tracks, "subtitles": subtitles})


@dataclass
class ImportResult:
    edit_path: Path
    edit: EditList
    frames: int
    cut: CutOutcome | None


def import_timeline(paths: Paths, episode_id: str, source: Path, *, recut: bool = True) -> ImportResult:
    """Read `source`, check it against the media (plan_edit: every error names the clip), write the edit, re-cut."""
    source = Path(source)
    template = build_edit_list(paths, episode_id)
    timeline = read_timeline(source, template.fps)
    edit = timeline_to_edit(timeline, paths, episode_id, source)
    plan_edit(edit)  # trims outside a clip, crossfades that do not fit: refused before anything is written
    target = imported_edit_path(paths, episode_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    tmp.write_text(edit.model_dump_json(indent=1), encoding="utf-8")
    os.replace(tmp, target)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    (target.parent / "import.json").write_text(json.dumps(
        {"source": str(source.resolve()), "source_sha256": digest, "clips": len(edit.clips)}, indent=1),
        encoding="utf-8")
    frames = record_length(edit_frames(edit))
    cut = make_final_cut(paths, episode_id) if recut else None
    return ImportResult(target, edit, frames, cut)


def drop_import(paths: Paths, episode_id: str) -> bool:
    """Go back to the generated edit (the imported one is removed); True when there was one."""
    target = imported_edit_path(paths, episode_id)
    if not target.exists():
        return False
    target.unlink()
    (target.parent / "import.json").unlink(missing_ok=True)
    return True


def edit_version(paths: Paths, episode_id: str) -> str:
    """The imported edit's content hash, or "generated" while the cut follows the episode (Dagster's data version)."""
    target = imported_edit_path(paths, episode_id)
    return hashlib.sha256(target.read_bytes()).hexdigest()[:16] if target.is_file() else "generated"
