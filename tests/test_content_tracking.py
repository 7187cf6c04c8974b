"""Camera motion from the background (issue 24): a large subject moving in a locked-off shot is not a camera
move, and a pan still reads as the right direction when a subject moves against it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.content_factory import photo, photo_clip
from vidpipe.qc.content.motion import CONFIDENT
from vidpipe.qc.report import run_qc


def walker(direction: int, grain: float = 0.0):  # type: ignore[no-untyped-def]
    """A frame hook pasting a real figure (the astronaut, head to waist) crossing 60% of the frame."""
    fig = photo("astronaut").crop((60, 0, 460, 512))
    rng = np.random.default_rng(1)

    def hook(frame: Image.Image, i: int) -> Image.Image:
        w, h = frame.size
        fh = int(h * 0.65)
        f = fig.resize((int(fig.width * fh / fig.height), fh))
        u = i / 47
        x = int((0.2 + 0.6 * (u if direction > 0 else 1 - u)) * w - f.width / 2)
        frame.paste(f, (x, int(h * 0.25)))
        if grain:
            arr = np.asarray(frame, dtype=np.float32) + rng.normal(0, grain, (h, w, 3))
            frame = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        return frame
    return hook


def _motion(clip: Path, camera: str, tmp: Path):  # type: ignore[no-untyped-def]
    rep = run_qc(clip, request={"prompt": f"A figure walks past a cup of coffee. Camera: {camera}.",
                                "generate_audio": False}, out_dir=tmp / "r")
    return rep, json.loads((tmp / "r" / "probe.json").read_text())["camera_motion"][0]


@pytest.mark.parametrize("direction", [1, -1])
def test_locked_off_shot_with_a_large_walker_measures_static(tmp_path: Path, direction: int) -> None:
    clip = photo_clip(tmp_path / "c.mp4", move="static", source="coffee", frame_hook=walker(direction, grain=4.0))
    rep, m = _motion(clip, "locked-off tripod", tmp_path)
    assert m["kind"] == "static" and abs(m["dx"]) < 0.02 and abs(m["zoom"] - 1) < 0.02, m
    assert not [d for d in rep.defects if d.code == "camera_move_mismatch"]


@pytest.mark.parametrize("move,words,sign", [("pan_left", "slow pan left", 1), ("pan_right", "pan right", -1)])
def test_a_warped_pan_reads_its_direction_with_a_subject_walking_against_it(tmp_path: Path, move: str, words: str,
                                                                            sign: int) -> None:
    clip = photo_clip(tmp_path / "c.mp4", move=move, source="coffee", frame_hook=walker(sign))
    rep, m = _motion(clip, words, tmp_path)
    assert m["kind"] == move and sign * m["dx"] > 0.1, m  # pan left: the scene slid right (dx > 0)
    assert not [d for d in rep.defects if d.code == "camera_move_mismatch"]
    opposite = "pan right" if move == "pan_left" else "pan left"
    rep, m = _motion(clip, opposite, tmp_path)
    # The walker holds a third of the frame's cells: the measure is right but less sure, and only a
    # confident mismatch blocks.
    sure = "error" if m["confidence"] >= CONFIDENT else "warning"
    assert [d.severity for d in rep.defects if d.code == "camera_move_mismatch"] == [sure]
