"""Orchestration that converges (issue 28) and shows what failed (issue 22.4), on real Dagster runs.

- a read-only DuckDB connection held by another process during a shot run: the run succeeds, its rows
  wait in the outbox and arrive (QC rows = QC passes) once the reader lets go;
- a shot whose clip fails QC: its shot_qc partition is failed (red) with the one-line reason, the run
  fails with that line, `vidpipe status` names it; unscored checks are not green;
- the delivered cut against the current takes: "outdated" the moment they differ;
- the real daemon: edit → re-render → undo leaves the delivered cut made of exactly the current takes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[1]
TWO = """\
title: Two
resolution: "480p"
shots:
  - {id: s001, subject: "a blue kite over dunes, long red tail", action: "the kite loops twice", camera: "wide shot, static tripod", style: "bright noon, pastel palette", duration: 4, generate_audio: false}
  - {id: s002, subject: "a child in a yellow raincoat", action: "she runs along the dune crest", camera: "tracking shot, pan right", style: "bright noon, pastel palette", duration: 4, generate_audio: false, transition: crossfade, transition_dur: 0.5}
"""


def _write(paths, ep: str, text: str) -> None:  # type: ignore[no-untyped-def]
    paths.episode_dir(ep).mkdir(parents=True, exist_ok=True)
    (paths.episode_dir(ep) / "episode.yaml").write_text(text)


def _run_shot(instance: dg.DagsterInstance, key: str) -> dg.ExecuteInProcessResult:
    """The render_shot_job for one shot, as the sensors launch it (named job, in-process)."""
    from definitions import defs

    ep = key.split("|")[0]
    instance.add_dynamic_partitions("episodes", [ep])
    instance.add_dynamic_partitions("shots", [key])
    return defs.resolve_job_def("render_shot_job").execute_in_process(partition_key=key, instance=instance,
                                                                       raise_on_error=False)


def test_a_held_reader_fails_no_run_and_its_rows_arrive_after_release(project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import vidpipe.store as store_mod
    from vidpipe.store import Store

    monkeypatch.setattr(store_mod, "WRITE_WAIT_S", 0.5)  # a writer gives the lock half a second, then defers
    store = Store(project.db)
    assert store.query("SELECT count(*) AS n FROM qc") == [{"n": 0}]  # creates the file
    reader = subprocess.Popen(  # a notebook: one read-only connection, held until told to let go
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
         "c.execute('SELECT count(*) FROM qc').fetchall(); print('held', flush=True); sys.stdin.readline()",
         str(project.db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "held"
        with dg.instance_for_test() as instance:
            result = _run_shot(instance, "mini|s001")
            assert result.success
            passes = [e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "shot_qc"]
        assert len(passes) == 1
        assert store.pending() >= 2  # the QC row and the ledger's rows are waiting, in order
        assert store.query("SELECT count(*) AS n FROM qc") == [{"n": 0}]  # a reader still works meanwhile
        assert store.drain(wait_s=0.2) == store.pending() > 0  # still held: nothing lost, nothing landed
    finally:
        assert reader.stdin is not None
        reader.stdin.write("\n")
        reader.stdin.flush()
        reader.wait(timeout=30)
    # the first read after the release lands the waiting rows before it reads (no writer needed)
    assert store.query("SELECT count(*) AS n FROM qc WHERE shot = 's001'") == [{"n": len(passes)}]
    assert store.pending() == 0
    assert store.query("SELECT count(*) AS n FROM generations WHERE shot = 's001' AND status = 'done'") == [{"n": 1}]


def test_a_shot_that_fails_qc_is_red_with_one_line_and_status_says_why(project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import vidpipe.providers.preview_backend as backend
    from tests.media_factory import Seg, make_clip
    from vidpipe.review.data import episode_view

    def black(body, out, **_kw):  # type: ignore[no-untyped-def]
        return make_clip(Path(out), [Seg("black", 4.0)], width=854, height=480, audio=None)

    monkeypatch.setattr(backend, "animatic", black)  # the provider returns a black clip; QC is real
    with dg.instance_for_test() as instance:
        result = _run_shot(instance, "mini|s001")
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        assert failure.step_key == "shot_qc"
        line = failure.step_failure_data.user_failure_data.description
        assert line.startswith("mini|s001 failed QC: black_frames") and "\n" not in line
        # what the partitions view colours red: a planned materialization whose run failed, none since
        attempts = instance.event_log_storage.get_latest_asset_partition_materialization_attempts_without_materializations(
            dg.AssetKey("shot_qc"))
        assert attempts["mini|s001"][0] == result.run_id
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.FAILURE
        assert "mini|s001" not in instance.get_materialized_partitions(dg.AssetKey("shot_qc"))
        done = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
        assert done == {"shot_request", "shot_still", "shot_clip"}
        evals = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert evals == {"request_valid": True, "technical_qc": False}  # unscored checks: not evaluated
    from vidpipe.store import Store

    assert Store(project.db).query("SELECT defect_codes FROM qc WHERE shot = 's001'")[0]["defect_codes"]  # stored
    shot = episode_view(project, "mini")["shots"][0]
    # a clip that failed QC waits for a person's decision (another take, a resubmit, or accepting it), with why
    assert shot.status == "awaiting decision" and "black_frames" in shot.state_line


PROBE = """
import os, sys, time
import dagster as dg
from resources import MediaRoot

