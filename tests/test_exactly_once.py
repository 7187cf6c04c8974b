"""Exactly once across real processes: a race of two `vidpipe generate` CLIs, and a SIGKILL at every stage.

Every test counts the submissions the loopback fal queue accepted (real fal-client in every
process) and decodes every clip with real ffmpeg afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import FAKE_FAL_KEY, fal_fake, media_files  # noqa: F401
from vidpipe.generate import generate_jobs
from vidpipe.generate.output import verify_clip
from vidpipe.schema import Job
from vidpipe.store import Store

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import json, os, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[5])
import vidpipe.providers.fal as vfal
vfal.POLL_INTERVAL_S = 0.05
from vidpipe.generate import generate_jobs
from vidpipe.schema import Job
from vidpipe.store import Store
kill_at = sys.argv[4]

def hook(job_id, stage):
    if stage == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

jobs = [Job.model_validate(j) for j in json.loads(sys.argv[1])]
generate_jobs(jobs, Path(sys.argv[2]), store=Store(sys.argv[3]), concurrency=1, on_stage=hook)
"""


def make_jobs(n: int = 3) -> list[Job]:
    return [Job(id=f"k{i}", model="seedance-2.0", input={"prompt": f"a kite over the sea, take {i}", "duration": 4})
            for i in range(n)]


def env_for(fake: FalFake, root: Path) -> dict[str, str]:
    return {**os.environ, "FAL_KEY": FAKE_FAL_KEY, "VIDPIPE_FAL_QUEUE_URL": fake.url, "VIDPIPE_ROOT": str(root),
            "PYTHONPATH": str(REPO)}


def wait_for(cond: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def all_clips_decode(out: Path, jobs: list[Job]) -> None:
    for j in jobs:
        info = verify_clip(out / f"{j.id}.mp4")
        assert info.duration_s > 3


def test_two_cli_processes_race_one_job_file(fal_fake: FalFake, tmp_path: Path) -> None:
    """Both start together; every submit answers slowly, so each key is held while the other looks."""
    jobs = make_jobs(3)
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps([j.model_dump() for j in jobs]))
    fal_fake.submit_delay_s = 0.8
    cmd = [sys.executable, "-m", "vidpipe", "generate", str(spec), "--out", str(tmp_path / "out"),
           "--backend", "fal", "--concurrency", "3"]
    procs = [subprocess.Popen(cmd, env=env_for(fal_fake, tmp_path), cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    assert len(fal_fake.submits) == len(jobs)  # each job paid once, not once per process
    all_clips_decode(tmp_path / "out", jobs)
    rows = Store(tmp_path / "data" / "vidpipe.duckdb").query("SELECT request_id, status FROM requests")
    assert sorted(r["request_id"] for r in rows) == sorted(s["request_id"] for s in fal_fake.submits)
    assert {r["status"] for r in rows} == {"done"}


@pytest.mark.parametrize("stage", ["claimed", "submitted", "mid_poll", "mid_download", "verified"])
def test_sigkill_at_each_stage_then_rerun(fal_fake: FalFake, tmp_path: Path, stage: str) -> None:
    """claimed = before the submit, submitted = after it, verified = after verification, before the rename."""
    jobs = make_jobs(3)
    out, db = tmp_path / "out", tmp_path / "data" / "v.duckdb"
    release = None
    if stage == "mid_poll":
        fal_fake.latency_s = 120.0  # the child never sees a finished job
    if stage == "mid_download":
        release = fal_fake.hold_media()
    kill_at = stage if stage in ("claimed", "submitted", "verified") else "-"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps([j.model_dump() for j in jobs]), str(out), str(db), kill_at, str(REPO)],
        env=env_for(fal_fake, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if stage == "mid_poll":
            wait_for(lambda: sum(fal_fake.status_calls.values()) >= 1 or child.poll() is not None, "polling")
        elif stage == "mid_download":
            wait_for(lambda: fal_fake.media_midway.is_set() or child.poll() is not None, "half a download")
        else:
            wait_for(lambda: child.poll() is not None, "the child to kill itself")
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        _, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
    if release is not None:
        release.set()
        fal_fake._media_release = None
    fal_fake.latency_s = 0.0
    before = {s["request_id"] for s in fal_fake.submits}
    assert not (out / "k0.mp4").exists()  # nothing half-written ever sits at the clip's name
    if stage == "claimed":
        assert before == set()
    else:
        assert len(before) >= 1

    results = generate_jobs(jobs, out, store=Store(db))
    assert all(r.status == "done" for r in results), [r.error for r in results]
    assert len(fal_fake.submits) == len(jobs)  # the killed run's request was resumed, not paid again
    assert before <= {r.request_id for r in results}
    all_clips_decode(out, jobs)
    assert not (out / ".tmp").exists()  # the dead process's temp files were swept
    side = json.loads((out / "k0.json").read_text())
    assert side["status"] == "done" and side["output"]["sha256"] == results[0].sha256
