"""The episode's storyboard as a product: data/media/<ep>/storyboard.jpg, read from what was rendered.

Every panel of every rendered shot (sheet.py), the continuity links the episode declares, and under them
the cut's timeline (timeline.py). The timeline's times come from the final cut's own record (final.json:
the clips, their trims and transitions as assembled) when there is one, else from the clips as rendered;
its beats come from the music fit (music/fit.json) only while the bed in the cut is the one that fit made
(music_bed.json names the same track and window), so a stale fit never draws beats the cut does not have.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from vidpipe.edit_schema import EditClip, EditList
from vidpipe.episode import load_episode
from vidpipe.errors import VidpipeError
from vidpipe.finish.frames import edit_frames
from vidpipe.media.beat_cut import cut_points
from vidpipe.media.probe import probe
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import read_sidecar
from vidpipe.pipeline.record import ShotRef
from vidpipe.schema import Episode
from vidpipe.storyboard.sheet import SheetLayout, Tile, draw_sheet, save, shot_tiles
from vidpipe.storyboard.timeline import Span, Timeline


def storyboard_path(paths: Paths, episode_id: str) -> Path:
    return paths.episode_media(episode_id) / "storyboard.jpg"


def write_storyboard(paths: Paths, episode_id: str, out: Path | None = None, *, columns: int = 4,
                     tile_width: int = 400) -> Path:
    """Draw the episode's storyboard and save it (default data/media/<ep>/storyboard.jpg); returns the path.

    Raises:
        VidpipeError: no shot of the episode has a rendered clip yet.
    """
    img, _ = render_storyboard(paths, episode_id, columns=columns, tile_width=tile_width)
    return save(img, out or storyboard_path(paths, episode_id))


def render_storyboard(paths: Paths, episode_id: str, *, columns: int = 4,
                      tile_width: int = 400) -> tuple[Image.Image, SheetLayout]:
    """The sheet in memory and where its parts are (tiles, links, the timeline's axis)."""
    episode = load_episode(paths.episode_dir(episode_id), paths=paths)
    tiles = episode_tiles(paths, episode)
    if not tiles:
        raise VidpipeError(f"episode {episode_id}: no shot has a rendered clip yet; "
                           f"run `vidpipe render {episode_id}` first")
    timeline = cut_timeline(paths, episode)
    shots = len({t.shot for t in tiles})
    subtitle = (f"{episode.id} · {shots} of {len(episode.shots)} shots · {len(tiles)} panels · "
                f"{episode.resolution} {episode.fps} fps")
    return draw_sheet(tiles, title=f"{episode.title} · storyboard", subtitle=subtitle, columns=columns,
                      tile_width=tile_width, timeline=timeline)


def episode_tiles(paths: Paths, episode: Episode) -> list[Tile]:
    """Every panel of every shot whose clip is rendered, in episode order."""
    out: list[Tile] = []
    for ref in ShotRef.all(paths, episode):
        if ref.clip_path.exists():  # a clip with no recorded request (placed by hand) is one panel
            request = ref.read().request or {"duration": probe(ref.clip_path).duration_s}
            out += shot_tiles(ref.clip_path, request, shot=ref.shot.id, continues_from=ref.shot.continue_from)
    return out


def cut_timeline(paths: Paths, episode: Episode) -> Timeline:
    """The final cut's shot spans and beats; without a final cut, the rendered clips end to end, no beats."""
    media = paths.episode_media(episode.id)
    final = read_sidecar(media / "final.json") if (media / "final.mp4").exists() else None
    edit, shots = _final_edit(final) if final else _clip_edit(paths, episode)
    fps = edit.fps
    frames = edit_frames(edit)  # the assembler's own frame arithmetic (trims, open ends probed, crossfades)
    points = cut_points([c.length for c in frames], [c.fade_in for c in frames], fps) if frames else []
    follows = {s.id: s.continue_from for s in episode.shots}
    spans = [Span(shot, points[k - 1] if k else 0.0, points[k],
                  continues=k > 0 and follows.get(shot) == shots[k - 1]) for k, shot in enumerate(shots)]
    duration = points[-1] if points else 0.0
    fit = _current_fit(media, final) if final else None
    beats = [float(b) for b in fit.get("beats_in_cut", [])] if fit else []
    where = f"final cut, {duration:.1f} s" if final else f"clips as rendered, {duration:.1f} s (no final cut yet)"
    if fit:
        music = f"{Path(str(fit.get('track', ''))).name} at {float(fit.get('tempo_bpm') or 0):.0f} BPM"
        music += ", cut to the beat" if fit.get("cut_to_beat") else ""
    elif final:
        music = "no music beats (ambience bed or no music)"
    else:
        music = "beats appear once the cut is made"
    return Timeline(spans, duration, beats, fps, f"{where} · {music}")


def _final_edit(final: dict[str, Any]) -> tuple[EditList, list[str]]:
    """The edit final.json says was cut, and the shot of each clip (from its provenance)."""
    edit = EditList.model_validate(final.get("edit", {}))
    ids = [str(s.get("shot")) for s in final.get("shots", [])]
    return edit, [ids[k] if k < len(ids) else f"#{k + 1}" for k in range(len(edit.clips))]


def _clip_edit(paths: Paths, episode: Episode) -> tuple[EditList, list[str]]:
    """Before any cut: the rendered clips end to end with their spec's transitions."""
    refs = [r for r in ShotRef.all(paths, episode) if r.clip_path.exists()]
    clips = [EditClip(path=str(r.clip_path), transition=r.shot.transition if k else "cut",
                      transition_dur=r.shot.transition_dur) for k, r in enumerate(refs)]
    edit = EditList(output="", resolution=episode.resolution, fps=episode.fps, clips=clips)
    return edit, [r.shot.id for r in refs]


def _current_fit(media: Path, final: dict[str, Any]) -> dict[str, Any] | None:
    """The music fit, if the final cut plays the bed that fit rendered; else None (no beats)."""
    bed = media / "music_bed.wav"
    tracks = final.get("edit", {}).get("tracks", [])
    if not any(t.get("kind") == "music" and Path(t.get("path", "")) == bed for t in tracks):
        return None
    fit, made = read_sidecar(media / "music" / "fit.json"), read_sidecar(bed.with_suffix(".json"))
    if not fit or not made or made.get("track") != fit.get("track"):
        return None
    window = fit.get("window") or {}
    return fit if made.get("window") == [window.get("start"), window.get("end")] else None
