"""burnt_in_text: Pillow-rendered captions on a real photo, lavfi's own timecode, preview label areas."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.content_factory import photo_clip
from vidpipe.media.ffmpeg import ffmpeg_exe
from vidpipe.qc.content import text
from vidpipe.qc.content.regions import PREVIEW_COMMENT
from vidpipe.qc.report import run_qc

FREE = {"prompt": "An astronaut portrait, slow push-in."}
FORBID = {"prompt": "An astronaut portrait, slow push-in. Constraints: no subtitles, no on-screen text."}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("text")
    return {
        "caption": photo_clip(d / "caption.mp4", seconds=3.0, move="zoom_in", caption=("STEER NORTH OF THE LIGHT", 1.0, 2.0)),
        "late": photo_clip(d / "late.mp4", seconds=4.0, move="pan_left", caption=("Trawler ahead", 2.3, 3.3),
                           caption_at=0.5, size=(640, 360)),
        "clean_astronaut": photo_clip(d / "clean1.mp4", seconds=2.0, move="zoom_in"),
        "clean_coffee": photo_clip(d / "clean2.mp4", seconds=2.0, source="coffee", move="pan_right"),
        "clean_brick": photo_clip(d / "clean3.mp4", seconds=2.0, source="brick"),
        "preview_caption": photo_clip(d / "prev.mp4", seconds=2.0, caption=("a storyboard caption", 0.0, 2.0),
                                      caption_at=0.8, comment=PREVIEW_COMMENT),
        "other_caption": photo_clip(d / "other.mp4", seconds=2.0, caption=("a storyboard caption", 0.0, 2.0),
                                    caption_at=0.8),
    }


def _text(report):  # type: ignore[no-untyped-def]
    return [d for d in report.defects if d.code == "burnt_in_text"]


def test_caption_is_a_warning_with_its_time_and_box(clips: dict[str, Path], tmp_path: Path) -> None:
    report = run_qc(clips["caption"], request=FREE, out_dir=tmp_path / "r")
    (d,) = _text(report)
    assert d.severity == "warning" and d.start_s <= 1.2 and d.end_s >= 1.8 and d.end_s - d.start_s < 2.5
    assert d.value >= d.threshold == text.REC_MIN
    assert d.regions and all(0.6 < r.y + r.h / 2 < 0.95 and r.w > 0.3 for r in d.regions)
    assert report.failure_modes_observed == ["text artifacts"]


def test_caption_is_an_error_when_the_constraints_forbid_text(clips: dict[str, Path], tmp_path: Path) -> None:
    report = run_qc(clips["caption"], request=FORBID, out_dir=tmp_path / "r")
    (d,) = _text(report)
    assert d.severity == "error" and "forbids" in d.detail
    assert report.failure_modes_observed == ["unwanted subtitles"]


def test_a_one_second_caption_anywhere_is_seen(clips: dict[str, Path], tmp_path: Path) -> None:
    (d,) = _text(run_qc(clips["late"], request=FREE, out_dir=tmp_path / "r"))
    assert d.start_s < 3.3 and d.end_s > 2.3


@pytest.mark.parametrize("name", ["clean_astronaut", "clean_coffee", "clean_brick"])
def test_clean_footage_has_no_text(clips: dict[str, Path], tmp_path: Path, name: str) -> None:
    assert _text(run_qc(clips[name], request=FORBID, out_dir=tmp_path / "r")) == []


def test_lavfi_timecode_is_burnt_in_text(tmp_path: Path) -> None:
    clip = tmp_path / "ts.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24",
                    "-t", "2", "-pix_fmt", "yuv420p", str(clip)], check=True)
    (d,) = _text(run_qc(clip, request=FREE, out_dir=tmp_path / "r"))
    assert any(r.x < 0.2 and r.y < 0.2 for r in d.regions)  # the timecode sits top-left


def test_preview_label_areas_are_excluded(clips: dict[str, Path], tmp_path: Path) -> None:
    assert _text(run_qc(clips["preview_caption"], request=FORBID, out_dir=tmp_path / "p")) == []
    assert len(_text(run_qc(clips["other_caption"], request=FORBID, out_dir=tmp_path / "o"))) == 1


def test_models_come_from_the_wheel_and_nothing_is_downloaded(clips: dict[str, Path], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"):
        assert (text._models_dir() / name).stat().st_size > 1_000_000
    text._sessions.cache_clear()

    def no_network(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("the text detector tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert len(_text(run_qc(clips["caption"], request=FREE, out_dir=tmp_path / "r"))) == 1


def test_contact_sheet_marks_the_text_box(clips: dict[str, Path], tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    run_qc(clips["caption"], request=FREE, out_dir=tmp_path / "m", frames=3)
    run_qc(clips["clean_astronaut"], request=FREE, out_dir=tmp_path / "c", frames=3)

    def red(p: Path) -> int:
        a = np.asarray(Image.open(p).convert("RGB")).astype(int)
        return int(((a[..., 0] > 230) & (a[..., 1] < 90) & (a[..., 2] < 90)).sum())

    assert red(tmp_path / "m" / "contact_sheet.jpg") > 60 > red(tmp_path / "c" / "contact_sheet.jpg")


@pytest.mark.parametrize("size,font", [((1280, 720), 24), ((854, 480), 18)])
def test_small_subtitles_are_seen(tmp_path: Path, size: tuple[int, int], font: int) -> None:
    from PIL import ImageDraw, ImageFont

    def subtitle(frame, _i):  # type: ignore[no-untyped-def]
        ImageDraw.Draw(frame).text((frame.width * 0.3, frame.height * 0.85), "I told you to steer north",
                                   font=ImageFont.load_default(size=font), fill=(255, 255, 255),
                                   stroke_width=2, stroke_fill=(0, 0, 0))
        return frame

    clip = photo_clip(tmp_path / "sub.mp4", seconds=1.0, size=size, move="zoom_in", frame_hook=subtitle)
    assert len(_text(run_qc(clip, request=FORBID, out_dir=tmp_path / "r"))) == 1
