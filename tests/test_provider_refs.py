"""Local references go to fal storage through fal_client.upload_file (the fake speaks its storage
protocol), once per content, and the partner model receives URLs — never data URIs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import fal_fake, media_files  # noqa: F401
from tests.fakes.server import Reply
from vidpipe.generate import generate_jobs
from vidpipe.providers.refs import UploadCache
from vidpipe.schema import Job

pytestmark = pytest.mark.timeout(120)


def test_refs_are_uploaded_once_and_sent_as_urls(fal_fake: FalFake, tmp_path: Path,
                                                 media_files: dict[str, Path]) -> None:
    copy = tmp_path / "same-bytes.png"
    shutil.copy(media_files["still"], copy)
    job = Job(id="r", model="seedance-2.0", input={
        "prompt": "[Image1] and [Image2] talk, voice [Audio1]", "duration": 4,
        "reference_images": [str(media_files["still"]), str(media_files["big"])],
        "reference_audios": [str(media_files["wav"])]})
    [res] = generate_jobs([job], tmp_path / "out")
    assert res.status == "done", res.error
    body = fal_fake.submits[0]["body"]
    assert body["prompt"] == "@Image1 and @Image2 talk, voice @Audio1"
    sent = body["image_urls"] + body["audio_urls"]
    assert all(u.startswith(f"{fal_fake.url}/media/up/") for u in sent), sent  # storage URLs, no data URIs
    assert [u["name"] for u in fal_fake.uploads] == ["still.png", "big.bin.png", next(
        u["name"] for u in fal_fake.uploads if u["name"].endswith(".mp3"))]  # the WAV went as MP3
    assert all(json.loads(u["lifecycle"])["expiration_duration_seconds"] == 30 * 86400 for u in fal_fake.uploads)
    side = json.loads((tmp_path / "out" / "r.json").read_text())
    assert side["body"]["image_urls"] == [str(media_files["still"]), str(media_files["big"])]  # paths kept

    # A second job with the same bytes under another name, in a new run: nothing is uploaded again.
    again = Job(id="r2", model="seedance-2.0", input={"prompt": "[Image1] waves", "duration": 5,
                                                      "reference_images": [str(copy)]})
    [res2] = generate_jobs([again], tmp_path / "out")
    assert res2.status == "done", res2.error
    assert len(fal_fake.uploads) == 3
    assert fal_fake.submits[1]["body"]["image_urls"] == [body["image_urls"][0]]


def test_concurrent_jobs_share_one_upload(fal_fake: FalFake, tmp_path: Path, media_files: dict[str, Path]) -> None:
    jobs = [Job(id=f"c{i}", model="wan-2.7-i2v", input={"prompt": f"the kite {i}", "duration": 4,
                                                          "image": str(media_files["still"])}) for i in range(4)]
    results = generate_jobs(jobs, tmp_path / "out", concurrency=4)
    assert all(r.status == "done" for r in results), [r.error for r in results]
    assert len(fal_fake.uploads) == 1 and len({s["body"]["image_url"] for s in fal_fake.submits}) == 1


def test_a_data_uri_is_uploaded_not_forwarded(fal_fake: FalFake, tmp_path: Path, media_files: dict[str, Path]) -> None:
    import base64

    uri = "data:image/png;base64," + base64.b64encode(media_files["still"].read_bytes()).decode()
    [res] = generate_jobs([Job(id="d", model="wan-2.7-i2v", input={"prompt": "a kite", "duration": 4,
                                                                   "image": uri})], tmp_path / "out")
    assert res.status == "done", res.error
    assert fal_fake.submits[0]["body"]["image_url"].startswith(f"{fal_fake.url}/media/up/")


def test_failed_upload_is_a_named_error_and_nothing_is_submitted(fal_fake: FalFake, tmp_path: Path,
                                                                 media_files: dict[str, Path]) -> None:
    fal_fake.fail_next("token", Reply(401, {"detail": "Invalid key"}))
    [res] = generate_jobs([Job(id="u", model="wan-2.7-i2v", input={"prompt": "a kite", "duration": 4,
                                                                   "image": str(media_files["still"])})],
                          tmp_path / "out")
    assert res.status == "failed" and res.error_code == "unauthorized", res.error
    assert "FAL_KEY" in (res.error or "") and fal_fake.submits == []


def test_the_fake_refuses_what_was_never_uploaded(fal_fake: FalFake, tmp_path: Path,
                                                  media_files: dict[str, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake checks the storage really holds a referenced file (a stubbed upload cannot pass)."""
    import vidpipe.providers.fal as vfal

    monkeypatch.setattr(vfal.FalBackend, "upload", lambda self, p: f"{fal_fake.url}/media/never-uploaded.png")
    [res] = generate_jobs([Job(id="n", model="wan-2.7-i2v", input={"prompt": "a kite", "duration": 4,
                                                                   "image": str(media_files["still"])})],
                          tmp_path / "out")
    assert res.status == "failed" and res.error_code == "file_download_error", res.error


def test_upload_cache_lives_under_the_data_root_and_expires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    cache = UploadCache.default()
    assert cache.path == tmp_path / "data" / "cache" / "fal_uploads.json"
    cache.put("abc", "https://v3.fal.media/files/x.png", name="x.png")
    assert UploadCache.default().get("abc") == "https://v3.fal.media/files/x.png"
    assert UploadCache(cache.path, ttl_s=-1).get("abc") is None  # past its lifetime: uploaded again
    cache.path.write_text("{not json")
    assert cache.get("abc") is None  # a damaged cache means "upload again", not a crash
