"""Outputs verified before they count: unique temp name → full decode → sha256 → rename; trust by hash.

A clip is downloaded (or copied from another job's verified output) into this process's temp
folder `DIR/.tmp/<host>-<pid>/` under a name unique per thread, decoded end to end by ffmpeg
(a truncated or corrupt file fails here, never later), hashed, and only then renamed over
`DIR/<id>.mp4`. A kill at any point leaves at most a temp file, which the next run of this host
removes. A cached output is trusted only while its bytes still hash to the recorded sha256; the
re-hash is skipped while size and mtime are unchanged (memoised in the record itself).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidpipe.errors import FfmpegFailed, ProviderError, ProviderUnavailable
import vidpipe.generate.retry as retry
from vidpipe.generate.claims import Output
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.verify import pid_alive, sha256_file
from vidpipe.pricing import veo_seconds
from vidpipe.providers.base import Backend, ClipInfo, ResultUndecodable, inspect_clip

DOWNLOAD_ATTEMPTS = 3  # the same result URL is fetched up to this many times
HOST = socket.gethostname()
TMP = ".tmp"


def tmp_dir(out_dir: Path) -> Path:
    """This process's temp folder under `out_dir` (same filesystem, so the final rename is atomic)."""
    d = Path(out_dir) / TMP / f"{HOST}-{os.getpid()}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def tmp_name(out_dir: Path, job_id: str) -> Path:
    return tmp_dir(out_dir) / f"{job_id}.{threading.get_ident()}.mp4"


def sweep_stale(out_dir: Path) -> int:
    """Remove temp folders left by dead processes of this host (run once per run: linear, not per job)."""
    root = Path(out_dir) / TMP
    removed = 0
    if not root.is_dir():
        return 0
    for d in root.iterdir():
        host, _, pid = d.name.rpartition("-")
        if host != HOST or not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            continue
        shutil.rmtree(d, ignore_errors=True)
        removed += 1
    return removed


def record(path: Path, digest: str | None = None, duration_s: float | None = None) -> Output:
    st = path.stat()
    return Output(path=str(path), sha256=digest or sha256_file(path), size=st.st_size, mtime_ns=st.st_mtime_ns,
                  duration_s=duration_s)


def trusted(rec: Output | None) -> Output | None:
    """`rec` (refreshed if only its mtime moved) when the file still holds the recorded bytes, else None."""
    if rec is None:
        return None
    path = Path(rec.path)
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size != rec.size:
        return None
    if st.st_mtime_ns == rec.mtime_ns:
        return rec  # memo: same size and mtime as when it was hashed
    if sha256_file(path) != rec.sha256:
        return None
    return rec.model_copy(update={"mtime_ns": st.st_mtime_ns})


def verify_clip(path: Path) -> ClipInfo:
    """Probe (PyAV) and decode every video frame (ffmpeg -xerror); any error → ResultUndecodable."""
    info = inspect_clip(path)
    try:
        err = run_ffmpeg(["-v", "error", "-xerror", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
                         what="decoding the result", timeout=600)
    except FfmpegFailed as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] or ["decode error"]
        raise ResultUndecodable(f"the result does not decode to the end ({tail[0][:200]})") from exc
    if err.strip():
        raise ResultUndecodable(f"the result has decode errors ({err.strip().splitlines()[0][:200]})")
    return info


def fetch_verified(impl: Backend, url: str, out: Path, *, deadline: float, counter: list[int],
                   before_rename: Callable[[], None] = lambda: None) -> tuple[ClipInfo, Output]:
    """Download `url` (retried from the same URL) to a unique temp file, verify it, hash it, rename onto `out`."""
    tmp = tmp_name(out.parent, out.stem)
    try:
        for attempt in range(DOWNLOAD_ATTEMPTS):
            try:
                impl.fetch(url, tmp)
                break
            except (ProviderError, OSError) as exc:
                if attempt + 1 == DOWNLOAD_ATTEMPTS or time.monotonic() > deadline:
                    raise ProviderUnavailable(f"download failed {DOWNLOAD_ATTEMPTS} times from the result URL: {exc}",
                                              code="download_failed") from exc
                counter[0] += 1
                retry._sleep(retry.RETRY_BASE_S * (2 ** attempt))
        info = verify_clip(tmp)
        digest = sha256_file(tmp)
        before_rename()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return info, record(out, digest, info.duration_s)


def copy_verified(src: Output, out: Path) -> Output:
    """Copy a trusted output to `out` through a temp name (the copy's bytes are re-hashed)."""
    tmp = tmp_name(out.parent, out.stem)
    try:
        shutil.copyfile(src.path, tmp)
        digest = sha256_file(tmp)
        if digest != src.sha256:
            raise ResultUndecodable(f"{src.path} changed while being copied (sha256 mismatch)")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return record(out, digest, src.duration_s)


def shape_warnings(model: str, backend: str, request: dict[str, Any], info: ClipInfo) -> list[str]:
    """Roughly the requested length and shape? Mismatches are warnings (QC judges them)."""
    warn: list[str] = []
    dur = int(request.get("duration", 5))
    if model not in ("veed-fabric-1.0", "omnihuman-1.5") and dur > 0 and info.duration_s:
        want = veo_seconds(dur) if model == "veo-3.1" and backend != "preview" else dur
        if abs(info.duration_s - want) > max(1.0, 0.25 * want):
            warn.append(f"duration {info.duration_s:.2f}s, requested {want}s")
    aspect = str(request.get("aspect_ratio", "16:9"))
    if aspect != "adaptive" and info.width and info.height:
        w, h = (int(x) for x in aspect.split(":"))
        if abs(info.width / info.height - w / h) > 0.05 * (w / h):
            warn.append(f"frame {info.width}x{info.height}, requested {aspect}")
    return warn
