"""Per-shot stages: request → still → clip → QC. One implementation behind the CLI, API and assets.

Every stage reads the episode spec from disk, writes its outputs under
`data/media/<ep>/shots/<shot>/`, records what it did in `shot.json`, and is cached by content
hash so an unchanged shot is never rendered (or paid for) twice.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.episode import load_episode
from vidpipe.errors import SpecError, VidpipeError
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import cache_hit, file_hash, read_sidecar, stable_hash, write_sidecar
from vidpipe.schema import Episode, Finding, Job, QCReport, Shot, frame_size
from vidpipe.store import Store

STAGE_VERSION = "1"  # bump when a stage's output format changes, to invalidate caches


@dataclass
class ShotRef:
    """A shot of an episode on disk, with its media folder."""

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

    @property
    def key(self) -> str:
        return f"{self.episode.id}|{self.shot.id}"

    @property
    def dir(self) -> Path:
        return self.paths.shot_media(self.episode.id, self.shot.id)

    @property
    def sidecar(self) -> Path:
        return self.dir / "shot.json"

    @property
    def still_path(self) -> Path:
        return self.dir / "still.png"

    @property
    def clip_path(self) -> Path:
        return self.dir / "clip.mp4"

    @property
    def clip_id(self) -> str:
        return f"{self.episode.id}-{self.shot.id}"

    @property
    def review_dir(self) -> Path:
        return self.dir / "review" / self.clip_id

    def record(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into shot.json (the per-shot record that lineage and the review room read)."""
        data = read_sidecar(self.sidecar) or {"episode": self.episode.id, "shot": self.shot.id}
        data.update(fields)
        write_sidecar(self.sidecar, data)
        return data


def needs_still(shot: Shot) -> bool:
    """A shot gets a generated first frame when it asks for one or is image-to-video without an image ref."""
    return shot.still is not None or (shot.mode == "image-to-video" and not shot.refs.images)


@dataclass
class RequestOutcome:
    job: Job
    findings: list[Finding]
    route_model: str
    route_reason: str
    key: str

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


def prepare_request(ref: ShotRef, *, store: Store | None = None) -> RequestOutcome:
    """Compose the shot's prompt, build its canonical job, validate it and route it."""
    from vidpipe.prompt import compose_prompt
    from vidpipe.routing import route
    from vidpipe.shots import shot_to_job
    from vidpipe.validate import validate_request

    profile = None
    if ref.shot.me:
        from vidpipe.profile import load_profile

        profile = load_profile(ref.paths.profile)
    still = str(ref.still_path) if needs_still(ref.shot) else None
    job = shot_to_job(ref.episode, ref.shot, still_path=still, profile=profile)
    findings = validate_request(job.input, model=job.model, job=job, lessons_path=ref.paths.lessons)
    r = route(job.input, model=job.model, profile=profile, me=job.me, category=job.category,
              mode=ref.shot.mode, store=store)
    key = stable_hash({"job": job.model_dump(mode="json"), "model": r.model, "v": STAGE_VERSION})
    from vidpipe.episode import shot_fingerprint

    ref.record(
        request_key=key,
        shot_fingerprint=shot_fingerprint(ref.episode, ref.shot),
        job=job.model_dump(mode="json"),
        prompt=job.input.get("prompt"),
        prompt_parts={
            "subject": ref.shot.subject, "action": ref.shot.action, "camera": ref.shot.camera,
            "style": ref.shot.style, "constraints": ref.shot.constraints,
        },
        route={"model": r.model, "reason": r.reason},
        findings=[f.model_dump() for f in findings],
    )
    return RequestOutcome(job, findings, r.model, r.reason, key)


@dataclass
class StillOutcome:
    path: Path | None
    cache_hit: bool = False
    model: str | None = None
    backend: str | None = None
    cost_usd: float = 0.0
    key: str = "none"


def render_still(ref: ShotRef, *, backend: str | None = None) -> StillOutcome:
    """Make the shot's first-frame still (skipped for shots that need none)."""
    if not needs_still(ref.shot):
        ref.record(still=None)
        return StillOutcome(None)
    from vidpipe.stills import make_still

    spec = ref.shot.still
    prompt = (spec.prompt if spec and spec.prompt else None) or ", ".join(
        p for p in (ref.shot.subject, ref.shot.style) if p
    )
    model = spec.model if spec else "flux-schnell"
    aspect = ref.shot.aspect_ratio or ref.episode.aspect_ratio
    resolution = ref.shot.resolution or ref.episode.resolution
    key = stable_hash({"prompt": prompt, "model": model, "aspect": aspect, "res": resolution,
                       "backend": backend, "seed": ref.shot.seed, "v": STAGE_VERSION})
    side = ref.dir / "still.json"
    hit = cache_hit(side, key, ref.still_path)
    if hit:
        return StillOutcome(ref.still_path, True, hit.get("model"), hit.get("backend"), 0.0, key)
    res = make_still(prompt, ref.still_path, model=model, aspect=aspect, resolution=resolution,
                     backend=backend, seed=ref.shot.seed)
    out = StillOutcome(ref.still_path, False, res.model, res.backend, float(res.cost_usd or 0.0), key)
    write_sidecar(side, {"key": key, "prompt": prompt, "model": res.model, "backend": res.backend,
                         "request_id": getattr(res, "request_id", None), "cost_usd": out.cost_usd})
    ref.record(still={"path": str(ref.still_path), "prompt": prompt, "model": res.model, "backend": res.backend,
                      "request_id": getattr(res, "request_id", None), "cost_usd": out.cost_usd})
    return out


