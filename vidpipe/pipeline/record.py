"""The shot record: one typed file per shot (`shot.json`) and the one module that reads and writes it.

A shot's state — request and route, still, generation(s), QC verdict, scores, takes, a person's
acceptance — is a versioned pydantic model; `ShotRef` knows every path of a shot's folder and is the
only code that opens `shot.json`: stages change it through `ShotRef.update()`, everything that shows
a shot (status, lineage, the review room, the CLI, the assets) reads it through `ShotRef.read()`.

The QC verdict is written here, and only here: `ShotRef.apply_qc` applies a QC pass or a judgement
(qc.json written atomically, the verdict recomputed with the one rule of vidpipe.qc.verdict, the
`qc`/`scores` rows and the lesson stored through `Store`), `ShotRef.accept` records a
person accepting a failing clip, all under the shot's cross-process file lock. Every reader —
status, takes, the final-cut gate, discovery, lineage — asks the record (`ShotRecord.qc_state`).

Format history: version 1 (no `version` key) kept generation facts duplicated at the top level
and QC failures as `qc.error_defects`; it is migrated on read and rewritten as version 2 on the
next update.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vidpipe.episode import load_episode
from vidpipe.errors import SpecError
from vidpipe.learning.lessons import LESSON_MAX, Lesson, append_lesson, one_line
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import file_hash
from vidpipe.qc.verdict import summary, verdict
from vidpipe.schema import Episode, Finding, Job, QCReport, Scores, Shot
from vidpipe.sidecar import read_sidecar, write_sidecar
from vidpipe.store import Store

RECORD_VERSION = 2
LOCK_TIMEOUT_S = 120.0  # a shot's lock is held for milliseconds (plus a DuckDB write); waiting longer means trouble
STAMP = ".qc_state"  # per episode media folder: changes whenever a shot's verdict or a person's decision does
QCState = Literal["not rendered", "awaiting QC", "passed", "accepted", "awaiting decision"]


class _Rec(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RouteRecord(_Rec):
    model: str
    reason: str = ""


class StillRecord(_Rec):
    path: str
    prompt: str | None = None
    model: str | None = None
    backend: str | None = None
    request_id: str | None = None
    cost_usd: float = 0.0


class GenerationRecord(_Rec):
    """One paid (or cached, or preview) generation of the shot's clip."""

    path: str = ""
    model: str
    backend: str | None = None
    endpoint: str | None = None
    request_id: str | None = None
    cost_usd: float = 0.0
    est_cost_usd: float | None = None
    hash: str | None = None
    fallback_from: str | None = None
    shot_fingerprint: str | None = None
    take: int = 1
    seed: int | None = None


class QCRecord(_Rec):
    """The verdict of the QC pass on the clip whose content hash is `clip_hash`."""

    review_dir: str
    clip_hash: str
    defects: list[str] = Field(default_factory=list)
    blocking: list[str] = Field(default_factory=list)
    passed: bool = True
    why: str = ""  # vidpipe.qc.verdict.summary: "passed" or what failed it, one line
    judge: str | None = None
    judge_error: str | None = None


class Acceptance(_Rec):
    """A person accepted the clip whose hash is `clip_hash` although it failed QC: who, why, when."""

    by: str
    reason: str
    at: str
    clip_hash: str


class TakeRecord(_Rec):
    """One of N generations of a shot, with the QC facts the choice was made on."""

    take: int
    generation: GenerationRecord
    review_dir: str
    defects: list[str] = Field(default_factory=list)
    blocking: list[str] = Field(default_factory=list)
    overall: int | None = None  # judge's overall score, when judged
    warnings: int = 0
    passed: bool | None = None  # the one QC verdict on this take (set by ShotRef.apply_qc and the takes stage)


