"""`vidpipe costs [--episode E] [--json]` — spend by kind (video, still, plate, voice, judge), model, episode and
day, money that produced nothing, and (with --episode) the estimate's lines and every paid call, estimate vs actual."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from vidpipe.cli import app
from vidpipe.ledger import Ledger
from vidpipe.paths import Paths
from vidpipe.store import Store


@app.command()
def costs(
    episode: Optional[str] = typer.Option(None, "--episode", help="Only this episode"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Report what generation has cost (actual where known, else the estimate), per request."""
    report = Ledger(Store(Paths.from_env().db)).costs(episode=episode)
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    console = Console()
    for title, key in (("by kind (video, still, plate, voice, judge)", "by_kind"), ("by model", "by_model"),
                       ("by episode", "by_episode"), ("by day", "by_day")):
        table = Table(title=f"spend {title}")
        for col in ("", "requests", "cost $", "estimated $", "produced nothing $"):
            table.add_column(col, justify="left" if not col else "right")
        for row in report[key]:
            table.add_row(str(row["key"] or "—"), str(row["generations"]), f"{row['cost_usd'] or 0:.2f}",
                          f"{row['est_cost_usd'] or 0:.2f}", f"{row['wasted_usd'] or 0:.2f}")
        console.print(table)
    if report["produced_nothing"]:
        table = Table(title="money spent on requests that produced nothing")
        for col in ("job", "model", "request", "status", "cost $", "why"):
            table.add_column(col, justify="right" if col == "cost $" else "left")
        for r in report["produced_nothing"]:
            table.add_row(str(r["job_id"]), str(r["model"]), str(r["request_id"] or "(id unknown)"), str(r["status"]),
                          f"{r['cost_usd'] or 0:.2f}", (r["error"] or "")[:80])
        console.print(table)
    if report["lines"]:
        table = Table(title=f"spend in the estimate's lines ({episode}; compare `vidpipe estimate {episode}`)")
        for col in ("kind", "shot", "requests", "estimated $", "actual $"):
            table.add_column(col, justify="right" if col.endswith("$") or col == "requests" else "left")
        for r in report["lines"]:
            table.add_row(str(r["kind"]), str(r["shot"] or "—"), str(r["requests"]), _usd(r["est_cost_usd"]),
                          _usd(r["cost_usd"]))
        console.print(table)
    if report["per_generation"]:
        table = Table(title=f"estimate vs actual per generation ({episode})")
        for col in ("shot", "kind", "job", "model", "request", "status", "estimated $", "actual $", "Δ $"):
            table.add_column(col, justify="right" if col.endswith("$") else "left")
        for r in report["per_generation"]:
            table.add_row(str(r["shot"] or "—"), str(r["kind"]), str(r["job_id"]), str(r["model"]), str(r["request_id"] or "(id unknown)"),
                          str(r["status"]), _usd(r["est_cost_usd"]), _usd(r["cost_usd"]), _usd(r["delta_usd"], sign=True))
        console.print(table)
    console.print(f"total ${report['total_cost_usd']:.2f} (estimated ${report['total_est_cost_usd']:.2f}); "
                  f"produced nothing ${report['wasted_usd']:.2f}")


def _usd(value: float | None, *, sign: bool = False) -> str:
    """Dollars to the cent; "—" where the amount is not known (not delivered, or billed an unknown amount)."""
    if value is None:
        return "—"
    return f"{value:+.2f}" if sign else f"{value:.2f}"
