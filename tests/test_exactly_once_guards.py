"""One test per money guard, each in a scenario where no other guard (a sidecar, a ledger row, an
earlier check) can hide it being broken. Each was checked by breaking its guard by hand (the test
must then fail); the break is named in the test's docstring.

Real processes, SIGKILL, the real fal-client / httpx / google-genai against the loopback fakes, real
DuckDB, real ffmpeg decoding every saved clip.
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
from tests.fakes.fixtures import FAKE_FAL_KEY, fal_fake, gemini_fake, media_files  # noqa: F401
from tests.fakes.gemini_fake import GeminiFake
from vidpipe.generate import generate_jobs, plan_job
from vidpipe.generate.output import verify_clip
from vidpipe.ledger import Ledger
from vidpipe.schema import Job
from vidpipe.store import Store

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from vidpipe.generate import generate_jobs
from vidpipe.schema import Job
from vidpipe.store import Store
jobs = [Job.model_validate(j) for j in json.loads(sys.argv[1])]
generate_jobs(jobs, Path(sys.argv[2]), store=Store(sys.argv[3]), concurrency=1)
"""


def kites(n: int, episode: str | None = None) -> list[Job]:
    return [Job(id=f"k{i}", model="seedance-2.0", episode=episode, shot=f"s{i}" if episode else None,
                input={"prompt": f"a kite over the sea, take {i}", "duration": 4}) for i in range(n)]


def env_for(fake: FalFake, root: Path) -> dict[str, str]:
    return {**os.environ, "FAL_KEY": FAKE_FAL_KEY, "VIDPIPE_FAL_QUEUE_URL": fake.url, "VIDPIPE_ROOT": str(root),
            "VIDPIPE_FAL_API_URL": f"{fake.url}/v1", "PYTHONPATH": str(REPO)}


