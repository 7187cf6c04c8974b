"""`vidpipe still "prompt"` — a first-frame still or character plate (Flux, a Gemini image model or preview)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidpipe.cli import app
from vidpipe.stills import make_still


@app.command()
def still(
    prompt: str = typer.Argument(..., help="What the still shows"),
    out: Path = typer.Option(Path("frame.png"), "--out", help="Where to write it (more images: <stem>_2.png …)"),
    model: str = typer.Option("flux-schnell", help="flux-schnell | flux-pro | gemini-image"),
    image_model: Optional[str] = typer.Option(
        None, "--image-model", help="Gemini image model id for gemini-image (default: $VIDPIPE_GEMINI_IMAGE_MODEL "
                                    "or gemini-2.5-flash-image)"),
    aspect: str = typer.Option("16:9", help="16:9 4:3 1:1 3:4 9:16 21:9 9:21"),
    resolution: str = typer.Option("720p", help="480p | 720p | 1080p (short side)"),
    n: int = typer.Option(1, "--n", min=1, max=4, help="How many images"),
    seed: Optional[int] = typer.Option(None, help="Seed, for repeatable stills"),
    backend: Optional[str] = typer.Option(None, help="preview | fal | gemini (default: from the keys set)"),
) -> None:
    """Make a still and print its path(s)."""
    res = make_still(prompt, out, model=model, aspect=aspect, resolution=resolution, backend=backend, n=n, seed=seed,
                     image_model=image_model)
    for p in res.paths:
        typer.echo(str(p))
    typer.echo(f"{res.model} via {res.backend}, ${res.cost_usd:.4f}", err=True)
