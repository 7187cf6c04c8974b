"""Episode specs: `data/episodes/<ep>/episode.yaml|json` → `Episode`, with errors naming file and field.

Everything the final cut, the voiceover and the delivery will need is checked when the spec loads
(frame rate, aspects, durations, transitions against their neighbours, blocks, models, local
references and the music bed), so no shot is paid for when the cut is already doomed.
`validate_episode` adds what only a composed request shows (every shot's validation and route).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from vidpipe.cast import cast_problems
from vidpipe.errors import SpecError, VidpipeError
from vidpipe.ids import is_safe_id
from vidpipe.media.music import AUDIO_EXTS, audio_files
from vidpipe.paths import Paths
from vidpipe.refcheck import RefPolicy, check_refs
from vidpipe.routing import PROJECT_PROFILE, history_store, project_profile
from vidpipe.schema import ASPECT_RATIOS, MODELS, RESOLUTIONS, STILL_MODELS, Episode, Finding, Shot, load_model
from vidpipe.shots import chain_note, chain_successor, chained, needs_still, shot_to_job, still_prompt
from vidpipe.specfile import MAX_NESTING, check_depth, parse_json, read_text
from vidpipe.validate import JobReport, check_job

EPISODE_FILES = ("episode.yaml", "episode.yml", "episode.json")
FPS_RANGE = (1, 120)
AUTO_DURATION_S = 5  # what the timeline assumes for duration -1 (auto)


def find_episode_file(folder: Path) -> Path | None:
    for name in EPISODE_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def _parse(file: Path) -> Any:
    text = read_text(file)
    if file.suffix == ".json":
        return parse_json(text, path=str(file))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise SpecError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", path=str(file)) from None
    except RecursionError:
        raise SpecError(f"nested deeper than {MAX_NESTING} levels; not an episode", path=str(file)) from None
    return check_depth(data, path=str(file))


def load_episode(path: str | Path, *, paths: Paths | None = None) -> Episode:
    """Load and check an episode from its folder or file. The folder name is the episode id.

    Args:
        path: the episode folder (or its episode.yaml/json).
        paths: the project's roots (where references and the music bed may come from); default from env.
    Raises:
        SpecError: unreadable, invalid, or doomed at the cut — one line naming the file and the fields.
    """
    p = Path(path)
    file = find_episode_file(p) if p.is_dir() else p
    if file is None:
        raise SpecError(f"no {' / '.join(EPISODE_FILES)} in this folder", path=str(p))
    data = _parse(file)
    if not isinstance(data, dict):
        raise SpecError("an episode must be a mapping with title and shots", path=str(file))
    data.setdefault("id", file.parent.name)
    episode: Episode = load_model(Episode, data, path=str(file))
    problems = episode_problems(episode, folder=file.parent, paths=paths)
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise SpecError("; ".join(problems[:5]) + more, path=str(file))
    return episode


def _length(shot: Shot) -> float:
    return float(shot.duration if shot.duration > 0 else AUTO_DURATION_S)


def _shot_problems(i: int, s: Shot) -> list[str]:
    at = f"shots.{i}.{{}} ({s.id})"
    out: list[str] = []
    if not (s.duration == -1 or 4 <= s.duration <= 15):
        out.append(f"{at.format('duration')}: {s.duration} s; use 4–15 or -1 (auto)")
    if s.aspect_ratio is not None and s.aspect_ratio not in ASPECT_RATIOS:
        out.append(f"{at.format('aspect_ratio')}: {s.aspect_ratio!r}; use one of {', '.join(ASPECT_RATIOS)}")
    if s.resolution is not None and s.resolution not in RESOLUTIONS:
        out.append(f"{at.format('resolution')}: {s.resolution!r}; use one of {', '.join(RESOLUTIONS)}")
    if s.model != "auto" and s.model not in MODELS:
        out.append(f"{at.format('model')}: unknown model {s.model!r}; use auto or one of {', '.join(MODELS)}")
    if s.still is not None and s.still.model not in STILL_MODELS:
        out.append(f"{at.format('still.model')}: unknown still model {s.still.model!r}; use one of "
                   f"{', '.join(STILL_MODELS)}")
    if s.transition_dur < 0:
        out.append(f"{at.format('transition_dur')}: {s.transition_dur} s is negative")
    for j, b in enumerate(s.blocks):
        if not 0 <= b.start < b.end or (s.duration > 0 and b.end > s.duration):
            out.append(f"{at.format(f'blocks.{j}')}: [{b.start}-{b.end}] must satisfy 0 ≤ start < end ≤ duration "
                       f"({s.duration} s)")
    return out


def _continuity_problems(episode: Episode) -> list[str]:
    """`continue_from` names an earlier shot. A first-frame `still:` on a continuing shot asks for chained mode
    (vidpipe.shots.chained); when the chain is impossible the shot is sequential and validate warns."""
    out: list[str] = []
    earlier: set[str] = set()
    for i, s in enumerate(episode.shots):
        if s.continue_from is not None:
            at = f"shots.{i}.continue_from ({s.id})"
            if s.continue_from not in earlier:
                where = "itself" if s.continue_from == s.id else (
                    "a later shot" if any(x.id == s.continue_from for x in episode.shots) else "no shot")
                out.append(f"{at}: {s.continue_from!r} is {where}; name an earlier shot of this episode")
        earlier.add(s.id)
    return out


def _transition_problems(episode: Episode) -> list[str]:
    """A crossfade overlaps two clips: it must be shorter than both, and a clip cannot be eaten by two fades."""
    out: list[str] = []
    fades = [s.transition_dur if i and s.transition == "crossfade" else 0.0 for i, s in enumerate(episode.shots)]
    for i, s in enumerate(episode.shots):
        if i == 0 or s.transition != "crossfade" or s.transition_dur < 0:
            continue
        prev = episode.shots[i - 1]
        at = f"shots.{i}.transition_dur ({s.id})"
        shortest = min(_length(prev), _length(s))
        if s.transition_dur == 0:
            out.append(f"{at}: a crossfade needs a duration above 0 s (or use transition: cut)")
        elif s.transition_dur >= shortest:
            out.append(f"{at}: a {s.transition_dur} s crossfade must be shorter than both neighbouring clips "
                       f"({prev.id} {_length(prev):g} s, {s.id} {_length(s):g} s)")
    for i, s in enumerate(episode.shots):
        fade_out = fades[i + 1] if i + 1 < len(fades) else 0.0
        if fades[i] and fade_out and fades[i] + fade_out >= _length(s):
            out.append(f"shots.{i} ({s.id}): crossfades in ({fades[i]:g} s) and out ({fade_out:g} s) cover its whole "
                       f"{_length(s):g} s; shorten them")
    return out


def episode_problems(episode: Episode, *, folder: Path, paths: Paths | None = None) -> list[str]:
    """Every reason the cut, voiceover or delivery of `episode` would fail, as 'field (shot): message'."""
    out: list[str] = []
    if not FPS_RANGE[0] <= episode.fps <= FPS_RANGE[1]:
        out.append(f"fps: {episode.fps}; use {FPS_RANGE[0]}–{FPS_RANGE[1]} frames per second")
    if episode.aspect_ratio not in ASPECT_RATIOS:
        out.append(f"aspect_ratio: {episode.aspect_ratio!r}; use one of {', '.join(ASPECT_RATIOS)}")
    if episode.budget_usd is not None and episode.budget_usd < 0:
        out.append(f"budget_usd: {episode.budget_usd} is negative")
    for i, s in enumerate(episode.shots):
        out += _shot_problems(i, s)
    out += _transition_problems(episode)
    out += _continuity_problems(episode)
    out += cast_problems(episode)
    policy = RefPolicy.for_project(paths, folder, base=folder)
    for i, m in enumerate(episode.cast):
        out += [f"cast.{i}.images ({m.id}): {f.message}" for f in
                check_refs({"reference_images": m.images}, policy, where=f"cast member {m.id}")]
    for i, s in enumerate(episode.shots):
        refs = {"reference_images": s.refs.images, "reference_videos": s.refs.videos,
                "reference_audios": s.refs.audios}
        out += [f"shots.{i}.refs ({s.id}): {f.message}" for f in check_refs(refs, policy, where=f"shot {s.id}")]
    music = episode.music
    if music is not None:
        if music.path and music.path.startswith(("http://", "https://", "gs://", "s3://", "data:")):
            out.append("music.path: the music bed must be a local audio file (download it into the episode folder)")
        elif music.path:
            out += _music_path_problems(music.path, policy)
        if not -60.0 <= music.gain_db <= 12.0:
            out.append(f"music.gain_db: {music.gain_db} dB; use -60..12")
        if music.path and music.prompt:
            out.append("music: give a path (file or folder) or a prompt, not both")
    if episode.cut_to_beat and not (music and (music.path or music.prompt)):
        out.append("cut_to_beat: needs music with beats to cut to (music.path: a file or a folder; or music.prompt)")
    return out


def _music_path_problems(ref: str, policy: RefPolicy) -> list[str]:
    """A music file, or a folder holding at least one audio file (each checked like any reference)."""
    try:
        place, inside = policy.place(ref)
    except (OSError, RuntimeError, ValueError):
        place, inside = None, False
    if place is None or not inside or not place.is_dir():
        return [f"music.path: {f.message}" for f in
                check_refs({"reference_audios": [ref]}, policy, where="the music bed")]
    tracks = audio_files(place)
    if not tracks:
        return [f"music.path: the folder {ref!r} holds no audio file ({', '.join(AUDIO_EXTS)})"]
    return [f"music.path: {f.message}" for f in
            check_refs({"reference_audios": [str(t) for t in tracks]}, policy, where="the music folder")]


def episode_folder(paths: Paths, episode: str | Path) -> Path:
    """An episode given as a folder/file path, or as an id under the project's episodes folder (confined)."""
    p = Path(episode)
    if p.exists():
        return p if p.is_dir() else p.parent
    return paths.episode_dir(str(episode))


