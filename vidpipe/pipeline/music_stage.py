"""The episode's score fitted to its cut: which track, which window, and (cut_to_beat) where the cuts fall.

One call, `fit_music`, answers all three for the edit list, because they depend on each other: the window
is chosen for the cut's length, the cut points move onto the window's beats, and the window then ends
where the retimed cut ends (a beat). Track analyses are cached per file content under
data/media/<ep>/music/, the fitted bed per (track, window), and music/fit.json records the choice and the
cut times before/after so a person (and the closing report) can see what moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.media.ambience import render_ambience
from vidpipe.media.beat_cut import Retimed, snap_to_beats
from vidpipe.media.music import TrackAnalysis, Window, analyse, audio_files, best_window, choose_track, render_bed
from vidpipe.environment import has_key
from vidpipe.errors import ProviderRejected, VidpipeError
from vidpipe.ledger import record_spend
from vidpipe.media.verify import still_verified
from vidpipe.paths import Paths
from vidpipe.providers.elevenlabs_music import MUSIC_MODEL, compose, estimate_music, music_length_ms
from vidpipe.pipeline.cache import STAGE_VERSION, cache_hit, file_hash, read_sidecar, stable_hash, write_sidecar
from vidpipe.schema import Episode
from vidpipe.store import Store

BEAT_REACH_S = 0.6  # beats this far past the window's edges can still take a cut point


@dataclass
class MusicFit:
    """The bed the edit plays and the shot lengths (frames) the cut uses; `fitted` beds carry their own fades."""

    bed: Path | None
    lengths: list[int]
    fitted: bool = False
    info: dict[str, Any] = field(default_factory=dict)


def music_source(paths: Paths, episode: Episode) -> Path | None:
    """The music file or folder the episode names (relative to its folder), or None."""
    if episode.music is None or not episode.music.path:
        return None
    p = Path(episode.music.path).expanduser()
    return p if p.is_absolute() else paths.episode_dir(episode.id) / p


def has_score(paths: Paths, episode: Episode) -> bool:
    """Is there music to fit (a file, a folder, or a prompt with a key to make it)? Else the ambience bed."""
    music = episode.music
    return music_source(paths, episode) is not None or bool(music and music.prompt and has_key("elevenlabs"))


def cached_analysis(paths: Paths, episode_id: str, track: Path) -> TrackAnalysis:
    """A track's beats and energy, computed once per file content (librosa is seconds per track)."""
    h = file_hash(track)
    side = paths.episode_media(episode_id) / "music" / f"analysis-{h[:16]}.json"
    key = stable_hash({"track": h, "v": STAGE_VERSION})
    hit = read_sidecar(side)
    if hit and hit.get("key") == key:
        return TrackAnalysis(**hit["analysis"])
    a = analyse(track)
    write_sidecar(side, {"key": key, "track": str(track), "analysis": a.to_json()})
    return a


def ambience_bed(paths: Paths, episode: Episode, dur: float) -> Path | None:
    """Offline: the ambience the episode describes, rendered to the cut's length."""
    if episode.music is None or not episode.music.ambience:
        return None
    out = paths.episode_media(episode.id) / "music_bed.wav"
    key = stable_hash({"ambience": episode.music.ambience, "dur": dur, "v": STAGE_VERSION})
    if not cache_hit(out.with_suffix(".json"), key, out):
        render_ambience(episode.music.ambience, dur, out)
        write_sidecar(out.with_suffix(".json"), {"key": key, "ambience": episode.music.ambience, "duration_s": dur})
    return out


def cut_frames(lengths: list[int], xfades: list[int]) -> int:
    return sum(lengths) - sum(xfades)


