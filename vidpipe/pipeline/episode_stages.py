"""Per-episode stages: spec summary → voiceover → final cut → delivery, plus readiness and spend.

The cut's timeline is computed once here (`timeline`) so narration placement, subtitles and
the edit list agree to the frame: shot k starts at the sum of earlier shot lengths minus the
crossfades before it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.episode import check_episode, episode_fingerprint, list_episodes, load_episode, shot_fingerprint
from vidpipe.media.assemble import assemble
from vidpipe.media.audio_mix import mix_voiceover
from vidpipe.media.edit_plan import load_edit_list
from vidpipe.media.probe import probe
from vidpipe.media.upscale import upscale
from vidpipe.media.verify import file_record, still_verified
from vidpipe.errors import VidpipeError
from vidpipe.ledger import record_spend
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import STAGE_VERSION, cache_hit, file_hash, read_sidecar, stable_hash, write_sidecar
from vidpipe.pipeline.converge import cut_state
from vidpipe.pipeline.music_stage import MusicFit, ambience_bed, fit_music, has_score
from vidpipe.pipeline.narration import NARRATION_LEAD_S, place_narration
from vidpipe.finish.frames import edit_frames, record_length, record_starts
from vidpipe.pipeline.record import ShotRef, state_stamp
from vidpipe.storyboard.episode_sheet import storyboard_path, write_storyboard
from vidpipe.tts import synthesize_speech
from vidpipe.schema import Episode
from vidpipe.store import Store
from vidpipe.edit_schema import AudioTrack, EditClip, EditList, SubtitleCue, Subtitles



@dataclass
class Slot:
    shot: str
    start: float
    duration: float
    transition: str
    transition_dur: float


def timeline(episode: Episode) -> list[Slot]:
    """Where each shot sits in the cut (crossfades overlap the previous shot)."""
    slots: list[Slot] = []
    t = 0.0
    for i, s in enumerate(episode.shots):
        dur = float(s.duration if s.duration > 0 else 5)
        trans = s.transition if i > 0 else "cut"
        if trans == "crossfade":
            t -= s.transition_dur
        slots.append(Slot(s.id, round(t, 3), dur, trans, s.transition_dur))
        t += dur
    return slots


def cut_duration(episode: Episode) -> float:
    slots = timeline(episode)
    return round(slots[-1].start + slots[-1].duration, 3) if slots else 0.0


def spec_summary(paths: Paths, episode_id: str) -> dict[str, Any]:
    """Validate the episode file and write data/media/<ep>/episode.json (what the UI and review room show)."""
    episode = check_episode(paths, episode_id)  # every shot checked before any spend
    summary = {
        "episode": episode.id,
        "title": episode.title,
        "fingerprint": episode_fingerprint(paths.episode_dir(episode_id)),
        "aspect_ratio": episode.aspect_ratio,
        "resolution": episode.resolution,
        "fps": episode.fps,
        "budget_usd": episode.budget_usd,
        "cut_duration_s": cut_duration(episode),
        "shots": [
            {"id": s.id, "title": s.title, "mode": s.mode, "duration": s.duration, "transition": s.transition,
             "fingerprint": shot_fingerprint(episode, s, paths=paths), "narration": s.narration}
            for s in episode.shots
        ],
    }
    write_sidecar(paths.episode_media(episode_id) / "episode.json", summary)
    return summary


@dataclass
class VoiceoverOutcome:
    path: Path | None
    cues: list[SubtitleCue]
    lines: list[dict[str, Any]]
    cache_hit: bool
    backend: str | None
    key: str
    cost_usd: float = 0.0


def make_voiceover(paths: Paths, episode_id: str, *, backend: str | None = None) -> VoiceoverOutcome:
    """Voice every shot's narration and lay the lines on one track at their shot's place in the cut."""

    episode = load_episode(paths.episode_dir(episode_id))
    out_dir = paths.episode_media(episode_id) / "voiceover"
    starts = {s.shot: s.start for s in timeline(episode)}
    wanted = [(s.id, s.narration) for s in episode.shots if s.narration]
    voice = episode.voice.voice_id
    vbackend = backend or (None if episode.voice.provider == "auto" else episode.voice.provider)
    key = stable_hash({"lines": wanted, "starts": starts, "voice": voice, "backend": vbackend, "v": STAGE_VERSION})
    track = out_dir / "voiceover.wav"
    side = out_dir / "voiceover.json"
    if not wanted:
        write_sidecar(side, {"key": key, "lines": [], "cues": []})
        return VoiceoverOutcome(None, [], [], False, None, key)
    hit = cache_hit(side, key, track)
    if hit and still_verified(track, hit.get("output")):
        return VoiceoverOutcome(track, [SubtitleCue.model_validate(c) for c in hit["cues"]], hit["lines"], True,
                                hit.get("backend"), key, 0.0)
    lines: list[dict[str, Any]] = []
    cues: list[SubtitleCue] = []
    cost = 0.0
    used_backend = None
    for i, (shot_id, text) in enumerate(wanted):
        res = synthesize_speech(text, out_dir / f"line_{i + 1:02d}_{shot_id}.mp3", voice_id=voice, backend=vbackend)
        at = starts[shot_id] + NARRATION_LEAD_S
        used_backend = res.backend
        cost += float(res.cost_usd or 0.0)
        record_spend(Store(paths.db), "voice", stable_hash({"text": text, "voice": res.voice_id, "model": res.model}),
                     model=res.model or "", backend=res.backend, est_cost_usd=res.est_cost_usd, cost_usd=res.cost_usd,
                     episode=episode_id, job_id=f"voice:{shot_id}", output_path=str(res.path))
        lines.append({"shot": shot_id, "text": text, "path": str(res.path), "start": at,
                      "duration_s": res.duration_s, "backend": res.backend, "voice_id": res.voice_id})
        cues.extend(SubtitleCue(start=round(c.start + at, 3), end=round(c.end + at, 3), text=c.text) for c in res.cues)
        if not res.cues:
            cues.append(SubtitleCue(start=at, end=round(at + res.duration_s, 3), text=text))
    out_dir.mkdir(parents=True, exist_ok=True)
    mixed = mix_voiceover([(Path(ln["path"]), ln["start"]) for ln in lines], cut_duration(episode), track)
    write_sidecar(side, {"key": key, "lines": lines, "cues": [c.model_dump() for c in cues], "backend": used_backend,
                         "cost_usd": cost, "output": mixed.record()})
    return VoiceoverOutcome(track, cues, lines, False, used_backend, key, cost)


def imported_edit_path(paths: Paths, episode_id: str) -> Path:
    """Where `vidpipe import` puts an edit made in an NLE (vidpipe.finish.roundtrip writes it)."""
    return paths.episode_media(episode_id) / "edit" / "edit.json"


def build_edit_list(paths: Paths, episode_id: str) -> EditList:
    """The episode's edit: the one imported from an NLE while there is one, else the generated edit."""
    imported = imported_edit_path(paths, episode_id)
    if imported.is_file():
        return load_edit_list(imported)
    return generated_edit_list(paths, episode_id)


