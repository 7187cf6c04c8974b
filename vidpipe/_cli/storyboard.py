"""`vidpipe storyboard EP` — the episode's storyboard sheet: every panel, continuity links, the cut's beats."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidpipe.cli import app
from vidpipe.paths import Paths
from vidpipe.storyboard.episode_sheet import write_storyboard


@app.command()
def storyboard(
    episode: str = typer.Argument(..., help="Episode id (a folder under data/episodes)"),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write it (default data/media/EP/storyboard.jpg;"
                                                           " .png for a lossless copy)"),
    columns: int = typer.Option(4, min=1, max=12, help="Panels per row"),
    tile_width: int = typer.Option(400, "--tile-width", min=160, max=1920, help="Width of one panel, pixels"),
) -> None:
    """Draw the storyboard sheet of the rendered shots and print its path."""
    typer.echo(str(write_storyboard(Paths.from_env(), episode, out, columns=columns, tile_width=tile_width)))
