"""What the review pages show: episodes, shots and their takes, read from what the pipeline recorded.

Shot state is read in exactly one place (`_shot_record`), so switching it to the typed shot record
is one edit. Everything here tolerates half-rendered episodes: a shot with no clip yet is a view
with `take.clip = None`, never an exception.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vidpipe.episode import list_episodes, load_episode
from vidpipe.errors import SpecError, VidpipeError
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import read_sidecar
from vidpipe.schema import Episode, QCReport, Shot
from vidpipe.store import Store

ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
Status = Literal["rendered", "failing", "awaiting score", "not rendered", "rendering"]


class NotFound(VidpipeError):
    """An episode or shot the room does not have (the app answers 404)."""


# -- shot state: the one place that reads the pipeline's per-shot record ----------------------------
def _shot_record(folder: Path) -> dict[str, Any]:
    return read_sidecar(folder / "shot.json") or {}


def _generation(rec: dict[str, Any]) -> dict[str, Any]:
    return rec.get("generation") or {}


# -- takes -------------------------------------------------------------------------------------------
@dataclass
class Take:
    """One generated clip of a shot. The current take is what the cut uses; others are alternatives.

    `key` is stable across page loads (it names the take in URLs and, later, in "use this take").
    """

    key: str
    label: str
    source: Literal["current", "takes", "gen"]
    clip: Path | None
    model: str | None = None
    backend: str | None = None
    cost_usd: float | None = None
    request_id: str | None = None
    seed: int | None = None
    prompt: str | None = None
    review_dir: Path | None = None
    qc: QCReport | None = None
    current: bool = False

    @property
    def defects(self) -> list[str]:
        return [d.code for d in self.qc.defects] if self.qc else []

    @property
    def error_defects(self) -> list[str]:
        return [d.code for d in self.qc.defects if d.severity == "error"] if self.qc else []

    @property
    def overall(self) -> int | None:
        return self.qc.scores.overall if self.qc and self.qc.scores else None

    @property
    def sheet(self) -> Path | None:
        p = self.review_dir / "contact_sheet.jpg" if self.review_dir else None
        return p if p and p.exists() else None


def _review(folder: Path, clip_id: str | None) -> tuple[Path | None, QCReport | None]:
    """The QC folder of a take (review/<clip_id>/ preferred) and its report."""
    base = folder / "review"
    dirs = sorted(d for d in base.iterdir() if (d / "qc.json").exists()) if base.is_dir() else []
    review = next((d for d in dirs if d.name == clip_id), dirs[0] if dirs else None)
    if review is None and (folder / "qc.json").exists():
        review = folder
    if review is None:
        return None, None
    try:
        return review, QCReport.model_validate_json((review / "qc.json").read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return review, None


def _runner_facts(side: dict[str, Any]) -> dict[str, Any]:
    """Model, cost, seed and prompt from a runner sidecar (gen/<job>.json) or a take record."""
    job_input = ((side.get("job") or {}).get("input")) or {}
    gen = _generation(side)
    return {
        "model": gen.get("model") or side.get("model"),
        "backend": gen.get("backend") or side.get("backend"),
        "cost_usd": gen.get("cost_usd", side.get("cost_usd")),
        "request_id": gen.get("request_id") or side.get("request_id"),
        "seed": side.get("seed", job_input.get("seed")),
        "prompt": side.get("prompt") or job_input.get("prompt"),
    }


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def list_takes(paths: Paths, episode_id: str, shot_id: str) -> list[Take]:
    """Every take of a shot, the current one first.

    Sources: the shot's clip.mp4 (current); `takes/<name>/` folders (clip + record + review/) or
    `takes/<name>.mp4` with a `<name>.json` beside it; and earlier outputs in the runner's cache
    folder `gen/` that are not the current clip.
    """
    folder = paths.shot_media(episode_id, shot_id)
    rec = _shot_record(folder)
    clip_id = f"{episode_id}-{shot_id}"
    current_clip = folder / "clip.mp4"
    review, qc = _review(folder, clip_id)
    facts = _runner_facts(rec)
    if current_clip.exists():  # the runner's sidecar knows the seed the shot record may not
        for side in (folder / "gen").glob("*.json") if (folder / "gen").is_dir() else []:
            mp4 = side.with_suffix(".mp4")
            if mp4.exists() and _same_file(mp4, current_clip):
                facts = {k: v if v is not None else _runner_facts(read_sidecar(side) or {})[k] for k, v in facts.items()}
    current = Take("current", "current take", "current", current_clip if current_clip.exists() else None,
                   review_dir=review, qc=qc, current=True, **facts)
    takes = [current]
    seen = [current_clip] if current.clip else []

    def add(key: str, label: str, source: Literal["takes", "gen"], clip: Path, side: dict[str, Any],
            review_dir: Path | None = None, report: QCReport | None = None) -> None:
        if any(_same_file(clip, s) for s in seen):
            return
        seen.append(clip)
        takes.append(Take(key, label, source, clip, review_dir=review_dir, qc=report, **_runner_facts(side)))

    tdir = folder / "takes"
    for entry in sorted(tdir.iterdir(), key=lambda p: _natural(p.name)) if tdir.is_dir() else []:
        if entry.is_dir():
            clip = next(iter(sorted(entry.glob("clip.mp4")) or sorted(p for p in entry.glob("*.mp4") if _is_output(p))),
                        None)
            if clip is None:
                continue
            side = read_sidecar(entry / "take.json") or read_sidecar(entry / "shot.json") or read_sidecar(
                clip.with_suffix(".json")) or {}
            rdir, report = _review(entry, clip_id)
            add(f"takes:{entry.name}", f"take {entry.name}", "takes", clip, side, rdir, report)
        elif entry.suffix == ".mp4" and _is_output(entry):
            add(f"takes:{entry.stem}", f"take {entry.stem}", "takes", entry, read_sidecar(entry.with_suffix(".json")) or {})
    gdir = folder / "gen"
    older = sorted(gdir.glob("*.mp4"), key=lambda p: p.stat().st_mtime, reverse=True) if gdir.is_dir() else []
    for clip in filter(_is_output, older):
        add(f"gen:{clip.stem}", f"cached {clip.stem}", "gen", clip, read_sidecar(clip.with_suffix(".json")) or {})
    return takes


def _is_output(p: Path) -> bool:
    """A finished clip, not a hidden work file or a half-written temporary."""
    return not p.name.startswith(".") and not p.name.endswith(".tmp.mp4")


def _natural(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


# -- shots and episodes ------------------------------------------------------------------------------
@dataclass
class BlockView:
    start: int
    end: int
    action: str
    camera: str | None
    subject: str | None
    dialogue: str | None


@dataclass
class ShotView:
    id: str
    title: str | None
    mode: str
    category: str | None
    parts: dict[str, str]
    blocks: list[BlockView]
    prompt: str | None
    take: Take
    takes: list[Take] = field(default_factory=list)
    failure: str | None = None  # the last generation error, when the shot has no clip

    @property
    def cost(self) -> float:
        return float(self.take.cost_usd or 0.0)

    @property
    def status(self) -> Status:
        if self.take.clip is None:
            return "failing" if self.failure else "not rendered"
        if self.take.error_defects:
            return "failing"
        return "awaiting score" if self.take.overall is None else "rendered"


def _shot_view(paths: Paths, episode_id: str, s: Shot, failures: dict[str, str]) -> ShotView:
    takes = list_takes(paths, episode_id, s.id)
    rec = _shot_record(paths.shot_media(episode_id, s.id))
    parts = {"subject": s.subject, "action": s.action, "camera": s.camera, "style": s.style,
             "constraints": ", ".join(s.constraints)}
    blocks = [BlockView(b.start, b.end, b.action, b.camera, b.subject, b.dialogue) for b in s.blocks]
    return ShotView(s.id, s.title, s.mode, s.category, {k: v for k, v in parts.items() if v}, blocks,
                    rec.get("prompt") or takes[0].prompt, takes[0], takes,
                    failures.get(s.id) if takes[0].clip is None else None)


def load(paths: Paths, episode_id: str) -> Episode:
    """The episode spec, or NotFound for an id that is malformed or has no folder."""
    if not ID_RE.fullmatch(episode_id) or not paths.episode_dir(episode_id).is_dir():
        raise NotFound(f"no episode {episode_id!r}")
    try:
        return load_episode(paths.episode_dir(episode_id))
    except UnicodeDecodeError as exc:  # the loader may not say it; the room must, as one line
        raise SpecError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                        path=str(paths.episode_dir(episode_id))) from None


def _failures(store: Store | None, episode_id: str) -> dict[str, str]:
    """The latest generation error per shot (from the ledger), for shots that never got a clip."""
    if store is None or not store.path.exists():
        return {}
    try:
        rows = store.query("SELECT shot, error FROM generations WHERE episode = ? AND status = 'failed' "
                           "ORDER BY updated_at", [episode_id])
    except Exception:  # noqa: BLE001 - a locked or older DuckDB file only hides this hint
        return {}
    return {r["shot"]: r["error"] for r in rows if r["shot"] and r["error"]}


def spend(store: Store | None, episode_id: str) -> float | None:
    """What the ledger says the episode cost (None when the ledger cannot be read right now)."""
    if store is None or not store.path.exists():
        return 0.0
    from vidpipe.pipeline.episode_stages import episode_spend

    try:
        return episode_spend(store, episode_id)
    except Exception:  # noqa: BLE001 - a DuckDB file held by a running render
        return None


def episode_view(paths: Paths, episode_id: str, store: Store | None = None) -> dict[str, Any]:
    """Everything the episode page needs, tolerant of shots not rendered yet."""
    episode = load(paths, episode_id)
    media = paths.episode_media(episode_id)
    failures = _failures(store, episode_id)
    shots = [_shot_view(paths, episode_id, s, failures) for s in episode.shots]
    final, delivery = media / "final.mp4", media / "delivery.mp4"
    spent = spend(store, episode_id)
    return {
        "episode": episode,
        "shots": shots,
        "final": final if final.exists() else None,
        "delivery": delivery if delivery.exists() else None,
        "total_cost": spent if spent is not None else sum(s.cost for s in shots),
        "status": episode_status(shots),
    }


def shot_view(paths: Paths, episode_id: str, shot_id: str, store: Store | None = None) -> tuple[Episode, ShotView]:
    episode = load(paths, episode_id)
    s = next((s for s in episode.shots if s.id == shot_id), None)
    if s is None:
        raise NotFound(f"episode {episode_id!r} has no shot {shot_id!r}")
    return episode, _shot_view(paths, episode_id, s, _failures(store, episode_id))


def episode_status(shots: list[ShotView]) -> Status:
    """failing beats everything; then not rendered / rendering; then awaiting score; else rendered."""
    states = [s.status for s in shots]
    if "failing" in states:
        return "failing"
    if all(st == "not rendered" for st in states):
        return "not rendered"
    if "not rendered" in states:
        return "rendering"
    return "awaiting score" if "awaiting score" in states else "rendered"


@dataclass
class EpisodeCard:
    """One row of the index: enough to decide which episode to open."""

    id: str
    title: str | None
    shots: int = 0
    rendered: int = 0
    status: Status | str = "not rendered"
    cost_usd: float | None = None
    budget_usd: float | None = None
    thumbnail: Path | None = None
    error: str | None = None


def _thumbnail(paths: Paths, episode_id: str, shots: list[ShotView]) -> Path | None:
    """A frame of the first rendered shot (QC frames are small JPEGs), else a still."""
    for s in shots:
        if s.take.review_dir:
            frames = sorted(s.take.review_dir.glob("frame_*.jpg"))
            if frames:
                return frames[len(frames) // 2]
    for s in shots:
        still = paths.shot_media(episode_id, s.id) / "still.png"
        if still.exists():
            return still
    return None


def episode_cards(paths: Paths, store: Store | None = None) -> list[EpisodeCard]:
    """Every episode folder, including ones that fail to load (shown with their error)."""
    cards = []
    for ep in list_episodes(paths.episodes):
        try:
            view = episode_view(paths, ep, store)
        except (VidpipeError, ValueError, OSError) as exc:  # a bad YAML or non-UTF-8 file is one card, not a 500
            cards.append(EpisodeCard(ep, None, status="failing", error=_one_line(exc)))
            continue
        shots: list[ShotView] = view["shots"]
        episode: Episode = view["episode"]
        cards.append(EpisodeCard(ep, episode.title, len(shots), sum(1 for s in shots if s.take.clip), view["status"],
                                 view["total_cost"], episode.budget_usd, _thumbnail(paths, ep, shots)))
    return cards


def _one_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def safe_media_path(media_root: Path, rel: str) -> Path:
    """Resolve `rel` under the media root; anything outside (.., absolute, symlinks out) is refused."""
    root = media_root.resolve()
    p = (root / rel).resolve()
    if not p.is_relative_to(root) or not p.is_file():
        raise SpecError(f"not a media file: {rel}")
    return p