_PROJECT: Any = object()  # "the project's own" (QC store / profile)


def validate_episode(paths: Paths, episode: str | Path, *, store: Any = _PROJECT,
                     profile: Any = PROJECT_PROFILE) -> tuple[Episode, list[JobReport]]:
    """Load the episode (every episode-level check) and validate and route every shot's request, as
    `render` and the assets will (same `check_job`, same QC store and profile). Nothing is spent.

    Raises:
        SpecError: the episode itself is invalid (one line naming the file and fields).
    """
    folder = episode_folder(paths, episode)
    ep = load_episode(folder, paths=paths)
    store = history_store(paths) if store is _PROJECT else store
    profile = project_profile(paths) if profile is PROJECT_PROFILE else profile
    refs = RefPolicy.for_project(paths, folder)
    reports = []
    for shot in ep.shots:
        label = f"{ep.id}/{shot.id}"
        still = str(paths.shot_media(ep.id, shot.id) / "still.png") if needs_still(shot) else None
        nxt = chain_successor(ep, shot)
        last = str(paths.shot_media(ep.id, nxt.id) / "still.png") if nxt is not None else None
        try:
            job = shot_to_job(ep, shot, still_path=still, profile=profile, episode_dir=folder, paths=paths,
                              last_frame_path=last)
        except VidpipeError as exc:
            reports.append(JobReport(label=label, route="?", errors=[Finding(code="profile_missing", message=str(exc))],
                                     warnings=[]))
            continue
        r, findings = check_job(job, store=store, profile=profile, lessons_path=paths.lessons, refs=refs)
        note = chain_note(ep, shot)
        findings += [Finding(code="continuity_sequential", message=note, severity="warning")] if note else []
        reports.append(JobReport(label=label, route=r.model, route_reason=r.reason, route_evidence=r.explain(),
                                 job=job, errors=[f for f in findings if f.severity == "error"],
                                 warnings=[f for f in findings if f.severity == "warning"]))
    return ep, reports


