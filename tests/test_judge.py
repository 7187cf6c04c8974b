"""The VLM judge: the real google-genai client against a loopback fake of generateContent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.gemini_fake import GeminiFake
from tests.media_factory import Seg, make_clip
from vidpipe.errors import ProviderError, ProviderNotConfigured
from vidpipe.pipeline.scoring import vlm_judge
from vidpipe.qc.report import run_qc
from vidpipe.store import Store

GOOD = {"scores": {"prompt_fidelity": 4, "subject_consistency": 5, "camera_and_motion": 4, "audio_match": 3,
                   "overall": 4},
        "failure_modes": ["style drift", "not a catalogued mode"], "what_worked": "steady framing",
        "what_to_change": "warmer light", "lesson": None}


def FakeGemini(reply: str, key: str | None = None) -> GeminiFake:  # noqa: N802
    """The shared strict Gemini fake (known models, error bodies), answering text models with `reply`."""
    fake = GeminiFake(b"", b"", key=key).start()
    fake.text_reply = reply
    return fake  # type: ignore[return-value]


@pytest.fixture
def review(tmp_path: Path) -> Path:
    clip = make_clip(tmp_path / "c.mp4", [Seg("moving", 2.0)])
    run_qc(clip, clip_id="c1", request={"prompt": "a moving test pattern", "duration": 2}, out_dir=tmp_path / "review")
    return tmp_path / "review"


def test_vlm_judge_scores_through_the_real_sdk(review: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeGemini(json.dumps(GOOD), key="gem-test-key-123")
    monkeypatch.setenv("GEMINI_API_KEY", "gem-test-key-123")
    monkeypatch.setenv("VIDPIPE_GEMINI_BASE_URL", fake.url)
    store = Store(tmp_path / "v.duckdb")
    report = vlm_judge(review, store=store)
    assert report.scores and report.scores.overall == 4 and report.judge == "gemini-3.5-flash"
    assert report.failure_modes_observed == ["style drift"]  # names outside the catalogue are dropped
    req = fake.submits[0]
    assert req["model"] == "gemini-3.5-flash" and fake.keys_seen == {"gem-test-key-123"}
    parts = req["body"]["contents"][0]["parts"]
    assert sum("inlineData" in p or "inline_data" in p for p in parts) >= 2  # contact sheet + frames
    assert "a moving test pattern" in json.dumps(parts)
    row = store.query("SELECT judge, overall, what_worked FROM scores")[0]
    assert row == {"judge": "gemini-3.5-flash", "overall": 4, "what_worked": "steady framing"}
    assert "gem-test-key-123" not in (review / "qc.json").read_text()


def test_vlm_judge_invalid_json_invents_nothing(review: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeGemini('{"scores": {"overall": 11}}')
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    monkeypatch.setenv("VIDPIPE_GEMINI_BASE_URL", fake.url)
    with pytest.raises(ProviderError, match="no score recorded"):
        vlm_judge(review)
    assert json.loads((review / "qc.json").read_text())["scores"] is None


def test_vlm_judge_needs_a_key(review: Path) -> None:
    with pytest.raises(ProviderNotConfigured, match="GEMINI_API_KEY"):
        vlm_judge(review)


def test_vlm_judge_confirms_or_rejects_detector_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.content_factory import photo_clip

    clip = photo_clip(tmp_path / "cap.mp4", seconds=2.0, move="zoom_in", caption=("STEER NORTH", 0.0, 2.0))
    req = {"prompt": "An astronaut. Camera: pan left. Constraints: no subtitles.", "duration": 2}
    report = run_qc(clip, clip_id="cap", request=req, out_dir=tmp_path / "review")
    codes = [d.code for d in report.defects if d.code in ("burnt_in_text", "camera_move_mismatch")]
    assert sorted(codes) == ["burnt_in_text", "camera_move_mismatch"]
    # the judge sees the text, but says the camera is fine (index order = the findings it was shown)
    reply = dict(GOOD, failure_modes=[], finding_checks=[
        {"index": codes.index("burnt_in_text"), "confirmed": True},
        {"index": codes.index("camera_move_mismatch"), "confirmed": False, "note": "reads as a pan to me"}])
    fake = FakeGemini(json.dumps(reply))
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    monkeypatch.setenv("VIDPIPE_GEMINI_BASE_URL", fake.url)
    judged = vlm_judge(tmp_path / "review")
    sent = json.dumps(fake.submits[0]["body"])
    assert "burnt_in_text" in sent and "threshold" in sent and "finding_checks" in sent
    by_code = {d.code: d.confirmed for d in judged.defects if d.code in codes}
    assert by_code == {"burnt_in_text": True, "camera_move_mismatch": False}
    assert judged.failure_modes_observed == ["unwanted subtitles"]  # the rejected camera finding is dropped
    assert judged.scores is not None and judged.scores.overall == 2  # the confirmed error still caps
