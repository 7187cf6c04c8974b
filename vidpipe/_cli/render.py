"""`vidpipe render EP` — render an episode end to end without Dagster (same stages as the assets)."""

from __future__ import annotations

import typer
from rich.console import Console

from vidpipe.cli import app, check_backend
from vidpipe.paths import Paths
from vidpipe.pipeline.run import render_episode


@app.command()
def render(
    episode: str = typer.Argument(..., help="Episode id (a folder under data/episodes/)"),
    backend: str = typer.Option("auto", help="auto | preview | fal | gemini", callback=check_backend),
    no_delivery: bool = typer.Option(False, "--no-delivery", help="Stop after the final cut"),
) -> None:
    """Render every shot, the voiceover, the final cut and the delivery file of one episode."""
    console = Console(stderr=True)
    with console.status("starting…") as status:
        run = render_episode(Paths.from_env(), episode, backend=None if backend == "auto" else backend,
                             deliver=not no_delivery, on_step=lambda m: status.update(m),
                             on_notice=lambda m: console.print(m))
    for s in run.shots:
        console.print(f"  {s['shot']}: {s['model']} via {s['backend']}, cached={s['cache_hit']}, defects={s['defects'] or 'none'}")
    if run.failed:
        for shot, err in run.failed.items():
            console.print(f"[red]✗ {shot}[/red]: {err}")
        raise typer.Exit(1)
    typer.echo(str(run.delivery or run.final))
