"""A paid request is never resubmitted automatically: faults after the submit, then rerun, then --resubmit.

Truncated / empty downloads, a 500 on the result, a local write error, and a submit whose
outcome is unknown — each through the real fal-client against the loopback fake, the real CLI
for `--resubmit` and `costs`, real ffmpeg to decode what was saved.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import fal_fake, make_clip, media_files  # noqa: F401
from tests.fakes.server import Reply
from vidpipe.cli import main
from vidpipe.generate import generate_jobs
from vidpipe.generate.output import verify_clip
from vidpipe.providers.base import ResultUndecodable
from vidpipe.schema import Job
from vidpipe.store import Store

JOB = Job(id="j0", model="seedance-2.0", input={"prompt": "a red kite over dunes", "duration": 4})


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    (tmp_path / "jobs.json").write_text(json.dumps([JOB.model_dump()]))
    return tmp_path


def store(root: Path) -> Store:
    return Store(root / "data" / "vidpipe.duckdb")


def cli(root: Path, *extra: str) -> int:
    return main(["generate", str(root / "jobs.json"), "--out", str(root / "out"), "--backend", "fal", *extra])


def costs(root: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["costs", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def inject(fake: FalFake, root: Path, fault: str) -> None:
    clip = fake.media["clip.mp4"]
    if fault == "truncated":
        fake.fail_next("media", Reply(200, raw=clip[: len(clip) // 2], content_type="video/mp4"))
    elif fault == "empty":
        fake.fail_next("media", Reply(200, raw=b"", content_type="video/mp4"))
    elif fault == "500_on_result":
        fake.fail_next("result", Reply(500, {"detail": "app crashed"}, headers={"x-fal-request-id": "req-0001"}))
    elif fault == "unwritable_out":
        (root / "out" / "j0.mp4").mkdir(parents=True)  # the clip's name is taken by a folder: the rename fails


@pytest.mark.parametrize("fault", ["truncated", "empty", "500_on_result", "unwritable_out"])
def test_fault_after_submit_then_rerun_resumes_and_resubmit_pays_once(
        fal_fake: FalFake, root: Path, fault: str, capsys: pytest.CaptureFixture[str]) -> None:
    inject(fal_fake, root, fault)
    [res] = generate_jobs([JOB], root / "out", backend="fal", store=store(root))
    assert res.status == "failed" and res.request_id == "req-0001", res.error
    assert "--resubmit j0" in (res.error or "") and "no new cost" in (res.error or "")
    assert not (root / "out" / "j0.mp4").is_file()
    report = costs(root, capsys)
    assert report["wasted_usd"] == pytest.approx(0.3034 * 4)  # finished on fal, not saved: not $0.00
    assert [r["status"] for r in report["produced_nothing"]] == ["unsaved"]

    if fault == "unwritable_out":
        shutil.rmtree(root / "out" / "j0.mp4")
    [again] = generate_jobs([JOB], root / "out", backend="fal", store=store(root))
    assert again.status == "done" and again.resumed, again.error
    assert len(fal_fake.submits) == 1 and again.request_id == "req-0001"  # resumed, never paid again
    assert fal_fake.result_calls["req-0001"] >= 2
    verify_clip(root / "out" / "j0.mp4")
    assert costs(root, capsys)["wasted_usd"] == 0  # the request produced its clip after all

    assert cli(root, "--resubmit", "j0") == 0  # a person asks to pay again: exactly one more submit
    assert len(fal_fake.submits) == 2
    assert cli(root) == 0 and len(fal_fake.submits) == 2  # … and later runs follow the new request
    rows = store(root).query("SELECT request_id, status, cost_usd FROM requests ORDER BY request_id")
    assert [(r["request_id"], r["status"]) for r in rows] == [("req-0001", "done"), ("req-0002", "done")]
    assert all(r["cost_usd"] == pytest.approx(0.3034 * 4, rel=0.05) for r in rows)


def test_resubmit_after_a_lost_result_shows_the_money_that_produced_nothing(
        fal_fake: FalFake, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inject(fal_fake, root, "empty")
    assert cli(root) == 1
    assert cli(root, "--resubmit", "j0") == 0
    assert len(fal_fake.submits) == 2
    report = costs(root, capsys)
    assert [(r["request_id"], r["status"]) for r in report["produced_nothing"]] == [("req-0001", "superseded")]
    assert report["total_cost_usd"] == pytest.approx(2 * 0.3034 * 4, rel=0.05)  # both requests, both paid
    capsys.readouterr()
    assert main(["costs"]) == 0
    text = capsys.readouterr().out
    assert "produced nothing" in text and "req-0001" in text


def test_unknown_resubmit_id_is_refused_before_any_request(fal_fake: FalFake, root: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(root, "--resubmit", "nope") == 2
    assert "nope" in capsys.readouterr().err and fal_fake.attempts["submit"] == 0


def test_submit_reset_before_fal_took_it_stays_unknown_until_resubmit(fal_fake: FalFake, root: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The POST is reset after it reached the server but before fal queued it: one attempt, no second
    POST by any layer; the next run finds nothing in fal's request history and still does not pay."""
    fal_fake.fail_next("submit", None)
    [res] = generate_jobs([JOB], root / "out", backend="fal", store=store(root))
    assert res.status == "failed" and res.error_code == "submit_unknown", res.error
    assert "--resubmit j0" in (res.error or "") and "request history" in (res.error or "")
    assert fal_fake.attempts["submit"] == 1 and fal_fake.accepted == 0  # sent once, by nobody again
    side = json.loads((root / "out" / "j0.json").read_text())
    assert side["status"] == "failed" and side["error_code"] == "submit_unknown"
    [again] = generate_jobs([JOB], root / "out", backend="fal", store=store(root))
    assert again.error_code == "submit_unknown" and "not in fal's request history" in (again.error or "")
    assert len(fal_fake.history_calls) == 1 and fal_fake.attempts["submit"] == 1  # looked up, not re-sent
    assert [r["status"] for r in costs(root, capsys)["produced_nothing"]] == ["submit_unknown"]
    assert cli(root, "--resubmit", "j0") == 0 and len(fal_fake.submits) == 1
    verify_clip(root / "out" / "j0.mp4")


