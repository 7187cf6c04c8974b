"""`vidpipe review serve` — the review room on http://127.0.0.1:8765."""

from __future__ import annotations

import typer

from vidpipe.cli import app
from vidpipe.review.app import create_app

review_app = typer.Typer(help="The review room: watch, judge and compare clips in the browser.", no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("serve")
def serve(port: int = typer.Option(8765), host: str = typer.Option("127.0.0.1", help="Bind address (local only by default)")) -> None:
    """Serve the review room over the DuckDB store and the media folder."""
    import uvicorn

    typer.echo(f"review room on http://{host}:{port}")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
