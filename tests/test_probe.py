"""probe / thumbnails / frame sampling on real (tiny) clips made with lavfi."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from tests.media_factory import Seg, make_clip, make_corrupt
from vidpipe.errors import MediaError
from vidpipe.media.frames import sample_times, scan_audio, scan_video
from vidpipe.media.probe import probe, thumbnail_b64


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("probe")
    return {
        "av": make_clip(d / "av.mp4", seconds=3.0),
        "mute": make_clip(d / "mute.mp4", seconds=2.0, width=180, height=320, fps=30, audio=None),
        "bad": make_corrupt(d / "bad.mp4"),
    }


def test_probe_reports_shape_codecs_and_audio(clips: dict[str, Path]) -> None:
    p = probe(clips["av"])
    assert p.duration_s == pytest.approx(3.0, abs=0.05)
    assert (p.width, p.height, p.fps) == (320, 180, 24.0)
    assert p.has_video and p.has_audio
    assert (p.video_codec, p.audio_codec) == ("h264", "aac")
    assert p.size_bytes == clips["av"].stat().st_size


def test_probe_without_audio(clips: dict[str, Path]) -> None:
    p = probe(clips["mute"])
    assert (p.width, p.height, p.fps) == (180, 320, 30.0)
    assert not p.has_audio and p.audio_codec is None
    assert scan_audio(clips["mute"]) is None


@pytest.mark.parametrize("name", ["bad", "missing", "empty"])
def test_unreadable_file_is_one_line_media_error(clips: dict[str, Path], tmp_path: Path, name: str) -> None:
    path = {"bad": clips["bad"], "missing": tmp_path / "nope.mp4"}.get(name) or tmp_path / "empty.mp4"
    if name == "empty":
        path.write_bytes(b"")
    with pytest.raises(MediaError) as info:
        probe(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_thumbnail_is_small_jpeg(clips: dict[str, Path]) -> None:
    data = base64.b64decode(thumbnail_b64(clips["av"], width=160))
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        assert im.size == (160, 90)


def test_sample_times_are_slice_centres() -> None:
    assert sample_times(6.0, 3) == [1.0, 3.0, 5.0]
    assert sample_times(0.0, 3) == [] and sample_times(5.0, 0) == []


def test_scan_video_measures_every_frame_and_keeps_samples(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "b.mp4", [Seg("moving", 1.0), Seg("black", 1.0)], audio=None)
    scan = scan_video(clip, want=[0.5, 1.5])
    assert len(scan.times) == 48
    assert scan.end_s == pytest.approx(2.0, abs=0.01)
    assert scan.dark_fraction[:24].max() < 0.5 and scan.dark_fraction[25:].min() > 0.98
    assert [round(t, 2) for t, _ in scan.samples] == [0.5, 1.5]
    assert scan.samples[0][1].size == (320, 180)


def test_scan_audio_is_48k_float(clips: dict[str, Path]) -> None:
    audio = scan_audio(clips["av"])
    assert audio is not None and audio.rate == 48000
    assert audio.samples.shape[0] == 2
    assert audio.duration_s == pytest.approx(3.0, abs=0.05)
