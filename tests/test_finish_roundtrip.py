"""NLE export and round trip on real media: each format read back by the OTIO adapters equals the edit list
frame-exactly, and an edited timeline (trim, reorder, swapped take, changed transition) re-cuts to exactly
the frames it says (every frame of the coded clips carries its clip id and source frame index)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.test_assemble import coded_clip, read_codes
from vidpipe.cli import main
from vidpipe.episode import load_episode
from vidpipe.errors import SpecError
from vidpipe.finish.formats import FORMATS, export_timeline, read_timeline
from vidpipe.finish.frames import edit_frames, record_length
from vidpipe.finish.media_index import episode_media
from vidpipe.finish.roundtrip import import_timeline, known_clips, v1_frames
from vidpipe.finish.timeline import build_timeline
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import file_hash
from vidpipe.pipeline.episode_stages import build_edit_list, imported_edit_path, make_final_cut
from vidpipe.pipeline.record import GenerationRecord, ShotRef, TakeRecord
from vidpipe.schema import Defect, Probe, QCReport

FPS = 24
CLIP_S = 2.0  # 48 frames per coded clip
IDS = {("s001", 1): 1, ("s001", 2): 2, ("s002", 1): 3, ("s003", 1): 4}


def _gen(path: Path, shot: str, take: int) -> GenerationRecord:
    return GenerationRecord(path=str(path), model="seedance-2-test", backend="preview", request_id=f"req-{shot}-{take}",
                            hash=file_hash(path), take=take)


@pytest.fixture
def coded(project: Paths) -> Paths:
    """The mini episode with coded clips as its shots' media (s001 has two takes) and a QC finding on s002."""
    episode = load_episode(project.episode_dir("mini"))
    for s in episode.shots:
        ref = ShotRef(project, episode, s)
        if s.id == "s001":
            takes = []
            for k in (1, 2):
                clip = coded_clip(ref.take_clip(k).parent.mkdir(parents=True, exist_ok=True) or ref.take_clip(k),
                                  IDS[("s001", k)], seconds=CLIP_S, width=160, height=90)
                takes.append(TakeRecord(take=k, generation=_gen(clip, "s001", k), review_dir=str(ref.take_review_dir(k))))
            os.link(ref.take_clip(1), ref.clip_path)
            ref.update(generation=_gen(ref.clip_path, "s001", 1), takes=takes, chosen_take=1)
        else:
            ref.dir.mkdir(parents=True, exist_ok=True)
            coded_clip(ref.clip_path, IDS[(s.id, 1)], seconds=CLIP_S, width=160, height=90)
            ref.update(generation=_gen(ref.clip_path, s.id, 1))
    ref = ShotRef.load(project, "mini", "s002")
    ref.qc_json.parent.mkdir(parents=True, exist_ok=True)
    report = QCReport(clip=str(ref.clip_path), clip_id="mini-s002", probe=Probe(duration_s=CLIP_S), defects=[
        Defect(code="freeze", start_s=0.5, end_s=1.0, severity="error"),
        Defect(code="burnt_in_text", start_s=1.0, end_s=1.5, severity="warning", confirmed=False)])
    ref.qc_json.write_text(report.model_dump_json())
    return project