def test_a_changed_clip_is_not_trusted_and_is_fetched_again_without_paying(fal_fake: FalFake, root: Path) -> None:
    [res] = generate_jobs([JOB], root / "out", backend="fal", store=store(root))
    clip = root / "out" / "j0.mp4"
    data = bytearray(clip.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes, new mtime
    clip.write_bytes(bytes(data))
    [again] = generate_jobs([JOB], root / "out", backend="fal", store=store(root))
    assert again.status == "done" and not again.cache_hit and again.sha256 == res.sha256
    assert len(fal_fake.submits) == 1 and fal_fake.media_calls["clip.mp4"] == 2
    [third] = generate_jobs([JOB], root / "out", backend="fal", store=store(root))
    assert third.cache_hit and fal_fake.media_calls["clip.mp4"] == 2  # matching bytes: trusted


def test_verification_decodes_to_the_end(tmp_path: Path) -> None:
    """A faststart MP4 cut short still opens and shows a first frame; the full decode catches it."""
    from vidpipe.media.ffmpeg import run_ffmpeg

    src = make_clip(tmp_path / "src.mp4", seconds=3)
    fast = tmp_path / "fast.mp4"
    run_ffmpeg(["-y", "-i", str(src), "-c", "copy", "-movflags", "+faststart", str(fast)], what="faststart")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fast.read_bytes()[: int(os.path.getsize(fast) * 0.6)])
    assert verify_clip(fast).duration_s > 2.5
    with pytest.raises(ResultUndecodable):
        verify_clip(cut)
