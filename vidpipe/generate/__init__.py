"""The generation runner: validate, translate, claim, submit once, resume, cache, fall back, download, verify.

Where a clip gets generated:

    plan.py     validate + route + translate one job; the cache key
    claims.py   exactly once across processes (a file lock + claim per key) — what is shared and its limits
    retry.py    the one retry helper (reads retried, paid calls never)
    submit.py   claim a key and submit it at most once
    runner.py   one job's life: cache → claim → submit → poll → download → verify → record
    output.py   temp name → full decode → sha256 → rename; cached outputs trusted by hash
    records.py  the sidecar DIR/<id>.json and the ledger fields a job writes
    report.py   the progress line and DIR/manifest.json

Every backend (offline preview included) goes down this one path.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vidpipe.generate.claims import Claims
from vidpipe.generate.output import TMP, sweep_stale, tmp_dir
from vidpipe.generate.plan import GenerationResult, Plan, cache_key, plan_job
from vidpipe.generate.report import Tally, write_manifest
from vidpipe.generate.retry import with_retries
from vidpipe.generate.runner import FALLBACK_MODEL, Runner, StageHook
from vidpipe.ledger import Ledger
from vidpipe.providers import preflight
from vidpipe.schema import Job
from vidpipe.store import Store

DEADLINE_S = 1800.0  # a job that has not finished in this long fails (its request stays resumable)

__all__ = ["FALLBACK_MODEL", "GenerationResult", "Plan", "cache_key", "claims_folder", "generate_jobs", "plan_job",
           "with_retries"]


def claims_folder(out_dir: Path, store: Store | None) -> Path:
    """Claims live beside the store (the data root every process shares), else in the output folder."""
    return store.path.parent / "claims" if store is not None else Path(out_dir) / ".claims"


def generate_jobs(jobs: list[Job], out_dir: Path, *, backend: str | None = None, model: str | None = None,
                  fallback: bool = False, budget_usd: float | None = None, concurrency: int = 4,
                  store: Store | None = None, progress: bool = False, deadline_s: float = DEADLINE_S,
                  resubmit: Iterable[str] = (), on_plans: Callable[[list[Plan]], None] | None = None,
                  on_stage: StageHook | None = None, refs: Any = None) -> list[GenerationResult]:
    """Generate every job into `out_dir` (DIR/<id>.mp4, DIR/<id>.json, DIR/manifest.json).

    Invalid jobs are reported and never submitted; the rest run `concurrency` at a time. A job
    whose request already exists is resumed, never paid again — unless its id is in `resubmit`.
    `on_plans` sees every plan (model, backend, estimate) before anything is submitted;
    `on_stage(job_id, stage)` sees each step of each job. `refs` (a refcheck.RefPolicy) says where
    local references may come from (default: the project's roots). Returns one result per job, in input order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale(out_dir)
    ledger = Ledger(store) if store is not None else None
    tally = Tally(len(jobs))

    def stage(job_id: str, name: str) -> None:
        tally.update(job_id, name)
        if on_stage is not None:
            on_stage(job_id, name)

    runner = Runner(out_dir, backend=backend, fallback=fallback, budget_usd=budget_usd, ledger=ledger,
                    deadline_s=deadline_s, claims=Claims(claims_folder(out_dir, store)), resubmit=set(resubmit),
                    on_stage=stage, refs=refs)
    plans = [runner.plan(job, model=model, store=store) for job in jobs]
    runner.prefetch(plans)
    preflight.check_plans(plans, would_submit=runner._would_submit, rekey=cache_key,  # noqa: SLF001
                          root=store.path.parent if store is not None else None)  # contracts, before any spend
    runner.reserve_budget(plans)
    if on_plans is not None:
        on_plans(plans)
    tmp_dir(out_dir)
    try:
        with tally.shown(progress), (ledger.buffered() if ledger else contextlib.nullcontext()):
            with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="vidpipe-gen") as pool:
                results = list(pool.map(runner.run, plans))
    finally:
        shutil.rmtree(tmp_dir(out_dir), ignore_errors=True)
        try:
            (out_dir / TMP).rmdir()
        except OSError:
            pass
    write_manifest(out_dir, results)
    return results

