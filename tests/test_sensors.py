"""Sensors and the weekly schedule against a real test instance and real rendered shots."""

from __future__ import annotations

import json
from datetime import datetime
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest

TWO_SHOTS = """\
title: Two
resolution: "480p"
shots:
  - {id: s001, subject: "a blue kite over dunes, long red tail", action: "the kite loops twice", camera: "wide shot, static tripod", style: "bright noon, pastel palette", duration: 4, generate_audio: false}
  - {id: s002, subject: "a child in a yellow raincoat", action: "she runs along the dune crest", camera: "tracking shot, pan right", style: "bright noon, pastel palette", duration: 4, generate_audio: false, transition: crossfade, transition_dur: 0.5}
"""
THREE_SHOTS = TWO_SHOTS.replace("title: Two", "title: Three") + (
    '  - {id: s003, subject: "the kite tangled in a fence", action: "wind tugs at the string", '
    'camera: "close-up, slow push-in", style: "dusk, orange palette", duration: 4, generate_audio: false}\n'
)


def _write(paths, ep: str, text: str) -> None:  # type: ignore[no-untyped-def]
    d = paths.episode_dir(ep)
    d.mkdir(parents=True, exist_ok=True)
    (d / "episode.yaml").write_text(text)


def _tick(sensor, project, instance, cursor=None):  # type: ignore[no-untyped-def]
    """One sensor evaluation, as the daemon does it: resources built and torn down around the call."""
    from resources import MediaRoot

    with dg.build_sensor_context(instance=instance, cursor=cursor,
                                 resources={"media": MediaRoot(root=str(project.root))}) as ctx:
        return sensor(ctx)


