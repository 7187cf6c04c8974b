"""`vidpipe estimate EP [--backend fal|gemini] [--json]` — the cost of an episode before any spend."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from vidpipe.cli import app
from vidpipe.estimate import estimate_episode
from vidpipe.paths import Paths
from vidpipe.store import Store


@app.command()
def estimate(
    episode: str = typer.Argument(..., help="Episode id (a folder under data/episodes/)"),
    backend: str = typer.Option("auto", help="Price on this backend: auto | preview | fal | gemini"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Per shot: the model it will run on, billed seconds, resolution, audio, takes, price; total vs budget."""
    paths = Paths.from_env()
    store = Store(paths.db) if paths.db.exists() else None
    est = estimate_episode(paths, episode, backend=None if backend == "auto" else backend, store=store)
    if as_json:
        typer.echo(json.dumps(est.model_dump(mode="json") | {"over_budget": est.over_budget, "lines": est.lines()},
                              indent=2))
    else:
        table = Table(title=f"estimate: {episode}", title_justify="left")
        for col in ("shot", "model", "backend", "billed s", "res", "audio", "takes", "$/take", "still $", "$"):
            table.add_column(col, justify="right" if col[0] in "b$ts" and col != "shot" else "left")
        for s in est.shots:
            note = s.error or s.cannot_estimate or s.note
            table.add_row(s.shot, s.model, s.backend, f"{s.billed_seconds:g}", s.resolution, "yes" if s.audio else "no",
                          str(s.takes), f"{s.usd_per_take:.2f}", f"{s.still_usd:.3f}",
                          f"{s.usd:.2f}" + (f"  ({note})" if note else ""))
        console = Console(width=200) if not Console().is_terminal else Console()
        console.print(table)
        voice = f"voice: {est.voice_characters} characters on {est.voice_backend}"
        console.print(voice + (f": ${est.voice_usd:.3f} at the model's per-character rate"
                               if est.voice_backend == "elevenlabs" else " (offline, free)"))
        if est.plates_usd:
            console.print(f"cast plates: ${est.plates_usd:.3f}")
        console.print(est.line())
    if est.over_budget or any(s.error for s in est.shots):
        raise typer.Exit(1)
