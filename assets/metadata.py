"""Materialization metadata a person wants in the UI: path, duration, model, cost, prompt, thumbnail."""


from pathlib import Path
from typing import Any

import dagster as dg


def thumbnail_md(path: Path | None, width: int = 200) -> dg.MetadataValue | None:
    """A tiny JPEG as a markdown data URI (Dagster has no image metadata type)."""
    if path is None or not Path(path).exists():
        return None
    if Path(path).suffix.lower() in (".png", ".jpg", ".jpeg"):
        import base64
        import io

        from PIL import Image

        with Image.open(path) as im:
            im.thumbnail((width, width))
            buf = io.BytesIO()
            im.convert("RGB").save(buf, "JPEG", quality=70)
        b64 = base64.b64encode(buf.getvalue()).decode()
    else:
        from vidpipe.media.probe import thumbnail_b64

        b64 = thumbnail_b64(path, width=width)
    return dg.MetadataValue.md(f"![thumbnail](data:image/jpeg;base64,{b64})")


def prompt_md(prompt: str | None) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"```text\n{prompt or ''}\n```")


def file_meta(path: Path | None) -> dict[str, Any]:
    """Path, size and (for media) duration of an output file."""
    if path is None or not Path(path).exists():
        return {"path": "(none)"}
    meta: dict[str, Any] = {"path": dg.MetadataValue.path(str(path)), "size_bytes": Path(path).stat().st_size}
    if Path(path).suffix.lower() in (".mp4", ".wav", ".mp3", ".m4a", ".mov"):
        from vidpipe.media.probe import probe

        meta["duration_s"] = round(probe(path).duration_s, 3)
    return meta


def clean(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (Dagster rejects None metadata)."""
    return {k: v for k, v in meta.items() if v is not None}


def review_link(episode: str, shot: str | None = None) -> dg.MetadataValue:
    try:
        from vidpipe.review.urls import episode_url, shot_url

        return dg.MetadataValue.url(shot_url(episode, shot) if shot else episode_url(episode))
    except ImportError:
        return dg.MetadataValue.text("vidpipe review serve")