def _apply(instance, res) -> None:  # type: ignore[no-untyped-def]
    """What the daemon does with a tick's partition requests (calling a sensor in a test does not apply them)."""
    for req in res.dynamic_partitions_requests:
        if isinstance(req, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
        else:
            for key in req.partition_keys:
                instance.delete_dynamic_partition(req.partitions_def_name, key)


def _launch(instance, res, status=dg.DagsterRunStatus.STARTED) -> list:  # type: ignore[no-untyped-def]
    """What the daemon does with a tick's run requests: one run each, with the request's tags (no execution)."""
    from dagster._core.test_utils import create_run_for_test

    reqs = res.run_requests if hasattr(res, "run_requests") else list(res)
    return [create_run_for_test(instance, job_name=r.job_name or "final_cut_job", status=status,
                                tags={**r.tags, "dagster/partition": r.partition_key, "dagster/run_key": r.run_key})
            for r in reqs]


def _finish(instance, failed: set[str] = frozenset()) -> None:  # type: ignore[no-untyped-def,assignment]
    """The started runs end: failed for the partitions in `failed`, successfully for the others."""
    from dagster._core.test_utils import create_run_for_test

    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        instance.delete_run(run.run_id)
        bad = run.tags["dagster/partition"] in failed
        create_run_for_test(instance, job_name=run.job_name, tags=run.tags,
                            status=dg.DagsterRunStatus.FAILURE if bad else dg.DagsterRunStatus.SUCCESS)


def test_discovery_adds_real_partitions_requests_shot_runs_and_is_idempotent(project) -> None:  # type: ignore[no-untyped-def]
    from sensors.episodes import episode_discovery

    _write(project, "two", TWO_SHOTS)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("shot_slots", ["s001", "s002", "s003"])  # an instance of the old design
        res = _tick(episode_discovery, project, instance)
        added = {(type(r).__name__, r.partitions_def_name): sorted(r.partition_keys) for r in res.dynamic_partitions_requests}
        assert added == {
            ("AddDynamicPartitionsRequest", "episodes"): ["mini", "two"],
            ("AddDynamicPartitionsRequest", "shots"): ["mini|s001", "mini|s002", "mini|s003", "two|s001", "two|s002"],
            ("DeleteDynamicPartitionsRequest", "shot_slots"): ["s001", "s002", "s003"],
        }
        runs = sorted((r.job_name, r.partition_key) for r in res.run_requests)
        assert runs == [("episode_spec_job", "mini"), ("episode_spec_job", "two"),
                        *[("render_shot_job", k) for k in ("mini|s001", "mini|s002", "mini|s003", "two|s001", "two|s002")]]
        observed = {(e.asset_key.path[-1], e.partition) for e in res.asset_events}
        assert ("episode_file", "two") in observed and ("shot_spec", "two|s002") in observed
        _apply(instance, res)
        # the same tick again before the daemon made the runs: the same shot run keys (the daemon drops repeats);
        # a spec run is asked once per file change
        assert {r.run_key for r in _tick(episode_discovery, project, instance, res.cursor).run_requests} == {
            r.run_key for r in res.run_requests if r.job_name == "render_shot_job"}
        _launch(instance, res)  # started: nothing more is asked while they are in play
        again = _tick(episode_discovery, project, instance, res.cursor)
        assert isinstance(again, dg.SkipReason)
        _finish(instance, failed={"two|s001"})
        # editing one shot: that episode's spec and the edited shot are asked for; s001, whose run failed a
        # moment ago, waits for its backoff
        _write(project, "two", TWO_SHOTS.replace("she runs along", "she cartwheels along"))
        third = _tick(episode_discovery, project, instance, res.cursor)
        keys = {r.partition_key: r.run_key for r in res.run_requests}
        assert {r.partition_key: r.run_key == keys[r.partition_key] for r in third.run_requests} == {
            "two": False, "two|s002": False}
        assert [e.partition for e in third.asset_events if e.asset_key.path[-1] == "shot_spec"] == ["two|s001", "two|s002"]
        # removing a shot and an episode removes their partitions
        _write(project, "two", TWO_SHOTS.split("  - {id: s002")[0])
        import shutil

        shutil.rmtree(project.episode_dir("mini"))
        fourth = _tick(episode_discovery, project, instance, third.cursor)
        deleted = {r.partitions_def_name: sorted(r.partition_keys) for r in fourth.dynamic_partitions_requests
                   if isinstance(r, dg.DeleteDynamicPartitionsRequest)}
        assert deleted == {"episodes": ["mini"], "shots": ["mini|s001", "mini|s002", "mini|s003", "two|s002"]}


@pytest.mark.parametrize("bad", [b"title: \xff\xfe broken\nshots: []\n",
                                 TWO_SHOTS.replace("id: s002", 'id: "s|002"').encode()])
def test_a_bad_episode_is_reported_and_the_others_carry_on(project, bad) -> None:  # type: ignore[no-untyped-def]
    from sensors.episodes import episode_discovery, final_cut_gate
    from vidpipe.pipeline.status import read_episode_errors

    project.episode_dir("broken").mkdir(parents=True)
    (project.episode_dir("broken") / "episode.yaml").write_bytes(bad)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("shots", ["broken|s001"])  # from before it broke: kept, not erased
        res = _tick(episode_discovery, project, instance)
        assert {r.partition_key.split("|")[0] for r in res.run_requests} == {"mini"}
        err = read_episode_errors(project)["broken"]["error"]
        assert "episode.yaml" in err and ("UTF-8" in err or "'|'" in err)
        obs = [e for e in res.asset_events if e.asset_key.path[-1] == "episode_file" and e.partition == "broken"]
        assert "episode.yaml" in obs[0].metadata["error"].value  # visible on the asset page
        assert not any(isinstance(r, dg.DeleteDynamicPartitionsRequest) and "broken|s001" in r.partition_keys
                       for r in res.dynamic_partitions_requests)
        _apply(instance, res)
        _launch(instance, res)
        assert isinstance(_tick(episode_discovery, project, instance, res.cursor), dg.SkipReason)  # reported once
        # the gate meets QC of a broken episode without failing the tick
        assert isinstance(_tick(final_cut_gate, project, instance), dg.SkipReason)
        # fixed → the error clears and its runs are requested
        _write(project, "broken", TWO_SHOTS)
        fixed = _tick(episode_discovery, project, instance, res.cursor)
        assert "broken" not in read_episode_errors(project)
        assert sorted(r.partition_key for r in fixed.run_requests) == ["broken", "broken|s001", "broken|s002"]


def _materialize_shots(project, instance, ep: str, shots: list[str], **res):  # type: ignore[no-untyped-def]
    from assets import SHOT_ASSETS
    from resources import build_resources

    instance.add_dynamic_partitions("episodes", [ep])
    instance.add_dynamic_partitions("shots", [f"{ep}|{s}" for s in shots])
    return {s: dg.materialize(SHOT_ASSETS, partition_key=f"{ep}|{s}", instance=instance,
                              resources=build_resources(**res), raise_on_error=False) for s in shots}


def test_gate_requests_a_cut_on_the_tick_after_the_last_shots_qc(project) -> None:  # type: ignore[no-untyped-def]
    from sensors.episodes import final_cut_gate

    _write(project, "two", TWO_SHOTS)
    _write(project, "three", THREE_SHOTS)
    with dg.instance_for_test() as instance:
        assert isinstance(_tick(final_cut_gate, project, instance), dg.SkipReason)
        _materialize_shots(project, instance, "two", ["s001", "s002"])
        _materialize_shots(project, instance, "three", ["s001", "s002"])
        res = _tick(final_cut_gate, project, instance)
        assert [(r.partition_key, r.job_name) for r in res.run_requests] == [("two", "final_cut_job")]  # three lacks s003
        _launch(instance, res)
        assert isinstance(_tick(final_cut_gate, project, instance), dg.SkipReason)  # its run is in play
        _materialize_shots(project, instance, "three", ["s003"])
        res2 = _tick(final_cut_gate, project, instance)
        assert [r.partition_key for r in res2.run_requests] == ["three"]
        assert res2.run_requests[0].run_key.startswith("final:three:")


def test_judge_failure_is_a_warning_and_the_qc_row_is_stored(project) -> None:  # type: ignore[no-untyped-def]
    from resources import Judge
    from vidpipe.store import Store

    _write(project, "two", TWO_SHOTS)
    with dg.instance_for_test() as instance:
        r = _materialize_shots(project, instance, "two", ["s001"], judge=Judge(mode="vlm"))["s001"]  # no GEMINI key
        assert r.success
        evals = {e.check_name: (e.passed, e.severity) for e in r.get_asset_check_evaluations()}
        assert evals["judge_ran"] == (False, dg.AssetCheckSeverity.WARN)
        assert evals["technical_qc"] == (True, dg.AssetCheckSeverity.ERROR)
    rows = Store(project.db).query("SELECT shot, scores FROM qc WHERE episode = 'two'")
    assert rows == [{"shot": "s001", "scores": None}]


def test_learning_sensor_and_assets_run_for_real(project) -> None:  # type: ignore[no-untyped-def]
    from assets import lessons, qc_scores
    from resources import build_resources
    from sensors.learning import qc_to_lessons

    _write(project, "two", TWO_SHOTS)
    with dg.instance_for_test() as instance:
        assert isinstance(qc_to_lessons(dg.build_sensor_context(instance=instance)), dg.SkipReason)
        _materialize_shots(project, instance, "two", ["s001", "s002"])
        ctx = dg.build_sensor_context(instance=instance)
        req = qc_to_lessons(ctx)
        assert isinstance(req, dg.RunRequest) and req.tags["vidpipe/new_qc_passes"] == "2"
        assert isinstance(qc_to_lessons(dg.build_sensor_context(instance=instance, cursor=ctx.cursor)), dg.SkipReason)
        r = dg.materialize([qc_scores, lessons], instance=instance, resources=build_resources())
        assert r.success
        meta = {e.asset_key.path[-1]: e.materialization.metadata for e in r.get_asset_materialization_events()}
        assert meta["qc_scores"]["qc_rows"].value == 2 and meta["qc_scores"]["score_rows"].value == 0
        assert meta["lessons"]["appended"].value == 0  # two unscored passes are no evidence
        assert Path(meta["lessons"]["path"].value).exists()


def test_weekly_schedules_carry_pending_episodes_to_delivery_with_stable_keys(project) -> None:  # type: ignore[no-untyped-def]
    from resources import MediaRoot
    from sensors.schedules import weekly_final_cuts, weekly_shot_renders
    from vidpipe.pipeline.run import render_episode
    from vidpipe.pipeline.status import read_episode_errors

    _write(project, "two", TWO_SHOTS)
    run = render_episode(project, "two")
    assert run.delivery and not run.failed
    (project.episode_dir("broken")).mkdir(parents=True)  # a folder without episode.yaml
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("episodes", ["mini", "two", "broken"])

        def tick(schedule):  # type: ignore[no-untyped-def]
            with dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 30, 6, 0),
                                           resources={"media": MediaRoot(root=str(project.root))}) as ctx:
                return schedule(ctx)

        shots = tick(weekly_shot_renders)  # "two" is delivered and current: left alone
        assert sorted(r.partition_key for r in shots) == ["mini|s001", "mini|s002", "mini|s003"]
        assert all(r.run_key == f"weekly:2026-W49:{r.partition_key}" for r in shots)
        assert isinstance(tick(weekly_final_cuts), dg.SkipReason)  # mini's shots are not rendered yet
        assert "no episode.yaml" in read_episode_errors(project)["broken"]["error"]
        since = read_episode_errors(project)["broken"]["since"]
        # "two" edited: its edited shot joins the batch; the same week asks with the same keys
        _write(project, "two", TWO_SHOTS.replace("loops twice", "dives"))
        again = tick(weekly_shot_renders)
        assert sorted(r.partition_key for r in again) == ["mini|s001", "mini|s002", "mini|s003", "two|s001"]
        assert {r.run_key for r in shots} < {r.run_key for r in again}
        _write(project, "two", TWO_SHOTS)
        # a lost delivery: every shot is ready, so the cut-and-deliver run is asked for
        (project.episode_media("two") / "delivery.mp4").unlink()
        cuts = tick(weekly_final_cuts)
        assert [(r.partition_key, r.run_key) for r in cuts] == [("two", "weekly:2026-W49:two")]
        assert read_episode_errors(project)["broken"]["since"] == since  # reported once, not again each week


