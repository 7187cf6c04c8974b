"""`vidpipe upscale CLIP` — finishing: Lanczos upscale, motion-compensated fps, or a remote ML upscaler."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from vidpipe.cli import app
from vidpipe.media.upscale import upscale as run


@app.command()
def upscale(
    clip: Path = typer.Argument(..., help="The video to finish"),
    resolution: Optional[str] = typer.Option(None, "--resolution", help="Target short side: 1080p | 1440p | 4k"),
    scale: Optional[float] = typer.Option(None, "--scale", help="Scale factor instead of a resolution"),
    fps: Optional[int] = typer.Option(None, "--fps", help="Interpolate motion to this frame rate"),
    out: Optional[Path] = typer.Option(None, "--out", help="Output file (default: next to CLIP)"),
    remote: Optional[str] = typer.Option(None, "--remote", help="Use the ML upscaler on fal: an endpoint id, or "
                                         "'default' (needs FAL_KEY)", show_default=False),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
) -> None:
    """Upscale CLIP keeping its aspect (Lanczos); --fps adds motion-compensated interpolation.

    With neither --resolution nor --scale, the target is 1080p (local) or ×2 (remote).
    """
    backend, endpoint = ("local", None) if remote is None else ("fal", None if remote == "default" else remote)
    console = Console(stderr=True)
    with Progress(TextColumn("upscaling"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(),
                  console=console, disable=quiet or backend != "local", transient=True) as bar:
        task = bar.add_task("upscale", total=1.0)
        path = run(clip, out, resolution=resolution, scale=scale, fps=fps, backend=backend, endpoint=endpoint,
                   progress=lambda f: bar.update(task, completed=f))
    typer.echo(str(path))
