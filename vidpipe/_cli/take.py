"""`vidpipe take EP SHOT [N]` — list a shot's takes, or choose take N for the cut (a person overrides the rule)."""

from __future__ import annotations

import getpass
from typing import Optional

import typer

from vidpipe.cli import app
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import use_take
from vidpipe.pipeline.takes import rank, varies_by_prompt
from vidpipe.store import Store


@app.command()
def take(
    episode: str = typer.Argument(..., help="Episode id"),
    shot: str = typer.Argument(..., help="Shot id"),
    number: Optional[int] = typer.Argument(None, help="Take to use in the cut (omit to list the takes)"),
    by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: your user name)"),
) -> None:
    """Show a shot's takes with their QC, or put take N into the cut (kept until you change it).

    Takes differ by seed where the model takes one; Seedance 2.0, Kling and the talking avatars have no
    seed on fal, so their takes 2..N differ by a variation sentence at the end of the prompt.
    """
    paths = Paths.from_env()
    ref = ShotRef.load(paths, episode, shot)
    if number is not None:
        chosen = use_take(ref, number, by=by or getpass.getuser(), store=Store(paths.db))
        typer.echo(f"{ref.key}: take {chosen.take} goes into the cut ({chosen.generation.model}, "
                   f"defects: {', '.join(chosen.defects) or 'none'}; {ref.read().state_line()}); "
                   "the final cut is stale and re-cuts on its next run")
        return
    rec = ref.read()
    if not rec.takes:
        typer.echo(f"{ref.key}: one take (set `takes: N` on the shot or the episode to generate more)")
        return
    by_rule = min(rec.takes, key=rank).take
    for t in rec.takes:
        marks = ("← in the cut" if t.take == rec.chosen_take else "") + (" (best by rule)" if t.take == by_rule else "")
        score = f"overall {t.overall}/5" if t.overall else "unjudged"
        by = (("prompt as written" if t.take == 1 else "prompt variation") if varies_by_prompt(t.generation.model or "auto")
              else f"seed {t.generation.seed}")
        typer.echo(f"take {t.take}  {by}  {t.generation.model}  {score}  "
                   f"blocking: {', '.join(t.blocking) or 'none'}  defects: {len(t.defects)}  {marks}".rstrip())
    if rec.take_override:
        typer.echo(f"chosen by a person: take {rec.take_override}")
