"""`vidpipe validate`, `vidpipe route`, `vidpipe prompt` — check a job file before spending, see a prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidpipe.cli import app, check_backend
from vidpipe.episode import load_episode, validate_episode
from vidpipe.errors import SpecError
from vidpipe.paths import Paths
from vidpipe.profile import load_profile
from vidpipe.prompt import compose_prompt, lint_prompt
from vidpipe.schema import Shot, load_model, read_json
from vidpipe.validate import reports_json, validate_file


def _print_reports(reports: list, *, as_json: bool, explain: bool) -> None:
    if as_json:
        typer.echo(reports_json(reports, explain=explain))
        return
    for r in reports:
        verdict = "error" if r.errors else ("warnings" if r.warnings else "ok")
        typer.echo(f"{r.label}: {verdict} → {r.route}")
        if explain:
            typer.echo(f"  route: {r.route_reason}")
            typer.echo(f"  evidence: {r.route_evidence}")
        for f in r.errors:
            typer.echo(f"  ERROR   {f.code}: {f.message}")
        for f in r.warnings:
            typer.echo(f"  WARNING {f.code}: {f.message}")


@app.command()
def validate(
    file: Optional[Path] = typer.Argument(None, help="A job, an array of jobs, or a bare canonical body (JSON)"),
    episode: Optional[str] = typer.Option(None, "--episode", help="Validate a whole episode (id or folder) instead"),
    model: Optional[str] = typer.Option(None, "--model", help="Validate every job as if run with generate --model"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of {label, route, errors, warnings}"),
    explain: bool = typer.Option(False, "--explain", help="Say why each job routes where it does"),
    backend: Optional[str] = typer.Option(None, "--backend", callback=check_backend,
                                          help="Check as if run with generate --backend (default: what generate would use)"),
) -> None:
    """Validate FILE (or --episode EP). Exit 0 clean or warnings only, 1 if any job has errors, 2 if the
    file is unreadable or the episode itself is invalid."""
    if (file is None) == (episode is None):
        raise SpecError("give a job FILE or --episode EP (one of them)")
    if episode is not None:
        _, reports = validate_episode(Paths.from_env(), episode)
    else:
        reports = validate_file(file, explain=explain, model=model, backend=backend)  # type: ignore[arg-type]
    _print_reports(reports, as_json=as_json, explain=explain)
    if any(r.errors for r in reports):
        raise typer.Exit(1)


@app.command("route")
def route_cmd(
    file: Path = typer.Argument(..., help="A job, an array of jobs, or a bare canonical body (JSON)"),
    explain: bool = typer.Option(False, "--explain", help="Say why, with the evidence"),
    model: Optional[str] = typer.Option(None, "--model", help="Route as if run with generate --model"),
) -> None:
    """Print the model each job in FILE would run on (no validation verdict, no spending)."""
    for r in validate_file(file, model=model):
        typer.echo(f"{r.label}: {r.route}")
        if explain:
            typer.echo(f"  why: {r.route_reason}")
            typer.echo(f"  evidence: {r.route_evidence}")


@app.command()
def prompt(
    shot_file: Optional[Path] = typer.Argument(None, help="A JSON file holding one Shot"),
    episode: Optional[Path] = typer.Option(None, "--episode", help="Episode folder or file (with --shot)"),
    shot: Optional[str] = typer.Option(None, "--shot", help="Shot id within --episode"),
    lint: bool = typer.Option(False, "--lint", help="Also print word-budget and dialogue warnings (stderr)"),
) -> None:
    """Print the composed 5-part prompt of a shot (SHOT.json, or --episode DIR --shot ID)."""
    ep = None
    if episode is not None:
        if not shot or shot_file is not None:
            raise SpecError("use either SHOT.json or --episode DIR --shot ID")

        ep = load_episode(episode)
        try:
            the_shot = ep.shot(shot)
        except KeyError:
            raise SpecError(f"no shot {shot!r} (shots: {', '.join(s.id for s in ep.shots)})", path=str(episode)) from None
    elif shot_file is not None:
        the_shot = load_model(Shot, read_json(shot_file), path=str(shot_file))
    else:
        raise SpecError("give a SHOT.json file or --episode DIR --shot ID")
    profile = None
    if the_shot.me:
        profile = load_profile()
    text = compose_prompt(the_shot, episode=ep, profile=profile)
    typer.echo(text)
    if lint:
        for f in lint_prompt(text):
            typer.echo(f"WARNING {f.code}: {f.message}", err=True)
