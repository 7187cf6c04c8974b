"""`vidpipe validate | route | prompt` in-process via cli.main (exit codes, JSON shape), plus one subprocess smoke."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import fal_fake, media_files  # noqa: F401
from tests.ref_files import populate
from vidpipe.cli import main

REPO = Path(__file__).resolve().parents[1]
GOOD = (
    "A white stone lighthouse on a black basalt cliff, red lantern room, salt-streaked walls. Waves break "
    "against the rocks below as the lamp turns on. Camera: wide establishing shot, 24mm lens, slow push-in "
    "from the sea. Style: blue-hour light, teal and amber palette, Kodak Vision3 500T grain. Sound: wind over "
    "the cliff, waves on rock. Constraints: single continuous take; no text or subtitles."
)


@pytest.fixture(scope="session")
def _media_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("refmedia")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, _media_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no profile or LESSONS.md from the repo leaks in
    populate(tmp_path, _media_cache)  # the cited references exist (the job file's folder is allowed)


def write(tmp_path: Path, data: Any, name: str = "jobs.json") -> str:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


@pytest.mark.parametrize(("data", "code"), [
    pytest.param({"prompt": GOOD}, 0, id="clean"),
    pytest.param({"prompt": GOOD, "duration": 7}, 0, id="warnings-only"),
    pytest.param({"prompt": GOOD, "duration": "5"}, 1, id="error"),
    pytest.param([{"id": "ok", "input": {"prompt": GOOD}}, {"id": "bad", "input": {"prompt": GOOD, "seed": True}}], 1,
                 id="one-bad-job-of-two"),
])
def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, code: int) -> None:
    assert main(["validate", write(tmp_path, data)]) == code
    capsys.readouterr()


def test_json_shape_is_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, [{"id": "hero", "input": {"prompt": GOOD, "duration": 7}},
                         {"prompt": GOOD, "image": "a.png", "reference_images": ["b.png"]}])
    assert main(["validate", f, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [set(r) for r in out] == [{"label", "route", "errors", "warnings"}] * 2
    hero, second = out
    assert (hero["label"], hero["route"], hero["errors"]) == ("hero", "seedance-2.0", [])
    assert hero["warnings"][0]["code"] == "duration_risky" and set(hero["warnings"][0]) == {"code", "message"}
    assert second["label"] == "job2"
    assert [e["code"] for e in second["errors"]] == ["image_with_reference_images"]
    assert all(set(e) == {"code", "message"} for r in out for e in r["errors"] + r["warnings"])


def test_json_explain_adds_route_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", write(tmp_path, {"prompt": GOOD, "image": "a.png"}), "--json", "--explain"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert set(r) == {"label", "route", "errors", "warnings", "route_reason", "route_evidence"}
    assert r["route"] == "wan-2.7-i2v" and "image-to-video" in r["route_reason"]
    assert r["route_evidence"] == "table row: image without reference_images → wan-2.7-i2v"


def test_human_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", write(tmp_path, {"prompt": GOOD, "seed": "x"}), "--explain"]) == 1
    out = capsys.readouterr().out
    assert "job1: error → seedance-2.0" in out and "seed_invalid" in out and "route: " in out


@pytest.mark.parametrize(("content", "expect"), [
    pytest.param('{"prompt": "x",\n  "duration": 5,,\n}', "line 2 column", id="invalid-json"),
    pytest.param(None, "file not found", id="missing-file"),
    pytest.param('"just a string"', "job 1 must be a JSON object", id="not-a-job"),
])
def test_unreadable_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               content: str | None, expect: str) -> None:
    f = write(tmp_path, content) if content is not None else str(tmp_path / "nope.json")
    assert main(["validate", f, "--json"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and f in lines[0] and expect in lines[0]
    assert "Traceback" not in cap.err


def test_route_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, [{"id": "a", "input": {"prompt": GOOD, "image": "a.png"}},
                         {"id": "b", "model": "veo-3.1", "input": {"prompt": GOOD}}])
    assert main(["route", f, "--explain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "a: wan-2.7-i2v" and out[3] == "b: veo-3.1" and "explicitly" in out[4]
    assert out[2] == "  evidence: table row: image without reference_images → wan-2.7-i2v"


def test_prompt_command_from_episode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prompt", "--episode", str(REPO / "data/episodes/demo"), "--shot", "s003"]) == 0
    out = capsys.readouterr().out
    assert "[00:00-00:04]" in out and "[00:08-00:12]" in out


def test_prompt_command_from_shot_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, {"id": "s1", "subject": "a red kite", "action": "it climbs", "camera": "low angle"}, "shot.json")
    assert main(["prompt", f]) == 0
    assert capsys.readouterr().out.strip() == "A red kite. It climbs. Camera: low angle."


def test_prompt_command_unknown_shot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prompt", "--episode", str(REPO / "data/episodes/demo"), "--shot", "s999"]) == 2
    assert "s999" in capsys.readouterr().err


def test_subprocess_smoke(tmp_path: Path) -> None:
    f = write(tmp_path, '{"prompt": "x", "duration": ')
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "vidpipe", "validate", f], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 2 and f in proc.stderr and "line 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    good = write(tmp_path, {"prompt": GOOD}, "good.json")
    proc = subprocess.run([sys.executable, "-m", "vidpipe", "validate", good, "--json"], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 0 and json.loads(proc.stdout)[0]["route"] == "seedance-2.0"


# -- bad files and bad options: one line, the documented exit code, no traceback ---------------------------
def _one_line(cap: Any) -> str:
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in cap.err, cap.err
    return lines[0]


@pytest.mark.parametrize(("content", "expect"), [
    pytest.param(b'{"prompt": "caf\xe9 au lait"}', "not UTF-8", id="latin-1"),
    pytest.param(b"[" * 5000 + b"]" * 5000, "nested deeper than 64 levels", id="deep-arrays"),
    pytest.param(json.dumps({"id": "a", "input": {"prompt": "x", "image": {"a": json.loads(
        "{" + '"a": {' * 80 + "}" * 80 + "}")}}}).encode(), "nested deeper", id="deep-objects-in-a-job"),
])
def test_bad_job_files_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes,
                                           expect: str) -> None:
    f = tmp_path / "bad.json"
    f.write_bytes(content)
    for argv in (["validate", str(f)], ["generate", str(f), "--out", str(tmp_path / "o"), "--backend", "preview"]):
        assert main(argv) == 2
        line = _one_line(capsys.readouterr())
        assert str(f) in line and expect in line


def test_non_utf8_episode_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ep = project.episode_dir("mini") / "episode.yaml"  # type: ignore[attr-defined]
    ep.write_bytes(ep.read_bytes().replace(b"Mini", b"Mini \xff\xfe"))
    assert main(["validate", "--episode", "mini"]) == 2
    assert "not UTF-8" in _one_line(capsys.readouterr())
    assert main(["render", "mini", "--backend", "preview"]) == 2
    assert "not UTF-8" in _one_line(capsys.readouterr())


@pytest.mark.parametrize("cmd", ["generate", "render"])
def test_unknown_backend_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], cmd: str) -> None:
    f = write(tmp_path, {"prompt": GOOD})
    argv = ["generate", f, "--out", str(tmp_path / "o")] if cmd == "generate" else ["render", "demo"]
    assert main([*argv, "--backend", "bogus"]) == 2
    line = _one_line(capsys.readouterr())
    assert "unknown backend 'bogus'" in line and "preview, fal, gemini" in line


@pytest.mark.parametrize("how", ["file-in-the-way", pytest.param("read-only", marks=pytest.mark.optional(
    reason="root writes into read-only folders; the file-in-the-way case covers the same path"))])
def test_unwritable_output_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str) -> None:
    f = write(tmp_path, {"id": "k", "input": {"prompt": GOOD, "duration": 4}})
    if how == "file-in-the-way":
        (tmp_path / "blocker").write_text("")
        out = tmp_path / "blocker" / "out"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders; the file-in-the-way case covers the same path")
        out = tmp_path / "ro"
        out.mkdir()
        out.chmod(0o555)
    assert main(["generate", f, "--out", str(out), "--backend", "preview"]) == 1  # an OSError: exit 1, nothing sent
    line = _one_line(capsys.readouterr())
    assert "vidpipe: error:" in line and "not a writable folder" in line


# -- whole-episode validation: everything the cut needs is checked before any spend -----------------------
DOOMED = [
    pytest.param("transition_dur: 0.5", "transition_dur: 4.5", "shots.1.transition_dur (s002)", id="crossfade-too-long"),
    pytest.param("transition_dur: 0.5", "transition_dur: -1", "is negative", id="negative-transition"),
    pytest.param("fps: 24", "fps: 0", "fps: 0", id="fps-0"),
    pytest.param("fps: 24", "fps: 5000", "fps: 5000", id="fps-absurd"),
    pytest.param('music: {ambience: "soft wind", gain_db: -20}', "music: {path: notes.txt}", "music.path",
                 id="music-not-audio"),
    pytest.param('music: {ambience: "soft wind", gain_db: -20}', "music: {path: gone.wav}", "does not exist",
                 id="music-missing"),
    pytest.param("    duration: 4\n  - id: s002", "    duration: 3\n  - id: s002", "shots.0.duration (s001)",
                 id="duration-3"),
    pytest.param('end: 4, action: "he wipes', 'end: 9, action: "he wipes', "shots.2.blocks.1 (s003)",
                 id="block-past-the-end"),
    pytest.param("  - id: s002\n", "  - id: s002\n    refs: {images: [/etc/passwd]}\n", "outside the allowed",
                 id="ref-outside"),
    pytest.param("  - id: s002\n", "  - id: s002\n    model: sora-9\n", "unknown model 'sora-9'", id="unknown-model"),
]


@pytest.mark.parametrize(("old", "new", "expect"), DOOMED)
def test_doomed_episode_is_refused_before_any_spend(project: Any, capsys: pytest.CaptureFixture[str], old: str,
                                                    new: str, expect: str) -> None:
    ep = project.episode_dir("mini") / "episode.yaml"
    (ep.parent / "notes.txt").write_text("not a sound")
    assert old in ep.read_text()
    ep.write_text(ep.read_text().replace(old, new))
    assert main(["validate", "--episode", "mini"]) == 2
    line = _one_line(capsys.readouterr())
    assert str(ep) in line and expect in line
    assert main(["render", "mini", "--backend", "preview"]) == 2
    assert expect in _one_line(capsys.readouterr())
    assert not (project.media / "mini" / "shots").exists()  # no shot was rendered (nothing was paid)


def test_a_shot_error_stops_the_whole_render_before_any_spend(project: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ep = project.episode_dir("mini") / "episode.yaml"
    # the last shot cites a reference it does not have: found only once its request is composed
    ep.write_text(ep.read_text().replace("he wipes the lantern glass", "he wipes the lantern glass like [Image4]"))
    assert main(["validate", "--episode", "mini", "--json"]) == 1
    reports = {r["label"]: r for r in json.loads(capsys.readouterr().out)}
    assert [e["code"] for e in reports["mini/s003"]["errors"]] == ["citation_out_of_range"]
    assert reports["mini/s001"]["errors"] == [] and reports["mini/s002"]["route"] == "wan-2.7-i2v"
    assert main(["render", "mini", "--backend", "preview"]) == 2
    line = _one_line(capsys.readouterr())
    assert "nothing was spent" in line and "mini/s003 citation_out_of_range" in line
    assert not (project.media / "mini" / "shots").exists()


def test_valid_episode_validates_clean(project: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--episode", "mini", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "mini/s001: " in out and "evidence: table row" in out


def test_validate_needs_exactly_one_of_file_and_episode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 2
    assert "give a job FILE or --episode EP" in _one_line(capsys.readouterr())


def test_ctrl_c_inside_a_command_is_one_line_exit_130(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_a: Any, **_k: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("vidpipe._cli.validate.validate_file", interrupted)
    assert main(["validate", write(tmp_path, {"prompt": GOOD})]) == 130  # typer alone would return 130 silently
    assert "interrupted" in _one_line(capsys.readouterr())


def test_validate_and_generate_agree_on_a_provider_limit(fal_fake: FalFake, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Veo takes reference images (fal's /reference-to-video, the Gemini API) only at 8 s: validate says so for
    the backend generate would use (fal, from the key) and for --backend gemini, and generate submits nothing.
    At 8 s the same job is valid on fal."""
    veo = {"id": "veo-refs", "model": "veo-3.1",
           "input": {"prompt": GOOD + " [Image1] is the lighthouse.", "duration": 4, "aspect_ratio": "16:9",
                     "reference_images": ["a.png"]}}
    f = write(tmp_path, [veo])
    assert main(["validate", f, "--json"]) == 1  # the key makes fal the backend, as generate would pick
    errors = json.loads(capsys.readouterr().out)[0]["errors"]
    assert [e["code"] for e in errors] == ["unsupported_on_model"] and "only at 8 s" in errors[0]["message"]
    assert main(["validate", f, "--backend", "gemini"]) == 1
    capsys.readouterr()
    assert main(["generate", f, "--out", str(tmp_path / "o")]) == 1
    said = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert f"veo-refs: invalid (unsupported_on_model: {errors[0]['message']}) — not submitted" in said
    assert fal_fake.submits == []
    veo["input"]["duration"] = 8  # type: ignore[index]
    assert main(["validate", write(tmp_path, [veo]), "--json"]) == 0
