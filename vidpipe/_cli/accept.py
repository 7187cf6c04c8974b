"""`vidpipe accept EP SHOT --reason "…" [--by NAME]` — a person accepts a clip that failed QC; the cut proceeds."""

from __future__ import annotations

import getpass
from typing import Optional

import typer

from vidpipe.cli import app
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import accept_shot
from vidpipe.store import Store


@app.command()
def accept(
    episode: str = typer.Argument(..., help="Episode id"),
    shot: str = typer.Argument(..., help="Shot id"),
    reason: str = typer.Option(..., "--reason", help="Why the clip is good enough (one line, kept with the cut)"),
    by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: your user name)"),
) -> None:
    """Accept the shot's current clip although it failed QC: recorded with who and why; the final cut follows."""
    paths = Paths.from_env()
    ref = ShotRef.load(paths, episode, shot)
    accept_shot(ref, reason, by=by or getpass.getuser(), store=Store(paths.db))
    rec = ref.read()
    assert rec.accepted is not None
    typer.echo(f"{ref.key}: accepted by {rec.accepted.by} ({rec.qc.why if rec.qc else 'failed QC'}); "
               "the final cut is stale and re-cuts on its next run")
