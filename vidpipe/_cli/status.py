"""`vidpipe status [EP] [--json]` — what is rendered, failing or waiting, per episode and per shot.

The same facts and status names as the review room's index and episode page (vidpipe.review.data),
plus the errors the Dagster discovery sensor recorded for episodes it could not read.
"""

from __future__ import annotations

import json
from typing import Optional

import typer

from vidpipe.cli import app
from vidpipe.ledger import Ledger
from vidpipe.paths import Paths
from vidpipe.pipeline.status import read_episode_errors
from vidpipe.review.data import episode_cards, episode_view
from vidpipe.store import Store


@app.command()
def status(
    episode: Optional[str] = typer.Argument(None, help="One episode's shots (default: every episode)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Per episode: shots rendered, status, spend, and the error of an episode that cannot be read."""
    paths = Paths.from_env()
    store = Store(paths.db) if paths.db.exists() else None
    errors = read_episode_errors(paths)
    if episode is None:
        cards = episode_cards(paths, store)
        rows = [{"episode": c.id, "title": c.title, "status": c.status, "shots": c.shots, "rendered": c.rendered,
                 "cost_usd": c.cost_usd, "budget_usd": c.budget_usd,
                 "error": c.error or (errors.get(c.id) or {}).get("error")} for c in cards]
        listed = {c.id for c in cards}
        empty = sorted(d.name for d in paths.episodes.iterdir() if d.is_dir() and not d.name.startswith(".")
                       and d.name not in listed) if paths.episodes.is_dir() else []
        rows += [{"episode": ep, "title": None, "status": "failing", "shots": 0, "rendered": 0, "cost_usd": None,
                  "budget_usd": None, "error": (errors.get(ep) or {}).get("error")
                  or f"{ep}/: no episode.yaml in this folder (add one, or remove the folder)"} for ep in empty]
        broken = any(r["error"] for r in rows)
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            raise typer.Exit(1 if broken else 0)
        for r in rows:
            spent = f"${r['cost_usd'] or 0:.2f}" + (f" of ${r['budget_usd']:.2f}" if r["budget_usd"] else "")
            line = f"{r['episode']:<16} {r['status']:<17} {r['rendered']}/{r['shots']} shots  {spent}"
            typer.echo(line + (f"\n  error: {r['error']}" if r["error"] else ""))
        _unknown(store)
        raise typer.Exit(1 if broken else 0)  # a broken or empty episode folder is not "fine"
    view = episode_view(paths, episode, store)
    shots = [{"shot": s.id, "status": s.status, "model": s.take.model, "defects": s.take.defects,
              "failure": s.failure, "judge_error": s.judge_error,
              "decision": s.state_line if s.qc_state in ("awaiting decision", "accepted") else None}
             for s in view["shots"]]
    if as_json:
        typer.echo(json.dumps({"episode": episode, "status": view["status"], "shots": shots}, indent=2, default=str))
        return
    typer.echo(f"{episode}: {view['status']}")
    for s in shots:
        extra = s["failure"] or s["decision"] or s["judge_error"] or ", ".join(s["defects"] or [])
        typer.echo(f"  {s['shot']:<10} {s['status']:<17} {s['model'] or '—':<16} {extra}".rstrip())
    _unknown(store, episode)


def _unknown(store: Store | None, episode: str | None = None) -> None:
    """Submissions that may have been accepted (and billed) but whose request id never came back."""
    rows = Ledger(store).unknown(episode=episode) if store is not None else []
    if rows:
        typer.echo(f"{len(rows)} submission(s) with an unknown outcome (maybe billed; `vidpipe generate` looks "
                   "them up again, `--resubmit JOB` pays again):")
    for r in rows:
        typer.echo(f"  {r['job_id']:<16} {r['model']:<16} ~${r['est_cost_usd']:.2f}  sent {r['submitted_at']}")