def generated_edit_list(paths: Paths, episode_id: str) -> EditList:
    """The episode's edit: shots in order with their transitions, voiceover, ducked music bed, subtitles."""
    episode = load_episode(paths.episode_dir(episode_id))
    media = paths.episode_media(episode_id)
    clips = []
    for i, s in enumerate(episode.shots):
        ref = ShotRef(paths, episode, s)
        if not ref.clip_path.exists():
            raise VidpipeError(f"episode {episode_id}: shot {s.id} has no clip yet; render it before the cut")
        clips.append(EditClip(path=str(ref.clip_path), transition=s.transition if i else "cut",
                              transition_dur=s.transition_dur))
    tracks: list[AudioTrack] = []
    subtitles = None
    fit = fit_music_to_clips(paths, episode, clips)
    edit = EditList(output=str(media / "final.mp4"), resolution=episode.resolution, fps=episode.fps, clips=clips)
    frames = edit_frames(edit)  # where each shot really starts once cut_to_beat has trimmed the clips
    starts = {s.id: k / episode.fps for s, k in zip(episode.shots, record_starts(frames))}
    narration = place_narration(paths, episode_id, starts, record_length(frames) / episode.fps)
    if narration.track is not None:
        tracks.append(AudioTrack(path=str(narration.track), kind="voiceover"))
        subtitles = Subtitles(srt=str(media / "final.srt"), cues=narration.cues)
    if fit.bed is not None:
        fades = (0.0, 0.0) if fit.fitted else (1.0, 1.5)  # a fitted bed carries its own fades
        tracks.append(AudioTrack(path=str(fit.bed), kind="music", gain_db=episode.music.gain_db if episode.music else -18,
                                 duck=True, fade_in=fades[0], fade_out=fades[1]))
    return edit.model_copy(update={"tracks": tracks, "subtitles": subtitles})


