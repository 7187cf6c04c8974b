"""What the review pages show: episodes, shots and their takes, read from what the pipeline recorded.

Shot state comes only from the typed shot record (`ShotRef.read()`); QC from the take's qc.json;
the pass/fail rule from `vidpipe.qc.verdict`. Everything here tolerates half-rendered episodes: a
shot with no clip yet is a view with `take.clip = None`, never an exception.
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
from vidpipe.pipeline.record import GenerationRecord, ShotRecord, ShotRef
from vidpipe.qc.verdict import verdict
from vidpipe.schema import Episode, QCReport, Shot
from vidpipe.sidecar import read_sidecar
from vidpipe.store import Store

ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
Status = Literal["rendered", "failing", "awaiting score", "not rendered", "rendering"]


class NotFound(VidpipeError):
    """An episode or shot the room does not have (the app answers 404)."""


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
    number: int | None = None  # the take number (`vidpipe take EP SHOT N`) when the record gives one
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
        return [d.code for d in self.qc.blocking_defects()] if self.qc else []

    @property
    def passed(self) -> bool | None:
        """The one QC verdict on this take (None without a QC report)."""
        return verdict(self.qc) if self.qc else None

    @property
    def overall(self) -> int | None:
        return self.qc.scores.overall if self.qc and self.qc.scores else None

    @property
    def sheet(self) -> Path | None:
        p = self.review_dir / "contact_sheet.jpg" if self.review_dir else None
        return p if p and p.exists() else None


def _review(folder: Path, *names: str, any_dir: bool = True) -> tuple[Path | None, QCReport | None]:
    """The QC folder of a take (review/<name>/ for the first name that has one, else any) and its report."""
    base = folder / "review"
    dirs = sorted(d for d in base.iterdir() if (d / "qc.json").exists()) if base.is_dir() else []
    review = next((d for n in names for d in dirs if d.name == n), dirs[0] if dirs and any_dir else None)
    if review is None and any_dir and (folder / "qc.json").exists():
        review = folder
    if review is None:
        return None, None
    try:
        return review, QCReport.model_validate_json((review / "qc.json").read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return review, None


def _record_facts(g: GenerationRecord | None, rec: ShotRecord) -> dict[str, Any]:
    """Model, cost, seed and prompt of a generation in the shot record."""
    return {
        "model": g.model if g else None, "backend": g.backend if g else None,
        "cost_usd": g.cost_usd if g else None, "request_id": g.request_id if g else None,
        "seed": g.seed if g and g.seed is not None else rec.request.get("seed"), "prompt": rec.prompt,
    }


def _runner_facts(side: dict[str, Any]) -> dict[str, Any]:
    """Model, cost, seed and prompt from a runner sidecar (gen/<job>.json) or a take's own JSON."""
    job_input = ((side.get("job") or {}).get("input")) or {}
    gen = side.get("generation") or {}
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


def list_takes(ref: ShotRef, rec: ShotRecord | None = None) -> list[Take]:
    """Every take of a shot, the current one first (each clip once, however many places list it).

    Sources, in order: the shot's clip.mp4 (current, facts from the record's `generation`); the
    record's `takes` (numbered generations kept under `takes/`); any other clip under `takes/`
    (`takes/<name>/` folders with their own review/, or `takes/<name>.mp4` with a `<name>.json`);
    and earlier outputs in the runner's cache folder `gen/` that are not the current clip.
    """
    rec = rec if rec is not None else ref.read()
    review, qc = _review(ref.dir, ref.clip_id, any_dir=False)
    facts = {**_gen_sidecar_facts(ref), **{k: v for k, v in _record_facts(rec.generation, rec).items() if v is not None}}
    has_clip = ref.clip_path.exists()
    current = Take("current", "current take", "current", ref.clip_path if has_clip else None,
                   rec.generation.take if rec.generation else None, review_dir=review, qc=qc, current=True, **facts)
    takes = [current]
    seen = [ref.clip_path] if has_clip else []

    def add(key: str, label: str, source: Literal["takes", "gen"], clip: Path, facts: dict[str, Any],
            number: int | None = None, rq: tuple[Path | None, QCReport | None] = (None, None)) -> None:
        if not clip.exists() or any(_same_file(clip, s) for s in seen):
            return
        seen.append(clip)
        takes.append(Take(key, label, source, clip, number, review_dir=rq[0], qc=rq[1], **facts))

    for g in sorted(rec.takes, key=lambda g: g.take):
        clip = Path(g.path)
        if g.hash and rec.generation and g.hash == rec.generation.hash:
            current.number = g.take  # the record lists the chosen take among its takes
            continue
        own = clip.parent if clip.parent != ref.takes_dir else None
        add(f"take:{g.take}", f"take {g.take}", "takes", clip, _record_facts(g, rec), g.take,
            _review(own, clip.stem, ref.clip_id) if own else _review(ref.takes_dir, clip.stem, any_dir=False))
    tdir = ref.takes_dir
    for entry in sorted(tdir.iterdir(), key=lambda p: _natural(p.name)) if tdir.is_dir() else []:
        if entry.is_dir():
            clip = next(iter(sorted(entry.glob("clip.mp4")) or sorted(p for p in entry.glob("*.mp4") if _is_output(p))),
                        None)
            if clip is None:
                continue
            side = read_sidecar(entry / "take.json") or read_sidecar(clip.with_suffix(".json")) or {}
            add(f"takes:{entry.name}", f"take {entry.name}", "takes", clip, _runner_facts(side),
                int(entry.name) if entry.name.isdigit() else None, _review(entry, clip.stem, ref.clip_id))
        elif entry.suffix == ".mp4" and _is_output(entry):
            add(f"takes:{entry.stem}", f"take {entry.stem}", "takes", entry,
                _runner_facts(read_sidecar(entry.with_suffix(".json")) or {}),
                rq=_review(tdir, entry.stem, any_dir=False))
    gdir = ref.gen_dir
    older = sorted(gdir.glob("*.mp4"), key=lambda p: p.stat().st_mtime, reverse=True) if gdir.is_dir() else []
    for clip in filter(_is_output, older):
        add(f"gen:{clip.stem}", f"cached {clip.stem}", "gen", clip, _runner_facts(read_sidecar(clip.with_suffix(".json")) or {}))
    return takes