class ShotRecord(_Rec):
    version: int = RECORD_VERSION
    episode: str
    shot: str
    request_key: str | None = None
    shot_fingerprint: str | None = None
    job: Job | None = None
    prompt: str | None = None
    prompt_parts: dict[str, Any] = Field(default_factory=dict)
    route: RouteRecord | None = None
    findings: list[Finding] = Field(default_factory=list)
    still: StillRecord | None = None
    generation: GenerationRecord | None = None
    takes: list[TakeRecord] = Field(default_factory=list)
    chosen_take: int | None = None
    take_override: int | None = None  # a person's choice (vidpipe take / the review room); wins over the rule
    qc: QCRecord | None = None
    scores: Scores | None = None
    accepted: Acceptance | None = None

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        """Version 1 → 2: QC failures were `error_defects`; top-level generation copies are dropped."""
        if not isinstance(data, dict) or data.get("version", 1) >= RECORD_VERSION:
            return data
        data = dict(data)
        for k in ("model", "backend", "endpoint", "request_id", "cost_usd", "clip"):
            data.pop(k, None)
        qc = data.get("qc")
        if isinstance(qc, dict) and "error_defects" in qc:
            qc = dict(qc)
            qc["blocking"] = qc.pop("error_defects") or []
            qc["passed"] = not qc["blocking"]
            data["qc"] = qc if qc.get("clip_hash") and qc.get("review_dir") else None
        data["version"] = RECORD_VERSION
        return data

    @property
    def model(self) -> str | None:
        """The model that made the current clip (else the routed one)."""
        if self.generation is not None:
            return self.generation.model
        return self.route.model if self.route else None

    @property
    def request(self) -> dict[str, Any]:
        """The canonical request body the clip was (or will be) generated from."""
        return dict(self.job.input) if self.job is not None else {}

    @property
    def qc_state(self) -> QCState:
        """Where the shot's current clip stands — the one answer status, takes, the gate and discovery show."""
        g, q = self.generation, self.qc
        if g is None or g.hash is None:
            return "not rendered"
        if q is None or q.clip_hash != g.hash:
            return "awaiting QC"
        if q.passed:
            return "passed"
        if self.accepted is not None and self.accepted.clip_hash == q.clip_hash:
            return "accepted"
        return "awaiting decision"  # failed QC: never regenerated on its own; a person decides

    @property
    def usable(self) -> bool:
        """May the current clip go into the cut? (it passed QC, or a person accepted it)"""
        return self.qc_state in ("passed", "accepted")

    def state_line(self) -> str:
        """One line for status, the review room and logs: the state, and why when it failed."""
        st = self.qc_state
        if st == "awaiting decision" and self.qc is not None:
            return (f"{self.qc.why or 'failed'} — waiting for a person: another take (vidpipe take), a resubmit, "
                    f"or vidpipe accept {self.episode} {self.shot} --reason …")
        if st == "accepted" and self.accepted is not None:
            return f"accepted by {self.accepted.by}: {self.accepted.reason} ({self.qc.why if self.qc else ''})"
        return st

    def clip_for_spec(self, fingerprint: str) -> bool:
        """A clip exists for this spec of the shot and QC ran on that very file (whatever it found)."""
        g = self.generation
        return g is not None and g.shot_fingerprint == fingerprint and self.qc_state not in ("awaiting QC", "not rendered")


