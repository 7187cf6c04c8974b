"""Kill a generating run mid-poll (a real SIGKILL of a subprocess) and rerun: zero duplicate submits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import fal_fake, media_files  # noqa: F401
from vidpipe.generate import generate_jobs
from vidpipe.schema import Job
from vidpipe.store import Store

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
import vidpipe.providers.fal as vfal
vfal.POLL_INTERVAL_S = 0.05
from vidpipe.generate import generate_jobs
from vidpipe.schema import Job
from vidpipe.store import Store
jobs = [Job.model_validate(j) for j in json.loads(sys.argv[1])]
generate_jobs(jobs, Path(sys.argv[2]), store=Store(sys.argv[3]), concurrency=4)
"""


def test_killed_run_resumes_polling_without_resubmitting(fal_fake: FalFake, tmp_path: Path) -> None:
    jobs = [Job(id=f"k{i}", model="seedance-2.0", input={"prompt": f"a kite, take {i}", "duration": 4})
            for i in range(3)]
    out, db = tmp_path / "out", tmp_path / "v.duckdb"
    fal_fake.latency_s = 120.0  # the child will never see a finished job
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps([j.model_dump() for j in jobs]), str(out), str(db), str(REPO)],
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        ids: dict[str, str] = {}
        while time.monotonic() < deadline and len(ids) < 3:
            for j in jobs:
                side = out / f"{j.id}.json"
                if side.exists():
                    data = json.loads(side.read_text())
                    if data.get("request_id"):
                        ids[j.id] = data["request_id"]
            time.sleep(0.05)
        assert len(ids) == 3, (child.poll(), child.stderr.read() if child.poll() is not None else "")  # type: ignore[union-attr]
        while sum(fal_fake.status_calls.values()) < 3:  # polling has started
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert len(fal_fake.submits) == 3
    polls_before = {rid: fal_fake.status_calls[rid] for rid in ids.values()}

    fal_fake.latency_s = 0.0
    results = generate_jobs(jobs, out, store=Store(db))
    assert all(r.status == "done" for r in results), [r.error for r in results]
    assert len(fal_fake.submits) == 3  # zero duplicate submissions
    assert {r.job_id: r.request_id for r in results} == ids  # the original request ids
    for rid, before in polls_before.items():
        assert fal_fake.status_calls[rid] > before and fal_fake.result_calls[rid] >= 1
    rows = Store(db).query("SELECT job_id, request_id, status FROM generations ORDER BY job_id")
    assert [(r["job_id"], r["request_id"], r["status"]) for r in rows] == [(k, ids[k], "done") for k in sorted(ids)]


def test_resume_from_sidecar_without_a_store(fal_fake: FalFake, tmp_path: Path,
                                             monkeypatch: object) -> None:
    """No ledger: the sidecar alone carries the request id across a crash (raised after persisting)."""
    import pytest

    import vidpipe.providers.fal as vfal

    mp: pytest.MonkeyPatch = monkeypatch  # type: ignore[assignment]
    real_poll = vfal.FalBackend.poll

    def crash(self: object, ticket: object, *, deadline: float) -> dict:
        raise KeyboardInterrupt("killed after the submit was recorded")

    mp.setattr(vfal.FalBackend, "poll", crash)
    job = [Job(id="s", model="seedance-2.0", input={"prompt": "a kite", "duration": 4})]
    with pytest.raises(KeyboardInterrupt):
        generate_jobs(job, tmp_path / "o")
    rid = json.loads((tmp_path / "o" / "s.json").read_text())["request_id"]
    mp.setattr(vfal.FalBackend, "poll", real_poll)
    [res] = generate_jobs(job, tmp_path / "o")
    assert res.status == "done" and res.request_id == rid and len(fal_fake.submits) == 1