def check_episode(paths: Paths, episode: str | Path) -> Episode:
    """`validate_episode`, raising one SpecError when any shot has an error: called before any spend."""
    ep, reports = validate_episode(paths, episode)
    bad = [f"{r.label} {e.code}: {e.message}" for r in reports for e in r.errors]
    if bad:
        more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
        raise SpecError(f"episode {ep.id} would fail, nothing was spent: " + "; ".join(bad[:3]) + more)
    return ep


def list_episodes(episodes_dir: Path, *, include_unsafe: bool = False) -> list[str]:
    """Episode ids: sub-folders of `episodes_dir` holding an episode file, sorted. A folder whose name is not
    a safe id (vidpipe/ids.py) cannot be an episode and is left out, unless `include_unsafe` (to report it)."""
    if not episodes_dir.is_dir():
        return []
    return sorted(d.name for d in episodes_dir.iterdir()
                  if d.is_dir() and find_episode_file(d) and (include_unsafe or is_safe_id(d.name)))


def episode_fingerprint(folder: Path) -> str:
    """Content hash of an episode folder's files: a changed file means a changed episode."""
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            h.update(f.relative_to(folder).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def shot_fingerprint(episode: Episode, shot: Shot, *, paths: Paths | None = None) -> str:
    """Hash of everything that shapes one shot's render (its spec plus the episode's frame).

    Continuity (vidpipe.shots.chained decides the mode): a shot continuing another sequentially includes the
    content of that shot's chosen clip (another take of it makes this stale); a chained one does not (its
    first frame is its own still). A shot whose last frame is a chained successor's still includes what makes
    that still (its prompt, model, frame, seed), so changing the successor's still makes this shot stale."""
    payload: dict[str, Any] = {
        "shot": shot.model_dump(mode="json"),
        "cast": [m.model_dump(mode="json") for m in episode.cast if m.id in shot.cast],
        "aspect": episode.aspect_ratio,
        "resolution": episode.resolution,
        "fps": episode.fps,
    }
    if shot.continue_from is not None and not chained(episode, shot):
        payload["continues"] = source_clip_hash(paths or Paths.from_env(), episode, shot.continue_from)
    nxt = chain_successor(episode, shot)
    if nxt is not None:
        payload["last_frame"] = {"shot": nxt.id, "prompt": still_prompt(nxt),
                                 "still": nxt.still.model_dump(mode="json") if nxt.still else None,
                                 "aspect": nxt.aspect_ratio or episode.aspect_ratio,
                                 "resolution": nxt.resolution or episode.resolution, "seed": nxt.seed}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def source_clip_hash(paths: Paths, episode: Episode, shot_id: str) -> str | None:
    """Content hash of a shot's chosen clip (the file the cut and a continuing shot use), None before it exists."""
    clip = paths.shot_media(episode.id, shot_id) / "clip.mp4"
    if not clip.is_file():
        return None
    h = hashlib.sha256()
    with clip.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
