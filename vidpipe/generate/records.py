"""The records a job leaves for people: its sidecar `DIR/<id>.json` and its ledger fields.

The sidecar holds the job, route, wire body, status, request id, timings, clip info and the
verified output (path, sha256, size, mtime). It never holds a key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidpipe.generate.claims import Output
from vidpipe.generate.plan import GenerationResult, Plan
from vidpipe.sidecar import read_sidecar, write_sidecar


def base_fields(plan: Plan) -> dict[str, Any]:
    """The generations-row fields every write carries."""
    job = plan.job
    return {"job_id": job.id, "episode": job.episode, "shot": job.shot, "backend": plan.backend,
            "model": plan.model, "endpoint": plan.endpoint, "body": plan.body, "est_cost_usd": plan.est_cost_usd}


def request_fields(plan: Plan) -> dict[str, Any]:
    """The requests-row fields every write carries (so a row missed by a crash is rebuilt whole)."""
    job = plan.job
    return {"cache_key": plan.cache_key, "job_id": job.id, "episode": job.episode, "shot": job.shot,
            "backend": plan.backend, "model": plan.model, "endpoint": plan.endpoint,
            "est_cost_usd": plan.est_cost_usd}


def side_path(out_dir: Path, plan: Plan) -> Path:
    return out_dir / f"{plan.job.id}.json"


def sidecar(plan: Plan, fields: dict[str, Any]) -> dict[str, Any]:
    return {"job": plan.job.model_dump(mode="json"), "cache_key": plan.cache_key, "model": plan.model,
            "endpoint": plan.endpoint, "backend": plan.backend, "route_reason": plan.route_reason,
            "body": plan.body, **fields}


def write_side(out_dir: Path, plan: Plan, fields: dict[str, Any]) -> None:
    write_sidecar(side_path(out_dir, plan), sidecar(plan, fields))


def finish(out_dir: Path, plan: Plan, res: GenerationResult, *, timings: dict[str, Any] | None = None,
           clip: dict[str, Any] | None = None, output: Output | None = None) -> GenerationResult:
    """Write the job's final sidecar (timings merged over earlier runs') and point the result at it."""
    side = side_path(out_dir, plan)
    data = sidecar(plan, res.model_dump(mode="json", exclude={"sidecar"}))
    old = read_sidecar(side) or {}
    data["timings"] = {**(old.get("timings") or {}), **(timings or {})}
    if clip:
        data["clip"] = clip
    elif old.get("clip") and res.status == "done":
        data["clip"] = old["clip"]
    if output is not None:
        data["output"] = output.model_dump(mode="json")
    try:
        write_sidecar(side, data)
        res.sidecar = str(side)
    except OSError as exc:
        res.warnings.append(f"sidecar {side} not written: {exc}")
    return res
