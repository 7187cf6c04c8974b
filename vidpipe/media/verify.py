"""Media files count only once they are whole: written under a unique temporary name, decoded end
to end, then renamed into place — and trusted later only while their recorded hash still matches.

Why decode everything: an interrupted or racing encode leaves files that *open* fine (a faststart
MP4 has its index up front) but whose tail is garbage — h264 "Invalid NAL unit size", "partial
file". Opening or probing misses that; only decoding every packet finds it. ffmpeg's own decoder
at `-v error` prints exactly those errors, so any error line fails the file.

Why unique temporary names: two renders of one episode must never write the same `.part` file
(issue 12). The name carries host and pid, so a rerun can delete parts left by a dead process on
this host without touching a live render's.

    rec = write_verified(out, lambda tmp: run_ffmpeg([..., str(tmp)]), "video", playable=True)
    sidecar["output"] = rec.record()          # later: still_verified(out, sidecar["output"])
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidpipe.errors import MediaError
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.probe import open_media

KINDS = ("video", "audio", "image")
# What Safari, Firefox, Chrome and phones all decode; Constrained Baseline is a subset of Main.
PLAYABLE_PROFILES = ("High", "Main", "Constrained Baseline")
PLAYABLE_PIX_FMT = "yuv420p"
_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


@dataclass(frozen=True)
class Verified:
    """A file that decoded end to end with no error, and what it was at that moment."""

    path: Path
    kind: str
    sha256: str
    size_bytes: int
    duration_s: float
    video: str | None = None  # "h264 yuv420p High" for files with a picture

    def record(self) -> dict[str, Any]:
        """What a cache sidecar stores to trust this file later (see still_verified)."""
        return {"sha256": self.sha256, "size_bytes": self.size_bytes, "kind": self.kind,
                "duration_s": self.duration_s, "video": self.video}


def sha256_file(path: Path) -> str:
    """The full sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mp4_top_boxes(path: Path) -> list[str]:
    """Top-level box types of an MP4/MOV in file order (faststart = 'moov' before 'mdat')."""
    boxes: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as f:
        pos = 0
        while pos + 8 <= size_total and len(boxes) < 64:
            f.seek(pos)
            size, typ = struct.unpack(">I4s", f.read(8))
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
            elif size == 0:
                size = size_total - pos
            boxes.append(typ.decode("latin-1"))
            if size < 8:
                break
            pos += size
    return boxes


def _describe_video(path: Path) -> tuple[str | None, float, bool, bool]:
    """(codec pix_fmt profile, duration, has video, has audio) from PyAV's header read."""
    with open_media(path) as c:
        dur = (c.duration / 1_000_000) if c.duration else 0.0
        v = c.streams.video[0] if c.streams.video else None
        desc = None
        if v is not None:
            cc = v.codec_context
            desc = f"{cc.name} {cc.pix_fmt} {cc.profile or ''}".strip()
            if not dur and v.duration and v.time_base:
                dur = float(v.duration * v.time_base)
        return desc, dur, v is not None, bool(c.streams.audio)


def playable_problems(path: Path) -> list[str]:
    """Why an MP4 would not play in every browser and phone ([] when it plays everywhere)."""
    desc, _, has_video, _ = _describe_video(path)
    problems = []
    if has_video and desc:
        codec, pix, *profile = desc.split(" ", 2)
        if codec != "h264":
            problems.append(f"video codec {codec} (need h264)")
        if pix != PLAYABLE_PIX_FMT:
            problems.append(f"pixel format {pix} (need {PLAYABLE_PIX_FMT})")
        if (profile[0] if profile else "") not in PLAYABLE_PROFILES:
            problems.append(f"h264 profile {profile[0] if profile else '?'} (need High or Main)")
    boxes = mp4_top_boxes(path)
    if "moov" in boxes and "mdat" in boxes and boxes.index("moov") > boxes.index("mdat"):
        problems.append("index (moov) after the media data: not +faststart")
    return problems


