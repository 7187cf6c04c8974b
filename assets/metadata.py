"""Materialization metadata a person wants in the UI: path, duration, model, cost, prompt, thumbnail.

What Dagster 1.13's UI renders inline (ui-core MetadataEntry.tsx, checked in the shipped bundle and in
screenshots, docs/dagster_*.png): in the asset sidebar ("latest materialization") and the Events tab,
markdown under 1,000 characters is rendered in place (longer markdown hides behind "[Show Markdown]"),
text is always shown, URLs are links, JSON under 1,000 characters is pretty-printed. There is no image
type, and data URIs are allowed in markdown images. So a thumbnail is a WebP data URI sized to fit
under 1,000 characters (about 90 px wide), the full-size picture is a URL into the review room, and
the prompt is plain text.
"""


import base64
import io
from pathlib import Path
from typing import Any

import dagster as dg
from PIL import Image

from vidpipe.media.probe import probe, thumbnail_jpeg
from vidpipe.review.urls import episode_url, media_url, shot_url

INLINE_LIMIT = 1000  # the UI renders shorter markdown in place


def _frame(path: Path):  # type: ignore[no-untyped-def]

    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
        with Image.open(path) as im:
            return im.convert("RGB")

    return Image.open(io.BytesIO(thumbnail_jpeg(path, width=320))).convert("RGB")


def inline_thumbnail(path: Path | None, alt: str = "thumbnail") -> dg.MetadataValue | None:
    """The largest WebP thumbnail whose markdown stays under the inline limit (so it shows without a click)."""
    if path is None or not Path(path).exists():
        return None
    frame = _frame(Path(path))
    for width in range(160, 31, -8):
        for quality in (40, 25):
            im = frame.copy()
            im.thumbnail((width, width * 4))
            buf = io.BytesIO()
            im.save(buf, "WEBP", quality=quality, method=6)
            md = f"![{alt}](data:image/webp;base64,{base64.b64encode(buf.getvalue()).decode()})"
            if len(md) < INLINE_LIMIT:
                return dg.MetadataValue.md(md)
    return None


def media_link(path: Path | None, media_root: Path) -> dg.MetadataValue | None:
    """The full-size file through the review room (it serves only files under the media root)."""
    if path is None or not Path(path).exists():
        return None

    rel = Path(path).resolve().relative_to(Path(media_root).resolve()).as_posix()
    return dg.MetadataValue.url(media_url(rel))


def prompt_text(prompt: str | None) -> dg.MetadataValue:
    """Plain text: always shown in full (markdown over 1,000 characters would hide behind a click)."""
    return dg.MetadataValue.text(prompt or "")


def file_meta(path: Path | None) -> dict[str, Any]:
    """Path, size and (for media) duration of an output file."""
    if path is None or not Path(path).exists():
        return {"path": "(none)"}
    meta: dict[str, Any] = {"path": dg.MetadataValue.path(str(path)), "size_bytes": Path(path).stat().st_size}
    if Path(path).suffix.lower() in (".mp4", ".wav", ".mp3", ".m4a", ".mov"):
        meta["duration_s"] = round(probe(path).duration_s, 3)
    return meta


def clean(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (Dagster rejects None metadata)."""
    return {k: v for k, v in meta.items() if v is not None}


def review_link(episode: str, shot: str | None = None) -> dg.MetadataValue:
    return dg.MetadataValue.url(shot_url(episode, shot) if shot else episode_url(episode))
