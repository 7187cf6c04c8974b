"""Which ffmpeg runs: an ffmpeg on PATH that cannot run vidpipe's graphs is passed over for the wheel's.

Debian 12's ffmpeg 5.1 rejects `ebur128=…:framelog=quiet`. The stand-in below is the wheel's own
binary behind a script that fails exactly that option the way 5.1 does, so the selection logic is
tested on every machine; where a real pre-6 ffmpeg is installed (Debian's package), the same
checks run against it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vidpipe.errors import FfmpegNotFound
from vidpipe.media import ffmpeg as ff
from vidpipe.media.ffmpeg_choice import choose, shortfall, wheel_exe
from vidpipe.paths import Paths

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_choice():
    ff.ffmpeg_choice.cache_clear()
    yield
    ff.ffmpeg_choice.cache_clear()


def old_ffmpeg(folder: Path) -> Path:
    """An `ffmpeg` that behaves like 5.1 on the one option vidpipe needs from 6."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "ffmpeg"
    exe.write_text("#!/bin/sh\ncase \"$*\" in *framelog*) echo \"[Parsed_ebur128_0] Option 'framelog' not found\" >&2;"
                   f" exit 8;; esac\nexec {wheel_exe()} \"$@\"\n", encoding="utf-8")
    exe.chmod(0o755)
    return exe


def real_old_ffmpeg() -> str | None:
    for cand in (os.environ.get("VIDPIPE_TEST_OLD_FFMPEG"), shutil.which("ffmpeg")):
        if cand and Path(cand).exists():
            out = subprocess.run([cand, "-version"], capture_output=True, text=True).stdout.split()
            if len(out) > 2 and out[2][:1].isdigit() and int(out[2].split(".")[0]) < 6:
                return cand
    return None


def test_capable_path_ffmpeg_is_used(tmp_path: Path, project: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "ffmpeg").symlink_to(wheel_exe())
    monkeypatch.setenv("PATH", f"{good}{os.pathsep}{os.environ['PATH']}")
    c = choose()
    assert (c.source, c.path, c.passed_over) == ("PATH", str(good / "ffmpeg"), ())


def test_old_path_ffmpeg_is_passed_over_for_the_wheel(tmp_path: Path, project: Paths,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    old = old_ffmpeg(tmp_path / "bin")
    assert shortfall(str(old)) == "rejects ebur128 framelog=quiet (ffmpeg older than 6)"
    monkeypatch.setenv("PATH", f"{old.parent}{os.pathsep}{os.environ['PATH']}")
    c = choose()
    assert c.source == "imageio-ffmpeg" and c.path == wheel_exe()
    assert len(c.passed_over) == 1 and str(old) in c.passed_over[0] and "framelog" in c.passed_over[0]
    assert ff.ffmpeg_exe() == wheel_exe()
    # the verdict is remembered under the data root, so the next process does not probe again
    assert (project.data / "cache" / "ffmpeg_probe.json").is_file()


def test_named_old_ffmpeg_is_refused_in_one_line(tmp_path: Path, project: Paths,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    old = old_ffmpeg(tmp_path / "bin")
    monkeypatch.setenv("VIDPIPE_FFMPEG", str(old))
    with pytest.raises(FfmpegNotFound, match=r"VIDPIPE_FFMPEG=.* rejects ebur128 framelog=quiet.*unset VIDPIPE_FFMPEG"):
        choose()
    run = subprocess.run([sys.executable, "-m", "vidpipe", "doctor"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 1
    assert "NOT FOUND: VIDPIPE_FFMPEG=" in run.stdout and "Traceback" not in run.stderr


def test_mix_runs_with_old_ffmpeg_first_on_path(tmp_path: Path, project: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph that failed `make demo` on Debian (the loudness meter) runs through the chosen binary."""
    old = Path(real_old_ffmpeg() or old_ffmpeg(tmp_path / "bin"))
    monkeypatch.setenv("PATH", f"{old.parent}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run([ff.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                          "sine=f=440:d=0.5", "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


@pytest.mark.optional("needs a real ffmpeg older than 6 (Debian 12's package); CI installs it")
def test_real_debian_ffmpeg_is_passed_over(project: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    old = real_old_ffmpeg()
    if old is None:
        pytest.skip("no ffmpeg older than 6 on this machine")
    monkeypatch.setenv("PATH", f"{Path(old).parent}{os.pathsep}{os.environ['PATH']}")
    c = choose()
    assert c.source == "imageio-ffmpeg" and "framelog" in c.passed_over[0]