@dataclass
class ShotRef:
    """A shot of an episode on disk: its spec, every path of its media folder, and its record."""

    paths: Paths
    episode: Episode
    shot: Shot

    @classmethod
    def load(cls, paths: Paths, episode_id: str, shot_id: str) -> ShotRef:
        episode = load_episode(paths.episode_dir(episode_id))
        try:
            shot = episode.shot(shot_id)
        except KeyError:
            raise SpecError(
                f"episode {episode_id!r} has no shot {shot_id!r} (its shots: {', '.join(s.id for s in episode.shots)})"
            ) from None
        return cls(paths, episode, shot)

    @classmethod
    def all(cls, paths: Paths, episode: Episode) -> list[ShotRef]:
        return [cls(paths, episode, s) for s in episode.shots]

    # -- paths ------------------------------------------------------------------------------
    @property
    def key(self) -> str:
        return f"{self.episode.id}|{self.shot.id}"

    @property
    def clip_id(self) -> str:
        return f"{self.episode.id}-{self.shot.id}"

    @property
    def dir(self) -> Path:
        return self.paths.shot_media(self.episode.id, self.shot.id)

    @property
    def record_path(self) -> Path:
        return self.dir / "shot.json"

    @property
    def still_path(self) -> Path:
        return self.dir / "still.png"

    @property
    def still_sidecar(self) -> Path:
        return self.dir / "still.json"

    @property
    def clip_path(self) -> Path:
        return self.dir / "clip.mp4"

    @property
    def gen_dir(self) -> Path:
        """Where the runner writes this shot's generations (its cache and sidecars)."""
        return self.dir / "gen"

    @property
    def takes_dir(self) -> Path:
        return self.dir / "takes"

    @property
    def review_dir(self) -> Path:
        return self.dir / "review" / self.clip_id

    def take_dir(self, take: int) -> Path:
        return self.takes_dir / str(take)

    def take_clip(self, take: int) -> Path:
        return self.take_dir(take) / "clip.mp4"

    def take_review_dir(self, take: int) -> Path:
        return self.take_dir(take) / "review"

    @property
    def qc_json(self) -> Path:
        return self.review_dir / "qc.json"

    # -- the record -------------------------------------------------------------------------
    def read(self) -> ShotRecord:
        """The shot's record (an empty one when nothing ran yet; an unreadable file is an error)."""
        return read_record(self.record_path, self.episode.id, self.shot.id)

    def lock(self) -> FileLock:
        """The shot's cross-process lock (re-entrant within a thread): every read-modify-write of its files."""
        self.dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.dir / ".shot.lock"), timeout=LOCK_TIMEOUT_S, is_singleton=True)

    def update(self, **fields: Any) -> ShotRecord:
        """Set `fields` on the record and write it atomically (validated: a wrong field is an error)."""
        with self.lock():
            current = self.read()
            rec = ShotRecord.model_validate({**current.model_dump(mode="json"), **_dumped(fields)})
            write_sidecar(self.record_path, rec.model_dump(mode="json", exclude_none=False))
            return rec

    def apply_qc(self, report: QCReport, *, qc_json: Path | None = None, clip_hash: str | None = None,
                 store: Store | None = None, qc_row: dict[str, Any] | None = None,
                 score_row: dict[str, Any] | None = None, lesson: Lesson | None = None,
                 lessons_path: Path | None = None, judge_error: str | None = None) -> ShotRecord:
        """Apply a QC pass or a judgement of this shot's clip (or of one of its takes, by `qc_json`).

        Under the shot's lock: qc.json is written atomically, the verdict is recomputed with the one
        rule (vidpipe.qc.verdict) and recorded, the DuckDB rows (`qc` for a pass, `scores` for a
        judgement) and the lesson are stored, and the episode's state stamp changes (the gate sees it).
        """
        with self.lock():
            path = Path(qc_json) if qc_json is not None else self.qc_json
            write_report(path, report)
            rec = self.read()
            target = path.parent.resolve()
            if path.resolve() == self.qc_json.resolve():
                known = rec.qc.clip_hash if rec.qc is not None and clip_hash is None else None
                h = clip_hash or known or file_hash(self.clip_path)
                rec = self.update(qc=QCRecord(
                    review_dir=str(self.review_dir), clip_hash=h, defects=[d.code for d in report.defects],
                    blocking=[d.code for d in report.blocking_defects()], passed=verdict(report),
                    why=summary(report), judge=report.judge, judge_error=judge_error), scores=report.scores)
                take = next((t for t in rec.takes if t.generation.hash == h), None)
                if take is not None and report.scores is not None:  # a judgement of the take in the cut: it is
                    target = Path(take.review_dir).resolve()  # that take's too (kept when takes are switched)
                    write_report(target / "qc.json", report.model_copy(update={
                        "clip": take.generation.path, "clip_id": f"{self.clip_id}-t{take.take}"}))
            if any(Path(t.review_dir).resolve() == target for t in rec.takes):
                takes = [t.model_copy(update={"defects": [d.code for d in report.defects],
                                              "blocking": [d.code for d in report.blocking_defects()],
                                              "overall": report.scores.overall if report.scores else None,
                                              "passed": verdict(report)})
                         if Path(t.review_dir).resolve() == target else t for t in rec.takes]
                rec = self.update(takes=takes)
            store_rows(store, qc_row, score_row, lesson, lessons_path)
            self.mark_changed()
            return rec

    def accept(self, reason: str, *, by: str, store: Store | None = None) -> ShotRecord:
        """A person accepts the current clip although it failed QC; the cut may use it from now on."""
        reason = one_line(reason, "reason", limit=LESSON_MAX)
        by = one_line(by, "by", limit=80)
        with self.lock():
            rec = self.read()
            state = rec.qc_state
            if state == "passed":
                raise SpecError(f"shot {self.key} passed QC; there is nothing to accept")
            if state not in ("awaiting decision", "accepted") or rec.qc is None:
                raise SpecError(f"shot {self.key} is {state}; only a clip that failed QC can be accepted")
            at = datetime.now(UTC).isoformat(timespec="seconds")
            rec = self.update(accepted=Acceptance(by=by, reason=reason, at=at, clip_hash=rec.qc.clip_hash))
            self.decided("accept", store, by=by, reason=reason, clip_hash=rec.qc.clip_hash if rec.qc else None)
            return rec

    def decided(self, kind: str, store: Store | None, *, by: str, reason: str | None = None, take: int | None = None,
                clip_hash: str | None = None) -> None:
        """Keep a person's decision in the QC history (DuckDB `decisions`) and let the gate see it."""
        if store is not None:
            store.add_decision({"episode": self.episode.id, "shot": self.shot.id, "kind": kind, "take": take,
                                "clip_hash": clip_hash, "decided_by": by, "reason": reason})
        self.mark_changed(decision=True)

    def mark_changed(self, *, decision: bool = False) -> None:
        """Change the episode's state stamp (the final-cut gate compares it between ticks); a person's decision also
        changes the `decision` token the episode's digest includes (a new cut is due even with clips cut before)."""
        folder = self.paths.episode_media(self.episode.id)
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder / f"{STAMP}.lock"), timeout=LOCK_TIMEOUT_S, is_singleton=True):
            path = folder / STAMP
            old = read_sidecar(path) or {}
            write_sidecar(path, {"changed": datetime.now(UTC).isoformat(), "token": secrets.token_hex(8),
                                 "decision": secrets.token_hex(8) if decision else old.get("decision")})