@dg.asset
def slow(media: MediaRoot) -> None:
    print("running", flush=True)
    time.sleep(120)

with dg.DagsterInstance.from_config(sys.argv[1]) as inst:
    dg.materialize([slow], instance=inst, resources={"media": MediaRoot(root=sys.argv[1])}, raise_on_error=False)
    print("the step outlived its run", flush=True)
"""


def test_a_step_stops_when_its_run_is_marked_failed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What a killed run worker leaves under the multiprocess executor: the run is failed, the step runs on.
    Every vidpipe step holds MediaRoot, whose guard ends the step's process once its run is over."""
    (tmp_path / "dagster.yaml").write_text("telemetry: {enabled: false}\n")
    (tmp_path / "probe.py").write_text(PROBE)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "probe.py"), str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
        with dg.DagsterInstance.from_config(str(tmp_path)) as inst:
            inst.report_run_failed(inst.get_runs(limit=1)[0])  # what the code server does when the worker dies
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 70 and "outlived" not in out, err[-2000:]
    assert time.monotonic() - t0 < 30 and "stopping this step" in err


def test_the_cut_is_outdated_as_soon_as_a_take_differs(project) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.pipeline.converge import cut_state
    from vidpipe.pipeline.record import ShotRef
    from vidpipe.pipeline.run import render_episode
    from vidpipe.review.data import episode_view

    _write(project, "two", TWO)
    assert not render_episode(project, "two").failed
    assert cut_state(project, "two").current
    assert episode_view(project, "two")["status"] in ("awaiting score", "rendered")
    s1, s2 = (ShotRef.load(project, "two", s).clip_path for s in ("s001", "s002"))
    s2.write_bytes(s1.read_bytes())  # another take now sits in s002's place
    state = cut_state(project, "two")
    assert not state.current and "other takes" in (state.reason or "")
    assert episode_view(project, "two")["status"] == "outdated"


