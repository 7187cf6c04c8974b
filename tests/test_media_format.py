"""Every MP4 vidpipe writes plays everywhere (issue 13 item 9): H.264 yuv420p, High or Main profile,
index up front (+faststart) — the final cut (crossfades and burnt subtitles included, both of which
ffmpeg would otherwise negotiate up to yuv444p), the delivery, and a preview clip."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.media_factory import Seg, make_clip
from vidpipe.storyboard.animatic import animatic
from vidpipe.media.assemble import assemble
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.upscale import upscale
from vidpipe.media.verify import mp4_top_boxes, playable_problems
from vidpipe.edit_schema import EditClip, EditList, SubtitleCue, Subtitles


def video_format(path: Path) -> tuple[str, str, str]:
    with av.open(str(path)) as c:
        cc = c.streams.video[0].codec_context
        return cc.name, cc.pix_fmt, cc.profile


def assert_plays_everywhere(path: Path) -> None:
    codec, pix, profile = video_format(path)
    assert (codec, pix) == ("h264", "yuv420p") and profile in ("High", "Main"), (path.name, codec, pix, profile)
    boxes = mp4_top_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # +faststart
    assert playable_problems(path) == []


@pytest.fixture(scope="module")
def cut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fmt")
    a = make_clip(d / "a.mp4", [Seg("moving", 1.0)], seconds=1.0)
    b = make_clip(d / "b.mp4", [Seg("moving", 1.0, shot=1)], seconds=1.0)
    res = assemble(EditList(output=str(d / "final.mp4"), resolution="480p", clips=[
        EditClip(path=str(a)), EditClip(path=str(b), transition="crossfade", transition_dur=0.5)],
        subtitles=Subtitles(cues=[SubtitleCue(start=0.1, end=1.2, text="Plays everywhere")], burn=True)))
    assert res.verified.video == "h264 yuv420p High" and res.verified.path == res.path
    return res.path


def test_final_cut_with_crossfade_and_burnt_subtitles_plays_everywhere(cut: Path) -> None:
    assert_plays_everywhere(cut)


def test_delivery_plays_everywhere(cut: Path, tmp_path: Path) -> None:
    assert_plays_everywhere(upscale(cut, tmp_path / "delivery.mp4", resolution="720p"))
    assert_plays_everywhere(upscale(cut, tmp_path / "delivery48.mp4", scale=1, fps=48))


def test_a_yuv444_or_late_index_file_is_named_as_unplayable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=24:d=0.5", "-c:v", "libx264", "-preset", "ultrafast",
                "-pix_fmt", "yuv444p", str(bad)], what="444 clip")
    problems = playable_problems(bad)
    assert any("yuv444p" in p for p in problems) and any("High 4:4:4" in p for p in problems)
    assert any("faststart" in p for p in problems)  # no +faststart: moov written after mdat


def test_preview_clip_plays_everywhere(tmp_path: Path) -> None:
    out = animatic({"prompt": "a lighthouse, slow push-in", "duration": 1, "resolution": "480p",
                       "aspect_ratio": "16:9"}, tmp_path / "preview.mp4")
    assert_plays_everywhere(out)