def test_fanout_rerenders_only_the_edited_shot(project) -> None:  # type: ignore[no-untyped-def]
    from sensors.episodes import episode_discovery
    from vidpipe.pipeline.record import ShotRef

    _write(project, "two", TWO_SHOTS)
    with dg.instance_for_test() as instance:
        first = _tick(episode_discovery, project, instance)
        assert sorted(r.partition_key for r in first.run_requests if r.job_name == "render_shot_job") == [
            "mini|s001", "mini|s002", "mini|s003", "two|s001", "two|s002"]
        _materialize_shots(project, instance, "two", ["s001", "s002"])
        before = {s: ShotRef.load(project, "two", s).clip_path.read_bytes() for s in ("s001", "s002")}
        _write(project, "two", TWO_SHOTS.replace("she runs along", "she cartwheels along"))
        tick = _tick(episode_discovery, project, instance, first.cursor)
        assert [r.partition_key for r in tick.run_requests if r.partition_key.startswith("two|")] == ["two|s002"]
        r = _materialize_shots(project, instance, "two", ["s001", "s002"])
        cached = {e.asset_key.path[-1]: e.materialization.metadata["cache_hit"].value
                  for e in r["s001"].get_asset_materialization_events() if e.asset_key.path[-1] == "shot_clip"}
        assert cached == {"shot_clip": True}
        assert ShotRef.load(project, "two", "s001").clip_path.read_bytes() == before["s001"]
        assert ShotRef.load(project, "two", "s002").clip_path.read_bytes() != before["s002"]


