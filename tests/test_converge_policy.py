"""The asking rule behind the sensors (vidpipe.pipeline.converge) and the temp-file sweep, as plain functions."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from vidpipe.pipeline.converge import Attempt, clean_dead_temp_files, next_request


def test_a_state_is_asked_once_again_after_an_undo_and_never_while_a_run_is_in_play() -> None:
    a, b = "fp-a", "fp-b"
    assert next_request(a, [], 0).ask
    assert not next_request(a, [Attempt(a, "active", 0)], 0).ask
    assert not next_request(b, [Attempt(a, "active", 0)], 0).ask  # wait for the old state's run, then look again
    assert not next_request(a, [Attempt(a, "success", 0)], 10).ask  # made; if it is still wrong a person decides
    # edit (b) then undo (a): a was made before, but the last run made b, so a is asked for again
    undo = next_request(a, [Attempt(a, "success", 0), Attempt(b, "success", 5)], 10)
    assert undo.ask and undo.why == "state came back" and undo.attempt == 2  # attempt 2: a fresh run key


def test_a_failed_state_is_retried_with_backoff_then_left_to_a_person() -> None:
    a = "fp-a"
    one = [Attempt(a, "failure", 100.0)]
    assert not next_request(a, one, 130, backoff_s=60).ask  # 30 s after: still backing off
    assert next_request(a, one, 161, backoff_s=60).ask
    two = one + [Attempt(a, "failure", 200.0)]
    assert not next_request(a, two, 300, backoff_s=60).ask and next_request(a, two, 321, backoff_s=60).ask  # 120 s
    three = two + [Attempt(a, "failure", 400.0)]
    gave_up = next_request(a, three, 10_000, backoff_s=60, auto_retries=2)
    assert not gave_up.ask and "person" in gave_up.why
    assert next_request("fp-edited", three, 10_000).ask  # an edit is a person asking


def test_temp_files_of_dead_runs_are_removed_and_live_ones_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    folder = tmp_path / "shot"
    (folder / "review").mkdir(parents=True)
    debris = folder / f".clip.mp4.{dead_pid}.tmp"  # pipeline._link's temp name, from a process now gone
    mine = folder / f".clip.mp4.{os.getpid()}.tmp"  # a live writer's
    fresh = folder / "review" / "qc.json.tmp"  # no pid in the name, just written
    old = folder / "review" / ".shot.json.140212345678912.tmp"  # a thread id, untouched for an hour
    for p in (debris, mine, fresh, old):
        p.write_bytes(b"half")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert sorted(clean_dead_temp_files(folder)) == sorted([debris, old])
    assert mine.exists() and fresh.exists()
