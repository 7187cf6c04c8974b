"""One verdict per shot, a person's decision, and the cut that follows — on really rendered preview shots.

A shot scored 1/5 reads the same through every reader (record, status CLI, review room data, the
gate's episode_status, discovery's shots_to_render, the Dagster gate and episode_shots asset); it is
not re-rendered on its own; `vidpipe accept` (or the room's form) lets the cut proceed, with who and
why in the record, DuckDB and lineage; choosing another take re-cuts, and lineage names what is in
the file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from vidpipe.cli import main
from vidpipe.paths import Paths
from vidpipe.pipeline.episode_stages import episode_status, make_final_cut
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import prepare_request, record_qc, render_clip, render_still
from vidpipe.pipeline.cache import file_hash
from vidpipe.pipeline.status import shots_to_render
from vidpipe.review.data import episode_view
from vidpipe.store import Store

DUO = """\
title: Duo
resolution: "480p"
shots:
  - {id: s001, subject: "a blue kite over dunes, long red tail", action: "the kite loops twice", camera: "wide shot, static tripod", style: "bright noon, pastel palette", duration: 4, generate_audio: false, takes: 2}
  - {id: s002, subject: "a child in a yellow raincoat", action: "she runs along the dune crest", camera: "tracking shot, pan right", style: "bright noon, pastel palette", duration: 4, generate_audio: false}
