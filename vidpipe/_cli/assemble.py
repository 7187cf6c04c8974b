"""`vidpipe assemble EDIT.json` — render an edit list (the skill's format, extended) in one encode."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from vidpipe.cli import app
from vidpipe.media.assemble import assemble as render
from vidpipe.media.assemble import describe, load_edit_list, plan_edit


@app.command()
def assemble(
    edit_file: Path = typer.Argument(..., help="Edit list JSON: output, resolution, fps, audio, clips[], "
                                                "plus tracks[], subtitles, loudness_lufs, true_peak_db"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
) -> None:
    """Render EDIT_FILE. Every edit-list error names the clip and is reported before anything is encoded.

    Relative paths in the edit list resolve against the edit file's folder.
    """
    edit = load_edit_list(edit_file)
    base = edit_file.resolve().parent
    console = Console(stderr=True)
    console.print(f"assembling {describe(plan_edit(edit, base))}")
    with Progress(TextColumn("encoding"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(),
                  console=console, disable=quiet, transient=True) as bar:
        task = bar.add_task("encode", total=1.0)
        res = render(edit, base_dir=base, progress=lambda f: bar.update(task, completed=f))
    loud = f", mix measured {res.measured.integrated_lufs:.1f} LUFS → {edit.loudness_lufs:g}" if res.measured else ""
    console.print(f"{res.width}x{res.height}@{res.fps}, {res.clips} clips, {res.duration_s:.2f} s{loud}, "
                  f"encoded in {res.encode_s:.1f} s")
    typer.echo(str(res.path))
    if res.subtitles_path:
        typer.echo(str(res.subtitles_path))