def fit_music(paths: Paths, episode: Episode, lengths: list[int], xfades: list[int], room: list[int]) -> MusicFit:
    """Choose the track and window for a cut of these shot lengths (frames), retime it to the beat if asked,
    and render the fitted bed. Without a music file or folder: the ambience bed (or none) and the cut as is."""
    fps = episode.fps
    source = music_source(paths, episode)
    if source is None and episode.music is not None and episode.music.prompt and has_key("elevenlabs"):
        source = generated_track(paths, episode, cut_frames(lengths, xfades) / fps)
    if source is None:  # offline a prompt keeps the ambience bed
        return MusicFit(ambience_bed(paths, episode, cut_frames(lengths, xfades) / fps), list(lengths))
    tracks = audio_files(source) if source.is_dir() else [source]
    analyses = [cached_analysis(paths, episode.id, t) for t in tracks]
    length = cut_frames(lengths, xfades) / fps
    pick = choose_track(analyses, length)
    track, a = tracks[pick], analyses[pick]
    window = best_window(a, length)
    retimed: Retimed | None = None
    new_lengths = list(lengths)
    if episode.cut_to_beat and a.beats:
        beats = [b - window.start for b in a.beats
                 if window.start - BEAT_REACH_S <= b <= window.end + BEAT_REACH_S]
        retimed = snap_to_beats(lengths, xfades, room, beats, fps)
        new_lengths = retimed.after
        end = round(window.start + cut_frames(new_lengths, xfades) / fps, 4)
        window = Window(window.start, min(end, a.duration_s), window.energy_db, window.on_beat,
                        [b for b in window.beats if b <= end - window.start + 1e-6])
    bed = _fitted_bed(paths, episode.id, track, window)
    info = {"track": str(track), "choices": [str(t) for t in tracks], "tempo_bpm": a.tempo_bpm,
            "window": {"start": window.start, "end": window.end, "energy_db": window.energy_db,
                       "ends_on_phrase": window.on_beat},
            "beats_in_cut": [round(b - window.start, 4) for b in a.beats if window.start <= b <= window.end],
            "cut_to_beat": episode.cut_to_beat}
    if retimed is not None:
        info.update(cuts_before=[round(p, 3) for p in retimed.points_before],
                    cuts_after=[round(p, 3) for p in retimed.points_after], snapped=retimed.snapped,
                    lengths_before=retimed.before, lengths_after=retimed.after)
    write_sidecar(paths.episode_media(episode.id) / "music" / "fit.json", info)
    return MusicFit(bed, new_lengths, True, info)


def _fitted_bed(paths: Paths, episode_id: str, track: Path, window: Window) -> Path:
    """The window of `track` with fades, cached on the track's content and the window."""
    out = paths.episode_media(episode_id) / "music_bed.wav"
    side = out.with_suffix(".json")
    key = stable_hash({"track": file_hash(track), "start": window.start, "end": window.end, "v": STAGE_VERSION})
    hit = cache_hit(side, key, out)
    if not (hit and still_verified(out, hit.get("output"))):
        verified = render_bed(track, window, out)
        write_sidecar(side, {"key": key, "track": str(track), "window": [window.start, window.end],
                             "output": verified.record()})
    return out


def prompt_length_ms(cut_s: float) -> int:
    """The track length asked for a cut, in 30 s steps so a slightly changed cut reuses the track it has."""
    return music_length_ms(30.0 * -(-cut_s // 30.0))


def generated_track(paths: Paths, episode: Episode, cut_s: float) -> Path:
    """The episode's score made from its prompt (ElevenLabs), once: cached on (prompt, model, length), booked in
    the ledger, and never asked again on its own after a request whose answer was lost."""
    assert episode.music is not None and episode.music.prompt
    length_ms = prompt_length_ms(cut_s)
    key = stable_hash({"prompt": episode.music.prompt, "model": MUSIC_MODEL, "ms": length_ms})
    out = paths.episode_media(episode.id) / "music" / f"generated-{key[:16]}.mp3"
    side = out.with_suffix(".json")
    hit = read_sidecar(side)
    if hit and hit.get("key") == key:
        if hit.get("state") == "done" and still_verified(out, hit.get("output")):
            return out
        raise VidpipeError(f"episode {episode.id}: a music request for this prompt was sent and no verified track "
                           f"came back (it may have been billed); delete {side} to ask again")
    est = estimate_music(length_ms, "elevenlabs")
    write_sidecar(side, {"key": key, "state": "sent", "prompt": episode.music.prompt, "length_ms": length_ms})
    try:
        verified = compose(episode.music.prompt, length_ms, out)
    except ProviderRejected:
        side.unlink(missing_ok=True)  # refused before any music was made: nothing billed, asking again is safe
        raise
    write_sidecar(side, {"key": key, "state": "done", "prompt": episode.music.prompt, "length_ms": length_ms,
                         "est_cost_usd": est, "output": verified.record()})
    record_spend(Store(paths.db), "music", key, model=MUSIC_MODEL, backend="elevenlabs", est_cost_usd=est,
                 cost_usd=est, episode=episode.id, job_id=f"music:{episode.id}", output_path=str(out))
    return out
