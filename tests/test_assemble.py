"""The editor on real ffmpeg renders: exact cuts, crossfade math, boxing, mixing, loudness, subtitles, errors.

Exactness clips carry their identity in every frame: 16 black/white blocks encode
(clip_id << 8 | frame_index), drawn by lavfi's geq. Decoding the cut and reading the blocks back
shows precisely which source frame landed where — no dropped, repeated or shifted frame can hide.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from tests.media_factory import Seg, Tone, make_clip
from vidpipe.cli import main
from vidpipe.errors import SpecError
from vidpipe.media.assemble import assemble
from vidpipe.media.audio_mix import Loudness, parse_ebur128
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.probe import probe
from vidpipe.media.subtitles import write_srt
from vidpipe.edit_schema import AudioTrack, EditClip, EditList, SubtitleCue, Subtitles

FPS = 24


def coded_clip(path: Path, clip_id: int, *, seconds: float = 2.0, width: int = 320, height: int = 180,
               audio: bool = False) -> Path:
    """A clip whose frame n shows the bits of (clip_id << 8 | n) as an 8×2 grid of black/white blocks."""
    bw, bh = width // 8, height // 2
    lum = f"255*mod(floor(({clip_id}*256+N)/pow(2,floor(X/{bw})+8*floor(Y/{bh}))),2)"
    args = ["-y", "-f", "lavfi", "-i", f"color=c=black:s={width}x{height}:r={FPS}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:r=48000:d={seconds}"]
    args += ["-vf", f"format=gray,geq=lum='{lum}',format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
             "-crf", "10"]
    args += ["-c:a", "aac", "-ac", "2"] if audio else []
    run_ffmpeg([*args, str(path)], what="coded test clip")
    return path


def read_codes(path: Path) -> list[tuple[int, int]]:
    """(clip_id, frame_index) of every frame, read from the block centres of the picture area."""
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            g = f.to_ndarray(format="gray").astype(np.float32)
            h, w = g.shape
            v = 0
            for bit in range(16):
                col, row = bit % 8, bit // 8
                y, x = int((row + 0.5) * h / 2), int((col + 0.5) * w / 8)
                if g[y - 2:y + 3, x - 2:x + 3].mean() > 128:
                    v |= 1 << bit
            out.append((v >> 8, v & 255))
    return out


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in c.decode(video=0)]


def samples(path: Path) -> np.ndarray:
    """Mono float samples at 48 kHz."""
    with av.open(str(path)) as c:
        chunks = [f.to_ndarray() for f in c.decode(audio=0)]
    data = np.concatenate(chunks, axis=1) if chunks else np.zeros((1, 0))
    return data.mean(axis=0)


def tone_db(x: np.ndarray, t0: float, t1: float, hz: float, rate: int = 48000) -> float:
    """Level (dB) of one frequency in a window — separates the music from the voice in a mix."""
    seg = x[int(t0 * rate):int(t1 * rate)]
    n = np.arange(len(seg))
    amp = 2 * abs(np.dot(seg, np.exp(-2j * np.pi * hz * n / rate))) / max(1, len(seg))
    return float(20 * np.log10(amp + 1e-12))


def ebur128(path: Path) -> Loudness:
    return parse_ebur128(run_ffmpeg(["-loglevel", "info", "-i", str(path), "-af", "ebur128=peak=true:framelog=quiet",
                                     "-f", "null", "-"], what="ebur128"))


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("coded")
    return {"a": coded_clip(d / "a.mp4", 1), "b": coded_clip(d / "b.mp4", 2, audio=True), "c": coded_clip(d / "c.mp4", 3)}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "a": make_clip(d / "a.mp4", [Seg("moving", 2.0, shot=0)]),
        "b": make_clip(d / "b.mp4", [Seg("moving", 2.0, shot=1)]),
        "silent": make_clip(d / "silent.mp4", [Seg("moving", 2.0, shot=2)], audio=None),
        "tall": make_clip(d / "tall.mp4", [Seg("moving", 2.0, shot=3)], width=180, height=320),
    }


def test_cuts_are_exact_no_frame_dropped_repeated_or_shifted(tmp_path: Path, coded: dict[str, Path]) -> None:
    edit = EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clips=[
        EditClip(path=str(coded["a"]), trim_start=0.5, trim_end=1.5),
        EditClip(path=str(coded["b"]), trim_start=0.25, trim_end=1.0),
        EditClip(path=str(coded["c"]))])
    res = assemble(edit)
    expected = [(1, n) for n in range(12, 36)] + [(2, n) for n in range(6, 24)] + [(3, n) for n in range(48)]
    assert read_codes(res.path) == expected
    assert res.duration_s == pytest.approx(1.0 + 0.75 + 2.0)
    assert (res.width, res.height) == (852, 480) and probe(res.path).height == 480


def test_crossfade_overlaps_by_its_duration(tmp_path: Path, coded: dict[str, Path]) -> None:
    edit = EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clips=[
        EditClip(path=str(coded["a"])), EditClip(path=str(coded["b"]), transition="crossfade", transition_dur=0.5),
        EditClip(path=str(coded["c"]), trim_end=1.0)])
    res = assemble(edit)
    got = read_codes(res.path)
    # 48 + 48 − 12 + 24 frames; A alone until the overlap, then B from its 13th frame, then a cut to C.
    assert len(got) == 108 and res.duration_s == pytest.approx(4.5)
    assert got[:36] == [(1, n) for n in range(36)]
    assert got[48:84] == [(2, n) for n in range(12, 48)]
    assert got[84:] == [(3, n) for n in range(24)]
    assert abs(probe(res.path).duration_s - 4.5) <= 1 / FPS


def test_crossfade_length_math_with_a_clip_without_audio(tmp_path: Path, clips: dict[str, Path]) -> None:
    res = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clips=[
        EditClip(path=str(clips["a"])), EditClip(path=str(clips["silent"])),
        EditClip(path=str(clips["b"]), transition="crossfade", transition_dur=0.75)]))
    p = probe(res.path)
    assert p.has_audio and abs(p.duration_s - 5.25) <= 1 / FPS and res.duration_s == pytest.approx(5.25)
    x = samples(res.path)
    assert tone_db(x, 0.2, 1.8, 440) > -40 > tone_db(x, 2.2, 3.0, 440)  # A's tone, then the silent clip's silence
    assert abs(len(x) / 48000 - 5.25) <= 0.05


def test_mixed_aspect_is_pillarboxed_not_stretched(tmp_path: Path, clips: dict[str, Path]) -> None:
    tall = tmp_path / "tall.mp4"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=white:s=180x320:r=24:d=1", "-c:v", "libx264", "-preset",
                "ultrafast", "-pix_fmt", "yuv420p", str(tall)], what="white portrait clip")
    res = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clips=[
        EditClip(path=str(clips["a"])), EditClip(path=str(tall))]))
    last = frames(res.path)[-1].mean(axis=2)
    h, w = last.shape
    assert (w, h) == (852, 480)
    cols, rows = np.flatnonzero(last.mean(axis=0) > 128), np.flatnonzero(last.max(axis=1) > 128)
    # The 9:16 picture is boxed at full height, 270 wide, centred; everything else is black bars.
    assert len(rows) == 480 and abs(len(cols) - 270) <= 2 and abs(cols.mean() - (w - 1) / 2) <= 1
    assert last[:, : cols.min() - 1].max() < 20 and last[:, cols.max() + 2:].max() < 20


@pytest.mark.parametrize("voice_db", [-8, 12], ids=["quiet-voice", "loud-voice"])
def test_voiceover_where_placed_music_ducked_and_loudness_normalised(tmp_path: Path, clips: dict[str, Path],
                                                                      voice_db: int) -> None:
    music = make_clip(tmp_path / "m.mp4", [Seg("moving", 4.0)], audio=[Tone(4.0, -12)])
    voice = tmp_path / "v.wav"  # lavfi's sine is at -18 dBFS: voices at -26 and -6 dBFS peak
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=f=880:r=48000:d=1.5", "-af", f"volume={voice_db}dB", str(voice)],
               what="voice")
    res = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clip_audio_gain_db=-90, clips=[
        EditClip(path=str(clips["silent"])), EditClip(path=str(clips["silent"]))], tracks=[
        AudioTrack(path=str(voice), kind="voiceover", start=2.0),
        AudioTrack(path=str(music), kind="music", gain_db=-6, duck=True)]))
    x = samples(res.path)
    assert tone_db(x, 0.3, 1.8, 880) < -50 < tone_db(x, 2.3, 3.4, 880)  # the voice starts where it was placed
    music_alone, music_under_voice = tone_db(x, 0.5, 1.8, 440), tone_db(x, 2.5, 3.4, 440)
    assert 8 <= music_alone - music_under_voice <= 20  # ducked under speech, whatever the voice's level
    loud = ebur128(res.path)
    assert abs(loud.integrated_lufs - (-14.0)) <= 1.0 and loud.true_peak_db <= -0.5
    assert res.measured is not None and res.loudness_chain.startswith("volume=")


def test_peaky_mix_is_limited_to_the_true_peak_ceiling(tmp_path: Path, clips: dict[str, Path]) -> None:
    clicks = tmp_path / "clicks.wav"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "aevalsrc='0.03*sin(2*PI*300*t)+0.9*exp(-60*mod(t,0.5))*sin(2*PI*2500*t)'"
                ":s=48000:c=stereo:d=4", str(clicks)], what="clicks")
    res = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", loudness_lufs=-14,
                            clips=[EditClip(path=str(clips["silent"])), EditClip(path=str(clips["silent"]))],
                            tracks=[AudioTrack(path=str(clicks), kind="effects")]))
    assert "alimiter" in res.loudness_chain
    loud = ebur128(res.path)
    assert abs(loud.integrated_lufs - (-14.0)) <= 1.0 and loud.true_peak_db <= -0.5


def test_replacing_audio_and_silence_stays_silence(tmp_path: Path, clips: dict[str, Path]) -> None:
    res = assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p",
                            clips=[EditClip(path=str(clips["silent"]))]))
    assert res.loudness_chain == "anull" and np.abs(samples(res.path)).max() < 1e-3
    bed = tmp_path / "bed.wav"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=f=660:r=44100:d=1", str(bed)], what="bed")
    res = assemble(EditList(output=str(tmp_path / "r.mp4"), resolution="480p", audio=str(bed),
                            clips=[EditClip(path=str(clips["a"]))]))
    x = samples(res.path)
    assert tone_db(x, 0.1, 0.9, 660) > tone_db(x, 0.1, 0.9, 440) + 30  # the clip's own 440 Hz is replaced
    assert abs(len(x) / 48000 - 2.0) <= 0.05  # the short bed is padded to the cut's length


def test_subtitles_srt_timing_and_burn_in(tmp_path: Path, clips: dict[str, Path]) -> None:
    srt = write_srt([SubtitleCue(start=62.0, end=63.5, text="By morning."),
                     SubtitleCue(start=0.4, end=2.25, text="Every night.")], tmp_path / "x.srt")
    assert srt.read_text() == ("1\n00:00:00,400 --> 00:00:02,250\nEvery night.\n\n"
                               "2\n00:01:02,000 --> 00:01:03,500\nBy morning.\n\n")
    cues = [SubtitleCue(start=0.2, end=1.8, text="BURNED IN")]
    plain = assemble(EditList(output=str(tmp_path / "plain.mp4"), resolution="480p",
                              clips=[EditClip(path=str(clips["a"]))], subtitles=Subtitles(cues=cues)))
    assert plain.subtitles_path == tmp_path / "plain.srt" and "00:00:00,200 --> 00:00:01,800" in plain.subtitles_path.read_text()
    burnt = assemble(EditList(output=str(tmp_path / "burnt.mp4"), resolution="480p",
                              clips=[EditClip(path=str(clips["a"]))],
                              subtitles=Subtitles(srt="subs/b.srt", cues=cues, burn=True)), base_dir=tmp_path)
    assert burnt.subtitles_path == tmp_path / "subs" / "b.srt"
    a, b = frames(plain.path)[24], frames(burnt.path)[24]
    h = a.shape[0]
    assert np.abs(a[int(h * 0.8):] - b[int(h * 0.8):]).mean() > 3 * np.abs(a[: h // 2] - b[: h // 2]).mean() + 1


def test_burn_in_falls_back_to_the_bundled_font(tmp_path: Path, clips: dict[str, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import vidpipe.media.subtitles as subs

    empty = tmp_path / "fonts.conf"
    empty.write_text('<?xml version="1.0"?><fontconfig></fontconfig>')
    monkeypatch.setenv("FONTCONFIG_FILE", str(empty))  # a machine with no fonts at all
    subs.system_font_available.cache_clear()
    try:
        assert not subs.system_font_available()
        edit = dict(resolution="480p", clips=[EditClip(path=str(clips["a"]))])
        plain = assemble(EditList(output=str(tmp_path / "p.mp4"), **edit))
        burnt = assemble(EditList(output=str(tmp_path / "b.mp4"), **edit, subtitles=Subtitles(
            cues=[SubtitleCue(start=0.0, end=2.0, text="FALLBACK FONT")], burn=True)))
    finally:
        subs.system_font_available.cache_clear()
    a, b = frames(plain.path)[24], frames(burnt.path)[24]
    assert np.abs(a[int(a.shape[0] * 0.8):] - b[int(a.shape[0] * 0.8):]).mean() > 1


def test_progress_is_reported_up_to_one(tmp_path: Path, clips: dict[str, Path]) -> None:
    seen: list[float] = []
    assemble(EditList(output=str(tmp_path / "o.mp4"), resolution="480p", clips=[EditClip(path=str(clips["a"]))]),
             progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


BAD = [
    ({"path": "missing.mp4"}, r"clip 2 \(missing.mp4\): file not found"),
    ({"trim_end": 9.0}, r"clip 2 \(.*b.mp4\): trim_end 9.0 s is past the end"),
    ({"trim_start": 1.5, "trim_end": 1.0}, r"clip 2 \(.*b.mp4\): trim_start 1.5 s must be before trim_end"),
    ({"trim_start": 2.5}, r"clip 2 \(.*b.mp4\): trim_start 2.5 s leaves nothing"),
    ({"trim_start": -0.5}, r"clip 2 \(.*b.mp4\): trim times cannot be negative"),
    ({"transition": "wipe"}, r"clip 2 \(.*b.mp4\): unknown transition 'wipe'"),
    ({"transition": "crossfade", "transition_dur": 3.0}, r"clip 2 \(.*b.mp4\): crossfade of 3.0 s is longer"),
    ({"transition": "crossfade", "trim_end": 0.4, "transition_dur": 0.5}, r"clip 2 \(.*b.mp4\): crossfade of 0.5 s"),
    ({"transition": "crossfade", "transition_dur": 0}, r"clip 2 \(.*b.mp4\): a crossfade needs transition_dur > 0"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[
    "missing", "trim-past-end", "trim-inverted", "trim-start-past-end", "negative", "unknown-transition",
    "crossfade-too-long", "crossfade-longer-than-trimmed-clip", "crossfade-zero"])
def test_bad_edit_lists_fail_before_encoding(tmp_path: Path, clips: dict[str, Path], change: dict[str, object],
                                             message: str) -> None:
    second = {"path": str(clips["b"]), **change}
    edit = EditList.model_validate({"output": "o.mp4", "clips": [{"path": str(clips["a"])}, second],
                                    "subtitles": {"cues": [{"start": 0, "end": 1, "text": "x"}]}})
    with pytest.raises(SpecError, match=message):
        assemble(edit, base_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # no output, no partial file, no SRT


def test_structural_edit_errors(tmp_path: Path, clips: dict[str, Path]) -> None:
    with pytest.raises(SpecError, match="no clips"):
        assemble(EditList(output=str(tmp_path / "o.mp4"), clips=[]))
    with pytest.raises(SpecError, match=r"clip 1 \(.*a.mp4\): the first clip cannot crossfade"):
        assemble(EditList(output=str(tmp_path / "o.mp4"), clips=[
            EditClip(path=str(clips["a"]), transition="crossfade"), EditClip(path=str(clips["b"]))]))
    with pytest.raises(SpecError, match=r"clip 2 \(.*b.mp4\): its crossfades .* overlap"):
        assemble(EditList(output=str(tmp_path / "o.mp4"), clips=[
            EditClip(path=str(clips["a"])), EditClip(path=str(clips["b"]), transition="crossfade", transition_dur=1.2),
            EditClip(path=str(clips["a"]), transition="crossfade", transition_dur=1.2)]))
    with pytest.raises(SpecError, match=r"track 1 \(nope.wav\): file not found"):
        assemble(EditList(output=str(tmp_path / "o.mp4"), clips=[EditClip(path=str(clips["a"]))],
                          tracks=[AudioTrack(path="nope.wav")]), base_dir=tmp_path)
    assert not (tmp_path / "o.mp4").exists()


def test_cli_accepts_the_skills_edit_list_with_relative_paths(tmp_path: Path, clips: dict[str, Path],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    (tmp_path / "shots").mkdir()
    shutil.copy(clips["a"], tmp_path / "shots" / "a.mp4")
    shutil.copy(clips["b"], tmp_path / "shots" / "b.mp4")
    edit = {"output": "out/cut.mp4", "resolution": "480p", "fps": 24, "clips": [
        {"path": "shots/a.mp4", "trim_start": 0.5, "trim_end": 2.0, "transition": "cut", "transition_dur": 0},
        {"path": "shots/b.mp4", "trim_start": 0, "trim_end": 1.5, "transition": "crossfade", "transition_dur": 0.5}]}
    f = tmp_path / "edit.json"
    f.write_text(json.dumps(edit))
    assert main(["assemble", str(f), "--quiet"]) == 0
    assert abs(probe(tmp_path / "out" / "cut.mp4").duration_s - 2.5) <= 1 / FPS
    edit["clips"][1]["path"] = "shots/zzz.mp4"  # type: ignore[index]
    f.write_text(json.dumps(edit))
    assert main(["assemble", str(f)]) == 2
    assert "clip 2 (shots/zzz.mp4): file not found" in capsys.readouterr().err
    f.write_text("{not json")
    assert main(["assemble", str(f)]) == 2
    f.write_text(json.dumps({"output": "x.mp4", "clips": [{"path": "a.mp4", "trim_start": "soon"}]}))
    assert main(["assemble", str(f)]) == 2
    assert "clips.0.trim_start" in capsys.readouterr().err
