"""`make dev`: the Dagster UI and daemon (`dg dev`), stopped by the first Ctrl-C or SIGTERM.

`dg dev` forwards an interrupt to its webserver, daemon and code servers and waits for them; a
webserver still starting ignores it (uvicorn installs its handlers only once it serves), so one
Ctrl-C left the UI running for over a minute. Here the first signal goes to every process in the
tree at once, and whatever has not exited within GRACE_S is killed.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

import psutil

GRACE_S = 8.0


def stop_tree(root: int, *, grace_s: float = GRACE_S) -> list[int]:
    """SIGTERM `root` and all its descendants together, SIGKILL the ones still alive after `grace_s`.
    Returns the pids that had to be killed."""
    try:
        parent = psutil.Process(root)
    except psutil.NoSuchProcess:
        return []
    procs = [parent, *parent.children(recursive=True)]
    for p in procs:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace_s)
    return [p.pid for p in alive]


def run(argv: list[str]) -> int:
    """Run `argv` (the `dg dev` command line) until it exits or the first SIGINT/SIGTERM stops its tree."""
    proc = subprocess.Popen(argv, start_new_session=True)  # our own signal decides, not the terminal's group

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        print(f"\nstopping dagster ({signal.Signals(signum).name}) …", file=sys.stderr, flush=True)
        killed = stop_tree(proc.pid)
        if killed:
            print(f"killed {len(killed)} process(es) that ignored SIGTERM for {GRACE_S:.0f} s", file=sys.stderr)
        raise SystemExit(130 if signum == signal.SIGINT else 143)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", default="3000")
    ap.add_argument("-w", "--workspace", default="workspace.yaml")
    args = ap.parse_args()
    dg = Path(sys.executable).with_name("dg")
    raise SystemExit(run([str(dg), "dev", "-w", args.workspace, "--port", str(args.port)]))


if __name__ == "__main__":
    main()