def _gen_sidecar_facts(ref: ShotRef) -> dict[str, Any]:
    """Facts of the current clip from the runner's sidecar beside its cached output (fills record gaps)."""
    if not ref.clip_path.exists() or not ref.gen_dir.is_dir():
        return {}
    for mp4 in ref.gen_dir.glob("*.mp4"):
        if _same_file(mp4, ref.clip_path):
            return {k: v for k, v in _runner_facts(read_sidecar(mp4.with_suffix(".json")) or {}).items() if v is not None}
    return {}


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
    failure: str | None = None  # the last generation error (or an unreadable record), when there is no clip
    judge_error: str | None = None  # the VLM judge failed on this clip; its technical QC still stands
    outdated: bool = False  # the spec changed since this clip was made (a re-render is due)

    @property
    def cost(self) -> float:
        return float(self.take.cost_usd or 0.0)

    @property
    def status(self) -> Status:
        """failing (no clip and an error, or the QC verdict says no) · rendering · awaiting score · rendered."""
        if self.take.clip is None:
            return "failing" if self.failure else "not rendered"
        if self.take.passed is False:
            return "failing"
        if self.take.qc is None or self.outdated:
            return "rendering"
        return "awaiting score" if self.take.overall is None else "rendered"


def _shot_view(paths: Paths, episode: Episode, s: Shot, failures: dict[str, str]) -> ShotView:
    from vidpipe.episode import shot_fingerprint

    ref = ShotRef(paths, episode, s)
    failure = failures.get(s.id)
    try:
        rec = ref.read()
    except SpecError as exc:  # a damaged shot.json: show the shot, say why its facts are missing
        rec, failure = ShotRecord(episode=episode.id, shot=s.id), str(exc)
    takes = list_takes(ref, rec)
    outdated = bool(rec.generation and rec.generation.shot_fingerprint
                    and rec.generation.shot_fingerprint != shot_fingerprint(episode, s))
    parts = {"subject": s.subject, "action": s.action, "camera": s.camera, "style": s.style,
             "constraints": ", ".join(s.constraints)}
    blocks = [BlockView(b.start, b.end, b.action, b.camera, b.subject, b.dialogue) for b in s.blocks]
    return ShotView(s.id, s.title, s.mode, s.category, {k: v for k, v in parts.items() if v}, blocks,
                    rec.prompt or takes[0].prompt, takes[0], takes, failure if takes[0].clip is None else None,
                    rec.qc.judge_error if rec.qc else None, outdated)


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
    from vidpipe.ledger import Ledger

    try:
        return Ledger(store).spend(episode=episode_id)
    except Exception:  # noqa: BLE001 - a DuckDB file held by a running render
        return None


def episode_view(paths: Paths, episode_id: str, store: Store | None = None) -> dict[str, Any]:
    """Everything the episode page needs, tolerant of shots not rendered yet."""
    episode = load(paths, episode_id)
    media = paths.episode_media(episode_id)
    failures = _failures(store, episode_id)
    shots = [_shot_view(paths, episode, s, failures) for s in episode.shots]
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
    return episode, _shot_view(paths, episode, s, _failures(store, episode_id))


def episode_status(shots: list[ShotView]) -> Status:
    """failing beats everything; then not rendered / rendering; then awaiting score; else rendered."""
    states = [s.status for s in shots]
    if "failing" in states:
        return "failing"
    if all(st == "not rendered" for st in states):
        return "not rendered"
    if "not rendered" in states or "rendering" in states:
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
        if not ID_RE.fullmatch(ep):
            cards.append(EpisodeCard(ep, None, status="failing",
                                     error=f"folder name {ep!r} may only use letters, digits, . _ - (rename it)"))
            continue
        try:
            view = episode_view(paths, ep, store)
        except (VidpipeError, ValueError, OSError) as exc:  # a bad YAML or non-UTF-8 file is one card, not a 500
            msg = _one_line(exc).replace(f"{paths.episodes}/", "")  # 'draft/episode.yaml: …', not a long absolute path
            cards.append(EpisodeCard(ep, None, status="failing", error=msg))
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
