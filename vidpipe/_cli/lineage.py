"""`vidpipe lineage FINAL.mp4 | --episode EP [--json]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from vidpipe.cli import app
from vidpipe.errors import SpecError
from vidpipe.lineage import episode_of, render_tree
from vidpipe.lineage import lineage as build
from vidpipe.paths import Paths
from vidpipe.store import Store


@app.command()
def lineage(
    file: Optional[Path] = typer.Argument(None, help="A delivered or final file under data/media/<ep>/"),
    episode: Optional[str] = typer.Option(None, "--episode", "-e", help="Episode id instead of a file"),
    as_json: bool = typer.Option(False, "--json", help="Print the tree as JSON"),
) -> None:
    """Trace a final video back to every clip, still, voice take, request, prompt, model, request id, cost and score."""
    paths = Paths.from_env()
    if episode is None:
        if file is None:
            raise SpecError("give a final/delivery file or --episode EP")
        episode = episode_of(file, paths)
    tree = build(paths, episode, store=Store(paths.db) if paths.db.exists() else None)
    if as_json:
        typer.echo(json.dumps(tree, indent=2, default=str))
    else:
        Console().print(render_tree(tree))