@dataclass
class ClipOutcome:
    path: Path
    model: str
    backend: str
    endpoint: str | None
    request_id: str | None
    cost_usd: float
    cache_hit: bool
    clip_hash: str
    extra: dict[str, Any] = field(default_factory=dict)


def render_clip(ref: ShotRef, *, backend: str | None = None, store: Store | None = None,
                budget_usd: float | None = None, fallback: bool = True) -> ClipOutcome:
    """Generate the shot's clip through the runner (cached, resumable, budgeted) and link clip.mp4."""
    from vidpipe.generate import generate_jobs

    data = read_sidecar(ref.sidecar) or {}
    if "job" not in data:
        raise VidpipeError(f"shot {ref.key} has no composed request yet: materialize shot_request first")
    job = Job.model_validate(data["job"])
    if data.get("route", {}).get("model") and job.model == "auto":
        job = job.model_copy(update={"model": data["route"]["model"]})
    if budget_usd is None and ref.episode.budget_usd is not None and store is not None:
        from vidpipe.ledger import Ledger

        budget_usd = max(0.0, ref.episode.budget_usd - Ledger(store).spend(episode=ref.episode.id, exclude_shot=ref.shot.id))
    results = generate_jobs([job], ref.dir / "gen", backend=backend, fallback=fallback,
                            budget_usd=budget_usd, concurrency=1, store=store)
    res = results[0]
    if res.status != "done" or not res.path:
        raise VidpipeError(f"shot {ref.key}: generation {res.status}: {res.error or 'no output'}")
    _link(Path(res.path), ref.clip_path)
    outcome = ClipOutcome(
        path=ref.clip_path, model=res.model or job.model, backend=res.backend or "?", endpoint=res.endpoint,
        request_id=res.request_id, cost_usd=float(res.cost_usd or 0.0), cache_hit=bool(res.cache_hit),
        clip_hash=file_hash(ref.clip_path),
        extra={"fallback_from": res.fallback_from, "est_cost_usd": res.est_cost_usd},
    )
    ref.record(generation={
        "path": str(ref.clip_path), "model": outcome.model, "backend": outcome.backend,
        "endpoint": outcome.endpoint, "request_id": outcome.request_id, "cost_usd": outcome.cost_usd,
        "hash": outcome.clip_hash, "fallback_from": res.fallback_from,
        "shot_fingerprint": data.get("shot_fingerprint"),
    }, model=outcome.model, backend=outcome.backend, endpoint=outcome.endpoint,
        request_id=outcome.request_id, cost_usd=outcome.cost_usd, clip=str(ref.clip_path))
    return outcome


def _link(src: Path, dst: Path) -> None:
    """Point clip.mp4 at the runner's output (hard link, else copy) — a stable path for every later stage."""
    if dst.exists() and src.exists() and os.path.samefile(src, dst):
        return
    tmp = dst.with_suffix(".tmp.mp4")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def check_clip(ref: ShotRef) -> QCReport:
    """Technical QC of the shot's clip (cached by clip content + request): writes review/<clip_id>/."""
    from vidpipe.qc.report import run_qc

    data = read_sidecar(ref.sidecar) or {}
    if not ref.clip_path.exists():
        raise VidpipeError(f"shot {ref.key} has no clip yet: materialize shot_clip first")
    job = Job.model_validate(data["job"]) if "job" in data else None
    key = stable_hash({"clip": file_hash(ref.clip_path), "job": data.get("job"), "v": STAGE_VERSION})
    qc_json = ref.review_dir / "qc.json"
    side = ref.review_dir / "qc.key.json"
    if cache_hit(side, key, qc_json):
        report = QCReport.model_validate_json(qc_json.read_text())
    else:
        report = run_qc(ref.clip_path, job=job, out_dir=ref.review_dir, clip_id=ref.clip_id)
        write_sidecar(side, {"key": key})
    ref.record(qc={"review_dir": str(ref.review_dir), "defects": [d.code for d in report.defects],
                   "error_defects": error_defects(report), "clip_hash": file_hash(ref.clip_path)})
    return report


def error_defects(report: QCReport) -> list[str]:
    return [d.code for d in report.defects if d.severity == "error"]


def record_qc(ref: ShotRef, store: Store, *, judge: bool = False) -> QCReport:
    """Store one QC pass in DuckDB (and let the VLM judge score it when asked and configured)."""
    from vidpipe.learning.features import extract_features
    from vidpipe.qc.report import qc_row

    report = check_clip(ref)
    if judge and report.scores is None:
        from vidpipe.qc.judge import vlm_judge

        report = vlm_judge(ref.review_dir, store=store)
    data = read_sidecar(ref.sidecar) or {}
    request = (data.get("job") or {}).get("input") or {}
    features = extract_features(request, category=ref.shot.category, mode=ref.shot.mode, model=data.get("model"))
    row = qc_row(report, episode=ref.episode.id, shot=ref.shot.id, backend=data.get("backend"),
                 request=request, features=features)
    row["model"] = row.get("model") or data.get("model")
    store.add_qc(row)
    return report


def shot_frame(ref: ShotRef) -> tuple[int, int]:
    return frame_size(ref.shot.resolution or ref.episode.resolution, ref.shot.aspect_ratio or ref.episode.aspect_ratio)
