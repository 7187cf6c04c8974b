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


def _render_shots(paths, ep: str, shots: list[str]) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.pipeline import ShotRef, prepare_request, render_clip, render_still, check_clip

    for sid in shots:
        ref = ShotRef.load(paths, ep, sid)
        prepare_request(ref)
        render_still(ref)
        render_clip(ref)
        check_clip(ref)


def test_discovery_adds_partitions_and_is_idempotent(project) -> None:  # type: ignore[no-untyped-def]
    from sensors.episodes import episode_discovery

    _write(project, "two", TWO_SHOTS)
    with dg.instance_for_test() as instance:
        res = episode_discovery(dg.build_sensor_context(instance=instance))
        assert sorted(r.partition_key for r in res.run_requests) == ["mini", "two"]
        added = {r.partitions_def_name: sorted(r.partition_keys) for r in res.dynamic_partitions_requests}
        assert added == {"episodes": ["mini", "two"], "shot_slots": ["s001", "s002", "s003"]}
        again = episode_discovery(dg.build_sensor_context(instance=instance, cursor=res.cursor))
        assert isinstance(again, dg.SkipReason)
        # editing one episode re-requests that episode only, with a new run key
        _write(project, "two", TWO_SHOTS.replace("loops twice", "loops three times"))
        third = episode_discovery(dg.build_sensor_context(instance=instance, cursor=res.cursor))
        assert [r.partition_key for r in third.run_requests] == ["two"]
        assert third.run_requests[0].run_key != next(r.run_key for r in res.run_requests if r.partition_key == "two")


def test_discovery_reports_a_broken_episode_without_stopping(project) -> None:  # type: ignore[no-untyped-def]
    from sensors.episodes import episode_discovery

    _write(project, "broken", "title: x\nshots: [{id: s001, duration: 'long'}]\n")
    with dg.instance_for_test() as instance:
        res = episode_discovery(dg.build_sensor_context(instance=instance))
        assert [r.partition_key for r in res.run_requests] == ["mini"]


def test_gate_waits_for_each_episodes_real_shots(project) -> None:  # type: ignore[no-untyped-def]
    from sensors.episodes import final_cut_gate

    _write(project, "two", TWO_SHOTS)
    _write(project, "three", THREE_SHOTS)
    _render_shots(project, "two", ["s001", "s002"])
    _render_shots(project, "three", ["s001", "s002"])
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("episodes", ["two", "three"])
        instance.add_dynamic_partitions("shot_slots", ["s001", "s002", "s003"])
        res = final_cut_gate(dg.build_sensor_context(instance=instance))
        # "two" has no s003: its phantom slot must not block it; "three" still lacks s003
        assert [r.partition_key for r in res.run_requests] == ["two"]
        _render_shots(project, "three", ["s003"])
        res = final_cut_gate(dg.build_sensor_context(instance=instance))
        assert sorted(r.partition_key for r in res.run_requests) == ["three", "two"]


def test_weekly_schedule_requests_each_pending_episode(project) -> None:  # type: ignore[no-untyped-def]
    from sensors.schedules import weekly_episode_batch
    from vidpipe.pipeline.run import render_episode

    _write(project, "two", TWO_SHOTS)
    run = render_episode(project, "two")
    assert run.delivery and not run.failed
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("episodes", ["mini", "two"])
        ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 30, 6, 0))
        reqs = weekly_episode_batch(ctx)
        assert [r.partition_key for r in reqs] == ["mini"]  # "two" is delivered and current
        _write(project, "two", TWO_SHOTS.replace("loops twice", "dives"))
        reqs = weekly_episode_batch(ctx)
        assert sorted(r.partition_key for r in reqs) == ["mini", "two"]
        assert len({r.run_key for r in reqs}) == 2


def test_fanout_rerenders_only_the_edited_shot(project) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.pipeline import ShotRef, render_clip
    from vidpipe.pipeline.status import shots_to_render

    _write(project, "two", TWO_SHOTS)
    assert [s for s, _ in shots_to_render(project, "two")] == ["s001", "s002"]
    _render_shots(project, "two", ["s001", "s002"])
    assert shots_to_render(project, "two") == []
    before = {s: ShotRef.load(project, "two", s).clip_path.read_bytes() for s in ("s001", "s002")}
    _write(project, "two", TWO_SHOTS.replace("she runs along", "she cartwheels along"))
    assert [s for s, _ in shots_to_render(project, "two")] == ["s002"]
    _render_shots(project, "two", ["s001", "s002"])
    s1 = render_clip(ShotRef.load(project, "two", "s001"))
    assert s1.cache_hit
    assert ShotRef.load(project, "two", "s001").clip_path.read_bytes() == before["s001"]
    assert ShotRef.load(project, "two", "s002").clip_path.read_bytes() != before["s002"]


def test_blocking_check_stops_only_the_bad_shot(project) -> None:  # type: ignore[no-untyped-def]
    from assets import SHOT_ASSETS
    from resources import build_resources

    # a request error only the composed request shows (an episode-level error such as duration 20 now stops the
    # whole episode when it loads: vidpipe/episode.py)
    bad = TWO_SHOTS.replace("the kite loops twice", "the kite loops twice around [Image3]", 1)
    _write(project, "two", bad)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("episodes", ["two"])
        instance.add_dynamic_partitions("shot_slots", ["s001", "s002"])
        results = {
            s: dg.materialize(SHOT_ASSETS, partition_key=dg.MultiPartitionKey({"episode": "two", "shot": s}),
                              instance=instance, resources=build_resources(), raise_on_error=False)
            for s in ("s001", "s002")
        }
        assert not results["s001"].success and results["s002"].success
        evals = {e.check_name: e.passed for e in results["s001"].get_asset_check_evaluations()}
        assert evals == {"request_valid": False}
        done = {e.asset_key.path[-1] for e in results["s001"].get_asset_materialization_events()}
        assert done == {"shot_request"}  # nothing downstream of the failed check


def test_run_failure_record_and_webhook(project) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.pipeline.status import record_failure

    got: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    rec = record_failure(project, {"run_id": "r1", "job": "render_shot_job", "partition": "mini|s001"},
                         webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
    server.server_close()
    assert rec["notified"] is True and got[0]["run_id"] == "r1"
    lines = (project.data / "run_failures.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["partition"] == "mini|s001"
