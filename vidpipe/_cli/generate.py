"""`vidpipe generate JOBS.json --out DIR` — validate, estimate, then generate concurrently (each request paid once)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from vidpipe.cli import app, check_backend
from vidpipe.errors import SpecError, VidpipeError
from vidpipe.generate import GenerationResult, Plan, generate_jobs
from vidpipe.jobfile import load_jobs
from vidpipe.paths import Paths
from vidpipe.refcheck import RefPolicy
from vidpipe.store import Store


@app.command()
def generate(
    jobs_file: Path = typer.Argument(..., help="A job, an array of jobs, or a bare canonical body (JSON)"),
    out: Path = typer.Option(..., "--out", help="Output folder: <id>.mp4, <id>.json, manifest.json"),
    model: Optional[str] = typer.Option(None, help="Override every job's model"),
    fallback: bool = typer.Option(False, "--fallback", help="Reroute moderation refusals to kling-3.0-omni"),
    backend: Optional[str] = typer.Option(None, help="preview | fal | gemini (default: from the keys set)",
                                          callback=check_backend),
    budget: Optional[float] = typer.Option(None, "--budget", help="Refuse submissions beyond this many USD"),
    concurrency: int = typer.Option(4, min=1, max=40, help="Jobs in flight at once"),
    resubmit: Optional[list[str]] = typer.Option(
        None, "--resubmit", metavar="JOB_ID",
        help="Pay for a NEW request for this job even though one exists (repeatable). Without it a job's "
             "existing request is always resumed, never paid again."),
) -> None:
    """Generate clips for JOBS_FILE. Exit 0 when every job is done, 1 if any failed or was invalid."""
    console = Console(stderr=True)
    jobs = load_jobs(jobs_file)
    again = list(dict.fromkeys(resubmit or []))
    unknown = sorted(set(again) - {j.id for j in jobs})
    if unknown:
        raise SpecError(f"--resubmit {', '.join(unknown)}: no such job id in the file", path=str(jobs_file))
    check_writable(out)

    def show_estimate(plans: list[Plan]) -> None:
        total = 0.0
        shown = 0
        for p in plans:
            if p.errors:
                code, why = p.errors[0]
                console.print(f"  {escape(p.job.id)}: [red]invalid[/red] ({code}: {escape(why)}) — not submitted")
                continue
            total += p.est_cost_usd
            if shown < 50:
                tag = " [yellow](resubmit: pays again)[/yellow]" if p.job.id in again else ""
                console.print(f"  {p.job.id}: {p.model} via {p.backend} ({p.endpoint}) est. ${p.est_cost_usd:.2f}{tag}")
            shown += 1
        if shown > 50:
            console.print(f"  … and {shown - 50} more")
        tail = f" of budget ${budget:.2f}" if budget is not None else ""
        console.print(f"estimated total ${total:.2f}{tail} (cache hits and resumed requests cost nothing new)")

    results = generate_jobs(jobs, out, backend=backend, model=model, fallback=fallback, budget_usd=budget,
                            concurrency=concurrency, store=Store(Paths.from_env().db), progress=True,
                            resubmit=again, on_plans=show_estimate,
                            refs=RefPolicy.for_project(Paths.from_env(), jobs_file.parent))  # as `validate` checks
    summarize(console, results, out)
    if any(r.status != "done" for r in results):
        raise SystemExit(1)  # (cli.main drops typer.Exit codes in non-standalone mode)


def check_writable(out: Path) -> None:
    """Refuse before any spend when the output folder cannot be written."""
    target = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if (target.exists() and not target.is_dir()) or not os.access(target, os.W_OK | os.X_OK):
        raise VidpipeError(f"--out {out}: not a writable folder ({target} is not writable); nothing was submitted")


def summarize(console: Console, results: list[GenerationResult], out: Path) -> None:
    """One line per job that needs attention, counts for the rest (10,000 cached jobs do not scroll)."""
    spent = sum(r.cost_usd for r in results)
    ok = [r for r in results if r.status == "done"]
    for r in results if len(results) <= 200 else [r for r in results if r.status != "done" or r.warnings]:
        if r.status == "done":
            tag = " (cached)" if r.cache_hit else " (resumed)" if r.resumed else ""
            via = f", fallback from {r.fallback_from}" if r.fallback_from else ""
            console.print(f"[green]✓[/green] {r.job_id}: {r.path}{tag} — {r.model}{via}, ${r.cost_usd:.2f}")
            for w in r.warnings:
                console.print(f"    warning: {w}")
        else:
            console.print(f"[red]✗[/red] {r.job_id}: {r.status} [{r.error_code}] {r.error}")
    cached = sum(1 for r in ok if r.cache_hit)
    console.print(f"{len(ok)}/{len(results)} done ({cached} cached); spent ${spent:.2f}; "
                  f"manifest: {Path(out) / 'manifest.json'}")
