"""`vidpipe qc CLIP [--job JOB.json] [--out DIR] [--json]` — technical QC and the review folder.

Exit 0 when the clip passes the QC verdict (vidpipe.qc.verdict: no blocking defect, a judged score at
least the threshold) — the same rule as the pipeline's gate and the Dagster check —, 1 when it fails,
2 bad input (missing/corrupt clip or unreadable job file). Warnings are printed but do not fail.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from vidpipe.cli import app
from vidpipe.errors import MediaError, SpecError
from vidpipe.jobfile import parse_jobs
from vidpipe.learning.features import extract_features
from vidpipe.paths import Paths
from vidpipe.qc.report import qc_row, review_dir, run_qc
from vidpipe.qc.verdict import summary, verdict
from vidpipe.schema import read_json
from vidpipe.sidecar import read_sidecar
from vidpipe.store import Store


def _load_job(path: Path, clip: Path) -> Any:
    """One job from a job file (or a bare request body, which takes the clip's name as its id)."""
    data = read_json(path)
    jobs = parse_jobs(data, source=str(path))
    if isinstance(data, dict) and "input" not in data:
        return jobs[0].model_copy(update={"id": clip.stem})
    if len(jobs) == 1:
        return jobs[0]
    for job in jobs:
        if job.id == clip.stem:
            return job
    raise SpecError(f"holds {len(jobs)} jobs and none has the id {clip.stem!r} (the clip's name)", path=str(path))


def _record(report: Any, job: Any, clip: Path) -> str | None:
    """Add the pass to DuckDB when a database exists (never creates one as a side effect).

    The row carries the same features `render` stores (model, category, mode, aspect, duration,
    refs, prompt features), so `trends --where ...` works the same for CLI users.
    """
    db = Paths.from_env().db
    if not db.exists():
        return None
    request = dict(job.input) if job is not None else {}
    made = read_sidecar(clip.with_suffix(".json")) or {}  # the runner's sidecar says which model made it
    model = made.get("model") or report.model or (job.model if job is not None and job.model != "auto" else None)
    features = extract_features(request, category=getattr(job, "category", None), mode=getattr(job, "mode", None),
                                model=model)
    row = qc_row(report, episode=getattr(job, "episode", None), shot=getattr(job, "shot", None),
                 backend=made.get("backend"), request=request or None, features=features)
    row["model"] = model
    Store(db).add_qc(row)
    return str(db)


@app.command()
def qc(
    clip: Path = typer.Argument(..., help="The clip to check (mp4/mov/webm)"),
    job: Optional[Path] = typer.Option(None, "--job", help="Job file (one job, or a bare request body) the clip was made from"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the review files into DIR (default: <clip dir>/review/<id>/)"),
    as_json: bool = typer.Option(False, "--json", help="Print qc.json instead of the verdict"),
    frames: int = typer.Option(6, "--frames", min=1, max=36, help="Frames on the contact sheet"),
    record: bool = typer.Option(True, "--record/--no-record", help="Add the pass to DuckDB when the database exists"),
) -> None:
    """Check CLIP: black/frozen frames, silence, loudness, shape vs the request, cuts vs time-coded blocks."""
    the_job = _load_job(job, clip) if job is not None else None
    try:
        report = run_qc(clip, job=the_job, out_dir=out, frames=frames)
    except MediaError as exc:
        print(f"vidpipe: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        raise typer.Exit(2) from None
    folder = review_dir(clip, report.clip_id, out)
    db = _record(report, the_job, clip) if record else None
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        _verdict(report, folder, db)
    if not verdict(report):
        raise typer.Exit(1)


def _verdict(report: Any, folder: Path, db: str | None) -> None:
    console = Console()
    p = report.probe
    shape = f"{p.width}x{p.height} @ {p.fps} fps" if p.has_video else "no video"
    audio = p.audio_codec if p.has_audio else "no audio"
    console.print(f"[bold]{report.clip_id}[/bold]  {p.duration_s:.2f} s  {shape}  {audio}")
    if report.defects:
        table = Table(title=f"{len(report.defects)} defect(s)", title_justify="left")
        for col in ("code", "from", "to", "severity", "detail"):
            table.add_column(col, justify="right" if col in ("from", "to") else "left")
        for d in report.defects:
            table.add_row(d.code, _t(d.start_s), _t(d.end_s), d.severity, d.detail)
        console.print(table)
    if not verdict(report):
        console.print(f"[red]verdict: {summary(report)}[/red]")
    elif report.defects:
        console.print("[yellow]verdict: passed with warnings[/yellow]")
    else:
        console.print("[green]verdict: no technical defect[/green] (scores: not judged yet)")
    console.print(f"contact sheet: {folder / 'contact_sheet.jpg'}")
    if db:
        console.print(f"recorded in {db}")


def _t(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}s"
