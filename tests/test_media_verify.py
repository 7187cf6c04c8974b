"""Outputs count only once they are whole (issue 12 item 3): a full decode catches what a probe
misses, write_verified never leaves a partial file in place, and a record is trusted only while
the file's bytes still match."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vidpipe.errors import FfmpegFailed, MediaError
from vidpipe.media.audio_mix import mix_voiceover
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.probe import probe
from vidpipe.media.verify import (file_record, remove_stale_parts, still_verified, temp_name, verify_media,
                                  write_verified)


def encode(out: Path, seconds: float = 2.0) -> Path:
    run_ffmpeg(["-y", "-f", "lavfi", "-i", f"testsrc2=s=320x180:r=24:d={seconds}", "-f", "lavfi", "-i",
                f"sine=d={seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                "-movflags", "+faststart", "-f", "mp4", str(out)], what="test clip")
    return out


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode(tmp_path_factory.mktemp("v") / "good.mp4")


def test_a_truncated_faststart_mp4_probes_but_fails_verification(good: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])  # what an interrupted or racing encode leaves
    assert probe(cut).has_video  # the index is up front: opening alone says "fine"
    with pytest.raises(MediaError, match=r"cut.mp4: does not decode cleanly: .*(Invalid NAL unit size|partial file)"):
        verify_media(cut)
    rec = verify_media(good, playable=True)
    assert rec.video == "h264 yuv420p Constrained Baseline" and abs(rec.duration_s - 2.0) < 0.05 and rec.size_bytes == len(data)


def test_kinds_need_their_stream(good: Path, tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=d=0.5", str(wav)], what="wav")
    assert verify_media(wav, "audio").video is None
    with pytest.raises(MediaError, match="a.wav: has no picture"):
        verify_media(wav, "video")
    png = tmp_path / "s.png"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "1", str(png)], what="png")
    assert verify_media(png, "image").video.startswith("png")  # type: ignore[union-attr]
    with pytest.raises(MediaError, match="s.png: has no audio"):
        verify_media(png, "audio")


def test_write_verified_keeps_the_previous_file_on_any_failure(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "final.mp4"
    first = write_verified(out, lambda tmp: encode(tmp, 1.0), "video", playable=True)
    assert first.path == out and still_verified(out, first.record())
    before = out.read_bytes()

    def truncated(tmp: Path) -> None:
        tmp.write_bytes(good.read_bytes()[:30000])

    def ffmpeg_fails(tmp: Path) -> None:
        run_ffmpeg(["-y", "-i", str(tmp_path / "missing.mp4"), str(tmp)], what="doomed")

    def interrupted(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt

    for produce, err in [(truncated, MediaError), (ffmpeg_fails, FfmpegFailed), (interrupted, KeyboardInterrupt)]:
        with pytest.raises(err):
            write_verified(out, produce, "video")
        assert out.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["final.mp4"]  # no part left behind


def test_still_verified_trusts_only_the_same_bytes(good: Path, tmp_path: Path) -> None:
    f = tmp_path / "x.mp4"
    f.write_bytes(good.read_bytes())
    rec = verify_media(f).record()
    assert still_verified(f, rec) and still_verified(f, file_record(f))
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte different
    f.write_bytes(bytes(data))
    assert not still_verified(f, rec)
    assert not still_verified(f, None) and not still_verified(tmp_path / "gone.mp4", rec)


def test_temp_names_are_unique_and_only_dead_owners_parts_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "final.mp4"
    a, b = temp_name(out), temp_name(out)
    assert a != b and a.suffix == ".mp4" and a.name.startswith(".final.part-") and str(os.getpid()) in a.name
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = a.name.split("-")[1]
    stale = tmp_path / f".final.part-{host}-{int(dead.stdout)}-abcdef.mp4"
    other_host = tmp_path / f".final.part-elsewhere-{int(dead.stdout)}-abcdef.mp4"
    for p in (a, stale, other_host):
        p.write_bytes(b"x")
    assert remove_stale_parts(out) == [stale]  # ours is alive; another machine's is not ours to judge
    assert a.exists() and other_host.exists()


def test_voiceover_mix_is_verified_and_exactly_as_long_as_the_cut(tmp_path: Path) -> None:
    l1, l2 = tmp_path / "l1.mp3", tmp_path / "l2.wav"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=f=500:d=0.8", str(l1)], what="line 1")
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=f=700:r=22050:d=0.5", str(l2)], what="line 2")
    rec = mix_voiceover([(l1, 0.4), (l2, 2.0)], 3.5, tmp_path / "voiceover" / "voiceover.wav")
    assert rec.kind == "audio" and rec.path.name == "voiceover.wav"
    assert abs(probe(rec.path).duration_s - 3.5) < 0.01
    assert sorted(p.name for p in rec.path.parent.iterdir()) == ["voiceover.wav"]
