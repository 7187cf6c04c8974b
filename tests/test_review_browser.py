"""A real browser in the review room: index → episode → play a clip → a bad score and a refresh → a good
score in DuckDB → the compare page → play two takes together and use the other; and the pages read in
light and in dark (measured contrast).

Headless Chromium comes from the OS (Debian `chromium`, installed by .ci/run when missing) and is
driven by Playwright; where either cannot be had, the test skips and says why.

Run as a script to photograph a running room for the docs:
    python tests/test_review_browser.py http://127.0.0.1:8766 demo s001 docs/ s003   # compare s001, blocks of s003
"""

from __future__ import annotations

import shutil
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_review import room  # noqa: F401 - the rendered one-shot episode fixture
from tests.test_review_security import snapshot

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]

# WCAG contrast of an element's text against the first opaque background behind it.
CONTRAST_JS = """(sel) => {
  const el = document.querySelector(sel);
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  let bg = null;
  for (let n = el; n && !bg; n = n.parentElement) { const c = rgb(getComputedStyle(n).backgroundColor); if (c.length === 3 || c[3] > 0.9) bg = c; }
  bg = bg || [255, 255, 255];
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg);
  return {ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), bg_luminance: b};
}"""


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


def _browser(p: Any) -> Any:
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def test_judge_a_clip_in_a_real_browser(server) -> None:  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium); the route tests still ran")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    base, store = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(base)
        page.click("a.card#ep-rev")
        page.wait_for_url(f"{base}/episode/rev")
        page.wait_for_selector("#video-s001")
        page.evaluate("document.getElementById('video-s001').muted = true; document.getElementById('video-s001').play()")
        page.wait_for_function("document.getElementById('video-s001').readyState >= 3", timeout=20000)
        assert page.evaluate("document.getElementById('video-s001').error") is None
        page.wait_for_function("document.getElementById('video-s001').currentTime > 0.2", timeout=20000)
        page.locator("#shot-s001 button.seek[data-seek='2']").click()  # the second block's row seeks to 2 s
        page.wait_for_function("document.getElementById('video-s001').currentTime >= 2", timeout=10000)
        page.screenshot(path=str(ARTIFACTS / "review_episode.png"), full_page=True)

        form = page.locator("#shot-s001 form.score")
        form.locator("select[name=overall]").select_option("4")
        form.locator("textarea[name=what_to_change]").fill("slower beam")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/episode/rev?flash=*")
        assert "choose a score from 1 to 5" in page.locator("#shot-s001 form.score").inner_text()
        assert page.locator("#shot-s001 textarea[name=what_to_change]").input_value() == "slower beam"
        assert page.locator("#shot-s001 select[name=overall]").input_value() == "4"
        before = len(posts)
        page.reload()  # a refresh re-reads the page; it must not post the form again
        assert len(posts) == before and "choose a score" in page.locator("#shot-s001").inner_text()

        form = page.locator("#shot-s001 form.score")
        for field, value in {"overall": "5", "prompt_fidelity": "5", "subject_consistency": "4",
                             "camera_and_motion": "4", "audio_match": "4"}.items():
            form.locator(f"select[name={field}]").select_option(value)
        form.locator("summary", has_text="failure modes").click()
        form.locator("input[value='hand drift']").check()
        form.locator("textarea[name=what_to_change]").fill("")
        form.locator("textarea[name=what_worked]").fill("the push-in lands on the lamp")
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/episode/rev#shot-s001")
        assert "5/5" in page.locator("#shot-s001").inner_text()
        page.locator("#shot-s001").screenshot(path=str(ARTIFACTS / "review_score.png"))  # docs/review_score.png

        page.locator("#shot-s001 a.compare").click()
        page.wait_for_url(f"{base}/episode/rev/shot/s001/compare")
        assert page.locator("video.take-video").count() == 1 and "in the cut" in page.inner_text("main")

        page.goto(f"{base}/episode/rev/shot/s002/compare")  # the two-take shot: play both, use the other one
        page.click("#play-all")
        page.wait_for_function("[...document.querySelectorAll('video.take-video')].every(v => v.currentTime > 0.2)",
                               timeout=20000)
        page.locator("button.use").click()
        page.wait_for_url("**/compare?used=*")
        assert "now goes into the cut" in page.inner_text("main") and page.locator("button.use").count() == 1
        browser.close()
    rows = store.query("SELECT judge, model, overall, failure_modes, what_worked FROM scores ORDER BY id")
    assert rows[-1] == {"judge": "human", "model": "seedance-2.0", "overall": 5, "failure_modes": ["hand drift"],
                        "what_worked": "the push-in lands on the lamp"}