def _kill_clip_run(inst: dg.DagsterInstance, partition: str, done: list[str], timeout: float = 300) -> dict:  # type: ignore[type-arg]
    """SIGKILL the run worker of the next run of `partition` once its clip step has started; how long until
    Dagster marks that run failed (run monitoring) and a retry starts."""
    import signal

    from benchmarks.bench_slots import _pids, _step_started

    def victim() -> dg.DagsterRun | None:
        for r in inst.get_runs(filters=dg.RunsFilter(job_name="render_shot_job", tags={"dagster/partition": partition},
                                                     statuses=[dg.DagsterRunStatus.STARTED])):
            if r.run_id not in done and _step_started(inst, r.run_id, "shot_clip") and "run" in _pids(inst, r.run_id):
                return r
        return None

    end = time.time() + timeout
    while (run := victim()) is None:
        assert time.time() < end, f"no run of {partition} reached its clip step"
        time.sleep(0.1)
    t_kill = time.time()
    os.kill(_pids(inst, run.run_id)["run"], signal.SIGKILL)
    while inst.get_run_by_id(run.run_id).status != dg.DagsterRunStatus.FAILURE:  # type: ignore[union-attr]
        assert time.time() < t_kill + 120, "the killed run was never marked failed"
        time.sleep(0.2)
    return {"run": run.run_id, "failed_after_s": round(time.time() - t_kill, 1)}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_daemon_edit_then_undo_delivers_exactly_the_current_takes(project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The issue's scenarios under a real dagster-daemon: s001's shot run is killed twice (the run and its
    automatic retry) and the shot still recovers, with no temp file left; then an edit and its undo must
    re-cut with the first take."""
    import shutil

    from vidpipe.media.ffmpeg import stop_group
    from vidpipe.pipeline.converge import cut_state
    from vidpipe.sidecar import read_sidecar

    shutil.rmtree(project.episode_dir("mini"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "deploy" / "dagster.local.yaml").read_text())
    env = {**os.environ, "DAGSTER_HOME": str(home), "VIDPIPE_ROOT": str(project.root), "PYTHONPATH": str(REPO),
           "DAGSTER_GRPC_TIMEOUT_SECONDS": "300", "VIDPIPE_DELIVERY_RESOLUTION": "720p"}  # the cut is what is tested
    subprocess.run([sys.executable, str(REPO / "launch.py"), "setup"], env=env, check=True, capture_output=True)
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen([str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w",
                               str(REPO / "workspace.yaml")], cwd=REPO, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)

    def settled(after: float, timeout: float = 420) -> list[str]:
        """The delivered cut's clip hashes, once it is current and newer than `after`."""
        end = time.time() + timeout
        while time.time() < end:
            assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
            final = project.episode_media("two") / "final.json"
            if final.exists() and final.stat().st_mtime > after:
                try:
                    state = cut_state(project, "two")
                except Exception:  # noqa: BLE001 - a file caught mid-write; look again
                    state = None
                if state is not None and state.current:
                    return list(read_sidecar(final)["clip_hashes"][:2])
            time.sleep(1)
        raise AssertionError(f"the cut did not settle: {cut_state(project, 'two')}\n"
                             + (tmp_path / "daemon.log").read_text()[-3000:])

    try:
        t0 = time.time()
        _write(project, "two", TWO)
        with dg.DagsterInstance.from_config(str(home)) as inst:
            kills = [_kill_clip_run(inst, "two|s001", [])]
            kills.append(_kill_clip_run(inst, "two|s001", [kills[0]["run"]]))
        first = settled(t0)
        with dg.DagsterInstance.from_config(str(home)) as inst:
            runs = inst.get_runs(filters=dg.RunsFilter(job_name="render_shot_job", tags={"dagster/partition": "two|s001"}))
            failed_after = [k["failed_after_s"] for k in kills]
            assert [r.status for r in reversed(runs)] == [dg.DagsterRunStatus.FAILURE] * 2 + [dg.DagsterRunStatus.SUCCESS]
            assert all(t is not None and t < 30 for t in failed_after), kills  # the dead worker is noticed
        leftovers = list(project.shot_media("two", "s001").rglob("*.tmp"))
        assert not leftovers, leftovers  # the dead runs' temp files were swept by the next attempt
        print("killed twice:", kills)
        t1 = time.time()
        _write(project, "two", TWO.replace("she runs along", "she cartwheels along"))
        edited = settled(t1)
        assert edited[0] == first[0] and edited[1] != first[1]  # exactly the edited shot was re-rendered
        t2 = time.time()
        _write(project, "two", TWO)  # undo
        undone = settled(t2)
        assert undone == first  # the delivered cut holds the current takes again (the first s002)
    finally:
        stop_group(daemon, grace_s=30)
        log.close()
