"""Per-shot stages: request → still → clip → QC. One implementation behind the CLI, API and assets.

This is where a shot gets generated. Every stage takes a `ShotRef` (vidpipe.pipeline.record),
writes its outputs under the shot's media folder, records what it did in the shot record, and is
cached by content hash so an unchanged shot is never rendered (or paid for) twice.
"""

from __future__ import annotations

import getpass
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.episode import shot_fingerprint
from vidpipe.errors import VidpipeError
from vidpipe.generate import generate_jobs
from vidpipe.learning.features import extract_features
from vidpipe.media.seam import last_frame_png
from vidpipe.media.verify import still_verified
from vidpipe.ledger import Ledger, record_spend
from vidpipe.cast import needs_plate
from vidpipe.pipeline.cast_stages import make_cast_plates
from vidpipe.pipeline.continuity import last_frame_path, successor, with_seam
from vidpipe.pipeline.cache import STAGE_VERSION, cache_hit, file_hash, stable_hash, write_sidecar
from vidpipe.pipeline.record import GenerationRecord, RouteRecord, ShotRef, StillRecord, TakeRecord
from vidpipe.pipeline.takes import check_take, choose, take_jobs
from vidpipe.pipeline.scoring import vlm_judge
from vidpipe.qc.report import qc_row, run_qc
from vidpipe.qc.verdict import verdict
from vidpipe.refcheck import RefPolicy
from vidpipe.routing import project_profile
from vidpipe.schema import Finding, Job, QCReport
from vidpipe.shots import chain_note, chained, needs_still, shot_to_job, still_prompt
from vidpipe.stills import make_still
from vidpipe.store import Store
from vidpipe.validate import check_job

__all__ = ["ShotRef", "accept_shot", "check_clip", "needs_still", "prepare_request", "record_qc", "render_clip", "render_still",
           "use_take", "with_seam"]



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


def _ref_policy(ref: ShotRef) -> RefPolicy:
    """Where this shot's local references may come from: its episode folder and the project's roots."""
    return RefPolicy.for_project(ref.paths, ref.paths.episode_dir(ref.episode.id))


