"""A submit whose answer is lost costs one request: fal accepts it, the connection drops, the next run
finds it in fal's request history (platform API) and resumes it — real httpx / fal-client against the
loopback fake, real ffmpeg decoding the clip, the real DuckDB ledger and the `costs` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import FAKE_FAL_KEY, fal_fake, media_files  # noqa: F401
from vidpipe.cli import main
from vidpipe.generate import generate_jobs
from vidpipe.generate.output import verify_clip
from vidpipe.schema import Job
from vidpipe.store import Store

JOB = Job(id="j0", model="seedance-2.0", input={"prompt": "a red kite over dunes", "duration": 4})
EST = 0.3034 * 4


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    return tmp_path


def run(root: Path, job: Job = JOB) -> object:
    [res] = generate_jobs([job], root / "out", backend="fal", store=Store(root / "data" / "vidpipe.duckdb"))
    return res


def costs(root: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["costs", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_dropped_answer_costs_one_request_and_the_next_run_adopts_it(
        fal_fake: FalFake, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fal_fake.accept_then_drop()
    first = run(root)
    assert first.status == "failed" and first.error_code == "submit_unknown", first.error
    assert fal_fake.accepted == 1 and fal_fake.attempts["submit"] == 1  # fal-client would have sent it 10 times
    report = costs(root, capsys)
    assert [r["status"] for r in report["produced_nothing"]] == ["submit_unknown"]
    assert report["total_cost_usd"] == pytest.approx(EST)  # maybe billed: counted at its estimate

    second = run(root)
    assert second.status == "done" and second.resumed, second.error
    assert second.request_id == fal_fake.submits[0]["request_id"] == "req-0001"
    assert fal_fake.accepted == 1 and fal_fake.attempts["submit"] == 1  # adopted, not paid again
    assert fal_fake.result_calls["req-0001"] >= 1 and verify_clip(root / "out" / "j0.mp4").duration_s > 3
    [q] = fal_fake.history_calls
    assert q["endpoint_id"] == ["bytedance/seedance-2.0/text-to-video"] and q["expand"] == ["payloads"]
    assert "start" in q and "end" in q
    assert FAKE_FAL_KEY in fal_fake.auth_seen
    side = json.loads((root / "out" / "j0.json").read_text())
    assert side["status"] == "done" and side["request_id"] == "req-0001"
    rows = Store(root / "data" / "vidpipe.duckdb").query("SELECT request_key, status FROM requests")
    assert [(r["request_key"], r["status"]) for r in rows] == [("req-0001", "done")]  # one request, not two
    report = costs(root, capsys)
    assert report["produced_nothing"] == [] and report["total_cost_usd"] == pytest.approx(EST, rel=0.05)
    claims = list((root / "data" / "claims").glob("*.json"))
    claim = json.loads(claims[0].read_text())
    assert [e["outcome"] for e in claim["requests"]] == ["adopted"] and claim["status"] == "done"
    assert claim["requests"][0]["body"] == fal_fake.submits[0]["body"]  # the exact body that was sent


def test_a_request_fal_lists_late_is_adopted_by_a_later_run(fal_fake: FalFake, root: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Not listed yet = still unknown (never paid again, shown by `status`); once fal lists it, the next
    run adopts it."""
    fal_fake.accept_then_drop()
    fal_fake.history_delay_s = 3600
    assert run(root).error_code == "submit_unknown"
    second = run(root)
    assert second.error_code == "submit_unknown" and "not in fal's request history" in (second.error or "")
    assert "--resubmit j0" in (second.error or "") and fal_fake.accepted == 1
    capsys.readouterr()
    assert main(["status"]) == 0
    shown = capsys.readouterr().out
    assert "1 submission(s) with an unknown outcome" in shown and "j0" in shown and "seedance-2.0" in shown
    fal_fake.history_delay_s = 0
    third = run(root)
    assert third.status == "done" and third.request_id == "req-0001" and fal_fake.accepted == 1
    assert main(["status"]) == 0 and "unknown outcome" not in capsys.readouterr().out


def test_only_the_exact_body_matches_across_pages(fal_fake: FalFake, root: Path) -> None:
    """150 other requests on the same endpoint (another tool; the same prompt with another duration):
    the lookup pages through them and adopts only the identical body."""
    endpoint = "bytedance/seedance-2.0/text-to-video"
    for i in range(150):
        fal_fake.foreign_request(endpoint, {"prompt": f"another kite {i}", "duration": "4"})
    fal_fake.foreign_request(endpoint, {"prompt": "a red kite over dunes", "duration": "5", "resolution": "720p",
                                        "aspect_ratio": "16:9", "generate_audio": True})
    fal_fake.accept_then_drop()
    assert run(root).error_code == "submit_unknown"
    mine = fal_fake.submits[-1]["request_id"]
    res = run(root)
    assert res.status == "done" and res.request_id == mine, res.error
    assert len(fal_fake.history_calls) >= 2 and all(q["limit"] == ["100"] for q in fal_fake.history_calls)
    assert fal_fake.accepted == 152


def test_the_history_checks_the_key_and_its_limits(fal_fake: FalFake) -> None:
    url = f"{fal_fake.url}/v1/models/requests/by-endpoint"
    q = {"endpoint_id": "bytedance/seedance-2.0/text-to-video", "expand": "payloads"}
    assert httpx.get(url, params=q).status_code == 401
    assert httpx.get(url, params=q, headers={"Authorization": "Key wrong"}).status_code == 401
    ok = {"Authorization": f"Key {FAKE_FAL_KEY}"}
    assert httpx.get(url, params={**q, "limit": 101}, headers=ok).status_code == 422
    assert httpx.get(url, params={"expand": "payloads"}, headers=ok).status_code == 422
    page = httpx.get(url, params=q, headers=ok).json()
    assert page == {"items": [], "has_more": False, "next_cursor": None}


def test_a_failed_lookup_leaves_the_job_unknown_and_unpaid(fal_fake: FalFake, root: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The history cannot be read (here: a wrong platform API host): never read as "not there, pay again"."""
    fal_fake.accept_then_drop()
    assert run(root).error_code == "submit_unknown"
    monkeypatch.setenv("VIDPIPE_FAL_API_URL", f"{fal_fake.url}/nowhere")
    res = run(root)
    assert res.error_code == "submit_unknown" and "request history failed" in (res.error or "")
    assert fal_fake.accepted == 1
    monkeypatch.setenv("VIDPIPE_FAL_API_URL", f"{fal_fake.url}/v1")
    assert run(root).status == "done" and fal_fake.accepted == 1


def test_the_same_body_sent_twice_adopts_the_first_and_shows_the_second_as_money_spent(
        fal_fake: FalFake, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """E.g. an older vidpipe whose fal-client re-sent the lost submit: both are billed; one is followed."""
    fal_fake.accept_then_drop()
    assert run(root).error_code == "submit_unknown"
    sent = fal_fake.submits[0]
    dup = fal_fake.foreign_request(sent["endpoint"], sent["body"])
    res = run(root)
    assert res.status == "done" and res.request_id == "req-0001", res.error
    report = costs(root, capsys)
    assert [(r["request_id"], r["status"]) for r in report["produced_nothing"]] == [(dup, "superseded")]
    assert report["total_cost_usd"] == pytest.approx(2 * EST, rel=0.05)
    assert run(root).cache_hit and fal_fake.accepted == 2  # and nothing more is sent
