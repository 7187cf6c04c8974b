"""The learning loop on a synthetic but realistic QC history in a real DuckDB file."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from vidpipe.learning.feedback import learned_route, lesson_lint
from vidpipe.learning.lessons import parse_lessons, read_lessons
from vidpipe.learning.mine import learn
from vidpipe.routing import route
from vidpipe.store import Store, now

REPO = Path(__file__).resolve().parents[1]
DIALOGUE = {"prompt": 'A sailor at a radio. He says: "Steer north of the light now." Sound: static.',
            "duration": 6, "aspect_ratio": "9:16", "generate_audio": True}


def add_scores(store: Store, model: str, category: str, overalls: list[int], aspect: str = "9:16") -> None:
    feats = json.dumps({"category": category, "aspect_ratio": aspect})
    for i, o in enumerate(overalls):
        store.execute(
            "INSERT INTO scores (clip, clip_id, episode, shot, model, judge, prompt_fidelity, subject_consistency, "
            "camera_and_motion, audio_match, overall, overall_raw, features, created_at) "
            "VALUES (?, ?, 'ep', ?, ?, 'human', ?, ?, ?, ?, ?, ?, ?, ?)",
            [f"{model}-{category}-{i}.mp4", f"{model}-{category}-{i}", f"s{i:03d}", model, o, o, o, o, o, o, feats, now()],
        )


def history(store: Store, n: int = 12) -> None:
    """kling clearly better than seedance for dialogue; a tie for landscape."""
    rnd = random.Random(7)
    add_scores(store, "kling-3.0-omni", "dialogue", [rnd.choice([4, 5, 5]) for _ in range(n)])
    add_scores(store, "seedance-2.0", "dialogue", [rnd.choice([2, 3, 3]) for _ in range(n)])
    add_scores(store, "kling-3.0-omni", "landscape", [rnd.choice([3, 4]) for _ in range(n)])
    add_scores(store, "seedance-2.0", "landscape", [rnd.choice([3, 4]) for _ in range(n)])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "vidpipe.duckdb")


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    p = tmp_path / "LESSONS.md"
    shutil.copy(REPO / "LESSONS.md", p)
    return p


def test_without_history_the_table_holds(store: Store) -> None:
    assert route(DIALOGUE, category="dialogue", store=store).model == "seedance-2.0"


def test_thin_evidence_does_not_switch(store: Store) -> None:
    add_scores(store, "kling-3.0-omni", "dialogue", [5, 5, 5])
    add_scores(store, "seedance-2.0", "dialogue", [2, 2, 2])
    assert learned_route("dialogue", None, "seedance-2.0", store) is None
    assert route(DIALOGUE, category="dialogue", store=store).model == "seedance-2.0"


def test_learned_routing_switches_for_dialogue_only_and_reverts(store: Store) -> None:
    history(store)
    r = route(DIALOGUE, category="dialogue", store=store)
    assert r.model == "kling-3.0-omni" and r.overridden_by == "learned"
    assert "dialogue" in r.reason and "n=12" in r.reason
    landscape = dict(DIALOGUE, prompt="A lighthouse at dawn, slow orbit. Sound: gulls.")
    assert route(landscape, category="landscape", store=store).model == "seedance-2.0"
    # new evidence: seedance improves a lot, kling drops → the switch is withdrawn
    add_scores(store, "seedance-2.0", "dialogue", [5] * 30)
    add_scores(store, "kling-3.0-omni", "dialogue", [2] * 30)
    assert route(DIALOGUE, category="dialogue", store=store).model == "seedance-2.0"


def test_profile_avoid_beats_learned_routing(store: Store) -> None:
    from vidpipe.schema import Avatar, ModelPreferences, Profile

    history(store)
    profile = Profile(avatar=Avatar(image="me.png"), model_preferences=ModelPreferences(avoid=["kling-3.0-omni"]))
    assert route(DIALOGUE, category="dialogue", store=store, profile=profile).model != "kling-3.0-omni"


def test_mined_lesson_lands_in_lessons_md_and_lints(store: Store, lessons: Path) -> None:
    before = lessons.read_bytes()
    history(store)
    report = learn(store, lessons)
    assert [(c.category, c.winner, c.loser) for c in report.comparisons] == [("dialogue", "kling-3.0-omni", "seedance-2.0")]
    text = lessons.read_text()
    assert text.startswith(before.decode())  # seed lessons untouched, appended newest last
    new = read_lessons(lessons)[-1]
    assert new.category == "dialogue" and "kling-3.0-omni" in new.lesson and "n=12/12" in new.evidence
    rows = {r["id"]: r for r in store.query("SELECT id, source, human, author FROM lessons")}
    assert rows[new.id]["source"] == "mined" and rows[new.id]["human"] is False and rows[new.id]["author"]
    seed = read_lessons(lessons)[0]  # typed into the file by a person: mirrored, marked human-written
    assert rows[seed.id]["source"] == "file" and rows[seed.id]["human"] is True
    findings = lesson_lint(DIALOGUE, category="dialogue", lessons_path=lessons, model="seedance-2.0")
    assert f"lesson:{new.id}" in [f.code for f in findings]
    on_winner = lesson_lint(DIALOGUE, category="dialogue", lessons_path=lessons, model="kling-3.0-omni")
    assert f"lesson:{new.id}" not in [f.code for f in on_winner]
    assert learn(store, lessons).appended == []  # idempotent


def test_reversal_is_appended_as_a_contradiction(store: Store, lessons: Path) -> None:
    history(store)
    first = learn(store, lessons).appended[0]
    store.execute("DELETE FROM scores WHERE json_extract_string(features, '$.category') = 'dialogue'")
    add_scores(store, "seedance-2.0", "dialogue", [5, 5, 4, 5, 5, 5, 4, 5, 5, 5])
    add_scores(store, "kling-3.0-omni", "dialogue", [2, 3, 2, 2, 3, 2, 2, 2, 3, 2])
    second = learn(store, lessons).appended[0]
    assert f"contradicts {first.id}" in second.lesson
    assert [l.id for l in read_lessons(lessons)][-2:] == [first.id, second.id]


def test_lessons_parse_and_seed_lint(lessons: Path) -> None:
    entries = parse_lessons(lessons.read_text())
    assert [e.id for e in entries][:2] == ["L001", "L002"] and entries[0].model == "veed-fabric-1.0"
    dance = {"prompt": "A dancer spins on a rooftop at night, handheld.", "aspect_ratio": "9:16"}
    assert [f.code for f in lesson_lint(dance, category="dance", lessons_path=lessons)] == ["lesson:L004"]
    fixed = dict(dance, prompt=dance["prompt"] + " Full body, feet visible.")
    assert lesson_lint(fixed, category="dance", lessons_path=lessons) == []


def test_human_score_caps_and_lands_in_duckdb(tmp_path: Path, store: Store, lessons: Path) -> None:
    from tests.media_factory import Seg, make_clip
    from vidpipe.pipeline.scoring import score_clip
    from vidpipe.qc.report import run_qc
    from vidpipe.schema import Scores

    clip = make_clip(tmp_path / "c.mp4", [Seg("moving", 1.0), Seg("black", 1.0), Seg("moving", 1.0)])
    report = run_qc(clip, clip_id="c1")
    assert report.scores is None  # nothing invents a score
    s = Scores(prompt_fidelity=5, subject_consistency=5, camera_and_motion=4, audio_match=4, overall=5)
    judged = score_clip(clip, s, failure_modes=("frozen motion",), lesson="Black gaps ruin a take.", store=store,
                        lessons_path=lessons)
    assert judged.scores and judged.scores.overall == 2  # a black-frames defect caps overall at 2
    row = store.query("SELECT judge, overall, overall_raw, failure_modes FROM scores")[0]
    assert row == {"judge": "human", "overall": 2, "overall_raw": 5, "failure_modes": ["frozen motion"]}
    assert read_lessons(lessons)[-1].lesson == "Black gaps ruin a take."
    with pytest.raises(Exception, match="unknown failure mode"):
        score_clip(clip, s, failure_modes=("wobbly vibes",), store=store)


def test_trends_table_json_and_plot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from vidpipe.cli import main

    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    store = Store(tmp_path / "data" / "vidpipe.duckdb")
    history(store)
    add_scores(store, "veo-3.1", "dialogue", [4, 4, 5], aspect="16:9")
    png = tmp_path / "trends.png"
    assert main(["trends", "--where", "category=dialogue", "--where", "aspect=9:16", "--json", "--plot", str(png)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in rows] == ["kling-3.0-omni", "seedance-2.0"]  # which model for dialogue at 9:16
    assert rows[0]["n"] == 12 and rows[0]["mean_overall"] > rows[1]["mean_overall"] and rows[0]["ci95"] > 0
    with Image.open(png) as im:
        assert im.size[0] > 300
    assert main(["trends", "--by", "nonsense"]) == 2


def test_score_cli_records_a_human_judgement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.media_factory import Seg, make_clip
    from vidpipe.cli import main
    from vidpipe.qc.report import run_qc

    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    clip = make_clip(tmp_path / "c.mp4", [Seg("moving", 2.0)])
    run_qc(clip, clip_id="c9")
    args = ["score", str(clip), "--overall", "4", "--prompt-fidelity", "5", "--subject-consistency", "4",
            "--camera-and-motion", "3", "--audio-match", "4", "--failure-mode", "hand drift"]
    assert main(args) == 0 and "c9: overall 4/5" in capsys.readouterr().out
    assert Store(tmp_path / "data" / "vidpipe.duckdb").query("SELECT judge, overall FROM scores") == [
        {"judge": "human", "overall": 4}]
    assert main([*args[:-1], "wobbly vibes"]) == 2  # unknown failure mode: one line, nothing saved
    assert "unknown failure mode" in capsys.readouterr().err


# -- defect rates from the content QC -----------------------------------------------------------

def add_passes(store: Store, model: str, category: str, n: int, with_text: int, *, forbids_text: bool = False,
               tag: str = "") -> None:
    """n QC passes of dialogue prompts on `model`; the first `with_text` of them had burnt-in text."""
    from vidpipe.learning.features import extract_features

    prompt = DIALOGUE["prompt"] + (" Constraints: no subtitles." if forbids_text else "")
    for i in range(n):
        feats = extract_features(dict(DIALOGUE, prompt=prompt), category=category, model=model)
        codes = ["burnt_in_text"] if i < with_text else []
        store.add_qc({"clip": f"{model}{tag}{i}.mp4", "clip_id": f"{model}-{category}{tag}-{i}", "model": model,
                      "features": feats, "defect_codes": codes, "defects": [{"code": c} for c in codes]})


def test_defect_rates_by_model_category_and_feature(store: Store) -> None:
    from vidpipe.learning.defects import defect_rates

    add_passes(store, "seedance-2.0", "dialogue", 20, 8)
    add_passes(store, "seedance-2.0", "dialogue", 10, 0, forbids_text=True, tag="n")
    rows = {(r.group["forbids_text"], r.code): r for r in
            defect_rates(store, by=("model", "category", "forbids_text"), code="burnt_in_text")}
    r = rows[(False, "burnt_in_text")]
    assert (r.n, r.k, r.rate) == (20, 8, 0.4) and 0.19 < r.ci[0] < 0.4 < r.ci[1] < 0.65
    assert rows[(True, "burnt_in_text")].k == 0
    add_passes(store, "seedance-2.0", "dialogue", 20, 0)  # re-run of the same clips: latest pass counts
    assert defect_rates(store, by=("model",), code="burnt_in_text")[0].k == 0


def test_miner_writes_a_lint_rule_for_a_defect_rate(store: Store, lessons: Path) -> None:
    add_passes(store, "seedance-2.0", "dialogue", 20, 8)
    report = learn(store, lessons)
    (lesson,) = [x for x in report.appended if "burnt-in-text" in x.lesson]
    assert "dialogue on seedance-2.0 without 'no subtitles'" in lesson.lesson and "40% (n=20)" in lesson.lesson
    assert lesson.lint == {"when": {"category": "dialogue", "forbids_text": False},
                           "require_any": ["no subtitles", "no on-screen text", "no captions", "no text"]}
    assert "LINT:" in lessons.read_text() and not learn(store, lessons).appended  # idempotent
    mine = f"lesson:{lesson.id}"
    assert mine in [f.code for f in lesson_lint(DIALOGUE, category="dialogue", lessons_path=lessons)]
    fixed = dict(DIALOGUE, prompt=DIALOGUE["prompt"] + " Constraints: no subtitles.")
    assert mine not in [f.code for f in lesson_lint(fixed, category="dialogue", lessons_path=lessons)]
    assert store.query("SELECT lint FROM lessons WHERE id = ?", [lesson.id])[0]["lint"]


def test_thin_defect_evidence_writes_nothing(store: Store, lessons: Path) -> None:
    add_passes(store, "seedance-2.0", "dialogue", 5, 2)
    assert learn(store, lessons).appended == []


def test_defect_gap_between_models_routes_away(store: Store, lessons: Path) -> None:
    add_passes(store, "seedance-2.0", "dialogue", 12, 9, forbids_text=True)
    add_passes(store, "kling-3.0-omni", "dialogue", 12, 0, forbids_text=True)
    choice = learned_route("dialogue", None, "seedance-2.0", store)
    assert choice is not None and choice.model == "kling-3.0-omni" and "burnt-in-text" in choice.reason
    assert learned_route("landscape", None, "seedance-2.0", store) is None
    report = learn(store, lessons)
    assert any(x.lint and x.lint.get("avoid_model") == "seedance-2.0" for x in report.appended)


def test_trends_defects_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.cli import main

    db = tmp_path / "v.duckdb"
    add_passes(Store(db), "seedance-2.0", "dialogue", 20, 8)
    monkeypatch.setenv("VIDPIPE_DB", str(db))
    assert main(["trends", "--defects", "--by", "model,category,forbids_text", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["code"] == "burnt_in_text" and row["n"] == 20 and row["rate"] == 0.4 and row["ci95_low"] > 0.19
    assert main(["trends", "--defects"]) == 0
    out = capsys.readouterr().out
    assert "burnt_in_text" in out and "40%" in out
