"""Per-shot stages: request → still → clip → QC. One implementation behind the CLI, API and assets.

This is where a shot gets generated. Every stage takes a `ShotRef` (vidpipe.pipeline.record),
writes its outputs under the shot's media folder, records what it did in the shot record, and is
cached by content hash so an unchanged shot is never rendered (or paid for) twice.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.episode import shot_fingerprint
from vidpipe.errors import VidpipeError
from vidpipe.generate import generate_jobs
from vidpipe.learning.features import extract_features
from vidpipe.ledger import Ledger
from vidpipe.pipeline.cache import cache_hit, file_hash, stable_hash, write_sidecar
from vidpipe.pipeline.record import GenerationRecord, QCRecord, RouteRecord, ShotRecord, ShotRef, StillRecord
from vidpipe.profile import load_profile
from vidpipe.qc.verdict import verdict
from vidpipe.qc.judge import vlm_judge
from vidpipe.qc.report import qc_row, run_qc
from vidpipe.routing import route
from vidpipe.schema import Finding, Job, QCReport, Shot
from vidpipe.shots import shot_to_job
from vidpipe.stills import make_still
from vidpipe.store import Store
from vidpipe.validate import validate_request

__all__ = ["ShotRef", "check_clip", "needs_still", "prepare_request", "record_qc", "render_clip", "render_still"]

STAGE_VERSION = "1"  # bump when a stage's output format changes, to invalidate caches


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
    profile = load_profile(ref.paths.profile) if ref.shot.me else None
    still = str(ref.still_path) if needs_still(ref.shot) else None
    job = shot_to_job(ref.episode, ref.shot, still_path=still, profile=profile,
                      episode_dir=ref.paths.episode_dir(ref.episode.id))
    findings = validate_request(job.input, model=job.model, job=job, lessons_path=ref.paths.lessons)
    r = route(job.input, model=job.model, profile=profile, me=job.me, category=job.category,
              mode=ref.shot.mode, store=store)
    key = stable_hash({"job": job.model_dump(mode="json"), "model": r.model, "v": STAGE_VERSION})
    ref.update(
        request_key=key,
        shot_fingerprint=shot_fingerprint(ref.episode, ref.shot),
        job=job,
        prompt=job.input.get("prompt"),
        prompt_parts={
            "subject": ref.shot.subject, "action": ref.shot.action, "camera": ref.shot.camera,
            "style": ref.shot.style, "constraints": ref.shot.constraints,
            "blocks": [b.model_dump(mode="json") for b in ref.shot.blocks],
        },
        route=RouteRecord(model=r.model, reason=r.reason),
        findings=findings,
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
        ref.update(still=None)
        return StillOutcome(None)

    spec = ref.shot.still
    prompt = (spec.prompt if spec and spec.prompt else None) or ", ".join(
        p for p in (ref.shot.subject, ref.shot.style) if p
    )
    model = spec.model if spec else "flux-schnell"
    aspect = ref.shot.aspect_ratio or ref.episode.aspect_ratio
    resolution = ref.shot.resolution or ref.episode.resolution
    key = stable_hash({"prompt": prompt, "model": model, "aspect": aspect, "res": resolution,
                       "backend": backend, "seed": ref.shot.seed, "v": STAGE_VERSION})
    side = ref.still_sidecar
    hit = cache_hit(side, key, ref.still_path)
    if hit:
        return StillOutcome(ref.still_path, True, hit.get("model"), hit.get("backend"), 0.0, key)
    res = make_still(prompt, ref.still_path, model=model, aspect=aspect, resolution=resolution,
                     backend=backend, seed=ref.shot.seed)
    out = StillOutcome(ref.still_path, False, res.model, res.backend, float(res.cost_usd or 0.0), key)
    write_sidecar(side, {"key": key, "prompt": prompt, "model": res.model, "backend": res.backend,
                         "request_id": getattr(res, "request_id", None), "cost_usd": out.cost_usd})
    ref.update(still=StillRecord(path=str(ref.still_path), prompt=prompt, model=res.model, backend=res.backend,
                                 request_id=getattr(res, "request_id", None), cost_usd=out.cost_usd))
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
    rec = ref.read()
    if rec.job is None:
        raise VidpipeError(f"shot {ref.key} has no composed request yet: materialize shot_request first")
    job = rec.job
    if rec.route is not None and job.model == "auto":
        job = job.model_copy(update={"model": rec.route.model})
    if budget_usd is None and ref.episode.budget_usd is not None and store is not None:
        spent = Ledger(store).spend(episode=ref.episode.id, exclude_shot=ref.shot.id)
        budget_usd = max(0.0, ref.episode.budget_usd - spent)
    results = generate_jobs([job], ref.gen_dir, backend=backend, fallback=fallback,
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
    ref.update(generation=GenerationRecord(
        path=str(ref.clip_path), model=outcome.model, backend=outcome.backend, endpoint=outcome.endpoint,
        request_id=outcome.request_id, cost_usd=outcome.cost_usd, est_cost_usd=res.est_cost_usd,
        hash=outcome.clip_hash, fallback_from=res.fallback_from, shot_fingerprint=rec.shot_fingerprint,
        seed=job.input.get("seed")))
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
    rec = ref.read()
    if not ref.clip_path.exists():
        raise VidpipeError(f"shot {ref.key} has no clip yet: materialize shot_clip first")
    job = rec.job
    clip_hash = file_hash(ref.clip_path)
    key = stable_hash({"clip": clip_hash, "job": job.model_dump(mode="json") if job else None, "v": STAGE_VERSION})
    if cache_hit(ref.qc_key, key, ref.qc_json):
        report = QCReport.model_validate_json(ref.qc_json.read_text())
    else:
        report = run_qc(ref.clip_path, job=job, out_dir=ref.review_dir, clip_id=ref.clip_id)
        write_sidecar(ref.qc_key, {"key": key})
    _record_verdict(ref, report, clip_hash)
    return report


def _record_verdict(ref: ShotRef, report: QCReport, clip_hash: str, judge_error: str | None = None) -> None:
    ref.update(qc=QCRecord(review_dir=str(ref.review_dir), clip_hash=clip_hash,
                           defects=[d.code for d in report.defects],
                           blocking=[d.code for d in report.blocking_defects()],
                           passed=verdict(report), judge_error=judge_error),
               scores=report.scores)


def record_qc(ref: ShotRef, store: Store, *, judge: bool = False) -> QCReport:
    """Store one QC pass in DuckDB, then let the VLM judge score it when asked and configured.

    The technical row is stored before the judge runs, so a judge failure (network, quota) loses
    nothing: the verdict stays technical, `scores` null, and the error is kept on the record.
    """
    report = check_clip(ref)
    rec = ref.read()
    request = rec.request
    model = rec.model
    features = extract_features(request, category=ref.shot.category, mode=ref.shot.mode, model=model)
    row = qc_row(report, episode=ref.episode.id, shot=ref.shot.id,
                 backend=rec.generation.backend if rec.generation else None, request=request, features=features)
    row["model"] = row.get("model") or model
    store.add_qc(row)
    if judge and report.scores is None:
        try:
            report = vlm_judge(ref.review_dir, store=store)
        except VidpipeError as exc:
            _record_verdict(ref, report, file_hash(ref.clip_path), judge_error=str(exc))
            return report
        _record_verdict(ref, report, file_hash(ref.clip_path))
    return report
