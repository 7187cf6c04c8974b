"""flicker / blurry / blocky: clean and degraded versions of the same real footage; clean false positives."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.content_factory import photo_clip
from vidpipe.media.ffmpeg import ffmpeg_exe
from vidpipe.qc.content import CONTENT_CODES
from vidpipe.qc.report import run_qc

REQ = {"prompt": "A cup of coffee on a table. Camera: slow pan right."}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("quality")
    base = dict(move="pan_right", seconds=2.0)
    out = {
        "clean": photo_clip(d / "clean.mp4", **base),
        "clean_coffee": photo_clip(d / "clean2.mp4", source="coffee", size=(480, 270), **base),
        "clean_chelsea": photo_clip(d / "clean3.mp4", source="chelsea", **base),
        "flicker": photo_clip(d / "flicker.mp4", flicker=4.0, **base),
        "blurry": photo_clip(d / "blurry.mp4", blur=2.0, **base),
    }
    # heavy re-encoding of the clean clip: MPEG-2 at the coarsest quantiser
    out["blocky"] = d / "blocky.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(out["clean"]), "-c:v", "mpeg2video", "-q:v", "31",
                    str(out["blocky"])], check=True)
    return out


def _content(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.code for d in report.defects if d.code in CONTENT_CODES]


@pytest.mark.parametrize("name", ["clean", "clean_coffee", "clean_chelsea"])
def test_clean_footage_has_no_content_defect(clips: dict[str, Path], tmp_path: Path, name: str) -> None:
    assert _content(run_qc(clips[name], request=REQ, out_dir=tmp_path / "r")) == []


@pytest.mark.parametrize("name,code,mode", [("flicker", "flicker", "style drift"), ("blurry", "blurry", "style drift"),
                                            ("blocky", "blocky", "style drift")])
def test_degraded_copy_is_found(clips: dict[str, Path], tmp_path: Path, name: str, code: str, mode: str) -> None:
    report = run_qc(clips[name], request=REQ, out_dir=tmp_path / "r")
    assert _content(report) == [code]
    (d,) = [d for d in report.defects if d.code == code]
    assert d.severity == "warning" and d.value > d.threshold and mode in report.failure_modes_observed


def test_a_cut_or_a_fade_is_not_flicker(tmp_path: Path) -> None:
    from tests.media_factory import Seg, make_clip

    clip = make_clip(tmp_path / "cuts.mp4", [Seg("moving", 1.0, shot=0), Seg("moving", 1.0, shot=1),
                                             Seg("black", 0.5), Seg("moving", 1.0, shot=2)])
    assert "flicker" not in [d.code for d in run_qc(clip, out_dir=tmp_path / "r").defects]
