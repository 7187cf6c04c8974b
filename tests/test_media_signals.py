"""Interrupted renders leave nothing half-written and no ffmpeg behind (issue 12 item 3).

Real `vidpipe assemble` / `vidpipe render` processes are signalled while ffmpeg is encoding — the
moment is found from the encode itself (an ffmpeg child of vidpipe running the cut's filter graph,
and its temporary output growing), never from a sleep. Then: the child is gone, no temporary part
and no output is left, and a rerun (two at once, for SIGTERM) writes a cut that decodes without a
single error.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MINI_EPISODE
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.verify import verify_media

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PDEATHSIG is Linux's")
REPO = Path(__file__).resolve().parents[1]
DEADLINE_S = 120.0  # only bounds a hung test; nothing is asserted about speed


def as_from_a_terminal() -> None:
    """In the child before exec: SIGINT and SIGTERM at their defaults, as a terminal's foreground job has them
    (a suite started as a shell's background job passes SIGINT on as ignored, and an ignore survives exec)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def vidpipe(*args: str, cwd: Path, env: dict[str, str] | None = None, ignore_sigint: bool = False) -> subprocess.Popen[str]:
    full = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}

    def setup() -> None:
        as_from_a_terminal()
        if ignore_sigint:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen([sys.executable, "-m", "vidpipe", *args], cwd=cwd, env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=setup)


def children(pid: int) -> list[tuple[int, str, str]]:
    """(pid, state, cmdline) of the live processes whose parent is `pid` (from /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append((int(d.name), fields[0], cmd))
    return out


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] in "ZX"  # a zombie writes nothing


def wait_for_encode(proc: subprocess.Popen[str], folder: Path, stem: str) -> int:
    """Block until `proc`'s ffmpeg is encoding the cut and its part file has data; return ffmpeg's pid."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        assert proc.poll() is None, f"vidpipe ended before the encode was seen: {proc.communicate()}"
        encoders = [p for p, _, cmd in children(proc.pid) if "ffmpeg" in cmd and "-filter_complex" in cmd
                    and f".{stem}.part-" in cmd]
        parts = list(folder.glob(f".{stem}.part-*.mp4"))
        if encoders and parts and parts[0].stat().st_size > 64_000:
            return encoders[0]
        time.sleep(0.02)
    raise AssertionError("no encode seen")


def wait_gone(pid: int) -> None:
    end = time.monotonic() + DEADLINE_S
    while not gone(pid):
        assert time.monotonic() < end, f"ffmpeg {pid} outlived its parent"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def edit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An edit whose encode lasts long enough to be caught mid-way (grainy 480p, crossfade)."""
    d = tmp_path_factory.mktemp("sig")
    for i, look in enumerate(["null", "negate"]):
        run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=s=854x480:r=24:d=3", "-f", "lavfi", "-i", "sine=d=3",
                    "-vf", f"{look},noise=alls=30:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
                    "-c:a", "aac", "-shortest", str(d / f"c{i}.mp4")], what="signal test clip")
    (d / "edit.json").write_text(json.dumps({"output": "out/final.mp4", "resolution": "480p", "fps": 24, "clips": [
        {"path": "c0.mp4"}, {"path": "c1.mp4", "transition": "crossfade", "transition_dur": 1.0}]}))
    return d


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_assemble_stops_ffmpeg_and_the_rerun_is_clean(edit_dir: Path, sig: signal.Signals) -> None:
    out = edit_dir / "out"
    for f in out.glob("*"):
        f.unlink()
    proc = vidpipe("assemble", "edit.json", cwd=edit_dir)
    ffmpeg = wait_for_encode(proc, out, "final")
    os.kill(proc.pid, sig)  # to vidpipe only (like `kill`); its ffmpeg is in another process group
    _, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == (143 if sig == signal.SIGTERM else 130), err
    assert "Traceback" not in err
    wait_gone(ffmpeg)
    assert leftovers(out) == []  # no part file, no half-written cut
    if sig == signal.SIGINT:
        return  # the rerun after an interruption is the SIGTERM case's
    reruns = [vidpipe("assemble", "edit.json", "-q", cwd=edit_dir) for _ in range(2)]
    for r in reruns:  # two renders at once: separate part files, both complete
        _, err = r.communicate(timeout=DEADLINE_S * 2)
        assert r.returncode == 0, err
    rec = verify_media(out / "final.mp4", "video", playable=True)  # raises on a single decode error
    assert abs(rec.duration_s - 5.0) < 0.1 and leftovers(out) == ["final.mp4"]


def test_a_background_job_ignoring_sigint_keeps_encoding(edit_dir: Path) -> None:
    """Started with SIGINT ignored (`vidpipe assemble … &` from a script): a Ctrl-C meant for the foreground
    neither stops its ffmpeg nor fails the cut."""
    out = edit_dir / "out"
    for f in out.glob("*"):
        f.unlink()
    proc = vidpipe("assemble", "edit.json", cwd=edit_dir, ignore_sigint=True)
    ffmpeg = wait_for_encode(proc, out, "final")
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0, err
    wait_gone(ffmpeg)
    assert leftovers(out) == ["final.mp4"]
    verify_media(out / "final.mp4", "video", playable=True)


def test_sigkilled_vidpipe_takes_its_ffmpeg_along_and_the_rerun_cleans_up(edit_dir: Path) -> None:
    out = edit_dir / "out"
    for f in out.glob("*"):
        f.unlink()
    proc = vidpipe("assemble", "edit.json", "-q", cwd=edit_dir)
    ffmpeg = wait_for_encode(proc, out, "final")
    proc.kill()  # SIGKILL: no handler runs; only the kernel's parent-death signal can stop ffmpeg
    proc.communicate(timeout=DEADLINE_S)
    wait_gone(ffmpeg)
    assert not (out / "final.mp4").exists() and len(list(out.glob(".final.part-*.mp4"))) == 1
    rerun = vidpipe("assemble", "edit.json", "-q", cwd=edit_dir)
    _, err = rerun.communicate(timeout=DEADLINE_S * 2)
    assert rerun.returncode == 0, err
    verify_media(out / "final.mp4", "video", playable=True)
    assert leftovers(out) == ["final.mp4"]  # the dead process's part was removed


def test_sigterm_during_a_renders_final_cut_then_rerun(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "data" / "episodes" / "mini").mkdir(parents=True)
    (root / "data" / "episodes" / "mini" / "episode.yaml").write_text(MINI_EPISODE)
    (root / "LESSONS.md").write_text("# LESSONS\n\n## Accumulated lessons\n\n")
    env = {"VIDPIPE_ROOT": str(root)}
    media = root / "data" / "media" / "mini"
    proc = vidpipe("render", "mini", "--backend", "preview", cwd=root, env=env)
    ffmpeg = wait_for_encode(proc, media, "final")
    proc.terminate()
    _, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 143 and "Traceback" not in err, err
    wait_gone(ffmpeg)
    assert not (media / "final.mp4").exists() and not list(media.glob(".final.part-*"))
    rerun = vidpipe("render", "mini", "--backend", "preview", cwd=root, env=env)
    _, err = rerun.communicate(timeout=DEADLINE_S * 3)
    assert rerun.returncode == 0, err
    verify_media(media / "final.mp4", "video", playable=True)
    verify_media(media / "delivery.mp4", "video", playable=True)