def wait_for(cond: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_two_runs_with_different_out_folders_share_one_data_root(fal_fake: FalFake, tmp_path: Path) -> None:
    """Break: drop the claim's re-read under its lock (submit.py `claim = self.claims.read(key)  # again`).

    Different --out folders: no sidecar of the other run can reveal its request; the ledger rows
    were read before either run submitted. Only the claim, read again under the lock, can."""
    jobs = kites(3)
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps([j.model_dump() for j in jobs]))
    fal_fake.submit_delay_s = 0.8  # each key is held while the other run waits for it
    procs = [subprocess.Popen([sys.executable, "-m", "vidpipe", "generate", str(spec), "--out", str(tmp_path / out),
                               "--backend", "fal", "--concurrency", "3"], env=env_for(fal_fake, tmp_path), cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for out in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
    assert fal_fake.accepted == len(jobs)  # each job paid once, whichever folder asked
    for out in ("a", "b"):
        for j in jobs:
            assert verify_clip(tmp_path / out / f"{j.id}.mp4").duration_s > 3


def test_a_process_killed_while_its_post_is_in_flight(fal_fake: FalFake, tmp_path: Path) -> None:
    """Break: read a `submitting` claim whose holder died as "nothing was sent" (forget it, submit again).

    SIGKILL lands after the POST reached fal and before its answer; fal queues the job anyway. The
    rerun must treat the dead holder's claim as maybe-paid: it finds the request in fal's history."""
    jobs = kites(1)
    out, db = tmp_path / "out", tmp_path / "data" / "v.duckdb"
    fal_fake.submit_delay_s = 1.5  # the POST is held open this long before fal queues it
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps([j.model_dump() for j in jobs]), str(out),
                              str(db), str(REPO)], env=env_for(fal_fake, tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: fal_fake.attempts["submit"] >= 1 or child.poll() is not None, "the POST to arrive")
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    wait_for(lambda: fal_fake.accepted == 1, "fal to queue the orphaned request")
    fal_fake.submit_delay_s = 0.0
    claim = json.loads(next((tmp_path / "data" / "claims").glob("*.json")).read_text())
    assert claim["status"] == "submitting" and claim["requests"][-1]["outcome"] == "sending"

    [res] = generate_jobs(jobs, out, store=Store(db))
    assert res.status == "done" and res.request_id == "req-0001", res.error
    assert fal_fake.accepted == 1  # the orphan was adopted, not paid for again
    verify_clip(out / "k0.mp4")


def test_a_corrupt_claim_with_the_sidecar_gone_is_refused_not_paid_again(fal_fake: FalFake, tmp_path: Path) -> None:
    """Break: read a claim file that does not parse as "no claim" (claims.py Claims.read).

    No store (so no ledger row), the sidecar and the clip deleted: the claim is the only record
    that this key was paid for."""
    jobs = kites(1)
    out = tmp_path / "out"
    [first] = generate_jobs(jobs, out)
    assert first.status == "done" and fal_fake.accepted == 1
    [claim] = (out / ".claims").glob("*.json")
    claim.write_text(claim.read_text()[:40])  # a torn write, a bad disk block
    (out / "k0.json").unlink()
    (out / "k0.mp4").unlink()
    [again] = generate_jobs(jobs, out)
    assert again.status == "failed" and "unreadable claim" in (again.error or "") and claim.name in (again.error or "")
    assert fal_fake.accepted == 1 and fal_fake.attempts["submit"] == 1  # nothing sent


def test_a_moderation_fallback_stays_inside_the_budget(fal_fake: FalFake, tmp_path: Path,
                                                        media_files: dict[str, Path]) -> None:
    """Break: let the fallback to kling-3.0-omni skip the budget check (runner.py `_fall_back`).

    The budget covers the first model's request but not the fallback's on top of it."""
    job = Job(id="m", model="wan-2.7-i2v", input={"prompt": "the kite dives [[moderate]]", "duration": 4,
                                                  "image": str(media_files["still"])})
    first, alt = plan_job(job, backend="fal"), plan_job(job, backend="fal", fallback=True)
    assert alt.model == "kling-3.0-omni" and first.est_cost_usd > 0 and alt.est_cost_usd > 0
    budget = first.est_cost_usd + alt.est_cost_usd - 0.01
    [res] = generate_jobs([job], tmp_path / "o", fallback=True, budget_usd=budget)
    assert res.status == "over_budget" and res.error_code == "budget_exceeded", res.error
    assert res.fallback_from == "wan-2.7-i2v" and "fallback refused" in (res.error or "")
    assert [s["endpoint"] for s in fal_fake.submits] == ["fal-ai/wan/v2.7/image-to-video"]
    [ok] = generate_jobs([job], tmp_path / "o2", fallback=True, budget_usd=budget + 0.02)
    assert ok.status == "done" and ok.model == "kling-3.0-omni"  # the control: a budget that covers both
    assert [s["endpoint"] for s in fal_fake.submits[1:]] == ["fal-ai/wan/v2.7/image-to-video",
                                                            "fal-ai/kling-video/o3/standard/image-to-video"]


def test_spend_counts_requests_in_flight_and_unknown_at_their_estimate(fal_fake: FalFake, tmp_path: Path) -> None:
    """Break: count only delivered costs in Ledger.spend (`coalesce(cost_usd, 0)`), i.e. in-flight and
    submit_unknown requests as $0 — an episode budget would then let the next shots overspend."""
    store = Store(tmp_path / "data" / "v.duckdb")
    [unknown, running, done] = kites(3, episode="ep1")
    fal_fake.accept_then_drop()
    [r0] = generate_jobs([unknown], tmp_path / "o", backend="fal", store=store)
    assert r0.error_code == "submit_unknown"
    fal_fake.latency_s = 60.0
    [r1] = generate_jobs([running], tmp_path / "o", backend="fal", store=store, deadline_s=0.5)
    assert r1.status == "failed" and r1.request_id  # still running on fal: maybe billed, kept
    fal_fake.latency_s = 0.0
    [r2] = generate_jobs([done], tmp_path / "o", backend="fal", store=store)
    assert r2.status == "done" and r2.cost_usd
    est = plan_job(unknown, backend="fal").est_cost_usd
    ledger = Ledger(store)
    assert ledger.spend(episode="ep1") == pytest.approx(2 * est + r2.cost_usd)
    assert ledger.spend(episode="ep1", exclude_shot="s2") == pytest.approx(2 * est)
    assert ledger.spend(episode="other") == 0
    assert fal_fake.accepted == 3


def test_every_optional_fal_field_reaches_the_exact_body(fal_fake: FalFake, tmp_path: Path,
                                                         media_files: dict[str, Path]) -> None:
    """Break: drop Wan's `end_image_url` (fal_models.wan) — the fake's contract accepts a body without it,
    so only the body fal received can show a first-last-frame shot lost its last frame."""
    still, wav = str(media_files["still"]), str(media_files["wav"])
    jobs = [
        Job(id="wan", model="wan-2.7-i2v", input={"prompt": "a kite lands", "duration": 4, "image": still,
                                                  "last_frame_image": still, "reference_audios": [wav], "seed": 7}),
        Job(id="kling", model="kling-3.0-omni", input={"prompt": "a kite lands", "duration": 4, "image": still,
                                                       "last_frame_image": still}),
        Job(id="seed", model="seedance-2.0", input={"prompt": "a kite lands", "duration": 4, "image": still,
                                                    "last_frame_image": still}),
    ]
    results = generate_jobs(jobs, tmp_path / "o", backend="fal", concurrency=1)
    assert [r.status for r in results] == ["done"] * 3, [r.error for r in results]
    sent = {s["endpoint"]: s["body"] for s in fal_fake.submits}
    uploaded = f"{fal_fake.url}/media/up/"
    wan = sent["fal-ai/wan/v2.7/image-to-video"]
    assert wan["image_url"].startswith(uploaded) and wan["end_image_url"].startswith(uploaded)
    assert wan["audio_url"].startswith(uploaded) and wan["seed"] == 7 and wan["duration"] == 4
    kling = sent["fal-ai/kling-video/o3/standard/image-to-video"]
    assert kling["image_url"].startswith(uploaded) and kling["end_image_url"].startswith(uploaded)
    seedance = sent["bytedance/seedance-2.0/image-to-video"]
    assert seedance["image_url"].startswith(uploaded) and seedance["end_image_url"].startswith(uploaded)


def test_veo_on_gemini_sends_its_last_frame(gemini_fake: GeminiFake, tmp_path: Path,
                                            media_files: dict[str, Path]) -> None:
    """Break: drop Veo's `lastFrame` (gemini.py submit, or `last_frame` in translate_veo)."""
    still = str(media_files["still"])
    job = Job(id="v", model="veo-3.1", input={"prompt": "a kite lands", "duration": 8, "image": still,
                                              "last_frame_image": still})
    [res] = generate_jobs([job], tmp_path / "o", backend="gemini")
    assert res.status == "done", res.error
    instance = gemini_fake.submits[0]["body"]["instances"][0]
    for field in ("image", "lastFrame"):
        assert instance[field]["mimeType"] == "image/png" and len(instance[field]["bytesBase64Encoded"]) > 100
