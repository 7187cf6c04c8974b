"""The editor and finishing on real clips: exact cuts, crossfade math, boxing, mixing, errors, upscale."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from tests.media_factory import Seg, Tone, make_clip
from vidpipe.cli import main
from vidpipe.errors import SpecError
from vidpipe.media.assemble import assemble, write_srt
from vidpipe.media.probe import probe
from vidpipe.media.upscale import upscale
from vidpipe.schema import AudioTrack, EditClip, EditList, SubtitleCue, Subtitles


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in c.decode(video=0)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("clips")
    return {
        "a": make_clip(d / "a.mp4", [Seg("moving", 2.0, shot=0)]),
        "b": make_clip(d / "b.mp4", [Seg("moving", 2.0, shot=1)]),
        "c": make_clip(d / "c.mp4", [Seg("moving", 2.0, shot=2)], audio=None),
        "tall": make_clip(d / "tall.mp4", [Seg("moving", 2.0, shot=3)], width=180, height=320),
    }


def test_cut_drops_repeats_and_shifts_no_frame(tmp_path: Path, clips: dict[str, Path]) -> None:
    out = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clips=[
        EditClip(path=str(clips["a"])), EditClip(path=str(clips["b"]))]))
    got, a, b = frames(out.path), frames(clips["a"]), frames(clips["b"])
    assert len(got) == len(a) + len(b) == 96
    small = lambda x: np.asarray(x)[::8, ::8].mean(axis=2)  # noqa: E731 - compare at a common scale
    from PIL import Image

    def at(fr: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(fr.astype(np.uint8)).resize((64, 36))).astype(np.float32)

    assert np.abs(at(got[47]) - at(a[47])).mean() < 6 and np.abs(at(got[48]) - at(b[0])).mean() < 6
    assert np.abs(at(got[48]) - at(a[47])).mean() > 15  # the boundary is exactly between 47 and 48
    del small


def test_crossfade_length_and_silence_for_clips_without_audio(tmp_path: Path, clips: dict[str, Path]) -> None:
    out = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clips=[
        EditClip(path=str(clips["a"])), EditClip(path=str(clips["c"])),
        EditClip(path=str(clips["b"]), transition="crossfade", transition_dur=0.5)]))
    p = probe(out.path)
    assert abs(p.duration_s - 5.5) <= 1 / 24 and p.has_audio and out.duration_s == pytest.approx(5.5)


def test_mixed_aspect_is_pillarboxed_not_stretched(tmp_path: Path, clips: dict[str, Path]) -> None:
    out = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clips=[
        EditClip(path=str(clips["a"])), EditClip(path=str(clips["tall"]))]))
    last = frames(out.path)[-1]
    h, w, _ = last.shape
    assert last[:, : w // 5].mean() < 20 and last[:, -w // 5:].mean() < 20  # black bars left and right
    assert last[:, w // 2 - 20: w // 2 + 20].mean() > 40  # picture in the middle


def test_voiceover_ducks_music_and_loudness_is_normalised(tmp_path: Path, clips: dict[str, Path]) -> None:
    from vidpipe.media.frames import scan_audio
    from vidpipe.qc.loudness import loudness

    music = make_clip(tmp_path / "m.mp4", [Seg("moving", 4.0)], audio=[Tone(4.0, -12)])
    voice = make_clip(tmp_path / "v.mp4", [Seg("moving", 2.0)], audio=[Tone(2.0, -10)])
    out = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clip_audio_gain_db=-60, clips=[
        EditClip(path=str(clips["a"])), EditClip(path=str(clips["b"]))], tracks=[
        AudioTrack(path=str(voice), kind="voiceover", start=2.0),
        AudioTrack(path=str(music), kind="music", gain_db=-6, duck=True)]))
    scan = scan_audio(out.path)
    assert scan is not None
    lufs, peak = loudness(scan.samples)
    assert abs(lufs - (-14.0)) <= 1.5 and peak <= -0.5


def test_subtitles_srt_from_cues(tmp_path: Path) -> None:
    srt = write_srt([SubtitleCue(start=0.4, end=2.25, text="Every night."), SubtitleCue(start=62.0, end=63.5,
                                                                                         text="By morning.")],
                    tmp_path / "x.srt")
    assert srt.read_text() == ("1\n00:00:00,400 --> 00:00:02,250\nEvery night.\n\n"
                               "2\n00:01:02,000 --> 00:01:03,500\nBy morning.\n\n")


@pytest.mark.parametrize(("change", "message"), [
    ({"path": "missing.mp4"}, "clip 2 (missing.mp4): file not found"),
    ({"trim_end": 9.0}, "outside the clip"),
    ({"trim_start": 1.5, "trim_end": 1.0}, "outside the clip"),
    ({"transition": "wipe"}, "unknown transition 'wipe'"),
    ({"transition": "crossfade", "transition_dur": 3.0}, "crossfade of 3.0 s does not fit"),
], ids=["missing", "trim-past-end", "trim-inverted", "unknown-transition", "crossfade-too-long"])
def test_bad_edit_lists_fail_before_encoding(tmp_path: Path, clips: dict[str, Path], change: dict, message: str) -> None:
    second = {"path": str(clips["b"]), **change}
    if change.get("path") == "missing.mp4":
        second["path"] = "missing.mp4"
    edit = EditList.model_validate({"output": str(tmp_path / "o.mp4"), "clips": [{"path": str(clips["a"])}, second]})
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        assemble(edit, base_dir=tmp_path)
    assert not (tmp_path / "o.mp4").exists()


def test_cli_assemble_accepts_the_skills_edit_list(tmp_path: Path, clips: dict[str, Path]) -> None:
    edit = {"output": "cut.mp4", "resolution": "480p", "fps": 24, "clips": [
        {"path": str(clips["a"]), "trim_start": 0.5, "trim_end": 2.0, "transition": "cut", "transition_dur": 0},
        {"path": str(clips["b"]), "trim_start": 0, "trim_end": 1.5, "transition": "crossfade", "transition_dur": 0.5}]}
    f = tmp_path / "edit.json"
    f.write_text(json.dumps(edit))
    assert main(["assemble", str(f)]) == 0
    assert abs(probe(tmp_path / "cut.mp4").duration_s - 2.5) <= 1 / 24
    f.write_text("{not json")
    assert main(["assemble", str(f)]) == 2


def test_upscale_keeps_aspect_and_interpolates(tmp_path: Path, clips: dict[str, Path]) -> None:
    out = upscale(clips["tall"], tmp_path / "u.mp4", resolution="720p")
    p = probe(out)
    assert (p.width, p.height) == (720, 1280)
    out = upscale(clips["a"], tmp_path / "u2.mp4", scale=2, fps=48)
    p = probe(out)
    assert (p.width, p.height) == (640, 360) and p.fps == 48 and abs(p.duration_s - 2.0) <= 0.05


def test_subtitles_can_be_burnt_in(tmp_path: Path, clips: dict[str, Path]) -> None:
    cues = [SubtitleCue(start=0.2, end=1.8, text="BURNED IN")]
    plain = assemble(EditList(output=str(tmp_path / "plain.mp4"), resolution="480p", clips=[EditClip(path=str(clips["a"]))]))
    burnt = assemble(EditList(output=str(tmp_path / "burnt.mp4"), resolution="480p", clips=[EditClip(path=str(clips["a"]))],
                              subtitles=Subtitles(srt=str(tmp_path / "s.srt"), cues=cues, burn=True)))
    a, b = frames(plain.path)[24], frames(burnt.path)[24]
    h = a.shape[0]
    assert np.abs(a[int(h * 0.75):] - b[int(h * 0.75):]).mean() > np.abs(a[: h // 4] - b[: h // 4]).mean() + 1
    assert burnt.subtitles_path and burnt.subtitles_path.read_text().startswith("1\n00:00:00,200")
