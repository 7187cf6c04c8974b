"""`vidpipe review serve` — the review room, on loopback unless told otherwise (then with an access token)."""

from __future__ import annotations

import typer

from vidpipe.cli import app
from vidpipe.review.app import create_app
from vidpipe.review.guard import Access, display_host
from vidpipe.review.urls import base_url, configured_url, default_port

review_app = typer.Typer(help="The review room: watch, judge and compare clips in the browser.", no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("serve")
def serve(port: int | None = typer.Option(None, help="Port (default: the port in VIDPIPE_REVIEW_URL, else 8765)"),
          host: str = typer.Option("127.0.0.1", help="Bind address (loopback by default; any other needs the printed token)")) -> None:
    """Serve the review room over the DuckDB store and the media folder."""
    import uvicorn

    port = port or default_port()
    public = configured_url()
    access = Access.for_serving(host, public)
    shown = public.rstrip("/") if public else f"http://{display_host(host)}:{port}"
    if access.token is None:
        typer.echo(f"review room on {shown}")
        if base_url() != shown:
            typer.echo(f"links from Dagster point at {base_url()}; set VIDPIPE_REVIEW_URL={shown} to match")
    else:
        typer.echo(f"review room on {shown}/?token={access.token}")
        typer.echo(f"serving beyond loopback ({host}): open the link above once per browser; "
                   f"the room answers only {', '.join(access.hosts)} (set VIDPIPE_REVIEW_URL for another name)")
    uvicorn.run(create_app(access=access), host=host, port=port, log_level="warning")