def state_stamp(paths: Paths, episode: str, key: str = "token") -> str | None:
    """The episode's state stamp (None before any QC): a new `token` after every verdict or decision, a new
    `decision` after every decision of a person."""
    data = read_sidecar(paths.episode_media(episode) / STAMP)
    return str(data[key]) if data and data.get(key) else None


def write_report(path: Path, report: QCReport) -> None:
    """qc.json, atomically (a reader never sees half a report)."""
    write_sidecar(path, report.model_dump(mode="json"))


def store_rows(store: Store | None, qc_row: dict[str, Any] | None, score_row: dict[str, Any] | None,
               lesson: Lesson | None, lessons_path: Path | None) -> None:
    """The DuckDB rows of a QC pass or a judgement, and its lesson (LESSONS.md, then the `lessons` table)."""
    if store is not None and qc_row is not None:
        store.add_qc(qc_row)
    if store is not None and score_row is not None:
        store.add_score(score_row)
    if lesson is not None and lessons_path is not None:
        saved = append_lesson(lessons_path, lesson)
        if store is not None:
            store.put_lessons([saved.row()])


def _dumped(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.model_dump(mode="json") if isinstance(v, BaseModel) else v) for k, v in fields.items()}


def read_record(path: Path, episode: str, shot: str) -> ShotRecord:
    """Read (and migrate) a shot.json; missing → an empty record."""
    data = read_sidecar(path)
    if data is None:
        return ShotRecord(episode=episode, shot=shot)
    try:
        return ShotRecord.model_validate({"episode": episode, "shot": shot, **data})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"{path}: field {where}: {first['msg']} (delete the file to re-record the shot)") from None


def record_of(shot_dir: Path) -> ShotRecord | None:
    """The record in a shot folder found by path (lineage walks clips, not specs); None if absent."""
    path = Path(shot_dir) / "shot.json"
    if not path.exists():
        return None
    return read_record(path, "", Path(shot_dir).name)  # the file's own episode and shot ids win
