"""The runner on fal, end to end through the real fal-client against the loopback fake queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.fal_fake import NGINX_502, FalFake
from tests.fakes.fixtures import FAKE_FAL_KEY, fal_fake, media_files  # noqa: F401
from tests.fakes.server import Reply
from vidpipe.generate import generate_jobs
from vidpipe.schema import Job
from vidpipe.store import Store


def jobs(n: int, prompt: str = "a red kite over dunes", **inp: object) -> list[Job]:
    return [Job(id=f"j{i}", model="seedance-2.0", input={"prompt": f"{prompt} {i}", "duration": 4, **inp})
            for i in range(n)]


def test_done_clip_sidecar_manifest_and_ledger(fal_fake: FalFake, tmp_path: Path) -> None:
    store = Store(tmp_path / "v.duckdb")
    [res] = generate_jobs(jobs(1), tmp_path / "out", store=store)
    assert res.status == "done", res.error
    assert res.backend == "fal" and res.endpoint == "bytedance/seedance-2.0/text-to-video"
    assert res.request_id == "req-0001" and Path(res.path or "").stat().st_size > 0
    assert res.est_cost_usd == pytest.approx(0.3034 * 4) and res.cost_usd == pytest.approx(0.3034 * 4)
    side = json.loads((tmp_path / "out" / "j0.json").read_text())
    assert side["request_id"] == "req-0001" and side["status"] == "done" and side["endpoint"] == res.endpoint
    assert side["job"]["id"] == "j0" and "submitted_at" in side["timings"] and side["clip"]["duration_s"] > 3
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["totals"]["done"] == 1 and manifest["results"][0]["job_id"] == "j0"
    row = store.query("SELECT status, request_id, cost_usd FROM generations")[0]
    assert row["status"] == "done" and row["request_id"] == "req-0001"
    assert fal_fake.submits[0]["body"] == {"prompt": "a red kite over dunes 0", "duration": "4", "resolution": "720p",
                                           "aspect_ratio": "16:9", "generate_audio": True}


def test_concurrency_is_bounded_and_overlaps(fal_fake: FalFake, tmp_path: Path) -> None:
    """Jobs overlap (up to `concurrency` in flight at once), never more: counted from the runner's stages."""
    import threading

    fal_fake.latency_s = 0.5
    lock, live, peak = threading.Lock(), set(), [0]

    def on_stage(job_id: str, stage: str) -> None:
        with lock:
            if stage == "claimed":
                live.add(job_id)
            elif stage in ("done", "failed"):
                live.discard(job_id)
            peak[0] = max(peak[0], len(live))

    results = generate_jobs(jobs(8), tmp_path / "out", concurrency=4, on_stage=on_stage)
    assert all(r.status == "done" for r in results)
    assert len(fal_fake.submits) == 8
    assert peak[0] == 4  # four in flight while the fake queue works, never more (speed: bench_concurrency.py)


def test_cache_hit_submits_nothing(fal_fake: FalFake, tmp_path: Path) -> None:
    store = Store(tmp_path / "v.duckdb")
    first = generate_jobs(jobs(3), tmp_path / "out", store=store)
    assert len(fal_fake.submits) == 3
    again = generate_jobs(jobs(3), tmp_path / "out2", store=store)
    assert len(fal_fake.submits) == 3  # zero new submissions
    assert all(r.cache_hit and r.status == "done" and r.cost_usd == 0 for r in again)
    assert [r.request_id for r in again] == [r.request_id for r in first]
    assert all(Path(r.path or "").exists() for r in again)


# Local references (uploaded to fal storage once per content): tests/test_provider_refs.py


@pytest.mark.parametrize("case", ["429_then_ok", "reset_then_ok", "nginx_502_status", "download_fails_once"])
def test_transient_faults_recover(fal_fake: FalFake, tmp_path: Path, case: str) -> None:
    if case == "429_then_ok":
        fal_fake.fail_next("submit", Reply(429, {"detail": "rate limited"}), times=2)
    elif case == "reset_then_ok":
        fal_fake.fail_next("status", None)
    elif case == "nginx_502_status":
        fal_fake.fail_next("status", NGINX_502, times=2)
    else:
        fal_fake.fail_next("media", Reply(500, {"detail": "cdn hiccup"}))
    [res] = generate_jobs(jobs(1), tmp_path / "out")
    assert res.status == "done", res.error
    assert len(fal_fake.submits) == 1  # exactly one accepted submission
    if case == "429_then_ok":
        assert fal_fake.attempts["submit"] == 3
    if case == "download_fails_once":
        assert fal_fake.media_calls["clip.mp4"] == 2 and res.retries == 1  # same URL, fetched again


