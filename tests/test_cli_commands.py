"""Every command through the real entry point (`python -m vidpipe …` as a subprocess) on a rendered project.

What a person types: render, lineage (tree and JSON), costs (table), tts, still, take, review serve,
usage errors, VIDPIPE_DEBUG and Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import MINI_EPISODE, PROVIDER_ENV
from tests.test_media_signals import as_from_a_terminal
from vidpipe.schema import frame_size

REPO = Path(__file__).resolve().parents[1]


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV}
    env.update(VIDPIPE_ROOT=str(root), PYTHONPATH=str(REPO), COLUMNS="200")
    return env


def vp(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vidpipe", *args], capture_output=True, text=True, cwd=root,
                          env=_env(root), timeout=timeout)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "proj"
    (root / "data" / "episodes" / "mini").mkdir(parents=True)
    (root / "data" / "episodes" / "mini" / "episode.yaml").write_text(MINI_EPISODE)
    proc = vp(root, "render", "mini", "--backend", "preview")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("delivery.mp4") and Path(proc.stdout.strip()).is_file()
    assert "estimate mini: $0.00" in proc.stderr
    return root


def test_lineage_tree_and_json(rendered: Path) -> None:
    tree = vp(rendered, "lineage", "--episode", "mini")
    assert tree.returncode == 0, tree.stderr
    for text in ("final cut", "s001", "s002", "s003", "prompt:", "voice"):
        assert text in tree.stdout
    data = json.loads(vp(rendered, "lineage", str(rendered / "data/media/mini/delivery.mp4"), "--json").stdout)
    assert [s["shot"] for s in data["shots"]] == ["s001", "s002", "s003"]
    assert all(s["backend"] == "preview" and s["prompt"] for s in data["shots"])


def test_costs_table_and_json(rendered: Path) -> None:
    table = vp(rendered, "costs", "--episode", "mini")
    assert table.returncode == 0, table.stderr
    assert "mini" in table.stdout and "seedance-2.0" in table.stdout
    data = json.loads(vp(rendered, "costs", "--json").stdout)
    assert data and json.dumps(data).count("mini") >= 1


def test_tts_and_still_offline(rendered: Path, tmp_path: Path) -> None:
    speech = vp(rendered, "tts", "The light has stood here for a century.", "--backend", "preview",
                "--out", str(tmp_path / "line.mp3"))
    assert speech.returncode == 0, speech.stderr
    assert (tmp_path / "line.mp3").stat().st_size > 1000
    still = vp(rendered, "still", "a red lighthouse at dusk", "--backend", "preview", "--aspect", "9:16",
               "--resolution", "480p", "--out", str(tmp_path / "f.png"))
    assert still.returncode == 0, still.stderr
    with Image.open(tmp_path / "f.png") as im:
        assert im.size == frame_size("480p", "9:16") == (480, 852)


def test_take_lists_one_take(rendered: Path) -> None:
    proc = vp(rendered, "take", "mini", "s001")
    assert proc.returncode == 0 and "one take" in proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_review_serve_answers(rendered: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vidpipe", "review", "serve", "--port", str(port)], cwd=rendered,
                            env=_env(rendered), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/episode/mini", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        assert r.status_code == 200 and "s002" in r.text
        assert httpx.get(f"http://127.0.0.1:{port}/episode/nope", timeout=5).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_usage_errors_are_one_line_exit_2(rendered: Path) -> None:
    for args in (["validate"], ["render", "mini", "extra"], ["qc", "--bogus-option"], ["nope"]):
        proc = vp(rendered, *args)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr.strip(), args


def test_errors_are_one_line_and_debug_shows_the_traceback(rendered: Path) -> None:
    plain = vp(rendered, "render", "no-such-episode")
    assert plain.returncode in (1, 2) and "Traceback" not in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1 and "no-such-episode" in plain.stderr
    env = _env(rendered) | {"VIDPIPE_DEBUG": "1"}
    debug = subprocess.run([sys.executable, "-m", "vidpipe", "render", "no-such-episode"], capture_output=True,
                           text=True, cwd=rendered, env=env, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_ctrl_c_exits_130_and_keeps_finished_work(rendered: Path) -> None:
    spec = rendered / "data/episodes/mini/episode.yaml"
    spec.write_text(spec.read_text().replace("duration: 4\n", "duration: 6\n", 1))  # s001 must render again
    proc = subprocess.Popen([sys.executable, "-m", "vidpipe", "render", "mini", "--backend", "preview"],
                            cwd=rendered, env=_env(rendered), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=as_from_a_terminal)
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the estimate is printed before any work starts
    assert line.startswith("estimate mini"), line
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err


def test_status_lists_episodes_and_a_broken_one(rendered: Path) -> None:
    broken = rendered / "data/episodes/broken"
    broken.mkdir(exist_ok=True)
    (broken / "episode.yaml").write_bytes(b"title: \xff\xfe bad\nshots: []\n")
    try:
        table = vp(rendered, "status")
        assert table.returncode == 1, table.stderr  # a broken episode is not "all fine"
        assert "mini" in table.stdout and "broken" in table.stdout and "error:" in table.stdout
        rows = {r["episode"]: r for r in json.loads(vp(rendered, "status", "--json").stdout)}
        assert rows["broken"]["status"] == "failing" and rows["broken"]["error"]
        assert rows["mini"]["shots"] == 3
        shots = json.loads(vp(rendered, "status", "mini", "--json").stdout)["shots"]
        assert [s["shot"] for s in shots] == ["s001", "s002", "s003"]
        (broken / "episode.yaml").unlink()  # an empty folder stays visible until it is removed
        empty = vp(rendered, "status")
        assert empty.returncode == 1 and "broken" in empty.stdout and "no episode.yaml" in empty.stdout
    finally:
        (broken / "episode.yaml").unlink(missing_ok=True)
        broken.rmdir()
    assert vp(rendered, "status").returncode == 0