def test_blocking_check_stops_only_the_bad_shot_and_the_failure_record_says_why(project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from resources import MediaRoot
    from sensors.failures import run_failure_record

    got: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    # a request error only the composed request shows (an episode-level error now stops the whole episode on load)
    bad = TWO_SHOTS.replace("the kite loops twice", "the kite loops twice around [Image3]", 1)
    _write(project, "two", bad)
    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    monkeypatch.setenv("VIDPIPE_FAILURE_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    with dg.instance_for_test() as instance:
        results = _materialize_shots(project, instance, "two", ["s001", "s002"])
        assert not results["s001"].success and results["s002"].success
        evals = {e.check_name: e.passed for e in results["s001"].get_asset_check_evaluations()}
        assert evals == {"request_valid": False}
        done = {e.asset_key.path[-1] for e in results["s001"].get_asset_materialization_events()}
        assert done == {"shot_request"}  # nothing downstream of the failed check
        run = instance.get_run_by_id(results["s001"].run_id)
        failure = next(e for e in instance.all_logs(run.run_id) if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_FAILURE")
        with dg.build_run_status_sensor_context(
            sensor_name="run_failure_record", dagster_instance=instance, dagster_run=run,
            dagster_event=failure.dagster_event, resources={"media": MediaRoot(root=str(project.root))},
        ) as ctx:
            run_failure_record(ctx.for_run_failure())
    server.server_close()
    rec = json.loads((project.data / "run_failures.jsonl").read_text().splitlines()[-1])
    assert rec["partition"] == "two|s001" and rec["job"] == run.job_name
    assert rec["failed_steps"] == ["shot_request"]
    assert "request_valid" in rec["error"]  # the failing step's own message, not "Steps failed"
    assert got and got[0]["error"] == rec["error"] and got[0]["partition"] == "two|s001"
