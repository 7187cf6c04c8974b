"""`vidpipe export EP --format …` (the edit for an NLE) and `vidpipe import EP EDITED` (and back into the cut)."""

from __future__ import annotations

from pathlib import Path

import typer

from vidpipe.cli import app
from vidpipe.finish.formats import FORMATS, export_timeline
from vidpipe.finish.roundtrip import drop_import, import_timeline
from vidpipe.paths import Paths


@app.command()
def export(
    episode: str = typer.Argument(..., help="Episode id (folder under data/episodes)"),
    fmt: str = typer.Option("otio", "--format", "-f", help=f"One of: {', '.join(FORMATS)}"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output file (default data/media/EP/export/EP.<ext>)"),
) -> None:
    """Write the episode's edit as an NLE timeline (OpenTimelineIO adapters) plus SRT/WebVTT subtitle sidecars."""
    res = export_timeline(Paths.from_env(), episode, fmt, out)
    typer.echo(f"{res.path}  ({res.clips} clips, {res.duration_frames} frames @ {res.fps} fps)", err=True)
    for what in res.dropped:
        typer.echo(f"note: this format cannot carry {what}", err=True)
    typer.echo(str(res.path))
    for p in res.sidecars:
        typer.echo(str(p))


@app.command("import")
def import_(
    episode: str = typer.Argument(..., help="Episode id"),
    edited: Path | None = typer.Argument(None, help="Edited timeline: .otio, .fcpxml, .xml (FCP 7), .edl, .kdenlive"),
    no_cut: bool = typer.Option(False, "--no-cut", help="Write the edit list only; do not re-cut"),
    drop: bool = typer.Option(False, "--drop", help="Forget the imported edit; the cut follows the episode again"),
) -> None:
    """Read an edited timeline back into the episode's edit list and re-cut it with vidpipe's own assemble."""
    paths = Paths.from_env()
    if drop:
        typer.echo("imported edit removed" if drop_import(paths, episode) else "no imported edit", err=True)
        return
    if edited is None:
        raise typer.BadParameter("give the edited timeline file (or --drop)")
    res = import_timeline(paths, episode, edited, recut=not no_cut)
    typer.echo(f"{res.edit_path}  ({len(res.edit.clips)} clips, {res.frames} frames)", err=True)
    if res.cut is not None:
        typer.echo(str(res.cut.path))