def test_timeline_layout_lineage_and_markers(coded: Paths) -> None:
    tl = build_timeline(coded, "mini")
    v1 = tl.video_tracks()[-1]  # the picture track is on top
    clips = v1.find_clips()
    assert [c.metadata["vidpipe"]["shot"] for c in clips] == ["s001", "s002", "s003"]
    assert clips[0].metadata["vidpipe"]["request_id"] == "req-s001-1"
    assert clips[0].metadata["vidpipe"]["model"] == "seedance-2-test"
    transitions = [t for t in v1 if isinstance(t, otio.schema.Transition)]
    assert len(transitions) == 1 and transitions[0].in_offset.to_frames() + transitions[0].out_offset.to_frames() == 12
    # 3 clips of 48 frames, one 12-frame crossfade
    assert v1.duration().to_frames() == 3 * 48 - 12
    alt = tl.video_tracks()[0]  # under V1: covered in NLEs whose files cannot say "disabled"
    assert not alt.enabled and [c.metadata["vidpipe"]["take"] for c in alt.find_clips()] == [2]
    marks = {m.name: m for m in clips[1].markers}
    assert marks["QC freeze"].color == otio.schema.MarkerColor.RED
    assert marks["QC freeze"].marked_range.start_time.to_frames() == 12
    assert marks["QC burnt_in_text (waived)"].color == otio.schema.MarkerColor.GREEN
    assert [t.name for t in tl.audio_tracks()] == ["dialogue", "ambience"]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_export_reads_back_frame_exact(coded: Paths, fmt: str) -> None:
    res = export_timeline(coded, "mini", fmt)
    back = read_timeline(res.path, FPS)
    got = known_clips(*v1_frames(back), episode_media(coded, "mini"), res.path)
    want = edit_frames(build_edit_list(coded, "mini"))
    assert [c.path for c in got] == [c.path for c in want]
    assert record_length(got) == record_length(want) == 3 * 48 - 12
    if FORMATS[fmt].transitions:
        assert got == want  # clip, used frames and crossfade, frame for frame
    else:  # the writer has no transitions: the clips meet at the dissolve's centre, said in the report
        assert [c.fade_in for c in got] == [0, 0, 0] and any("dissolves" in d for d in res.dropped)
        assert [(c.start, c.end) for c in got] == [(0, 42), (6, 48), (0, 48)]


def _edited(paths: Paths, out: Path) -> Path:
    """The exported OTIO as an editor changes it: s003 first (trimmed to frames 10–34), then s001 swapped to
    take 2 and trimmed by 8 frames at its head, then s002 joined by a cut instead of the crossfade."""
    export_timeline(paths, "mini", "otio")
    tl = otio.adapters.read_from_file(str(paths.episode_media("mini") / "export" / "mini.otio"))
    v1 = tl.video_tracks()[-1]
    _c1, c2, c3 = v1.find_clips()
    take2 = tl.video_tracks()[0].find_clips()[0]
    new = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    c3 = c3.deepcopy()
    c3.source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(10, FPS), otio.opentime.RationalTime(24, FPS))
    t2 = take2.deepcopy()
    t2.source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(8, FPS), otio.opentime.RationalTime(40, FPS))
    c2 = c2.deepcopy()
    c2.source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(0, FPS), otio.opentime.RationalTime(48, FPS))
    for c in (c3, t2, c2):
        new.append(c)
    tl.tracks[tl.tracks.index(v1)] = new
    otio.adapters.write_to_file(tl, str(out))
    return out


def test_edited_otio_recuts_to_the_expected_frames(coded: Paths, tmp_path: Path) -> None:
    edited = _edited(coded, tmp_path / "edited.otio")
    before = make_final_cut(coded, "mini")
    res = import_timeline(coded, "mini", edited)
    assert res.frames == 24 + 40 + 48 and imported_edit_path(coded, "mini").is_file()
    assert res.cut is not None and not res.cut.cache_hit and res.cut.key != before.key
    codes = read_codes(res.cut.path)
    want = [(4, n) for n in range(10, 34)] + [(2, n) for n in range(8, 48)] + [(3, n) for n in range(48)]
    assert codes == want
    # the cut and the edit agree: the final cut's cache follows the imported edit, not the spec
    assert make_final_cut(coded, "mini").cache_hit


