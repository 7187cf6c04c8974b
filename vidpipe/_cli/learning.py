"""`vidpipe score`, `vidpipe trends`, `vidpipe lessons` — judging clips and reading what was learned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from vidpipe.cli import app
from vidpipe.errors import SpecError
from vidpipe.learning.defects import defect_rates
from vidpipe.learning.lessons import read_lessons
from vidpipe.learning.mine import learn as mine
from vidpipe.learning.trends import plot_trends
from vidpipe.learning.trends import trends as compute
from vidpipe.paths import Paths
from vidpipe.pipeline.scoring import score_clip
from vidpipe.qc.verdict import summary
from vidpipe.schema import Scores
from vidpipe.store import Store


@app.command()
def score(
    clip: Path = typer.Argument(..., help="The clip (its review/<id>/qc.json must exist) or a qc.json"),
    overall: int = typer.Option(..., min=1, max=5),
    prompt_fidelity: int = typer.Option(..., min=1, max=5),
    subject_consistency: int = typer.Option(..., min=1, max=5),
    camera_and_motion: int = typer.Option(..., min=1, max=5),
    audio_match: int = typer.Option(..., min=1, max=5),
    failure_mode: list[str] = typer.Option([], "--failure-mode", help="A catalogued failure mode (repeatable)"),
    what_worked: Optional[str] = typer.Option(None),
    what_to_change: Optional[str] = typer.Option(None),
    lesson: Optional[str] = typer.Option(None, help="Appended to LESSONS.md (one line of plain text, ≤300 characters)"),
    by: Optional[str] = typer.Option(None, "--by", help="Who is scoring (default: your user name)"),
) -> None:
    """Record a person's judgement of a clip (DuckDB + qc.json; the lesson goes to LESSONS.md)."""
    paths = Paths.from_env()
    s = Scores(prompt_fidelity=prompt_fidelity, subject_consistency=subject_consistency,
               camera_and_motion=camera_and_motion, audio_match=audio_match, overall=overall)
    report = score_clip(clip, s, failure_modes=tuple(failure_mode), what_worked=what_worked,
                        what_to_change=what_to_change, lesson=lesson, store=Store(paths.db), lessons_path=paths.lessons,
                        paths=paths, by=by)
    assert report.scores is not None
    capped = " (capped by technical defects)" if report.scores.overall < overall else ""
    typer.echo(f"{report.clip_id}: overall {report.scores.overall}/5{capped}, judged by human; verdict: {summary(report)}")


@app.command()
def trends(
    by: str = typer.Option("model,category", help="Group by: model, category, aspect, mode, judge, episode"),
    since: Optional[str] = typer.Option(None, help="Only scores since this date (YYYY-MM-DD)"),
    where: list[str] = typer.Option([], "--where", help="Filter, e.g. --where category=dialogue --where aspect=9:16"),
    as_json: bool = typer.Option(False, "--json"),
    plot: Optional[Path] = typer.Option(None, help="Write a PNG bar chart here"),
    defects: bool = typer.Option(False, "--defects", help="QC defect rates instead of scores; --by/--where "
                                 "also take request features (forbids_text, speaking, camera_move, has_dialogue…)"),
    code: Optional[str] = typer.Option(None, "--code", help="With --defects: only this defect code"),
) -> None:
    """Which models and prompts work: mean scores with n and 95% CI, accept rate, cost per accepted second."""
    filters = {}
    for w in where:
        if "=" not in w:
            raise SpecError(f"--where {w!r}: use KEY=VALUE, e.g. category=dialogue")
        k, v = w.split("=", 1)
        filters[k.strip()] = v.strip()
    if defects:
        _defect_trends(tuple(b.strip() for b in by.split(",")), filters, code, as_json)
        return
    try:
        rows = compute(Store(Paths.from_env().db), by=tuple(b.strip() for b in by.split(",")), since=since,
                       where=filters)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    if plot:
        plot_trends(rows, plot)
    if as_json:
        records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.as_record().items()}
                   for r in rows]  # JSON has no NaN: an undefined CI (n=1) is null
        typer.echo(json.dumps(records, indent=2, default=str, allow_nan=False))
        return
    table = Table(*by.split(","), "n", "mean overall", "±95% CI", "accepted", "$/accepted s")
    for r in rows:
        table.add_row(*(str(v) for v in r.group.values()), str(r.n), f"{r.mean_overall:.2f}",
                      "-" if r.ci95 != r.ci95 else f"{r.ci95:.2f}", f"{r.accept_rate:.0%}",
                      "-" if r.cost_per_accepted_s is None else f"{r.cost_per_accepted_s:.3f}")
    console = Console() if Console().is_terminal else Console(width=200)  # piped output is never truncated
    console.print(table if rows else "no judged clips yet: score some with `vidpipe score` or the review room")


def _defect_trends(by: tuple[str, ...], filters: dict[str, str], code: str | None, as_json: bool) -> None:
    """Defect rate per group and code, with n and the 95% Wilson interval (latest QC pass per clip)."""
    rows = defect_rates(Store(Paths.from_env().db), by=by, code=code, where=filters)
    if as_json:
        typer.echo(json.dumps([r.as_record() for r in rows], indent=2, default=str))
        return
    table = Table(*by, "defect", "n", "with defect", "rate", "95% CI")
    for r in rows:
        lo, hi = r.ci
        table.add_row(*(str(r.group[b]) for b in by), r.code, str(r.n), str(r.k), f"{r.rate:.0%}",
                      f"{lo:.0%}–{hi:.0%}")
    Console().print(table if rows else "no QC passes with defects yet: run `vidpipe qc` on some clips")


@app.command()
def lessons(learn: bool = typer.Option(False, "--learn", help="Mine DuckDB for new lessons first")) -> None:
    """Print LESSONS.md's entries (and mine new ones with --learn)."""
    paths = Paths.from_env()
    if learn:
        report = mine(Store(paths.db), paths.lessons)
        typer.echo(f"appended {len(report.appended)} lesson(s)")
    for lesson in read_lessons(paths.lessons):
        typer.echo(f"{lesson.id} {lesson.date} · {lesson.model} · {lesson.category} · {lesson.overall}/5 — {lesson.lesson}")
