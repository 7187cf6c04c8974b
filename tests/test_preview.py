"""The offline preview backend: exact shape, real cuts, camera moves, audio, speech, determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from vidpipe.media.probe import probe
from vidpipe.providers.preview import camera_move, animatic, storyboard_frame, segments
from vidpipe.qc.report import scene_cuts
from vidpipe.schema import frame_size


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray").astype(np.float32) for f in c.decode(video=0)]


@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1", "21:9"])
def test_clip_has_exact_duration_size_and_fps(tmp_path: Path, aspect: str) -> None:
    out = animatic({"prompt": "a kite over dunes, slow pan left", "duration": 4, "resolution": "480p",
                       "aspect_ratio": aspect, "generate_audio": False}, tmp_path / "c.mp4")
    p = probe(out)
    assert (p.width, p.height) == frame_size("480p", aspect)
    assert abs(p.duration_s - 4.0) <= 1 / 24 and p.fps == 24 and not p.has_audio


def test_blocks_become_hard_cuts_at_their_boundaries(tmp_path: Path) -> None:
    prompt = ("[00:00-00:02] a red boat, pan right. [00:02-00:04] a green forest, tilt up. "
              "[00:04-00:06] a white tower, slow orbit.")
    out = animatic({"prompt": prompt, "duration": 6, "resolution": "480p", "generate_audio": False}, tmp_path / "c.mp4")
    cuts = scene_cuts(out)
    assert len(cuts) == 2 and abs(cuts[0] - 2.0) <= 0.05 and abs(cuts[1] - 4.0) <= 0.05


def test_push_in_moves_without_cuts(tmp_path: Path) -> None:
    out = animatic({"prompt": "a lighthouse, slow push-in", "duration": 4, "resolution": "480p",
                       "generate_audio": False}, tmp_path / "c.mp4")
    frames = _frames(out)
    assert scene_cuts(out) == []
    assert np.abs(frames[0] - frames[-1]).mean() > 3  # the camera really moved
    assert camera_move("wide shot, slow push-in") == "zoom_in" and camera_move("static tripod") == "static"


def test_video_is_deterministic_and_prompt_sensitive(tmp_path: Path) -> None:
    req = {"prompt": "a kite, pan left", "duration": 4, "resolution": "480p", "generate_audio": False}
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    a = animatic(req, tmp_path / "a.mp4")
    b = animatic(req, tmp_path / "b.mp4")
    c = animatic(dict(req, prompt="a submarine, pan left"), tmp_path / "c.mp4")
    assert digest(a) == digest(b) and digest(a) != digest(c)


def test_image_to_video_starts_from_the_image(tmp_path: Path) -> None:
    from PIL import Image

    img = tmp_path / "still.png"
    Image.new("RGB", (854, 480), (200, 30, 30)).save(img)
    out = animatic({"prompt": "a red wall, static", "image": str(img), "duration": 4, "resolution": "480p",
                       "generate_audio": False}, tmp_path / "c.mp4")
    with av.open(str(out)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24")
    h, w, _ = first.shape
    centre = first[h // 3: 2 * h // 3, w // 3: 2 * w // 3].reshape(-1, 3).mean(axis=0)
    assert centre[0] > 150 and centre[1] < 80  # the input's red, not a painted panel


def test_audio_and_dialogue_when_asked(tmp_path: Path) -> None:
    from vidpipe.media.frames import scan_audio

    out = animatic({"prompt": 'A sailor says: "Steer north of the light now." Sound: rain.', "duration": 4,
                       "resolution": "480p", "generate_audio": True}, tmp_path / "c.mp4")
    p = probe(out)
    assert p.has_audio and abs(p.duration_s - 4.0) <= 0.05
    assert scan_audio(out) is not None


def test_preview_tag_and_storyboard_still(tmp_path: Path) -> None:
    from PIL import Image

    still = storyboard_frame("a teal sea under an amber sky", tmp_path / "s.png", width=640, height=360, label="s001")
    with Image.open(still) as im:
        assert im.size == (640, 360)
        r, g, b = im.convert("RGB").getpixel((640 - 8, 8))
    assert r > 180 and g < 80 and b < 80  # the red PREVIEW tag sits in the top-right corner


def test_speech_is_offline_and_grows_with_text(tmp_path: Path) -> None:
    from vidpipe.media.speech import synthesize

    short = probe(synthesize("Hello there.", tmp_path / "a.wav")).duration_s
    long = probe(synthesize("Hello there, keeper of the light, the storm is coming in tonight.",
                            tmp_path / "b.wav")).duration_s
    assert 0.3 < short < long


def test_ambience_length_and_level(tmp_path: Path) -> None:
    from vidpipe.media.ambience import ambience_samples

    s = ambience_samples("wind and rain on glass", 3.0)
    assert s.shape == (144000, 2) and 0.05 < np.abs(s).max() <= 0.5 and s.std() > 0.01


def test_segments_clamp_to_duration() -> None:
    segs = segments("[00:00-00:04] a. [00:04-00:08] b. [00:08-00:12] c.", 10)
    assert [(s.start, s.end) for s in segs] == [(0.0, 4.0), (4.0, 8.0), (8.0, 10.0)]


@pytest.mark.parametrize("camera", ["slow push-in", "static tripod", "pan left", "zoom out", "slow orbit",
                                    "handheld follow"])
def test_every_camera_move_passes_technical_qc(tmp_path: Path, camera: str) -> None:
    from vidpipe.qc.report import run_qc

    req = {"prompt": f"a red lighthouse on a grey cliff, {camera}. Sound: wind", "duration": 4,
           "resolution": "480p", "aspect_ratio": "16:9", "generate_audio": True}
    report = run_qc(animatic(req, tmp_path / "c.mp4"), request=req, out_dir=tmp_path / "qc")
    assert report.defects == []
