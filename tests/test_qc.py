"""Technical QC on synthetic clips with defects planted at known times (real ffmpeg, tiny clips)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.media_factory import Seg, Tone, make_clip, make_corrupt
from vidpipe.cli import main
from vidpipe.qc.loudness import loudness, true_peak
from vidpipe.qc.report import qc_row, run_qc, scene_cuts
from vidpipe.qc.technical import prompt_blocks, request_checks
from vidpipe.schema import Job, Probe, frame_size

TOL = 0.15
W, H = frame_size("480p", "16:9")
CLEAN_REQUEST = {"prompt": "a lighthouse at dawn", "duration": 4, "resolution": "480p",
                 "aspect_ratio": "16:9", "generate_audio": True}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("qc")
    shots = [Seg("moving", 1.5, shot=0), Seg("moving", 1.5, shot=1), Seg("moving", 1.5, shot=2)]
    return {
        "clean": make_clip(d / "clean.mp4", seconds=4.0, width=W, height=H),
        "black": make_clip(d / "black.mp4", [Seg("moving", 1.0), Seg("black", 1.0), Seg("moving", 2.0)]),
        "frozen": make_clip(d / "frozen.mp4", [Seg("moving", 1.5), Seg("frozen", 1.5), Seg("moving", 1.0)]),
        "grain": make_clip(d / "grain.mp4", [Seg("moving", 1.0), Seg("grain", 2.0), Seg("moving", 1.0)]),
        "silent": make_clip(d / "silent.mp4", seconds=4.0, audio="silent"),
        "gap": make_clip(d / "gap.mp4", seconds=4.0, audio=[Tone(1.5), Tone(1.5, None), Tone(1.0)]),
        "mute": make_clip(d / "mute.mp4", seconds=4.0, audio=None),
        "loud": make_clip(d / "loud.mp4", seconds=3.0, audio_db=0.0),
        "quiet": make_clip(d / "quiet.mp4", seconds=3.0, audio_db=-45.0),
        "cuts": make_clip(d / "cuts.mp4", shots),
        "bad": make_corrupt(d / "bad.mp4"),
    }


def _qc(clip: Path, tmp_path: Path, **kw):  # type: ignore[no-untyped-def]
    return run_qc(clip, out_dir=tmp_path / "review", **kw)


def _only(report, code: str):  # type: ignore[no-untyped-def]
    found = [d for d in report.defects if d.code == code]
    assert len(found) == 1, report.defects
    return found[0]


def test_clean_clip_with_audio_has_no_defect(clips: dict[str, Path], tmp_path: Path) -> None:
    report = _qc(clips["clean"], tmp_path, request=CLEAN_REQUEST)
    assert report.defects == []
    assert report.scores is None and report.failure_modes_observed == []


def test_black_frames_with_time_range(clips: dict[str, Path], tmp_path: Path) -> None:
    d = _only(_qc(clips["black"], tmp_path), "black_frames")
    assert d.start_s == pytest.approx(1.0, abs=TOL) and d.end_s == pytest.approx(2.0, abs=TOL)
    assert d.severity == "error"


def test_frozen_frames_with_time_range(clips: dict[str, Path], tmp_path: Path) -> None:
    report = _qc(clips["frozen"], tmp_path)
    d = _only(report, "frozen_frames")
    assert d.start_s == pytest.approx(1.5, abs=TOL) and d.end_s == pytest.approx(3.0, abs=TOL)
    assert not [x for x in report.defects if x.code == "black_frames"]


def test_held_frame_with_live_grain_is_not_frozen(clips: dict[str, Path], tmp_path: Path) -> None:
    # A locked-off camera on real footage still has grain from frame to frame: that is motion.
    assert [d.code for d in _qc(clips["grain"], tmp_path).defects] == []


def test_whole_track_silent(clips: dict[str, Path], tmp_path: Path) -> None:
    report = _qc(clips["silent"], tmp_path)
    d = _only(report, "silent_audio")
    assert d.start_s == 0.0 and d.end_s == pytest.approx(4.0, abs=TOL)
    assert "whole" in d.detail and d.severity == "error"
    assert [x.code for x in report.defects] == ["silent_audio"]  # no double report as loudness


def test_silent_run_inside_the_track(clips: dict[str, Path], tmp_path: Path) -> None:
    d = _only(_qc(clips["gap"], tmp_path), "silent_audio")
    assert d.start_s == pytest.approx(1.5, abs=TOL) and d.end_s == pytest.approx(3.0, abs=TOL)


def test_missing_audio_only_when_asked_for(clips: dict[str, Path], tmp_path: Path) -> None:
    asked = _qc(clips["mute"], tmp_path, request={"prompt": "x", "generate_audio": True})
    assert _only(asked, "missing_audio").end_s == pytest.approx(4.0, abs=TOL)
    assert _qc(clips["mute"], tmp_path, request={"prompt": "x", "generate_audio": False}).defects == []
    assert _qc(clips["mute"], tmp_path).defects == []


@pytest.mark.parametrize("clip,fragment", [("loud", "true peak"), ("quiet", "LUFS")])
def test_loudness_out_of_range(clips: dict[str, Path], tmp_path: Path, clip: str, fragment: str) -> None:
    d = _only(_qc(clips[clip], tmp_path), "loudness_out_of_range")
    assert fragment in d.detail
    assert d.start_s == 0.0 and d.end_s == pytest.approx(3.0, abs=TOL)


def test_loudness_matches_bs1770_reference_tones() -> None:
    t = np.arange(48000 * 3) / 48000
    full = np.sin(2 * np.pi * 1000 * t)
    assert loudness(full[None])[0] == pytest.approx(-3.01, abs=0.05)  # the standard's calibration
    assert loudness(np.stack([full, full]) * 0.1)[0] == pytest.approx(-20.0, abs=0.1)
    assert true_peak(full[None] * 0.5) == pytest.approx(-6.02, abs=0.1)
    assert loudness(np.zeros((2, 48000)))[0] == float("-inf")


def test_scene_cuts_found_at_shot_boundaries(clips: dict[str, Path]) -> None:
    cuts = scene_cuts(clips["cuts"])
    assert len(cuts) == 2
    assert cuts[0] == pytest.approx(1.5, abs=0.05) and cuts[1] == pytest.approx(3.0, abs=0.05)
    assert scene_cuts(clips["clean"]) == []


@pytest.mark.parametrize("blocks,mismatch", [(3, False), (2, False), (4, False), (5, True), (1, True)])
def test_cut_count_vs_prompt_blocks(clips: dict[str, Path], tmp_path: Path, blocks: int, mismatch: bool) -> None:
    prompt = " ".join(f"[00:{k:02d}-00:{k + 1:02d}] shot {k}." for k in range(blocks))
    report = _qc(clips["cuts"], tmp_path, request={"prompt": prompt})
    codes = [d.code for d in report.defects]
    assert ("cut_count_mismatch" in codes) is mismatch
    if mismatch:
        d = _only(report, "cut_count_mismatch")
        assert "2 cuts" in d.detail and d.severity == "warning"


def test_prompt_blocks_parse() -> None:
    assert prompt_blocks("[00:00-00:04] a. [00:04 – 00:08] b. [1:02-1:10] c") == [(0, 4), (4, 8), (62, 70)]
    assert prompt_blocks(None) == [] and prompt_blocks("[Image1] walks") == []


def _probe(w: int, h: int, dur: float = 5.0, audio: bool = True) -> Probe:
    return Probe(duration_s=dur, width=w, height=h, fps=24, has_audio=audio)


@pytest.mark.parametrize("probe,request_,codes", [
    (_probe(1280, 720), {"resolution": "720p", "aspect_ratio": "16:9", "duration": 5}, []),
    (_probe(1278, 718), {"resolution": "720p"}, []),  # ±2 px
    (_probe(854, 480), {"resolution": "720p"}, ["resolution_mismatch"]),
    (_probe(720, 1280), {"resolution": "720p", "aspect_ratio": "9:16"}, []),
    (_probe(1280, 720), {"aspect_ratio": "9:16"}, ["aspect_ratio_mismatch"]),
    (_probe(1280, 960), {"aspect_ratio": "16:9"}, ["aspect_ratio_mismatch"]),
    (_probe(1280, 960), {"aspect_ratio": "adaptive"}, []),
    (_probe(1280, 720, 5.4), {"duration": 5}, []),
    (_probe(1280, 720, 5.6), {"duration": 5}, ["duration_mismatch"]),
    (_probe(1280, 720, 4.6), {"duration": 4}, ["duration_mismatch"]),  # 0.6 s > 0.5 s
    (_probe(1280, 720, 9.0), {"duration": -1}, []),  # auto duration
    (_probe(1280, 720, audio=False), {"generate_audio": True}, ["missing_audio"]),
])
def test_request_shape_checks(probe: Probe, request_: dict, codes: list[str]) -> None:
    assert [d.code for d in request_checks(probe, request_)] == codes


def test_review_folder_contents(clips: dict[str, Path], tmp_path: Path) -> None:
    job = Job(id="s001-take1", model="seedance-2.0", input=CLEAN_REQUEST)
    report = run_qc(clips["clean"], job=job, frames=4, out_dir=tmp_path / "r")
    folder = tmp_path / "r"
    assert sorted(p.name for p in folder.glob("frame_*.jpg")) == [f"frame_{k:02d}.jpg" for k in range(1, 5)]
    with Image.open(folder / "contact_sheet.jpg") as sheet:
        assert sheet.size[0] >= 4 * 320 and sheet.size[1] >= 180
    with Image.open(folder / "frame_01.jpg") as frame:
        assert frame.size == (W, H)
    data = json.loads((folder / "qc.json").read_text())
    assert data["clip_id"] == "s001-take1" and data["job_id"] == "s001-take1"
    assert data["prompt"] == CLEAN_REQUEST["prompt"] and data["model"] == "seedance-2.0"
    assert data["scores"] is None and data["defects"] == [] and data["failure_modes_observed"] == []
    assert data["what_worked"] is None and data["lesson"] is None
    probe = json.loads((folder / "probe.json").read_text())
    assert probe["width"] == W and probe["frames_decoded"] == 96 and len(probe["sample_times_s"]) == 4
    assert report.probe.has_audio


def test_default_review_folder_is_next_to_the_clip(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "take.mp4", seconds=2.0, audio=None)
    run_qc(clip, frames=6)
    assert len(list((tmp_path / "review" / "take").glob("frame_*.jpg"))) == 6
    run_qc(clip, frames=3)  # a rerun with fewer frames leaves no stale ones behind
    assert len(list((tmp_path / "review" / "take").glob("frame_*.jpg"))) == 3


def test_qc_row_fits_the_store(clips: dict[str, Path], tmp_path: Path) -> None:
    from vidpipe.store import Store

    report = _qc(clips["black"], tmp_path, request={"prompt": "p", "duration": 6})
    row = qc_row(report, episode="ep1", shot="s001", backend="preview", request={"duration": 6}, features={"k": 1})
    assert row["defect_codes"] == ["duration_mismatch", "black_frames"]
    store = Store(tmp_path / "v.duckdb")
    store.add_qc(row)
    got = store.query("SELECT episode, defect_codes, scores FROM qc")
    assert got == [{"episode": "ep1", "defect_codes": ["duration_mismatch", "black_frames"], "scores": None}]


# -- CLI ---------------------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "none.duckdb"  # absent: the CLI must not create it
    monkeypatch.setenv("VIDPIPE_DB", str(path))
    return path


def test_cli_exit_0_clean(clips: dict[str, Path], tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"id": "clean", "model": "auto", "input": CLEAN_REQUEST}))
    assert main(["qc", str(clips["clean"]), "--job", str(job), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "no technical defect" in out and "contact_sheet.jpg" in out
    assert not db.exists()


def test_cli_exit_1_with_defects_table(clips: dict[str, Path], tmp_path: Path, db: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["qc", str(clips["black"]), "--out", str(tmp_path / "o")]) == 1
    out = capsys.readouterr().out
    assert "black_frames" in out and "1.00s" in out and "2.00s" in out


def test_cli_json_and_bare_body_job(clips: dict[str, Path], tmp_path: Path, db: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"prompt": "x", "generate_audio": True}))
    assert main(["qc", str(clips["mute"]), "--job", str(body), "--json", "--out", str(tmp_path / "o")]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["clip_id"] == "mute" and [d["code"] for d in data["defects"]] == ["missing_audio"]
    assert data == json.loads((tmp_path / "o" / "qc.json").read_text())


def test_cli_records_when_the_database_exists(clips: dict[str, Path], tmp_path: Path, db: Path) -> None:
    from vidpipe.store import Store

    store = Store(db)
    store.query("SELECT 1")
    assert db.exists()
    assert main(["qc", str(clips["silent"]), "--out", str(tmp_path / "o")]) == 1
    assert store.query("SELECT defect_codes FROM qc") == [{"defect_codes": ["silent_audio"]}]


@pytest.mark.parametrize("which", ["bad", "missing"])
def test_cli_exit_2_on_bad_input(clips: dict[str, Path], tmp_path: Path, db: Path, which: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    clip = clips["bad"] if which == "bad" else tmp_path / "nope.mp4"
    assert main(["qc", str(clip)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(clip) in err and "Traceback" not in err


def test_cli_exit_2_on_unreadable_job(clips: dict[str, Path], tmp_path: Path, db: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text("{not json")
    assert main(["qc", str(clips["clean"]), "--job", str(job)]) == 2
