"""The offline preview as a runner backend: same submit/poll/fetch path as fal, rendered locally.

Going through the runner (not around it) keeps one code path for the CLI and the Dagster
asset: previews get cache keys, sidecars, manifests and ledger rows like paid clips, at $0.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from vidpipe.providers.base import Ticket, video_url
from vidpipe.storyboard.animatic import RENDER_VERSION, animatic


class PreviewBackend:
    """Renders an animatic of the canonical request with vidpipe.storyboard (the renderer)."""

    NAME = "preview"

    def translate(self, model: str, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The preview reads the canonical body as is; the endpoint names the model it stands in for."""
        return f"preview-v{RENDER_VERSION}/{model}", dict(request)

    def submit(self, ticket: Ticket) -> str:
        ticket.on_send(ticket.body)  # nothing leaves the machine, but every backend says when it "sends"
        digest = hashlib.sha256(
            json.dumps([ticket.endpoint, ticket.body], sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        return f"preview-{digest}"

    def poll(self, ticket: Ticket, *, deadline: float) -> dict[str, Any]:
        """Render now (deterministic, so a resumed id renders the same clip)."""
        ticket.on_status("running")
        out = ticket.workdir / f".{ticket.request_id}.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        model = ticket.endpoint.split("/", 1)[-1]
        path = animatic(dict(ticket.body), out, model=model, fps=24, label=ticket.job_id)
        return {"video": {"url": Path(path).resolve().as_uri(), "content_type": "video/mp4"}}

    def result_url(self, result: dict[str, Any]) -> str:
        return video_url(result, provider=self.NAME)

    def fetch(self, url: str, out: Path) -> Path:
        src = Path(unquote(urlparse(url).path))
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.parent == out.parent:
            os.replace(src, out)
        else:
            shutil.copyfile(src, out)
        return out
