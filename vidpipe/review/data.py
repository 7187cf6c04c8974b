"""What the review pages show: episodes, shots and their takes, read from what the pipeline recorded.

Shot state comes only from the typed shot record (`ShotRef.read()`), whose `qc_state` is the one
verdict (passed / accepted / awaiting decision …); the take's qc.json only adds the details shown. Everything here tolerates half-rendered episodes: a
shot with no clip yet is a view with `take.clip = None`, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vidpipe.episode import list_episodes, load_episode, shot_fingerprint
from vidpipe.errors import NotFound, SpecError, VidpipeError
from vidpipe.ledger import Ledger
from vidpipe.paths import Paths
from vidpipe.pipeline.converge import NO_DELIVERY, cut_state, latest_failures, shot_failure
from vidpipe.pipeline.record import ShotRecord, ShotRef
from vidpipe.review.takes import Take, list_takes
from vidpipe.schema import Episode, Shot
from vidpipe.store import Store

__all__ = ["EpisodeCard", "NotFound", "ShotView", "Take", "episode_cards", "episode_view", "list_takes", "shot_view"]

ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
Status = Literal["rendered", "failing", "awaiting decision", "accepted", "awaiting score", "awaiting QC", "outdated",
                 "partly rendered", "not rendered"]


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
    qc_state: str = "not rendered"  # the record's verdict (vidpipe.pipeline.record.ShotRecord.qc_state)
    state_line: str = ""  # one line: why it failed and what a person can do, or who accepted it and why

    @property
    def cost(self) -> float:
        return float(self.take.cost_usd or 0.0)

    @property
    def status(self) -> Status:
        """failing (no clip and an error) · not rendered · outdated (the spec changed since the clip: it
        re-renders) · awaiting decision (the record's verdict says the clip failed QC: a person chooses
        another take, resubmits or accepts it) · awaiting QC · accepted · awaiting score · rendered (passed and judged)."""
        if self.take.clip is None or (self.outdated and self.failure):  # a run for the current spec failed
            return "failing" if self.failure else "not rendered"
        if self.outdated:  # re-rendered on the next run: no decision is due on this clip
            return "outdated"
        if self.qc_state == "awaiting decision":
            return "awaiting decision"
        if self.qc_state in ("awaiting QC", "not rendered"):
            return "awaiting QC"
        if self.qc_state == "accepted":
            return "accepted"
        return "awaiting score" if self.take.overall is None else "rendered"


def _shot_view(paths: Paths, episode: Episode, s: Shot, failures: dict[str, str],
               runs: dict[str, dict[str, Any]] | None = None) -> ShotView:
    ref = ShotRef(paths, episode, s)
    failure = shot_failure(paths, ref, runs or {}) or failures.get(s.id)  # the failed run's reason, else the ledger's
    try:
        rec = ref.read()
    except SpecError as exc:  # a damaged shot.json: show the shot, say why its facts are missing
        rec, failure = ShotRecord(episode=episode.id, shot=s.id), str(exc)
    takes = list_takes(ref, rec)
    outdated = bool(rec.generation and rec.generation.shot_fingerprint
                    and rec.generation.shot_fingerprint != shot_fingerprint(episode, s, paths=paths))
    parts = {"subject": s.subject, "action": s.action, "camera": s.camera, "style": s.style,
             "constraints": ", ".join(s.constraints)}
    blocks = [BlockView(b.start, b.end, b.action, b.camera, b.subject, b.dialogue) for b in s.blocks]
    return ShotView(s.id, s.title, s.mode, s.category, {k: v for k, v in parts.items() if v}, blocks,
                    rec.prompt or takes[0].prompt, takes[0], takes,
                    failure if takes[0].clip is None or outdated else None,
                    rec.qc.judge_error if rec.qc else None, outdated, rec.qc_state, rec.state_line())


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
        rows = store.query("SELECT shot, error FROM generations WHERE episode = ? "
                           "AND status IN ('failed', 'submit_unknown') "
                           "ORDER BY updated_at", [episode_id])
    except Exception:  # noqa: BLE001 - a locked or older DuckDB file only hides this hint
        return {}
    return {r["shot"]: r["error"] for r in rows if r["shot"] and r["error"]}


def spend(store: Store | None, episode_id: str) -> float | None:
    """What the ledger says the episode cost (None when the ledger cannot be read right now)."""
    if store is None or not store.path.exists():
        return 0.0

    try:
        return Ledger(store).spend(episode=episode_id)
    except Exception:  # noqa: BLE001 - a DuckDB file held by a running render
        return None


def episode_view(paths: Paths, episode_id: str, store: Store | None = None) -> dict[str, Any]:
    """Everything the episode page needs, tolerant of shots not rendered yet."""
    episode = load(paths, episode_id)
    media = paths.episode_media(episode_id)
    failures, runs = _failures(store, episode_id), latest_failures(paths)
    shots = [_shot_view(paths, episode, s, failures, runs) for s in episode.shots]
    final, delivery = media / "final.mp4", media / "delivery.mp4"
    spent = spend(store, episode_id)
    return {
        "episode": episode,
        "shots": shots,
        "final": final if final.exists() else None,
        "delivery": delivery if delivery.exists() else None,
        "total_cost": spent if spent is not None else sum(s.cost for s in shots),
        "status": _with_cut(episode_status(shots), paths, episode_id, final.exists()),
    }


def _with_cut(status: Status, paths: Paths, episode_id: str, has_cut: bool) -> Status:
    """A cut (or its delivery) not made of the current takes of the current spec makes the episode outdated."""
    if has_cut and status in ("rendered", "awaiting score"):
        state = cut_state(paths, episode_id)
        if not state.current and state.reason != NO_DELIVERY:
            return "outdated"
    return status


def shot_view(paths: Paths, episode_id: str, shot_id: str, store: Store | None = None) -> tuple[Episode, ShotView]:
    episode = load(paths, episode_id)
    s = next((s for s in episode.shots if s.id == shot_id), None)
    if s is None:
        raise NotFound(f"episode {episode_id!r} has no shot {shot_id!r}")
    return episode, _shot_view(paths, episode, s, _failures(store, episode_id), latest_failures(paths))


def episode_status(shots: list[ShotView]) -> Status:
    """The worst of its shots: failing › awaiting decision › not rendered › partly rendered › outdated ›
    awaiting score › accepted › rendered."""
    states = [s.status for s in shots]
    if "failing" in states:
        return "failing"
    if "awaiting decision" in states:
        return "awaiting decision"
    if all(st == "not rendered" for st in states):
        return "not rendered"
    if "not rendered" in states or "awaiting QC" in states:
        return "partly rendered"
    if "outdated" in states:
        return "outdated"
    if "awaiting score" in states:
        return "awaiting score"
    return "accepted" if "accepted" in states else "rendered"


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
    for ep in list_episodes(paths.episodes, include_unsafe=True):
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
