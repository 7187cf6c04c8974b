"""`vidpipe cast EP [--json]` — the episode's cast: who, their look (files or plate), and the shots they are in."""

from __future__ import annotations

import json

import typer

from vidpipe.cast import appearances, needs_plate, plate_path
from vidpipe.cli import app
from vidpipe.episode import load_episode
from vidpipe.paths import Paths


@app.command()
def cast(
    episode: str = typer.Argument(..., help="Episode id"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Print the cast with reference images or plates and the shots each member appears in."""
    paths = Paths.from_env()
    ep = load_episode(paths.episode_dir(episode), paths=paths)
    shots = appearances(ep)
    rows = []
    for m in ep.cast:
        if m.me:
            look = "the profile's avatar (me)"
        elif needs_plate(m):
            p = plate_path(paths.episode_media(ep.id), m)
            look = f"plate {p}" + ("" if p.exists() else " (not made yet: render, or materialize cast_plate)")
        else:
            look = ", ".join(m.images)
        rows.append({"id": m.id, "name": m.name, "kind": m.kind, "description": m.description, "look": look,
                     "real_person": m.real_person.basis if m.real_person else None, "shots": shots[m.id]})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"{ep.id} has no cast (add `cast:` entries and list them on shots with `cast: [id, ...]`)")
        return
    for r in rows:
        basis = f"  real person: {r['real_person']}" if r["real_person"] else ""
        typer.echo(f"{r['id']}  {r['name']} ({r['kind']}){basis}\n  {r['description']}\n  look: {r['look']}\n"
                   f"  in: {', '.join(map(str, r['shots'] or [])) or 'no shot yet'}")
