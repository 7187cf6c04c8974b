"""Exactly once across processes and machines: one claim per cache key, guarded by an OS file lock.

What is shared, and what guards it
----------------------------------
Every process that generates into the same data root (the folder of the DuckDB store; without a
store, the output folder) shares one claims folder, `<data root>/claims/` (or `<out>/.claims/`):

    <key>.lock   an advisory lock (fcntl.flock, exclusive). A process holds it from "not yet
                 submitted" until the provider's request id is on disk, and for every other
                 change of the claim (a few milliseconds). The OS drops it when the holder dies,
                 even by SIGKILL, so a dead holder never blocks anyone.
    <key>.json   the claim: the current request id, every request ever sent for this key (so a
                 `--resubmit` keeps the history), whether a submission is in flight
                 (`submitting`, with host and pid, and the exact body being POSTed) or its outcome
                 is unknown (`submit_unknown`), and the verified output (path, sha256, size, mtime).

A process that finds the key held waits for the lock; one that finds a request id polls that
request — it never submits. A `submitting` claim whose lock is free means its holder died
between "about to POST" and "id saved": the outcome is unknown, so it becomes `submit_unknown`
and only a person's `--resubmit` pays again. Every later run first looks the unknown submission up
in the provider's request history (fal: matched on the exact body, see providers/fal_history.py)
and, when it is there, adopts its request id instead of paying again. The DuckDB ledger and the sidecars are records for
people (costs, lineage); the claim alone decides whether to pay.

Limits: flock is advisory (every vidpipe honours it; other tools do not). It is exact on local
disks and on NFSv4 / NFSv3 with a working lock daemon (Linux maps flock onto NFS byte-range
locks); on SMB/CIFS, sshfs, or object-store mounts (s3fs, gcsfuse) locks are missing or
per-client, so two machines there are not protected — give each machine its own data root. A
machine that loses its NFS lease loses its locks. DuckDB itself allows one writer process at a
time and is not meant for a network filesystem: across machines use one store per machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from vidpipe.errors import VidpipeError, ClaimTimeout

ClaimStatus = Literal["submitting", "submitted", "submit_unknown", "done"]
HOST = socket.gethostname()
LOCK_POLL_S = 0.05


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Output(BaseModel):
    """A verified output file: trusted only while its bytes still hash to `sha256`."""

    path: str
    sha256: str
    size: int
    mtime_ns: int
    duration_s: float | None = None


class RequestEntry(BaseModel):
    """One submission of the key. `body` is the exact wire body sent (refs resolved): with the time it
    was sent it is how a submission whose answer was lost is found in the provider's request history."""

    request_id: str | None = None  # None: in flight, or a submission whose outcome is unknown
    submitted_at: str = Field(default_factory=now_iso)
    est_cost_usd: float = 0.0
    host: str = HOST
    pid: int = Field(default_factory=os.getpid)
    outcome: str = "submitted"  # sending | submitted | submit_unknown | adopted | superseded
    endpoint: str = ""
    body: dict[str, Any] | None = None


class Claim(BaseModel):
    key: str
    job_id: str = ""
    backend: str = ""
    model: str = ""
    endpoint: str = ""
    status: ClaimStatus = "submitting"
    request_id: str | None = None
    requests: list[RequestEntry] = Field(default_factory=list)
    output: Output | None = None
    host: str = HOST
    pid: int = Field(default_factory=os.getpid)
    updated_at: str = Field(default_factory=now_iso)


class Claims:
    """The claims folder of one data root."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._made = False

    def _path(self, key: str, suffix: str) -> Path:
        if not self._made:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._made = True
        return self.folder / f"{key}{suffix}"

    def read(self, key: str) -> Claim | None:
        """The claim for `key`, or None. A corrupt claim file is an error, never "no claim" (that could pay twice)."""
        path = self._path(key, ".json")
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return Claim.model_validate(json.loads(raw))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise VidpipeError(f"{path}: unreadable claim ({type(exc).__name__}); it records a paid request — "
                               f"fix or remove it by hand") from exc

    def write(self, claim: Claim, *, durable: bool) -> None:
        """Atomic replace; `durable` also fsyncs (a machine crash must not lose a paid request id)."""
        path = self._path(claim.key, ".json")
        claim.updated_at, claim.host, claim.pid = now_iso(), HOST, os.getpid()
        tmp = path.with_name(f".{path.name}.{HOST}.{os.getpid()}.{id(claim)}.tmp")
        data = claim.model_dump_json(indent=1).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if durable:
            dfd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def forget(self, key: str) -> None:
        """Drop a claim that never reached the provider (call with the lock held)."""
        self._path(key, ".json").unlink(missing_ok=True)

    @contextlib.contextmanager
    def hold(self, key: str, *, deadline: float, job_id: str = "") -> Iterator[None]:
        """Hold the key's lock (waiting until `deadline`, time.monotonic()); released on exit or death."""
        fd = os.open(self._path(key, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ClaimTimeout(
                            f"job {job_id or key[:12]}: another vidpipe process has held the claim on this request "
                            f"too long ({self.folder / (key + '.lock')}); rerun when it finishes") from None
                    time.sleep(LOCK_POLL_S)
            yield
        finally:
            os.close(fd)  # closing drops the flock
