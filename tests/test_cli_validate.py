"""`vidpipe validate | route | prompt` in-process via cli.main (exit codes, JSON shape), plus one subprocess smoke."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
