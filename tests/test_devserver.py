"""`make dev` stops on the first Ctrl-C: the wrapper stops the whole `dg dev` tree, even a child that
ignores the interrupt (as Dagster's webserver does while it is still starting)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]

# A stand-in for `dg dev`: a parent that waits on a child which ignores SIGINT and SIGTERM.
STUBBORN = """
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    "open(%r, 'w').write('ready'); time.sleep(600)"])
signal.signal(signal.SIGINT, signal.SIG_IGN)
child.wait()
"""


def test_first_interrupt_stops_the_whole_tree(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    code = ("import sys; from vidpipe.devserver import run; "
            f"sys.exit(run([sys.executable, '-c', {STUBBORN % str(ready)!r}]))")
    wrapper = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready.exists()
    tree = [wrapper.pid, *(p.pid for p in psutil.Process(wrapper.pid).children(recursive=True))]
    assert len(tree) == 3
    wrapper.send_signal(signal.SIGINT)
    rc = wrapper.wait(timeout=60)
    assert rc == 130 and "stopping dagster (SIGINT)" in (wrapper.stderr.read() if wrapper.stderr else "")
    time.sleep(0.2)
    assert not [pid for pid in tree[1:] if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
