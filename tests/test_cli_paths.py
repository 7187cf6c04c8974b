"""The CLI path stores what the render path stores: generate → qc --job → score → trends agree on features."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidpipe.cli import main
from vidpipe.paths import Paths
from vidpipe.store import Store

SCORES = ["--overall", "4", "--prompt-fidelity", "4", "--subject-consistency", "4", "--camera-and-motion", "3",
          "--audio-match", "4"]


def test_generate_qc_score_trends_carry_the_features(project: Paths, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps([{
        "id": "talk", "category": "dialogue", "mode": "native-dialogue",
        "input": {"prompt": 'A keeper at the lamp says "the light stays on tonight, whatever comes", medium close-up, '
                            "static camera, warm tungsten light, no subtitles", "duration": 4, "aspect_ratio": "9:16",
                  "resolution": "480p"}}]))
    out = tmp_path / "out"
    assert main(["generate", str(jobs), "--out", str(out), "--backend", "preview"]) == 0
    clip = out / "talk.mp4"
    # another report in the same folder must never be the one scored
    (out / "review" / "aaa-other").mkdir(parents=True)
    assert main(["qc", str(clip), "--job", str(jobs), "--json"]) in (0, 1)
    capsys.readouterr()
    store = Store(project.db)
    row = store.query("SELECT model, features FROM qc WHERE clip_id = 'talk'")[0]
    features = json.loads(row["features"]) if isinstance(row["features"], str) else row["features"]
    assert row["model"] == "seedance-2.0"
    assert (features["category"], features["mode"], features["aspect_ratio"], features["duration"]) == (
        "dialogue", "native-dialogue", "9:16", 4)
    assert main(["score", str(clip), *SCORES]) == 0
    scored = store.query("SELECT clip_id, model, episode FROM scores")
    assert [(r["clip_id"], r["model"]) for r in scored] == [("talk", "seedance-2.0")]
    capsys.readouterr()
    assert main(["trends", "--where", "category=dialogue", "--where", "aspect=9:16", "--json"]) == 0
    trend = json.loads(capsys.readouterr().out)
    assert json.dumps(trend).count("seedance-2.0") >= 1 and "NaN" not in json.dumps(trend)