@pytest.mark.parametrize("case,code", [
    ("500_with_request_id", "submit_unknown"),  # fal's app got it: maybe billed, never resubmitted blindly
    ("novideo", "result_missing"),
    ("garbage", "result_undecodable"),
    ("empty", "result_empty"),
    ("moderate", "content_policy_violation"),
])
def test_named_failures(fal_fake: FalFake, tmp_path: Path, case: str, code: str) -> None:
    prompt = "a red kite"
    if case == "500_with_request_id":
        fal_fake.fail_next("submit", Reply(500, {"detail": "app crashed"}, headers={"x-fal-request-id": "abc"}))
    else:
        prompt += f" [[{case}]]"
    [res] = generate_jobs([Job(id="x", model="seedance-2.0", input={"prompt": prompt, "duration": 4})], tmp_path / "o")
    assert res.status == "failed" and res.error_code == code, res.error
    assert not (tmp_path / "o" / "x.mp4").exists()  # never a saved clip
    assert not list((tmp_path / "o").glob("*.part"))
    if case == "500_with_request_id":
        assert fal_fake.attempts["submit"] == 1  # failed once, not retried
        assert "--resubmit x" in (res.error or "") and "app crashed" in (res.error or "")
    if case == "moderate":
        assert fal_fake.attempts["result"] == 1  # moderation is not retried


def test_moderation_falls_back_to_kling(fal_fake: FalFake, tmp_path: Path, media_files: dict[str, Path]) -> None:
    job = Job(id="m", model="wan-2.7-i2v", input={"prompt": "the kite dives [[moderate]]", "duration": 4,
                                                  "image": str(media_files["still"])})
    [res] = generate_jobs([job], tmp_path / "o", fallback=True)
    assert res.status == "done", res.error
    assert res.fallback_from == "wan-2.7-i2v" and res.model == "kling-3.0-omni"
    assert [s["endpoint"] for s in fal_fake.submits] == ["fal-ai/wan/v2.7/image-to-video",
                                                         "fal-ai/kling-video/o3/standard/image-to-video"]
    assert json.loads((tmp_path / "o" / "m.json").read_text())["fallback_from"] == "wan-2.7-i2v"


def test_fallback_without_image_says_so(fal_fake: FalFake, tmp_path: Path, media_files: dict[str, Path]) -> None:
    job = Job(id="m", model="seedance-2.0", input={"prompt": "[Image1] dances [[moderate]]", "duration": 4,
                                                   "reference_images": [str(media_files["still"])]})
    [res] = generate_jobs([job], tmp_path / "o", fallback=True)
    assert res.status == "failed" and res.error_code == "content_policy_violation"
    assert "needs an `image`" in (res.error or "") and "kling-3.0-omni" in (res.error or "")
    assert len(fal_fake.submits) == 1


def test_budget_stops_submissions(fal_fake: FalFake, tmp_path: Path) -> None:
    results = generate_jobs(jobs(3), tmp_path / "o", budget_usd=2.5, concurrency=3)
    assert [r.status for r in results] == ["done", "done", "over_budget"]
    assert len(fal_fake.submits) == 2
    err = results[2].error or ""
    assert results[2].error_code == "budget_exceeded" and "$2.50" in err and "$2.43" in err
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["totals"]["over_budget"] == 1


def test_invalid_jobs_are_never_submitted(fal_fake: FalFake, tmp_path: Path) -> None:
    bad = Job(id="bad", model="seedance-2.0", input={"prompt": "x", "colour": "red"})
    nine = Job(id="tall", model="seedance-2.0", input={"prompt": "a tall shot", "aspect_ratio": "9:21", "duration": 4})
    results = generate_jobs([bad, nine, *jobs(1)], tmp_path / "o")
    assert [r.status for r in results] == ["invalid", "invalid", "done"]
    assert results[0].error_code == "unknown_field" and results[1].error_code == "unsupported_on_model"
    assert len(fal_fake.submits) == 1


def test_key_never_written_or_printed(fal_fake: FalFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    from vidpipe.cli import main

    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps([j.model_dump() for j in jobs(2)] +
                               [{"id": "bad", "model": "seedance-2.0", "input": {"prompt": "x [[moderate]]"}}]))
    code = main(["generate", str(spec), "--out", str(tmp_path / "out"), "--backend", "fal"])
    captured = capfd.readouterr()
    assert code == 1  # the moderated job failed
    assert FAKE_FAL_KEY in fal_fake.auth_seen  # the key was used on the wire …
    assert FAKE_FAL_KEY not in captured.out + captured.err  # … and never printed
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert FAKE_FAL_KEY.encode() not in f.read_bytes(), f
