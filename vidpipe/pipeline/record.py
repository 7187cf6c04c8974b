"""The shot record: one typed file per shot (`shot.json`) and the one module that reads and writes it.

A shot's state — its composed request and route, still, generation(s), QC verdict, scores and
takes — used to be an untyped dict that six modules probed with `.get()` chains. Here it is a
versioned pydantic model; `ShotRef` knows every path of a shot's folder and is the only code that
opens `shot.json`. Stages take a `ShotRef`, change the record through `ShotRef.update()`, and
everything that shows a shot (status, lineage, the review room, the CLI, the assets) reads it
through `ShotRef.read()`.

Format history: version 1 (no `version` key) kept generation facts duplicated at the top level
and QC failures as `qc.error_defects`; it is migrated on read and rewritten as version 2 on the
next update.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vidpipe.episode import load_episode
from vidpipe.errors import SpecError
from vidpipe.paths import Paths
from vidpipe.schema import Episode, Finding, Job, Scores, Shot
from vidpipe.sidecar import read_sidecar, write_sidecar

RECORD_VERSION = 2
_LOCK = threading.Lock()  # read-modify-write of shot.json within one process (stages of a shot run in order)


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
    judge_error: str | None = None


class TakeRecord(_Rec):
    """One of N generations of a shot, with the QC facts the choice was made on."""

    take: int
    generation: GenerationRecord
    review_dir: str
    defects: list[str] = Field(default_factory=list)
    blocking: list[str] = Field(default_factory=list)
    overall: int | None = None  # judge's overall score, when judged
    warnings: int = 0


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

    def clip_current(self, fingerprint: str) -> bool:
        """A clip exists for this spec of the shot and its QC pass (on that very file) passed."""
        g, q = self.generation, self.qc
        return g is not None and g.hash is not None and g.shot_fingerprint == fingerprint and q is not None \
            and q.clip_hash == g.hash and q.passed


@dataclass
class ShotRef:
    """A shot of an episode on disk: its spec, every path of its media folder, and its record."""

    paths: Paths
    episode: Episode
    shot: Shot

    @classmethod
    def load(cls, paths: Paths, episode_id: str, shot_id: str) -> "ShotRef":
        episode = load_episode(paths.episode_dir(episode_id))
        try:
            shot = episode.shot(shot_id)
        except KeyError:
            raise SpecError(
                f"episode {episode_id!r} has no shot {shot_id!r} (its shots: {', '.join(s.id for s in episode.shots)})"
            ) from None
        return cls(paths, episode, shot)

    @classmethod
    def all(cls, paths: Paths, episode: Episode) -> list["ShotRef"]:
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

    def update(self, **fields: Any) -> ShotRecord:
        """Set `fields` on the record and write it atomically (validated: a wrong field is an error)."""
        with _LOCK:
            current = self.read()
            rec = ShotRecord.model_validate({**current.model_dump(mode="json"), **_dumped(fields)})
            write_sidecar(self.record_path, rec.model_dump(mode="json", exclude_none=False))
            return rec


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
