"""`vidpipe generate JOBS.json --out DIR` — validate, estimate, then generate concurrently."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidpipe.cli import app, check_backend


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
) -> None:
    """Generate clips for JOBS_FILE. Exit 0 when every job is done, 1 if any failed or was invalid."""
    from rich.console import Console

    from vidpipe.generate import Plan, generate_jobs
    from vidpipe.paths import Paths
    from vidpipe.refcheck import RefPolicy
    from vidpipe.store import Store
    from vidpipe.validate import load_jobs

    console = Console(stderr=True)
    jobs = load_jobs(jobs_file)

    def show_estimate(plans: list[Plan]) -> None:
        total = 0.0
        for p in plans:
            if p.errors:
                console.print(f"  {p.job.id}: [red]invalid[/red] ({p.errors[0][0]}) — not submitted")
                continue
            total += p.est_cost_usd
            console.print(f"  {p.job.id}: {p.model} via {p.backend} ({p.endpoint}) est. ${p.est_cost_usd:.2f}")
        tail = f" of budget ${budget:.2f}" if budget is not None else ""
        console.print(f"estimated total ${total:.2f}{tail} (cache hits and resumed requests cost nothing new)")

    results = generate_jobs(jobs, out, backend=backend, model=model, fallback=fallback, budget_usd=budget,
                            concurrency=concurrency, store=Store(Paths.from_env().db), progress=True,
                            on_plans=show_estimate,
                            refs=RefPolicy.for_project(Paths.from_env(), jobs_file.parent))  # as `validate` checks
    spent = sum(r.cost_usd for r in results)
    for r in results:
        if r.status == "done":
            tag = " (cached)" if r.cache_hit else ""
            via = f", fallback from {r.fallback_from}" if r.fallback_from else ""
            console.print(f"[green]✓[/green] {r.job_id}: {r.path}{tag} — {r.model}{via}, ${r.cost_usd:.2f}")
            for w in r.warnings:
                console.print(f"    warning: {w}")
        else:
            console.print(f"[red]✗[/red] {r.job_id}: {r.status} [{r.error_code}] {r.error}")
    console.print(f"spent ${spent:.2f}; manifest: {Path(out) / 'manifest.json'}")
    if any(r.status != "done" for r in results):
        raise SystemExit(1)  # (cli.main drops typer.Exit codes in non-standalone mode)
