"""The preview backend's own clips stay clean under every content detector (issue 14, point 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidpipe.storyboard.animatic import animatic
from vidpipe.qc.content import CONTENT_CODES
from vidpipe.qc.report import run_qc


@pytest.mark.parametrize("camera", [
    "slow push-in", "pan left", "pan right", "zoom out", "slow orbit", "handheld follow", "tilt up", "static tripod",
])
def test_preview_camera_moves_match_their_camera_part(tmp_path: Path, camera: str) -> None:
    req = {"prompt": f"A red lighthouse on a grey cliff. Camera: {camera}. Sound: wind. Constraints: no text.",
           "duration": 4, "resolution": "480p", "aspect_ratio": "16:9", "generate_audio": True}
    report = run_qc(animatic(req, tmp_path / "c.mp4"), request=req, out_dir=tmp_path / "qc")
    assert [d for d in report.defects if d.code in CONTENT_CODES] == []


def test_preview_dialogue_shot_speaks(tmp_path: Path) -> None:
    req = {"prompt": 'The keeper at the radio says: "Trawler Marguerite, steer north of the light." '
                     "Camera: subtle handheld. Constraints: no subtitles.", "duration": 5, "resolution": "480p",
           "aspect_ratio": "16:9", "generate_audio": True}
    report = run_qc(animatic(req, tmp_path / "c.mp4"), request=req, out_dir=tmp_path / "qc")
    assert [d for d in report.defects if d.code in CONTENT_CODES] == []  # faces are not checked on storyboards