def prepare_request(ref: ShotRef, *, store: Store | None = None) -> RequestOutcome:
    """Compose the shot's prompt, build its canonical job, validate it and route it.

    In chained mode (vidpipe.shots.chained) the request ends on the continuing shot's still (`last_frame_image`)."""
    profile = project_profile(ref.paths)  # `avoid` applies to every shot; a `me` shot without one fails below
    still = str(ref.still_path) if needs_still(ref.shot) else None
    job = shot_to_job(ref.episode, ref.shot, still_path=still, profile=profile, paths=ref.paths,
                      last_frame_path=last_frame_path(ref))
    r, findings = check_job(job, store=store, profile=profile, lessons_path=ref.paths.lessons, refs=_ref_policy(ref))
    note = chain_note(ref.episode, ref.shot)
    findings += [Finding(code="continuity_sequential", message=note, severity="warning")] if note else []
    key = stable_hash({"job": job.model_dump(mode="json"), "model": r.model, "v": STAGE_VERSION})
    ref.update(
        request_key=key,
        shot_fingerprint=shot_fingerprint(ref.episode, ref.shot, paths=ref.paths),
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


def render_still(ref: ShotRef, *, backend: str | None = None, store: Store | None = None) -> StillOutcome:
    """Make the shot's first-frame still (skipped for shots that need none), after its cast's plates.

    A paid still is booked in the ledger (kind "still") with its estimate and cost."""
    if any(needs_plate(ref.episode.member(c)) for c in ref.shot.cast):
        make_cast_plates(ref.paths, ref.episode.id, backend=backend, only=list(ref.shot.cast))
    if not needs_still(ref.shot):
        ref.update(still=None)
        return StillOutcome(None)

    if ref.shot.continue_from is not None and not chained(ref.episode, ref.shot):
        return _continuity_still(ref)  # sequential; a chained shot starts from its own still, made below
    spec = ref.shot.still
    prompt = still_prompt(ref.shot)
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
    record_spend(store or Store(ref.paths.db), "still", key, model=res.model, backend=res.backend,
                 est_cost_usd=res.est_cost_usd, cost_usd=res.cost_usd, episode=ref.episode.id, shot=ref.shot.id,
                 request_id=res.request_id, output_path=str(ref.still_path))
    write_sidecar(side, {"key": key, "prompt": prompt, "model": res.model, "backend": res.backend,
                         "request_id": getattr(res, "request_id", None), "cost_usd": out.cost_usd})
    ref.update(still=StillRecord(path=str(ref.still_path), prompt=prompt, model=res.model, backend=res.backend,
                                 request_id=getattr(res, "request_id", None), cost_usd=out.cost_usd))
    return out


def _continuity_still(ref: ShotRef) -> StillOutcome:
    """The first frame of a continuing shot: the exact last frame of the chosen clip of the shot it continues,
    extracted again whenever that clip changes (another take), so the request's `image` follows it."""
    src = ShotRef(ref.paths, ref.episode, ref.episode.shot(ref.shot.continue_from or ""))
    if not src.clip_path.is_file():
        raise VidpipeError(f"shot {ref.key} continues {src.shot.id}, which has no clip yet: render {src.shot.id} first")
    key = stable_hash({"last_frame_of": file_hash(src.clip_path), "v": STAGE_VERSION})
    hit = cache_hit(ref.still_sidecar, key, ref.still_path)
    if hit and still_verified(ref.still_path, hit.get("output")):
        return StillOutcome(ref.still_path, True, "last-frame", "ffmpeg", 0.0, key)
    verified = last_frame_png(src.clip_path, ref.still_path)
    prompt = f"last frame of {src.shot.id}"
    write_sidecar(ref.still_sidecar, {"key": key, "prompt": prompt, "model": "last-frame", "backend": "ffmpeg",
                                      "source": str(src.clip_path), "output": verified.record()})
    ref.update(still=StillRecord(path=str(ref.still_path), prompt=prompt, model="last-frame", backend="ffmpeg",
                                 request_id=None, cost_usd=0.0))
    return StillOutcome(ref.still_path, False, "last-frame", "ffmpeg", 0.0, key)


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
    """Generate the shot's clip (all its takes) through the runner and link the chosen one as clip.mp4.

    Cached, resumable and budgeted by the runner; with `takes: N` the N generations run together,
    each is QC'd, and `takes.choose` picks the one the cut uses.
    """
    rec = ref.read()
    if rec.job is None:
        raise VidpipeError(f"shot {ref.key} has no composed request yet: materialize shot_request first")
    job = rec.job
    nxt = successor(ref)
    if nxt is not None and job.input.get("last_frame_image"):  # chained: the frame to end on must exist (cached)
        render_still(nxt, backend=backend, store=store)
    if rec.route is not None and job.model == "auto":
        job = job.model_copy(update={"model": rec.route.model})
    if budget_usd is None and ref.episode.budget_usd is not None and store is not None:
        spent = Ledger(store).spend(episode=ref.episode.id, exclude_shot=ref.shot.id)
        budget_usd = max(0.0, ref.episode.budget_usd - spent)
    n = ref.episode.takes_of(ref.shot)
    jobs = take_jobs(job, n)
    results = generate_jobs(jobs, ref.gen_dir, backend=backend, fallback=fallback,
                            budget_usd=budget_usd, concurrency=min(n, 4), store=store, refs=_ref_policy(ref))
    done = [(k, r) for k, r in enumerate(results, start=1) if r.status == "done" and r.path]
    if not done:
        res = results[0]
        raise VidpipeError(f"shot {ref.key}: generation {res.status}: {res.error or 'no output'}")
    gens = {k: _generation(ref, Path(str(r.path)), r, jobs[k - 1], rec.shot_fingerprint, k) for k, r in done}
    if n == 1:
        chosen, takes = 1, []
    else:
        takes = [_qc_take(ref, k, gens[k], jobs[k - 1]) for k in gens]
        chosen = choose(takes, rec.take_override).take
    src = Path(results[chosen - 1].path or "")
    _link(src, ref.clip_path)
    gen = gens[chosen].model_copy(update={"path": str(ref.clip_path)})
    ref.update(generation=gen, takes=takes, chosen_take=chosen if n > 1 else None)
    res = results[chosen - 1]
    return ClipOutcome(
        path=ref.clip_path, model=gen.model, backend=gen.backend or "?", endpoint=gen.endpoint,
        request_id=gen.request_id, cost_usd=sum(g.cost_usd for g in gens.values()),
        cache_hit=all(r.cache_hit for _, r in done), clip_hash=gen.hash or file_hash(ref.clip_path),
        extra={"fallback_from": res.fallback_from, "est_cost_usd": sum(r.est_cost_usd for r in results),
               "takes": len(gens), "chosen_take": chosen},
    )


def _generation(ref: ShotRef, path: Path, res: Any, job: Job, fingerprint: str | None, take: int) -> GenerationRecord:
    return GenerationRecord(
        path=str(path), model=res.model or job.model, backend=res.backend, endpoint=res.endpoint,
        request_id=res.request_id, cost_usd=float(res.cost_usd or 0.0), est_cost_usd=res.est_cost_usd,
        hash=file_hash(path), fallback_from=res.fallback_from, shot_fingerprint=fingerprint, take=take,
        seed=job.input.get("seed"))


def _qc_take(ref: ShotRef, take: int, gen: GenerationRecord, job: Job) -> TakeRecord:
    """Link take `take` under takes/<k>/ and QC it there (cached by clip content + request)."""
    clip = ref.take_clip(take)
    _link(Path(gen.path), clip)
    folder = ref.take_review_dir(take)
    report = _qc_cached(ref, clip, gen.hash or file_hash(clip), job, folder, f"{ref.clip_id}-t{take}")
    return TakeRecord(take=take, generation=gen.model_copy(update={"path": str(clip)}), review_dir=str(folder),
                      defects=[d.code for d in report.defects], blocking=[d.code for d in report.blocking_defects()],
                      overall=report.scores.overall if report.scores else None, passed=verdict(report),
                      warnings=sum(1 for d in report.defects if d.severity == "warning"))


def use_take(ref: ShotRef, take: int, *, by: str | None = None, store: Store | None = None) -> TakeRecord:
    """A person's choice: take `take` goes into the cut (kept until changed); clip.mp4 follows at once.

    The take's own QC (it was run on these very bytes) becomes the clip's QC, so the verdict is known
    at once; the decision lands in the QC history and the episode's state stamp changes, so the
    final-cut gate re-cuts.
    """
    with ref.lock():
        chosen = check_take(ref, take)
        _link(Path(chosen.generation.path), ref.clip_path)
        rec = ref.read()
        gen = chosen.generation.model_copy(update={"path": str(ref.clip_path), "shot_fingerprint": rec.shot_fingerprint})
        ref.update(take_override=take, chosen_take=take, generation=gen)
        clip_hash = gen.hash or file_hash(ref.clip_path)
        src = Path(chosen.review_dir)
        if (src / "qc.json").is_file():
            _copy_review(src, ref.review_dir)
            report = QCReport.model_validate_json((src / "qc.json").read_text(encoding="utf-8"))
            report = report.model_copy(update={"clip": str(ref.clip_path), "clip_id": ref.clip_id})
            write_sidecar(ref.review_dir / "qc.key.json", {"key": _qc_key(clip_hash, rec.job)})
            ref.apply_qc(report, clip_hash=clip_hash)
        ref.decided("take", store, by=by or getpass.getuser(), take=take, clip_hash=clip_hash)
    return chosen


def accept_shot(ref: ShotRef, reason: str, *, by: str | None = None, store: Store | None = None) -> TakeRecord | None:
    """A person accepts the shot's current clip although it failed QC (CLI `vidpipe accept`, the review room,
    and a Dagster op or asset calling it): recorded with who and why, and the cut proceeds."""
    ref.accept(reason, by=by or getpass.getuser(), store=store)
    rec = ref.read()
    return next((t for t in rec.takes if t.take == rec.chosen_take), None)


def _copy_review(src: Path, dst: Path) -> None:
    """The take's review files (contact sheet, frames, probe) become the clip's; qc.json is written by the record."""
    dst.mkdir(parents=True, exist_ok=True)
    for old in dst.glob("frame_*.jpg"):
        old.unlink()
    for f in src.iterdir():
        if f.is_file() and f.suffix in (".jpg", ".png") or f.name == "probe.json":
            shutil.copyfile(f, dst / f.name)


def _link(src: Path, dst: Path) -> None:
    """Point `dst` at a runner output (hard link, else copy): a stable path for every later stage."""
    if dst.exists() and src.exists() and os.path.samefile(src, dst):
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def check_clip(ref: ShotRef, *, store: Store | None = None, qc_row: bool = False) -> QCReport:
    """QC of the shot's clip (cached by clip content + request): writes review/<clip_id>/, records the verdict."""
    rec = ref.read()
    if not ref.clip_path.exists():
        raise VidpipeError(f"shot {ref.key} has no clip yet: materialize shot_clip first")
    clip_hash = file_hash(ref.clip_path)
    report = _qc_cached(ref, ref.clip_path, clip_hash, rec.job, ref.review_dir, ref.clip_id)
    row = _qc_row(ref, report) if qc_row else None
    ref.apply_qc(report, clip_hash=clip_hash, store=store, qc_row=row)
    return report


def _qc_key(clip_hash: str, job: Job | None) -> str:
    return stable_hash({"clip": clip_hash, "job": job.model_dump(mode="json") if job else None, "v": STAGE_VERSION})


def _qc_cached(ref: ShotRef, clip: Path, clip_hash: str, job: Job | None, folder: Path, clip_id: str) -> QCReport:
    """QC of `clip` into `folder` (qc.json + qc.key.json), redone only when the clip or its request changed."""
    key = _qc_key(clip_hash, job)
    qc_json, side = folder / "qc.json", folder / "qc.key.json"
    if cache_hit(side, key, qc_json):
        return QCReport.model_validate_json(qc_json.read_text())
    report = with_seam(ref, clip, run_qc(clip, job=job, out_dir=folder, clip_id=clip_id, write_report=False))
    ref.apply_qc(report, qc_json=qc_json, clip_hash=clip_hash)  # the record writes qc.json
    write_sidecar(side, {"key": key})
    return report


def _qc_row(ref: ShotRef, report: QCReport) -> dict[str, Any]:
    """The DuckDB `qc` row of this pass, with the request's features (what trends and the miner group by)."""
    rec = ref.read()
    request, model = rec.request, rec.model
    features = extract_features(request, category=ref.shot.category, mode=ref.shot.mode, model=model)
    row = qc_row(report, episode=ref.episode.id, shot=ref.shot.id,
                 backend=rec.generation.backend if rec.generation else None, request=request, features=features)
    row["model"] = row.get("model") or model
    return row


def record_qc(ref: ShotRef, store: Store, *, judge: bool = False) -> QCReport:
    """QC the clip and store the pass in DuckDB, then let the VLM judge score it when asked and configured.

    The technical row is stored before the judge runs, so a judge failure (network, quota) loses
    nothing: the verdict stays technical, `scores` null, and the error is kept on the record.
    A clip the judge fails waits for a person (another take, a resubmit, or `vidpipe accept`).
    """
    report = check_clip(ref, store=store, qc_row=True)
    if judge and report.scores is None:
        try:
            report = vlm_judge(ref.review_dir, store=store, ref=ref, lessons_path=ref.paths.lessons)
        except VidpipeError as exc:
            ref.apply_qc(report, judge_error=str(exc))
    return report
