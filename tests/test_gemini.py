"""Veo 3.1 and Imagen through google-genai against the loopback Gemini fake."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.fixtures import FAKE_GEMINI_KEY, gemini_fake, media_files  # noqa: F401
from tests.fakes.gemini_fake import GeminiFake
from vidpipe.generate import generate_jobs
from vidpipe.schema import Job


def test_veo_operation_polling(gemini_fake: GeminiFake, tmp_path: Path, media_files: dict[str, Path]) -> None:
    gemini_fake.latency_s = 0.2
    job = Job(id="v", model="veo-3.1", input={"prompt": "a kite at dusk", "duration": 4, "aspect_ratio": "9:16",
                                              "image": str(media_files["still"])})
    [res] = generate_jobs([job], tmp_path / "o")  # only GEMINI_API_KEY set → gemini backend
    assert res.status == "done", res.error
    assert res.backend == "gemini" and res.endpoint == "veo-3.1-generate-001"
    assert res.request_id == "models/veo-3.1-generate-001/operations/op001"
    assert gemini_fake.polls[res.request_id] >= 2 and gemini_fake.downloads == 1
    sent = gemini_fake.submits[0]["body"]
    assert sent["parameters"] == {"sampleCount": 1, "durationSeconds": 4, "resolution": "720p", "aspectRatio": "9:16"}
    assert sent["instances"][0]["image"]["mimeType"] == "image/png"
    assert gemini_fake.keys_seen == {FAKE_GEMINI_KEY}
    for f in (tmp_path / "o").rglob("*"):  # claims and sidecars included
        assert not f.is_file() or FAKE_GEMINI_KEY.encode() not in f.read_bytes()
    assert json.loads((tmp_path / "o" / "v.json").read_text())["request_id"] == res.request_id


def test_veo_filtered_output_is_moderation(gemini_fake: GeminiFake, tmp_path: Path) -> None:
    job = Job(id="f", model="veo-3.1", input={"prompt": "a kite [[filtered]]", "duration": 4})
    [res] = generate_jobs([job], tmp_path / "o", backend="gemini")
    assert res.status == "failed" and res.error_code == "content_policy_violation"
    assert "usage guidelines" in (res.error or "")


def test_gemini_image_still(gemini_fake: GeminiFake, tmp_path: Path) -> None:
    from PIL import Image

    from vidpipe.stills import make_still

    res = make_still("a lighthouse at dawn", tmp_path / "s.png", model="gemini-image", aspect="4:3", n=2)
    assert res.backend == "gemini" and res.model == "gemini-image" and len(res.paths) == 2
    assert res.cost_usd == 0.078
    for p in res.paths:
        Image.open(p).verify()
    assert [s["model"] for s in gemini_fake.submits] == ["gemini-3.1-flash-image"] * 2  # one image per call
    body = gemini_fake.submits[0]["body"]
    assert body["contents"][0]["parts"] == [{"text": "a lighthouse at dawn"}]
    assert body["generationConfig"] == {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "4:3"}}


def test_still_command_on_a_configured_image_model(gemini_fake: GeminiFake, tmp_path: Path) -> None:
    """`vidpipe still --model gemini-image --image-model …` as a user runs it (a subprocess, the real CLI)."""
    import os
    import subprocess
    import sys

    from PIL import Image

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo), "GEMINI_API_KEY": FAKE_GEMINI_KEY,
           "VIDPIPE_GEMINI_BASE_URL": gemini_fake.url}
    proc = subprocess.run([sys.executable, "-m", "vidpipe", "still", "a lighthouse", "--model", "imagen",
                           "--image-model", "gemini-3-pro-image", "--resolution", "1080p", "--aspect", "21:9",
                           "--out", str(tmp_path / "s.png")], env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "s.png") and "gemini-image via gemini" in proc.stderr
    Image.open(tmp_path / "s.png").verify()
    sent = gemini_fake.submits[-1]
    assert sent["model"] == "gemini-3-pro-image"
    assert sent["body"]["generationConfig"]["imageConfig"] == {"aspectRatio": "21:9", "imageSize": "2K"}
    assert FAKE_GEMINI_KEY not in proc.stdout + proc.stderr