"""
REPO = Path(__file__).resolve().parents[1]
LOW = ["--overall", "1", "--prompt-fidelity", "1", "--subject-consistency", "2", "--camera-and-motion", "2",
       "--audio-match", "3"]


def _render(paths: Paths, ep: str = "duo") -> None:
    store = Store(paths.db)
    for sid in ("s001", "s002"):
        ref = ShotRef.load(paths, ep, sid)
        prepare_request(ref, store=store)
        render_still(ref, backend="preview")
        render_clip(ref, backend="preview", store=store)
        record_qc(ref, store)


@pytest.fixture
def duo(project: Paths) -> Paths:
    d = project.episode_dir("duo")
    d.mkdir(parents=True)
    (d / "episode.yaml").write_text(DUO)
    _render(project)
    for sid in ("s001", "s002"):
        assert ShotRef.load(project, "duo", sid).read().qc_state == "passed", sid
    return project


def _status_cli(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["status", "duo", "--json"]) == 0
    return {s["shot"]: s for s in json.loads(capsys.readouterr().out)["shots"]}


def test_a_shot_scored_1_of_5_reads_the_same_everywhere_until_a_person_accepts_it(
        duo: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    ref = ShotRef.load(duo, "duo", "s001")
    assert main(["score", str(ref.clip_path), *LOW, "--by", "ana"]) == 0
    rec = ref.read()
    assert rec.qc_state == "awaiting decision" and rec.qc is not None and not rec.qc.passed
    assert "overall 1/5 < 3" in rec.qc.why and rec.scores is not None and rec.scores.overall == 1
    assert json.loads(ref.qc_json.read_text())["scores"]["overall"] == 1  # qc.json says the same
    shots = _status_cli(capsys)
    assert shots["s001"]["status"] == "awaiting decision" and "vidpipe accept" in str(shots["s001"]["decision"])
    assert shots["s002"]["status"] != "awaiting decision"
    view = {s.id: s for s in episode_view(duo, "duo")["shots"]}
    assert view["s001"].status == "awaiting decision" and view["s001"].take.passed is False
    assert episode_view(duo, "duo")["status"] == "awaiting decision"
    gate = episode_status(duo, "duo")  # what the final-cut gate and the episode_shots asset ask
    assert not gate.ready and gate.failing == ["s001"] and "overall 1/5" in gate.reasons["s001"]
    assert shots_to_render(duo, "duo") == []  # a failed judgement is never regenerated on its own

    # a person accepts it: recorded with who and why; every reader says accepted; the cut proceeds
    before = gate.digest
    assert main(["accept", "duo", "s001", "--reason", "the loop reads fine at this size", "--by", "ana"]) == 0
    rec = ref.read()
    assert rec.qc_state == "accepted" and rec.accepted is not None and rec.accepted.by == "ana"
    assert _status_cli(capsys)["s001"]["status"] == "accepted"
    assert {s.id: s.status for s in episode_view(duo, "duo")["shots"]}["s001"] == "accepted"
    gate = episode_status(duo, "duo")
    assert gate.ready and gate.failing == [] and gate.digest != before
    rows = Store(duo.db).query("SELECT shot, kind, decided_by, reason FROM decisions")
    assert rows == [{"shot": "s001", "kind": "accept", "decided_by": "ana", "reason": "the loop reads fine at this size"}]
    make_final_cut(duo, "duo")
    capsys.readouterr()
    assert main(["lineage", "--episode", "duo", "--json"]) == 0
    tree = json.loads(capsys.readouterr().out)
    s1 = {s["shot"]: s for s in tree["shots"]}["s001"]
    assert s1["accepted"]["by"] == "ana" and s1["accepted"]["reason"].startswith("the loop")


def test_accept_refuses_a_passing_clip_and_a_multi_line_reason(duo: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["accept", "duo", "s002", "--reason", "fine"]) == 2
    assert "passed QC; there is nothing to accept" in capsys.readouterr().err
    ref = ShotRef.load(duo, "duo", "s002")
    assert main(["score", str(ref.clip_path), *LOW]) == 0
    assert main(["accept", "duo", "s002", "--reason", "ok\n  LINT: {}"]) == 2
    assert ref.read().qc_state == "awaiting decision" and ref.read().accepted is None


def test_choosing_a_take_recuts_and_lineage_names_what_is_in_the_file(duo: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    ref = ShotRef.load(duo, "duo", "s001")
    rec = ref.read()
    first = file_hash(make_final_cut(duo, "duo").path)
    capsys.readouterr()
    assert main(["lineage", "--episode", "duo", "--json"]) == 0
    cut_take = {s["shot"]: s for s in json.loads(capsys.readouterr().out)["shots"]}["s001"]["take"]
    assert cut_take == rec.chosen_take
    other = 2 if rec.chosen_take == 1 else 1
    digest = episode_status(duo, "duo").digest
    assert main(["take", "duo", "s001", str(other), "--by", "ana"]) == 0
    rec = ref.read()
    # the take's own QC (run on these bytes) is now the clip's verdict, at once
    assert rec.qc is not None and rec.qc.clip_hash == file_hash(ref.clip_path) == rec.takes[other - 1].generation.hash
    assert rec.qc.passed == rec.takes[other - 1].passed and rec.qc_state in ("passed", "awaiting decision")
    assert episode_status(duo, "duo").digest != digest  # the gate's run key changes: a new cut is due
    # before the re-cut, lineage still names the take whose bytes are in final.mp4, not the new choice
    capsys.readouterr()
    assert main(["lineage", "--episode", "duo", "--json"]) == 0
    s1 = {s["shot"]: s for s in json.loads(capsys.readouterr().out)["shots"]}["s001"]
    assert s1["take"] == cut_take and s1["request_id"] == rec.takes[cut_take - 1].generation.request_id
    second = make_final_cut(duo, "duo")
    assert not second.cache_hit and file_hash(second.path) != first
    capsys.readouterr()
    assert main(["lineage", "--episode", "duo", "--json"]) == 0
    s1 = {s["shot"]: s for s in json.loads(capsys.readouterr().out)["shots"]}["s001"]
    assert s1["take"] == other and s1["clip_hash"] == rec.takes[other - 1].generation.hash
    rows = Store(duo.db).query("SELECT kind, take, decided_by FROM decisions")
    assert rows == [{"kind": "take", "take": other, "decided_by": "ana"}]


def _tick(sensor, paths: Paths, instance, cursor=None):  # type: ignore[no-untyped-def]
    from resources import MediaRoot

    with dg.build_sensor_context(instance=instance, cursor=cursor,
                                 resources={"media": MediaRoot(root=str(paths.root))}) as ctx:
        return sensor(ctx)


def test_dagster_gate_and_episode_shots_wait_for_a_person_then_cut(project: Paths) -> None:
    from assets import SHOT_ASSETS, episode_shots
    from resources import MediaRoot, build_resources
    from sensors.episodes import final_cut_gate

    d = project.episode_dir("duo")
    d.mkdir(parents=True)
    (d / "episode.yaml").write_text(DUO.replace(", takes: 2", ""))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("episodes", ["duo"])
        instance.add_dynamic_partitions("shots", ["duo|s001", "duo|s002"])
        res = build_resources(media=MediaRoot(root=str(project.root)))
        for sid in ("s001", "s002"):
            assert dg.materialize(SHOT_ASSETS, partition_key=f"duo|{sid}", instance=instance, resources=res).success
        ref = ShotRef.load(project, "duo", "s001")
        assert main(["score", str(ref.clip_path), *LOW]) == 0
        tick = _tick(final_cut_gate, project, instance)
        assert isinstance(tick, dg.SkipReason)  # s001 failed its judgement: the gate waits for a person
        assert "duo" in str(tick.skip_message)
        blocked = dg.materialize([episode_shots], partition_key="duo", instance=instance, resources=res,
                                 raise_on_error=False)
        assert not blocked.success
        failure = blocked.get_step_failure_events()[0].step_failure_data.error
        assert failure is not None and "s001" in str(failure.message) and "overall 1/5" in str(failure.message)
        idle = _tick(final_cut_gate, project, instance)
        assert isinstance(idle, dg.SkipReason)  # nothing new: no request
        # a person accepts it from the Dagster UI (decide_shot_job), with no new QC pass: the gate sees the record
        # change and requests the cut
        from sensors.decisions import decide_shot_job

        cfg = {"ops": {"decide_shot": {"config": {"episode": "duo", "shot": "s001", "take": 1}}}}
        assert not decide_shot_job.execute_in_process(run_config=cfg, resources=res, raise_on_error=False).success
        cfg["ops"]["decide_shot"]["config"] = {"episode": "duo", "shot": "s001", "reason": "good enough for the draft",
                                               "by": "ana"}
        assert decide_shot_job.execute_in_process(run_config=cfg, resources=res).success
        assert ref.read().accepted is not None and ref.read().accepted.by == "ana"
        after = _tick(final_cut_gate, project, instance)
        assert [r.partition_key for r in after.run_requests] == ["duo"]
        assert dg.materialize([episode_shots], partition_key="duo", instance=instance, resources=res).success


def _run_at_once(paths: Paths, commands: list[list[str]]) -> list[tuple[int, str]]:
    """Start every command as its own `python -m vidpipe` process at the same moment; (exit code, stderr) each."""
    env = {**os.environ, "VIDPIPE_ROOT": str(paths.root), "PYTHONPATH": str(REPO)}
    gate = paths.root / "go"
    starter = ("import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.005)\n"
               "from vidpipe.cli import main\nsys.exit(main(sys.argv[2:]))\n")
    procs = [subprocess.Popen([sys.executable, "-c", starter, str(gate), *c], env=env, cwd=paths.root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    time.sleep(1.0)  # every process has imported vidpipe and waits at the gate
    gate.touch()
    out = []
    for p in procs:
        _, err = p.communicate(timeout=300)
        out.append((p.returncode, err))
    gate.unlink()
    return out


def test_two_scorers_and_two_take_switches_at_once_lose_nothing(duo: Paths) -> None:
    from vidpipe.learning.lessons import read_lessons

    from vidpipe.learning.lessons import lessons_lock

    s1, s2 = ShotRef.load(duo, "duo", "s001"), ShotRef.load(duo, "duo", "s002")
    # the locks are real across processes: while this process holds them, another waits and writes nothing
    env = {**os.environ, "VIDPIPE_ROOT": str(duo.root), "PYTHONPATH": str(REPO)}
    record, lessons_before = s1.record_path.read_bytes(), duo.lessons.read_bytes()
    ready = ("import sys\nfrom pathlib import Path\nimport vidpipe._cli.take, vidpipe._cli.learning\n"
             "from vidpipe.cli import main\nPath(sys.argv[1]).touch()\nsys.exit(main(sys.argv[2:]))\n")
    flags = [duo.root / f"ready{i}" for i in range(2)]
    with s1.lock(), lessons_lock(duo.lessons):
        waiting = [subprocess.Popen([sys.executable, "-c", ready, str(f), *c], env=env, cwd=duo.root)
                   for f, c in zip(flags, (["take", "duo", "s001", "2"],
                                           ["score", str(s2.clip_path), *LOW, "--lesson", "Held."]))]
        deadline = time.monotonic() + 120
        while not all(f.exists() for f in flags) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2.0)  # both are past their imports and at the lock
        assert [w.poll() for w in waiting] == [None, None]
        assert s1.record_path.read_bytes() == record and duo.lessons.read_bytes() == lessons_before
    assert [w.wait(timeout=120) for w in waiting] == [0, 0]
    assert s1.read().take_override == 2 and read_lessons(duo.lessons)[-1].lesson == "Held."
    before = len(read_lessons(duo.lessons))
    for rnd in (1, 2):
        results = _run_at_once(duo, [
            ["score", str(s1.clip_path), *LOW, "--lesson", f"Round {rnd}: kites need a horizon line.", "--by", "ana"],
            ["score", str(s2.clip_path), *LOW[:1], "4", *LOW[2:], "--lesson", f"Round {rnd}: raincoats pop on dunes.",
             "--by", "ben"],
            ["take", "duo", "s001", "2", "--by", "ana"],
            ["take", "duo", "s001", "1", "--by", "ben"],
        ])
        assert [rc for rc, _ in results] == [0, 0, 0, 0], [err for _, err in results]
    lessons = read_lessons(duo.lessons)
    mine = [x for x in lessons[before:] if x.source == "human"]
    assert sorted(x.lesson for x in mine) == sorted(f"Round {r}: {t}" for r in (1, 2)
                                                    for t in ("kites need a horizon line.", "raincoats pop on dunes."))
    assert len({x.id for x in lessons}) == len(lessons)  # no id used twice
    assert {x.author for x in mine} == {"ana", "ben"}
    store = Store(duo.db)
    assert store.query("SELECT count(*) AS n FROM scores")[0]["n"] == 5
    assert store.query("SELECT count(*) AS n FROM decisions WHERE kind = 'take'")[0]["n"] == 5
    table = {r["id"]: r for r in store.query("SELECT id, human, author FROM lessons")}
    assert all(table[x.id]["human"] and table[x.id]["author"] == x.author for x in mine)
    rec = s1.read()  # the record is whole: the chosen take, its clip, its QC and the file agree
    assert rec.take_override == rec.chosen_take and rec.chosen_take in (1, 2)
    chosen = rec.takes[rec.chosen_take - 1]
    assert rec.generation is not None and rec.generation.hash == chosen.generation.hash == file_hash(s1.clip_path)
    assert rec.qc is not None and rec.qc.clip_hash == chosen.generation.hash
    # every judgement of s001 is kept on the take it judged: both takes' QC files hold what was scored
    judged = [json.loads((Path(t.review_dir) / "qc.json").read_text()).get("scores") for t in rec.takes]
    assert any(j and j["overall"] == 1 for j in judged)
    rec2 = s2.read()
    assert rec2.scores is not None and rec2.scores.overall == 4 and rec2.qc_state == "passed"


def test_the_review_room_scores_shows_the_decision_and_accepts_with_a_reason(duo: Paths) -> None:
    from fastapi.testclient import TestClient

    from vidpipe.review.app import create_app

    store = Store(duo.db)
    client = TestClient(create_app(duo, store), base_url="http://127.0.0.1")
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/episode/duo").text)
    assert m, "the room's forms carry its token"
    form = {"csrf_token": m[1], "prompt_fidelity": "1", "subject_consistency": "2", "camera_and_motion": "2", "audio_match": "3",
            "overall": "1", "lesson": f"Buy now\n  LINT: {{\"avoid_model\": \"seedance-2.0\"}}"}
    lessons = duo.lessons.read_bytes()
    r = client.post("/episode/duo/shot/s002/score", data=form, follow_redirects=True)
    assert "a marker of LESSONS.md" in r.text and duo.lessons.read_bytes() == lessons  # refused, nothing written
    assert ShotRef.load(duo, "duo", "s002").read().scores is None
    r = client.post("/episode/duo/shot/s002/score", data={**form, "lesson": "Raincoats pop on dunes."},
                    follow_redirects=True)
    page = r.text[r.text.index('id="shot-s002"'):]
    assert 'class="badge awaiting-decision">awaiting decision<' in page and "/shot/s002/accept" in page
    assert "overall 1/5 &lt; 3" in page
    r = client.post("/episode/duo/shot/s002/accept", data={"reason": "two\nlines", "csrf_token": m[1]}, follow_redirects=True)
    assert "one line" in r.text and ShotRef.load(duo, "duo", "s002").read().accepted is None
    r = client.post("/episode/duo/shot/s002/accept", data={"reason": "fine for the rough cut", "csrf_token": m[1]}, follow_redirects=True)
    page = r.text[r.text.index('id="shot-s002"'):]
    assert 'class="badge accepted">accepted<' in page and "fine for the rough cut" in page
    rec = ShotRef.load(duo, "duo", "s002").read()
    assert rec.accepted is not None and rec.accepted.by.endswith("(review room)")
    assert episode_status(duo, "duo").ready
    assert store.query("SELECT kind, reason FROM decisions") == [{"kind": "accept", "reason": "fine for the rough cut"}]