def test_import_refuses_unknown_media_in_one_line(coded: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edited = _edited(coded, tmp_path / "edited.otio")
    tl = otio.adapters.read_from_file(str(edited))
    stranger = coded_clip(tmp_path / "stranger.mp4", 9, seconds=1.0, width=160, height=90)
    tl.video_tracks()[-1].find_clips()[1].media_reference.target_url = otio.url_utils.url_from_filepath(str(stranger))
    otio.adapters.write_to_file(tl, str(edited))
    with pytest.raises(SpecError, match=r"clip 2 plays .*stranger.mp4 — not a clip or take of this episode"):
        import_timeline(coded, "mini", edited)
    assert not imported_edit_path(coded, "mini").exists()
    assert main(["import", "mini", str(edited)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stranger.mp4" in err[0]


def test_cli_export_and_import_fcp7(coded: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mini.xml"
    assert main(["export", "mini", "--format", "fcp7", "--out", str(out)]) == 0
    assert out.is_file() and "<xmeml" in out.read_text()
    assert main(["import", "mini", str(out), "--no-cut"]) == 0
    assert edit_frames(build_edit_list(coded, "mini")) == v1_frames(read_timeline(out, FPS))[0]
    assert main(["import", "mini", "--drop"]) == 0 and not imported_edit_path(coded, "mini").exists()


@pytest.mark.optional(reason="needs MLT's melt (Debian package `melt`); CI does not install it")
@pytest.mark.skipif(shutil.which("melt") is None, reason="melt (MLT) is not installed")
def test_kdenlive_export_renders_in_melt_like_the_cut(coded: Paths, tmp_path: Path) -> None:
    """MLT's own renderer plays the Kdenlive export: the same frames, in the same order, as vidpipe's cut
    (an all-cuts edit: the Kdenlive adapter writes no transitions, see vidpipe/finish/formats.py)."""
    res = import_timeline(coded, "mini", _edited(coded, tmp_path / "edited.otio"))
    assert res.cut is not None
    export = export_timeline(coded, "mini", "kdenlive")
    out = tmp_path / "melt.mp4"
    # a Kdenlive document ends in an endless black track; play up to the export's last frame, no further
    subprocess.run(["melt", "-silent", f"xml:{export.path}", f"out={export.duration_frames - 1}", "-consumer",
                    f"avformat:{out}", "vcodec=libx264", "crf=10", "preset=ultrafast", "an=1", "width=320",
                    "height=180"], check=True, capture_output=True, timeout=180)
    melt_codes, cut_codes = read_codes(out), read_codes(res.cut.path)
    assert len(melt_codes) == len(cut_codes) == 24 + 40 + 48
    assert melt_codes == cut_codes


def test_odd_crossfade_and_trims_round_trip_through_otio(coded: Paths, tmp_path: Path) -> None:
    """A 13-frame crossfade cannot sit symmetrically on the cut: the odd frame must land on the right side
    (an in/out mix-up moves the clips by a frame and this fails)."""
    edit = build_edit_list(coded, "mini")
    clips = [c.model_copy(update={"trim_start": 5 / FPS, "trim_end": 45 / FPS}) for c in edit.clips]
    clips[1] = clips[1].model_copy(update={"transition": "crossfade", "transition_dur": 13 / FPS})
    edit = edit.model_copy(update={"clips": clips})
    tl = build_timeline(coded, "mini", edit)
    otio.adapters.write_to_file(tl, str(tmp_path / "odd.otio"))
    got, _ = v1_frames(read_timeline(tmp_path / "odd.otio"))
    assert got == edit_frames(edit) and got[1].fade_in == 13 and got[1].start == 5


def test_narration_follows_its_shot_when_an_edit_reorders_the_clips(coded: Paths, tmp_path: Path) -> None:
    """s001 carries the narration; the edited timeline moves s001 (take 2) to second place, 24 frames in.
    The line, its subtitle cues and its words move with the shot (1.0 s + the 0.4 s lead), not the timeline."""
    from vidpipe.finish.captions import episode_words, speech_span
    from vidpipe.pipeline.episode_stages import make_voiceover
    from vidpipe.pipeline.narration import NARRATION_LEAD_S

    make_voiceover(coded, "mini", backend="preview")
    before = build_edit_list(coded, "mini")
    vo_before = next(t for t in before.tracks if t.kind == "voiceover")
    assert Path(vo_before.path).name == "voiceover.wav"  # nothing moved in the generated edit: the stage's own mix
    res = import_timeline(coded, "mini", _edited(coded, tmp_path / "edited.otio"), recut=False)
    vo = [t for t in res.edit.tracks if t.kind == "voiceover"]
    assert len(vo) == 1 and Path(vo[0].path).name.startswith("placed_") and vo[0].start == 0
    at = 24 / FPS + NARRATION_LEAD_S
    onset = speech_span(Path(vo[0].path), 0.0, 10.0)
    assert onset is not None and onset[0] == pytest.approx(at, abs=0.06)  # the voice begins where s001 now begins
    first = speech_span(Path(vo_before.path), 0.0, 10.0)
    assert first is not None and first[0] < at - 0.5  # (and began at the head before the reorder)
    assert res.edit.subtitles is not None and res.edit.subtitles.cues[0].start == pytest.approx(at, abs=0.05)
    narration = [w for w in episode_words(coded, "mini") if w.speaker == "narrator"]
    assert narration[0].start == pytest.approx(at, abs=0.15)
