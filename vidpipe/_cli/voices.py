"""`vidpipe voices` — the ElevenLabs voices your account can use (id, name, category)."""

from __future__ import annotations

import json

import typer

from vidpipe.cli import app
from vidpipe.providers.elevenlabs import list_voices


@app.command()
def voices(as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table")) -> None:
    """List your account's voices; put one id in the episode (voice.voice_id) or the profile."""
    found = list_voices()
    if as_json:
        typer.echo(json.dumps([v.__dict__ for v in found], indent=1))
        return
    if not found:
        typer.echo("no voices on this account: add one in ElevenLabs' voice library", err=True)
        return
    width = max(len(v.voice_id) for v in found)
    name_w = max(len(v.name) for v in found)
    typer.echo(f"{'VOICE ID':<{width}}  {'NAME':<{name_w}}  CATEGORY")
    for v in found:
        typer.echo(f"{v.voice_id:<{width}}  {v.name:<{name_w}}  {v.category}")
