"""The one environment decision and `vidpipe doctor`: backends follow the keys, keys never show."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vidpipe import environment as env

REPO = Path(__file__).resolve().parents[1]


def test_backends_follow_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    d = env.decide()
    assert (d.video, d.still, d.voice, d.judge) == ("preview", "preview", "preview", "none")
    monkeypatch.setenv("GEMINI_API_KEY", "g")
    assert env.video_backend(None, "veo-3.1") == "gemini" and env.video_backend(None, "seedance-2.0") == "preview"
    assert env.still_backend(None, "imagen") == "gemini" and env.still_backend(None, "flux-schnell") == "preview"
    assert env.judge_backend("auto") == "vlm" and env.judge_backend("none") == "none"
    monkeypatch.setenv("FAL_KEY", "f")
    monkeypatch.setenv("ELEVENLABS_API_KEY", "e")
    d = env.decide()
    assert (d.video, d.still, d.voice) == ("fal", "fal", "elevenlabs")
    assert env.video_backend("preview", "veo-3.1") == "preview"  # explicit wins
    with pytest.raises(ValueError, match="unknown video backend 'bogus'"):
        env.video_backend("bogus", "seedance-2.0")
    with pytest.raises(ValueError, match="unknown judge"):
        env.judge_backend("maybe")


def test_doctor_reports_without_revealing_keys(tmp_path: Path) -> None:
    secret = "fal-abcdef0123456789-secret"
    environ = {"PATH": "/usr/bin:/bin", "VIDPIPE_ROOT": str(tmp_path), "FAL_KEY": secret, "PYTHONPATH": str(REPO),
               "DAGSTER_HOME": str(tmp_path / "dh")}
    for args in (["doctor"], ["doctor", "--json"]):
        proc = subprocess.run([sys.executable, "-m", "vidpipe", *args], capture_output=True, text=True, env=environ,
                              cwd=tmp_path, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert secret not in proc.stdout + proc.stderr
    facts = json.loads(proc.stdout)
    assert facts["keys"] == {"FAL_KEY": True, "GEMINI_API_KEY": False, "ELEVENLABS_API_KEY": False}
    assert facts["backends"] == {"video": "fal", "still": "fal", "voice": "preview", "judge": "none"}
    assert facts["data_root"] == str(tmp_path.resolve()) and facts["dagster_home"] == str(tmp_path / "dh")
    assert facts["ffmpeg"]["found"] and Path(facts["ffmpeg"]["path"]).exists()
