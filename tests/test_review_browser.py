"""A real browser in the review room: open an episode, play a clip, submit a score, see it in DuckDB.

Headless Chromium comes from the OS (Debian `chromium`, installed by .ci/run when missing) and is
driven by Playwright; where either cannot be had, the test skips and says why.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.test_review import room  # noqa: F401 - the rendered one-shot episode fixture

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def server(room):  # type: ignore[no-untyped-def]  # noqa: F811
    import uvicorn

    paths, store, _client = room
    from vidpipe.review.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(paths, store), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    srv.should_exit = True
    t.join(timeout=5)


def test_judge_a_clip_in_a_real_browser(server) -> None:  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium); the route tests still ran")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    base, store = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/episode/rev")
        page.wait_for_selector("#video-s001")
        page.evaluate("document.getElementById('video-s001').muted = true; document.getElementById('video-s001').play()")
        page.wait_for_function("document.getElementById('video-s001').readyState >= 4", timeout=20000)
        assert page.evaluate("document.getElementById('video-s001').error") is None
        page.wait_for_function("document.getElementById('video-s001').currentTime > 0.2", timeout=20000)
        page.screenshot(path=str(ARTIFACTS / "review_episode.png"), full_page=True)
        form = page.locator("#shot-s001 form.score")
        for field, value in {"overall": "5", "prompt_fidelity": "5", "subject_consistency": "4",
                             "camera_and_motion": "4", "audio_match": "4"}.items():
            form.locator(f"select[name={field}]").select_option(value)
        form.locator("input[value='hand drift']").check()
        form.locator("textarea[name=what_worked]").fill("the push-in lands on the lamp")
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/episode/rev#shot-s001")
        assert "5/5" in page.locator("#shot-s001").inner_text()
        browser.close()
    rows = store.query("SELECT judge, overall, failure_modes, what_worked FROM scores ORDER BY id")
    assert rows[-1] == {"judge": "human", "overall": 5, "failure_modes": ["hand drift"],
                        "what_worked": "the push-in lands on the lamp"}