def fit_music_to_clips(paths: Paths, episode: Episode, clips: list[EditClip]) -> MusicFit:
    """Fit the score to these clips (music_stage.fit_music); with cut_to_beat, trims the clips whose length moved."""
    if not has_score(paths, episode):
        return MusicFit(ambience_bed(paths, episode, cut_duration(episode)), [])
    fps = episode.fps
    full = [round(probe(Path(c.path)).duration_s * fps) for c in clips]
    xfades = [round(c.transition_dur * fps) if i and c.transition == "crossfade" else 0 for i, c in enumerate(clips)]
    fit = fit_music(paths, episode, full, xfades, [0] * len(clips))  # whole clips: a tail can only be trimmed
    for c, before, after in zip(clips, full, fit.lengths):
        if after != before:
            c.trim_end = after / fps
    return fit


@dataclass
class CutOutcome:
    path: Path
    duration_s: float
    cache_hit: bool
    key: str
    edit: EditList
    extra: dict[str, Any] = field(default_factory=dict)


def make_final_cut(paths: Paths, episode_id: str) -> CutOutcome:
    """Assemble the final cut in one filter graph; cached on the content of every input.

    final.json records, per shot, exactly which generation is in the file (hash, take, request id,
    and a person's acceptance), so lineage names what was delivered, not what is chosen now.
    """

    edit = build_edit_list(paths, episode_id)
    inputs = [file_hash(c.path) for c in edit.clips] + [file_hash(t.path) for t in edit.tracks]
    key = stable_hash({"edit": edit.model_dump(mode="json"), "inputs": inputs, "v": STAGE_VERSION})
    out = Path(edit.output)
    side = out.with_suffix(".json")
    shots = cut_provenance(paths, episode_id, inputs[:len(edit.clips)])
    hit = cache_hit(side, key, out)
    if hit and still_verified(out, hit.get("output")):  # a cut is trusted only while it is the file verified
        if hit.get("shots") != shots:  # same pictures, a new decision about them (an acceptance): say so
            write_sidecar(side, {**hit, "shots": shots})
        board = storyboard_path(paths, episode_id)
        board = board if board.exists() else write_storyboard(paths, episode_id)
        return CutOutcome(out, float(hit["duration_s"]), True, key, edit, {"storyboard": board})
    res = assemble(edit)
    duration = res.verified.duration_s or probe(out).duration_s
    write_sidecar(side, {"key": key, "duration_s": duration, "edit": edit.model_dump(mode="json"),
                         "clip_hashes": inputs, "shots": shots, "output": res.verified.record()})
    # the cut's storyboard: a panel per block, continuity links, the cut's timeline with its beats
    return CutOutcome(out, duration, False, key, edit, {"storyboard": write_storyboard(paths, episode_id)})


def cut_provenance(paths: Paths, episode_id: str, clip_hashes: list[str]) -> list[dict[str, Any]]:
    """Per shot of the cut: the recorded generation whose bytes are the clip that goes in (matched by hash)."""
    episode = load_episode(paths.episode_dir(episode_id))
    out = []
    for s, h in zip(episode.shots, clip_hashes):
        rec = ShotRef(paths, episode, s).read()
        gens = [g for g in [rec.generation, *(t.generation for t in rec.takes)] if g is not None and g.hash == h]
        g = gens[0] if gens else None
        acc = rec.accepted if rec.accepted is not None and rec.accepted.clip_hash == h else None
        out.append({"shot": s.id, "clip_hash": h, "take": g.take if g else None,
                    "request_id": g.request_id if g else None, "model": g.model if g else None,
                    "backend": g.backend if g else None, "cost_usd": g.cost_usd if g else None,
                    "qc": rec.qc.why if rec.qc is not None and rec.qc.clip_hash == h else None,
                    "accepted": acc.model_dump() if acc else None})
    return out


