"""camera_move_mismatch: a real photo moved by known crops in every direction, checked against prompts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.content_factory import photo_clip
from vidpipe.media.ffmpeg import ffmpeg_exe
from vidpipe.qc.content.intent import camera_blocks
from vidpipe.qc.report import run_qc

MOVES = ["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "handheld"]
WORDS = {"static": "locked-off tripod", "pan_left": "slow pan left", "pan_right": "pan right",
         "tilt_up": "tilt up", "tilt_down": "tilt down", "zoom_in": "slow push-in", "zoom_out": "pull-out",
         "handheld": "handheld"}
OPPOSITE = {"pan_left": "pan_right", "pan_right": "pan_left", "tilt_up": "tilt_down", "tilt_down": "tilt_up",
            "zoom_in": "zoom_out", "zoom_out": "zoom_in", "static": "pan_left", "handheld": "static"}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("motion")
    return {m: photo_clip(d / f"{m}.mp4", move=m, seconds=2.0, source="coffee" if "tilt" in m else "astronaut")
            for m in MOVES}


def _qc(clip: Path, camera: str, tmp: Path):  # type: ignore[no-untyped-def]
    return run_qc(clip, request={"prompt": f"A desk by the window. Camera: {camera}. Style: daylight."},
                  out_dir=tmp / "r")


@pytest.mark.parametrize("move", MOVES)
def test_measured_kind_and_matching_prompt_passes(clips: dict[str, Path], tmp_path: Path, move: str) -> None:
    report = _qc(clips[move], WORDS[move], tmp_path)
    assert not [d for d in report.defects if d.code == "camera_move_mismatch"], report.defects
    motion = json.loads((tmp_path / "r" / "probe.json").read_text())["camera_motion"]
    assert [m["kind"] for m in motion] == [move]
    assert set(motion[0]) >= {"start", "end", "kind", "dx", "dy", "zoom"}


@pytest.mark.parametrize("move", MOVES)
def test_contradicting_prompt_is_an_error(clips: dict[str, Path], tmp_path: Path, move: str) -> None:
    report = _qc(clips[move], WORDS[OPPOSITE[move]], tmp_path)
    found = [d for d in report.defects if d.code == "camera_move_mismatch"]
    assert len(found) == 1 and found[0].severity == "error"
    assert found[0].value is not None and found[0].threshold is not None
    assert "camera ignored" in report.failure_modes_observed


def test_film_convention_pan_left_slides_the_scene_right(clips: dict[str, Path], tmp_path: Path) -> None:
    _qc(clips["pan_left"], WORDS["pan_left"], tmp_path)
    m = json.loads((tmp_path / "r" / "probe.json").read_text())["camera_motion"][0]
    assert m["dx"] > 0.15 and abs(m["dy"]) < 0.02  # scene slid right by ~a quarter of the frame
    _qc(clips["zoom_in"], WORDS["zoom_in"], tmp_path)
    assert json.loads((tmp_path / "r" / "probe.json").read_text())["camera_motion"][0]["zoom"] > 1.2


def test_moves_named_per_time_coded_block(clips: dict[str, Path], tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"file '{clips['pan_left']}'\nfile '{clips['zoom_in']}'\n")
    joined = tmp_path / "two.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                    str(joined)], check=True)
    good = "[00:00-00:02] A desk. Camera: pan left.\n[00:02-00:04] A cup. Camera: slow push-in."
    report = run_qc(joined, request={"prompt": good}, out_dir=tmp_path / "g")
    assert not [d for d in report.defects if d.code == "camera_move_mismatch"]
    kinds = [m["kind"] for m in json.loads((tmp_path / "g" / "probe.json").read_text())["camera_motion"]]
    assert kinds == ["pan_left", "zoom_in"]
    swapped = "[00:00-00:02] A desk. Camera: pull-out.\n[00:02-00:04] A cup. Camera: static tripod."
    bad = run_qc(joined, request={"prompt": swapped}, out_dir=tmp_path / "b")
    found = [(d.start_s, d.end_s) for d in bad.defects if d.code == "camera_move_mismatch"]
    assert found == [(0.0, 2.0), (2.0, 4.0)]


def test_prompt_words_are_read_per_block_and_sound_is_ignored() -> None:
    blocks = camera_blocks("[00:00-00:03] He climbs. Camera: handheld follow.\n[00:03-00:06] He waits.\n"
                           "Camera throughout: static tripod.\nSound: the tide rises, a panel creaks.", 6)
    assert [(b.start, b.end, b.asked) for b in blocks] == [(0.0, 3.0, "handheld"), (3.0, 6.0, "static")]
    assert camera_blocks("A kite. Sound: wind rises.", 4)[0].asked is None
