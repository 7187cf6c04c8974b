"""The one door to ffmpeg: find it (env override, PATH, imageio-ffmpeg wheel) and run it without a shell.

Children never outlive vidpipe. An orphaned ffmpeg keeps writing its output after the render that
started it is gone (issue 12: a SIGTERMed render left ffmpeg filling `final.part.mp4` while the
rerun wrote the same file). So every child started through `spawn`:
  * runs in its own process group, so a terminal's Ctrl-C reaches vidpipe first and vidpipe
    decides: SIGTERM / SIGINT received while children run are forwarded to each child's group,
    the child is reaped, then the previous handler runs (default SIGTERM → SystemExit(143), so
    `finally` blocks remove temporary files; SIGINT → KeyboardInterrupt). A signal vidpipe was
    started ignoring (SIGINT in a shell's background job) stays ignored: the encode goes on;
  * on Linux gets PR_SET_PDEATHSIG=SIGKILL (prctl via ctypes), so even a SIGKILLed parent takes
    its ffmpeg with it. The kernel fires it when the *thread* that forked exits; our runners
    wait in that same thread, so the child's lifetime is inside the thread's.
Handlers can only be installed from the main thread; a child started from another thread relies
on the death signal and on the caller's `finally` (which kills it).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from types import FrameType
from typing import Any

from vidpipe.errors import FfmpegFailed
from vidpipe.media.ffmpeg_choice import Choice, choose

PR_SET_PDEATHSIG = 1
FORWARDED = (signal.SIGTERM, signal.SIGINT)
GRACE_S = 5.0  # a forwarded signal gets this long before SIGKILL

_LIVE: set[subprocess.Popen[Any]] = set()
_LOCK = threading.Lock()
_PREVIOUS: dict[int, Any] = {}


@lru_cache(maxsize=1)
def ffmpeg_choice() -> Choice:
    """The binary this process uses and why (probed once per process; see ffmpeg_choice.py)."""
    return choose()


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: $VIDPIPE_FFMPEG, then a capable one on PATH, then the imageio-ffmpeg wheel."""
    return ffmpeg_choice().path


@lru_cache(maxsize=1)
def _prctl() -> Any:
    """libc's prctl, resolved before any fork (no dlopen in the child); None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - exotic libc
        return None


def _child_setup(parent: int, prctl: Any) -> Any:
    def setup() -> None:  # runs in the child between fork and exec: keep it tiny
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    return setup


def _forward(signum: int, frame: FrameType | None) -> None:
    with _LOCK:
        children = list(_LIVE)
    for proc in children:
        stop_group(proc, signum)
    prev = _PREVIOUS.get(signum, signal.SIG_DFL)
    if callable(prev):
        prev(signum, frame)
    elif prev == signal.SIG_DFL:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)


def stop_group(proc: subprocess.Popen[Any], signum: int = signal.SIGTERM, *, grace_s: float = GRACE_S) -> None:
    """Signal the child's process group (it was started with start_new_session), give it `grace_s`,
    then SIGKILL; always reap it."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signum)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def _install_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in FORWARDED:
        current = signal.getsignal(sig)
        if current == signal.SIG_IGN:  # started ignoring it (a background job, nohup): so do its children
            continue
        if current is not _forward:
            _PREVIOUS[sig] = current
            signal.signal(sig, _forward)


def _restore_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    with _LOCK:
        if _LIVE:
            return
    for sig, prev in list(_PREVIOUS.items()):
        if signal.getsignal(sig) is _forward:
            signal.signal(sig, prev if prev is not None else signal.SIG_DFL)
        del _PREVIOUS[sig]


@contextmanager
def spawn(cmd: list[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """Start `cmd` as a guarded child (own process group, death signal, signals forwarded).

    Leaving the block for any reason stops the child if it is still running (SIGTERM, then SIGKILL).
    """
    prctl = _prctl()
    _install_handlers()
    proc = subprocess.Popen(cmd, process_group=0, preexec_fn=_child_setup(os.getpid(), prctl), **popen)
    with _LOCK:
        _LIVE.add(proc)
    try:
        yield proc
    finally:
        try:
            stop_group(proc)
        finally:
            with _LOCK:
                _LIVE.discard(proc)
            _restore_handlers()


def run_ffmpeg(args: list[str], *, what: str = "ffmpeg", timeout: float | None = None) -> str:
    """Run ffmpeg with `args` (no shell); return stderr. Raise FfmpegFailed with the stderr tail."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    with spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace") as proc:
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise FfmpegFailed(f"{what} timed out after {timeout:g} s", args=cmd) from None
    if proc.returncode != 0:
        raise FfmpegFailed(f"{what} failed (exit {proc.returncode})", args=cmd, stderr=stderr)
    return stderr