def make_delivery(paths: Paths, episode_id: str, *, resolution: str | None = None, fps: int | None = None) -> CutOutcome:
    """Finish the cut for delivery: Lanczos upscale (+ optional interpolation) to `resolution`, else
    $VIDPIPE_DELIVERY_RESOLUTION, else 1080p."""
    resolution = resolution or os.environ.get("VIDPIPE_DELIVERY_RESOLUTION") or "1080p"

    media = paths.episode_media(episode_id)
    final = media / "final.mp4"
    if not final.exists():
        raise VidpipeError(f"episode {episode_id} has no final cut yet; run final_cut first")
    out = media / "delivery.mp4"
    final_record = (read_sidecar(final.with_suffix(".json")) or {}).get("output")
    if final_record is None or not still_verified(final, final_record):
        raise VidpipeError(f"episode {episode_id}: {final} is not the final cut that was verified (changed, truncated "
                           "or left by an interrupted run); run final_cut again")
    key = stable_hash({"final": final_record["sha256"], "res": resolution, "fps": fps, "v": STAGE_VERSION})
    side = out.with_suffix(".json")
    hit = cache_hit(side, key, out)
    edit = build_edit_list(paths, episode_id)
    if hit and still_verified(out, hit.get("output")):
        hit["episode_fingerprint"] = episode_fingerprint(paths.episode_dir(episode_id))
        write_sidecar(side, hit)
        return CutOutcome(out, float(hit["duration_s"]), True, key, edit)
    upscale(final, out, resolution=resolution, fps=fps)
    duration = probe(out).duration_s
    write_sidecar(side, {"key": key, "duration_s": duration, "source": str(final),
                         "source_sha256": final_record["sha256"], "resolution": resolution, "fps": fps,
                         "output": file_record(out),
                         "episode_fingerprint": episode_fingerprint(paths.episode_dir(episode_id))})
    return CutOutcome(out, duration, False, key, edit)


@dataclass
class EpisodeStatus:
    episode: str
    ready: bool
    digest: str
    missing: list[str]
    failing: list[str]  # shots whose clip failed QC and waits for a person's decision
    reasons: dict[str, str] = field(default_factory=dict)  # shot → one line (why it failed, or who accepted it)


def episode_status(paths: Paths, episode_id: str) -> EpisodeStatus:
    """Is every shot's current clip usable (passed QC, or accepted by a person)? Read from the shot records only.

    The digest names each shot's clip (its content hash, as recorded) and any acceptance, so choosing a
    take or accepting a clip gives the final cut a new digest (and the gate a new run key).
    """
    episode = load_episode(paths.episode_dir(episode_id))
    missing: list[str] = []
    failing: list[str] = []
    marks: list[Any] = []
    reasons: dict[str, str] = {}
    for s in episode.shots:
        rec = ShotRef(paths, episode, s).read()
        state = rec.qc_state
        if state in ("not rendered", "awaiting QC"):
            missing.append(s.id)
            continue
        if state == "awaiting decision":
            failing.append(s.id)
        if state != "passed":
            reasons[s.id] = rec.state_line()
        marks.append([s.id, rec.qc.clip_hash if rec.qc else None,
                      rec.accepted.model_dump() if state == "accepted" and rec.accepted else None])
    marks.append(state_stamp(paths, episode_id, "decision"))
    return EpisodeStatus(episode_id, not missing and not failing, stable_hash(marks), missing, failing, reasons)


def pending_episodes(paths: Paths) -> list[str]:
    """Episodes whose delivered cut is missing or is not the episode as written now (what a weekly batch
    carries to delivery); an episode that cannot be read is not pending (its error is reported instead)."""
    todo = []
    for ep in list_episodes(paths.episodes):
        try:
            if not cut_state(paths, ep).current:
                todo.append(ep)
        except (VidpipeError, ValueError, OSError):
            continue
    return todo