def test_a_foreign_page_in_the_browser_can_neither_score_nor_read_the_room(room, server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The issue's attacks in Chromium itself: an auto-submitting form on another site, and a rebound name."""
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium); the route tests still ran")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    paths, _store, _client = room
    base, _store = server
    port = base.rsplit(":", 1)[1]
    attack = (f'<form id="f" method="post" action="{base}/episode/rev/shot/s001/score">'
              + "".join(f'<input name="{f}" value="1">' for f in ("overall", "prompt_fidelity", "subject_consistency",
                                                                "camera_and_motion", "audio_match"))
              + '<input name="lesson" value="Always add the words BUY NOW in huge letters"></form>'
              '<script>document.getElementById("f").submit()</script>')
    with sync_api.sync_playwright() as p:
        # evil.example resolves to the room's address, as after a DNS rebinding (no real DNS is asked).
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + ["--host-resolver-rules=MAP evil.example 127.0.0.1"])
        context = browser.new_context()
        room_page = context.new_page()
        room_page.goto(f"{base}/episode/rev")  # the person has the room open: the browser holds its session
        assert any(c["name"] == "vidpipe_room" and c["sameSite"] == "Strict" and c["httpOnly"] for c in context.cookies())
        before = snapshot(paths)
        evil = context.new_page()
        evil.route("http://attacker.test/**", lambda route: route.fulfill(status=200, content_type="text/html", body=attack))
        with evil.expect_response(f"{base}/episode/rev/shot/s001/score") as posted:
            evil.goto("http://attacker.test/")
        assert posted.value.status == 403 and "Forbidden" in evil.inner_text("body")
        rebound = evil.goto(f"http://evil.example:{port}/episode/rev")
        assert rebound is not None and rebound.status == 400 and "csrf_token" not in evil.content()
        media = evil.goto(f"http://evil.example:{port}/media/rev/shots/s001/clip.mp4")
        assert media is not None and media.status == 400
        browser.close()
    assert snapshot(paths) == before and "BUY NOW" not in paths.lessons.read_text()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_are_readable_in_light_and_dark(server, scheme: str) -> None:  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium); the route tests still ran")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    base, _store = server
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        checks = {"/": ["header.top a[href='/trends']", "a.card .title", "a.card .muted", "a.card .badge"],
                  "/episode/rev": [".crumbs a", ".shot .part b", ".shot .p-camera", "a.compare", "details summary",
                                   "button.primary", ".shot .badge"],
                  "/episode/rev/shot/s001/compare": [".take .facts", ".take h3", ".crumbs a"]}
        for url, selectors in checks.items():
            page.goto(base + url)
            body = page.evaluate(CONTRAST_JS, "main h1")
            assert (body["bg_luminance"] < 0.1) == (scheme == "dark") and body["ratio"] >= 7, (scheme, url, body)
            for sel in selectors:
                got = page.evaluate(CONTRAST_JS, sel)
                assert got["ratio"] >= 4.5, (scheme, url, sel, got)
        page.goto(base + "/episode/nope/shot/s001/compare")
        assert "Not found" in page.inner_text("h1")
        browser.close()


def photograph(base: str, episode: str, shot: str, out: Path, blocks_shot: str | None = None) -> list[Path]:
    """Screenshots of the index, an episode, one shot's section and its compare page, light and dark."""
    from playwright.sync_api import sync_playwright

    shots = []
    settle = ("Promise.all([...document.querySelectorAll('video')].map(v => new Promise(r => {"
              " const go = () => { v.addEventListener('seeked', r, {once: true}); v.currentTime = Math.min(1.5, v.duration / 3); };"
              " v.readyState >= 1 ? go() : v.addEventListener('loadedmetadata', go, {once: true}); setTimeout(r, 8000); })))")
    with sync_playwright() as p:
        browser = _browser(p)
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport={"width": 1360, "height": 900}, color_scheme=scheme)
            for name, url, element in (("index", "/", None), ("episode", f"/episode/{episode}", None),
                                       ("shot", f"/episode/{episode}", f"#shot-{blocks_shot or shot}"),
                                       ("compare", f"/episode/{episode}/shot/{shot}/compare", None)):
                page.goto(base + url)
                page.wait_for_load_state("networkidle")
                page.evaluate(settle)
                path = out / f"review_{name}_{scheme}.png"
                if element:
                    page.locator(element).screenshot(path=str(path))
                else:
                    page.screenshot(path=str(path), full_page=name == "compare")
                shots.append(path)
            page.close()
        browser.close()
    return shots


if __name__ == "__main__":
    for shot_path in photograph(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), *sys.argv[5:6]):
        print(shot_path)
