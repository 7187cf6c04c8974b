"""Local references are checked before anything is sent: inside an allowed root, present, the right kind.

Why here and not at submit time: a provider adapter reads a local path and sends its bytes
(inline or uploaded), so `/etc/passwd` in `reference_images` would leave the machine, and a
missing file would be paid for as a request carrying a dead path. Each finding names the job or
shot and the field (`reference_images[1]`), under a contract code:
`reference_outside_roots`, `reference_not_found`, `reference_wrong_kind`.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from vidpipe.paths import Paths
from vidpipe.schema import Finding

REMOTE = ("http://", "https://", "gs://", "s3://", "data:")
FIELD_KIND = {"image": "image", "last_frame_image": "image", "reference_images": "image",
              "reference_videos": "video", "reference_audios": "audio"}
IMAGE_ONLY_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "bmp_pipe", "tiff_pipe")


@dataclass(frozen=True)
class RefPolicy:
    """Where local references may come from, and what relative paths are relative to.

    `pending_under` is a folder of pipeline outputs (the media root): a file there that does not
    exist yet is made by an earlier stage (the shot's still) and is checked when the runner plans
    the submission, by which time it exists.
    """

    roots: tuple[Path, ...]
    base: Path
    pending_under: Path | None = None
    # resolved path and "inside a root?" per reference string, for the life of this policy (one run)
    _seen: dict[str, tuple[Path, bool]] = field(default_factory=dict, compare=False, repr=False)

    def place(self, ref: str) -> tuple[Path, bool]:
        """(resolved path, inside an allowed root?) — symlinks followed; cached for this policy's run."""
        hit = self._seen.get(ref)
        if hit is None:
            p = Path(ref).expanduser()
            p = (p if p.is_absolute() else self.base / p).resolve()
            hit = self._seen[ref] = (p, any(p.is_relative_to(r) for r in self.roots))
        return hit

    @classmethod
    def for_project(cls, paths: Paths | None = None, *extra: str | Path, base: str | Path | None = None) -> RefPolicy:
        """The project's roots (data root, profile folder, allow-list) plus `extra` (episode / job-file folder)."""
        paths = paths or Paths.from_env()
        return cls(paths.reference_roots(*extra), Path(base or Path.cwd()).resolve(), paths.media.resolve())

    def describe(self) -> str:
        return ", ".join(str(r) for r in self.roots)


@dataclass(frozen=True)
class MediaInfo:
    """What a local file is: its kind ('image' | 'video' | 'audio' | None), length in seconds, size in bytes,
    and a video's frame size (providers limit reference videos by resolution, checked before any upload)."""

    kind: str | None
    seconds: float | None
    size: int
    width: int | None = None
    height: int | None = None


def media_info(path: str | Path) -> MediaInfo:
    """Probe a local file once per content version (cached on path, mtime and size)."""
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "is a folder", os.fspath(path))
    return _info_cached(os.fspath(path), st.st_ino, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=4096)
def _info_cached(path: str, _ino: int, _mtime: int, size: int) -> MediaInfo:
    try:
        with Image.open(path) as im:
            im.verify()
        return MediaInfo("image", None, size)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        pass
    import av

    try:
        with av.open(path) as c:
            if c.format.name in IMAGE_ONLY_FORMATS:
                return MediaInfo(None, None, size)
            secs = c.duration / 1_000_000 if c.duration else None
            if secs is None:
                secs = max((float(s.duration * s.time_base) for s in c.streams if s.duration and s.time_base),
                           default=None)
            kind = "video" if c.streams.video else ("audio" if c.streams.audio else None)
            v = c.streams.video[0].codec_context if c.streams.video else None
            return MediaInfo(kind, round(secs, 3) if secs is not None else None, size,
                             v.width if v else None, v.height if v else None)
    except (av.error.FFmpegError, OSError, ValueError):
        return MediaInfo(None, None, size)


def _kind_ok(want: str, got: str | None) -> bool:
    return got == want or (want == "audio" and got == "video")  # a video's soundtrack can drive a voice


def _items(body: dict[str, Any], key: str) -> list[tuple[str, str]]:
    value = body.get(key)
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, list):
        return [(f"{key}[{i}]", v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def _f(code: str, message: str) -> Finding:
    return Finding(code=code, message=message, severity="error")


def check_refs(body: dict[str, Any], policy: RefPolicy, *, where: str) -> list[Finding]:
    """Findings for every local reference in `body` that is out of bounds, missing or of the wrong kind.

    Args:
        body: the raw canonical request.
        policy: allowed roots and the base for relative paths.
        where: who holds the reference, for the message ("shot demo/s002", "job hero").
    """
    out: list[Finding] = []
    for key, want in FIELD_KIND.items():
        for item, ref in _items(body, key):
            ref = ref.strip()
            if not ref or ref.startswith(REMOTE[:4]):
                continue
            if ref.startswith("data:"):
                if not ref.startswith(f"data:{want}/"):
                    out.append(_f("reference_wrong_kind", f"{where} {item}: a data URI that is not {want}/*"))
                continue
            out += _check_local(ref, item, want, policy, where)
    return out


def _check_local(ref: str, field: str, want: str, policy: RefPolicy, where: str) -> list[Finding]:
    try:
        p, inside = policy.place(ref)
    except (OSError, RuntimeError, ValueError) as exc:
        return [_f("reference_not_found", f"{where} {field}: cannot resolve {ref!r} ({exc.__class__.__name__})")]
    if not inside:
        return [_f("reference_outside_roots", f"{where} {field}: {ref!r} resolves to {p}, outside the allowed "
                                              f"folders ({policy.describe()}); move it into the episode folder or "
                                              "data/, or add its folder to VIDPIPE_ALLOW_PATHS")]
    try:
        got = media_info(p).kind
    except FileNotFoundError:
        if policy.pending_under is not None and p.is_relative_to(policy.pending_under):
            return []  # a pipeline output made by an earlier stage (the shot's still)
        return [_f("reference_not_found", f"{where} {field}: {ref!r} does not exist ({p})")]
    except IsADirectoryError:
        return [_f("reference_not_found", f"{where} {field}: {ref!r} is a folder, not a file ({p})")]
    except OSError as exc:
        return [_f("reference_not_found", f"{where} {field}: cannot read {p} ({exc.__class__.__name__})")]
    if not _kind_ok(want, got):
        return [_f("reference_wrong_kind", f"{where} {field}: {p.name} does not decode as {want} "
                                           f"(found {got or 'no image, video or audio'})")]
    return []