def verify_media(path: str | Path, kind: str = "video", *, playable: bool = False) -> Verified:
    """Decode every packet of `path`; raise MediaError naming the file on any decode error.

    kind: "video" (needs a picture stream; audio decoded too), "audio" (needs sound), "image".
    playable: also require H.264 yuv420p High/Main with the index up front (our own MP4 encodes).
    """
    p = Path(path)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    desc, duration, has_video, has_audio = _describe_video(p)  # MediaError if it does not even open
    if kind in ("video", "image") and not has_video:
        raise MediaError(f"{p}: has no picture")
    if kind == "audio" and not has_audio:
        raise MediaError(f"{p}: has no audio stream")
    err = run_ffmpeg(["-v", "error", "-i", str(p), "-map", "0:v?", "-map", "0:a?", "-f", "null", "-"],
                     what=f"decoding {p.name}")
    lines = [re.sub(r" @ 0x[0-9a-f]+", "", ln.strip()) for ln in err.splitlines() if ln.strip()]
    if lines:
        more = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
        raise MediaError(f"{p}: does not decode cleanly: {lines[0]}{more}")
    if playable:
        problems = playable_problems(p)
        if problems:
            raise MediaError(f"{p}: would not play everywhere: {'; '.join(problems)}")
    return Verified(p, kind, sha256_file(p), p.stat().st_size, round(duration, 6), desc)


def temp_name(path: Path) -> Path:
    """A sibling name no other process uses: `.final.part-HOST-PID-TOKEN.mp4` (same suffix, same muxer)."""
    return path.with_name(f".{path.stem}.part-{_HOST}-{os.getpid()}-{secrets.token_hex(3)}{path.suffix}")


def pid_alive(pid: int) -> bool:
    """Is process `pid` alive on this host (one we may not signal counts as alive)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_parts(path: Path) -> list[Path]:
    """Delete temporary parts of `path` left by dead processes on this host; return what was removed."""
    removed = []
    for part in path.parent.glob(f".{path.stem}.part-*{path.suffix}"):
        tag = part.name[len(f".{path.stem}.part-"):len(part.name) - len(path.suffix)]
        fields = tag.rsplit("-", 2)  # host (alphanumeric only), pid, token
        if len(fields) != 3 or fields[0] != _HOST or not fields[1].isdigit():
            continue
        if not pid_alive(int(fields[1])):
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_verified(path: str | Path, produce: Callable[[Path], object], kind: str = "video", *,
                   playable: bool = False) -> Verified:
    """Have `produce(tmp)` write the file under a unique temporary name, verify it, rename it into place.

    On any failure or interruption (decode error, ffmpeg error, SIGTERM → SystemExit, Ctrl-C) the
    temporary file is removed and `path` is left as it was — the previous good file or nothing.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out)
    tmp = temp_name(out)
    try:
        produce(tmp)
        if not tmp.is_file():
            raise MediaError(f"{out}: nothing was written")
        _fsync(tmp)
        rec = verify_media(tmp, kind, playable=playable)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        _fsync(out.parent)
    except OSError:  # some filesystems refuse fsync on a directory; the rename already happened
        pass
    return Verified(out, rec.kind, rec.sha256, rec.size_bytes, rec.duration_s, rec.video)


def file_record(path: str | Path) -> dict[str, Any]:
    """The part of a record still_verified checks, for a file verified by someone else (no decode)."""
    p = Path(path)
    return {"sha256": sha256_file(p), "size_bytes": p.stat().st_size}


def still_verified(path: str | Path, record: Mapping[str, Any] | None) -> bool:
    """Is `path` still the very file that was verified (same size and sha256 as `record`)?

    A cache must call this before trusting an output: a file replaced, truncated or half-written
    since (by another process, a crash, a copy) no longer matches and is redone.
    """
    p = Path(path)
    if not record or not record.get("sha256") or not p.is_file():
        return False
    if p.stat().st_size != record.get("size_bytes"):
        return False
    return sha256_file(p) == record["sha256"]
