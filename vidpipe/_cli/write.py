"""`vidpipe write EP --logline "…" [--shots N] [--aspect 9:16] [--minutes M]` — a draft episode to edit."""

from __future__ import annotations

from typing import Optional

import typer

from vidpipe.cli import app
from vidpipe.paths import Paths
from vidpipe.write.draft import write_episode


@app.command()
def write(
    episode: str = typer.Argument(..., help="New episode id (data/episodes/EP/ must not hold an episode yet)"),
    logline: str = typer.Option(..., "--logline", help="One sentence: who, what, and what is at stake"),
    shots: Optional[int] = typer.Option(None, "--shots", min=1, max=24, help="Number of shots (default from --minutes, else 5)"),
    aspect: str = typer.Option("16:9", "--aspect", help="16:9 | 9:16 | 1:1 | 4:3 | 3:4 | 21:9"),
    minutes: Optional[float] = typer.Option(None, "--minutes", min=0.1, max=30, help="Target length in minutes"),
    offline: bool = typer.Option(False, "--offline", help="Use the offline beat sheet even when GEMINI_API_KEY is set"),
) -> None:
    """Draft an episode from a logline (Gemini with GEMINI_API_KEY, else an offline beat sheet), check it, price it."""
    paths = Paths.from_env()
    done = write_episode(paths, episode, logline, shots=shots, aspect=aspect, minutes=minutes,
                         use_llm=False if offline else None)
    typer.echo(f"wrote {done.path} (DRAFT, by the {done.writer}): it validates; read and edit it before spending")
    for label, w in done.warnings:
        typer.echo(f"  warning {label} {w.code}: {w.message}")
    if done.estimate is not None:
        typer.echo(done.estimate.line())
    typer.echo(f"next: vidpipe render {episode}   (offline preview first: no keys, no spend)")
