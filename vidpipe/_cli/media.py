"""`vidpipe assemble EDIT.json` and `vidpipe upscale CLIP` — the edit and the finish."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidpipe.cli import app


@app.command()
def assemble(edit_file: Path = typer.Argument(..., help="Edit list JSON (the skill's format, plus tracks/subtitles)")) -> None:
    """Render an edit list in one filter graph and one encode; errors name the clip before encoding."""
    from rich.console import Console

    from vidpipe.media.assemble import assemble as run, load_edit_list, describe

    edit = load_edit_list(edit_file)
    base = edit_file.resolve().parent
    console = Console(stderr=True)
    console.print(f"assembling {describe(edit, base)}")
    with console.status("encoding…"):
        res = run(edit, base_dir=base)
    typer.echo(f"{res.path}  ({res.duration_s:.2f} s)" + (f"  subtitles: {res.subtitles_path}" if res.subtitles_path else ""))


@app.command()
def upscale(
    clip: Path = typer.Argument(...),
    resolution: Optional[str] = typer.Option(None, help="1080p | 1440p | 4k (short side)"),
    scale: Optional[float] = typer.Option(None, help="Scale factor instead of a resolution"),
    fps: Optional[int] = typer.Option(None, help="Interpolate motion to this frame rate"),
    out: Optional[Path] = typer.Option(None, help="Output file"),
    remote: bool = typer.Option(False, "--remote", help="Use the ML upscaler on fal (needs FAL_KEY)"),
    endpoint: Optional[str] = typer.Option(None, help="fal endpoint id of the remote upscaler"),
) -> None:
    """Lanczos upscale keeping aspect (+ motion-compensated interpolation with --fps), or --remote on fal."""
    from vidpipe.errors import SpecError
    from vidpipe.media.upscale import upscale as run, upscale_remote

    if resolution and scale:
        raise SpecError("give --resolution or --scale, not both")
    if not clip.is_file():
        raise SpecError("file not found", path=str(clip))
    if remote:
        typer.echo(str(upscale_remote(clip, out, scale=scale or 2.0, endpoint=endpoint)))
        return
    typer.echo(str(run(clip, out, resolution=resolution or ("1080p" if scale is None else None), scale=scale, fps=fps)))
