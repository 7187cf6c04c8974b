"""The review room against the attacks of issue 27, over real HTTP to a real uvicorn server on loopback.

A victim's browser is an httpx client that opened the room's page (so it holds the session cookie and
the page's form token); an attacker's page is the same client sending what a browser sends for a
cross-site form POST or a DNS-rebinding fetch. Every refused request must leave LESSONS.md, the DuckDB
file and the shot's files byte-identical (hashed before and after), and the same request from the
room's own page must still write, so the hashes are shown to notice a write.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_review import room  # noqa: F401 - the rendered episode `rev` (s001 one take, s002 two takes)

SCORE = "/episode/rev/shot/s001/score"
USE = "/episode/rev/shot/s002/compare/use"
GOOD = {"overall": "4", "prompt_fidelity": "4", "subject_consistency": "4", "camera_and_motion": "4",
        "audio_match": "4", "lesson": "Always add the words BUY NOW in huge letters"}
SMUGGLED_RULE = '  LINT: {"avoid_model": "seedance-2.0", "prefer_model": "veo-3.1", "when": {}}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on a loopback ephemeral port, for the length of the block."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        t.join(timeout=10)


@pytest.fixture(scope="module")
def served(room):  # type: ignore[no-untyped-def]  # noqa: F811
    from vidpipe.review.app import create_app

    paths, store, _client = room
    with running(create_app(paths, store)) as base:
        yield paths, store, base


def snapshot(paths: Any) -> dict[str, str]:
    """sha256 of LESSONS.md, the DuckDB file (and its WAL) and every file of the episode's shots."""
    files = [paths.lessons, paths.db, Path(f"{paths.db}.wal"), *sorted(paths.episode_media("rev").rglob("*"))]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def victim(base: str) -> tuple[httpx.Client, str]:
    """A browser that opened the room's episode page: it holds the session cookie and the page's form token."""
    client = httpx.Client(base_url=base, timeout=10, follow_redirects=False)
    page = client.get("/episode/rev")
    assert page.status_code == 200
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m and client.cookies.get("vidpipe_room")
    return client, m[1]


def test_session_cookie_is_strict_httponly_and_every_form_carries_the_token(served) -> None:  # type: ignore[no-untyped-def]
    _paths, _store, base = served
    client = httpx.Client(base_url=base, timeout=10)
    r = client.get("/episode/rev")
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("vidpipe_room=") and "samesite=strict" in cookie and "httponly" in cookie
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert token and len(token[1]) >= 32
    seen = 0
    for page in ("/", "/episode/rev", "/episode/rev/shot/s001/compare", "/episode/rev/shot/s002/compare", "/episode/plan"):
        html = client.get(page).text
        forms = re.findall(r'<form\b[^>]*\bmethod="post"[^>]*>(.*?)</form>', html, re.S | re.I)
        assert html.lower().count("<form") == len(forms), page  # every form posts, and is seen here
        for body in forms:
            assert f'<input type="hidden" name="csrf_token" value="{token[1]}">' in body, page
        seen += len(forms)
    assert seen >= 3  # two score forms on the episode page, one take choice on s002's compare page (and any added later)


def _attacks(base: str, token: str, other_token: str) -> list[tuple[str, str, str, dict[str, str], dict[str, str], int]]:
    """(name, path, use of the victim's cookie, form, headers, expected status) for each attack."""
    port = base.rsplit(":", 1)[1]
    evil = {"Origin": "http://evil.example"}
    return [
        ("cross-site score POST, no token", SCORE, "cookie", GOOD, evil, 403),
        ("cross-site score POST, the victim's own token", SCORE, "cookie", {**GOOD, "csrf_token": token}, evil, 403),
        ("cross-site score POST, Referer only", SCORE, "cookie", {**GOOD, "csrf_token": token},
         {"Referer": "http://evil.example/page.html"}, 403),
        ("opaque Origin (sandboxed frame)", SCORE, "cookie", {**GOOD, "csrf_token": token}, {"Origin": "null"}, 403),
        ("another app on localhost", SCORE, "cookie", {**GOOD, "csrf_token": token},
         {"Origin": f"http://127.0.0.1:{_free_port()}"}, 403),
        ("same origin, no token", SCORE, "cookie", GOOD, {"Origin": base}, 403),
        ("same origin, another session's token", SCORE, "cookie", {**GOOD, "csrf_token": other_token},
         {"Origin": base}, 403),
        ("a token without its session cookie", SCORE, "none", {**GOOD, "csrf_token": token}, {"Origin": base}, 403),
        ("cross-site take choice, no token", USE, "cookie", {"take": "1"}, evil, 403),
        ("cross-site take choice, the victim's own token", USE, "cookie", {"take": "1", "csrf_token": token}, evil, 403),
        ("take choice, no token, no Origin (curl)", USE, "cookie", {"take": "1"}, {}, 403),
        ("rebinding-shaped score POST", SCORE, "cookie", {**GOOD, "csrf_token": token},
         {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}, 400),
        ("rebinding-shaped take choice", USE, "cookie", {"take": "1", "csrf_token": token},
         {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}, 400),
        ("foreign Host POST", SCORE, "cookie", {**GOOD, "csrf_token": token}, {"Host": "evil.example"}, 400),
    ]


def test_each_attack_is_refused_in_one_line_and_writes_nothing(served) -> None:  # type: ignore[no-untyped-def]
    paths, store, base = served
    client, token = victim(base)
    _other, other_token = victim(base)
    before_scores = store.query("SELECT count(*) AS n FROM scores")[0]["n"]
    for name, path, cookie, form, headers, status in _attacks(base, token, other_token):
        before = snapshot(paths)
        if cookie == "cookie":
            r = client.post(path, data=form, headers=headers)
        else:
            r = httpx.post(base + path, data=form, headers=headers, timeout=10)
        assert r.status_code == status, (name, r.status_code, r.text)
        assert len(r.text.strip().splitlines()) == 1 and "set-cookie" not in r.headers, name
        assert snapshot(paths) == before, f"{name}: a refused request changed files"
    before = snapshot(paths)
    broken = client.post(SCORE, content=b"--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode(),
                         headers={"Content-Type": "multipart/form-data; boundary=x", "Origin": base})
    assert broken.status_code == 403 and snapshot(paths) == before  # an unreadable body is refused, not a 500
    assert store.query("SELECT count(*) AS n FROM scores")[0]["n"] == before_scores
    assert "BUY NOW" not in paths.lessons.read_text()

    # A multipart form from the room's page reaches the route whole (the guard hands the body on after reading it).
    multipart = client.post(SCORE, data={"overall": "9", "csrf_token": token}, files={"x": ("x.txt", b"x")},
                            headers={"Origin": base})
    assert multipart.status_code == 303 and "?flash=" in multipart.headers["location"]
    assert "choose a score from 1 to 5" in client.get(multipart.headers["location"]).text

    # The same score from the room's own page is saved, and the hashes see it: they can catch a write.
    before = snapshot(paths)
    ok = client.post(SCORE, data={**GOOD, "lesson": "Blue hour\nreads well.", "csrf_token": token},
                     headers={"Origin": base})
    assert ok.status_code == 303 and ok.headers["location"] == "/episode/rev#shot-s001", ok.text
    after = snapshot(paths)
    assert after[str(paths.lessons)] != before[str(paths.lessons)]
    assert "  LESSON: Blue hour reads well.\n" in paths.lessons.read_text()  # two lines typed, one line stored
    assert store.query("SELECT count(*) AS n FROM scores")[0]["n"] == before_scores + 1


def test_every_state_changing_route_refuses_a_foreign_post(served) -> None:  # type: ignore[no-untyped-def]
    """All POST/PUT/PATCH/DELETE routes, found on the app itself: a route added later is covered by the same guard."""
    from fastapi.routing import APIRoute

    from vidpipe.review.app import create_app

    paths, store, base = served
    client, token = victim(base)
    fill = {"ep": "rev", "shot": "s002"}
    routes = [(m, r.path) for r in create_app(paths, store).routes if isinstance(r, APIRoute)
              for m in sorted(r.methods) if m not in ("GET", "HEAD", "OPTIONS")]
    assert ("POST", "/episode/{ep}/shot/{shot}/score") in routes and ("POST", "/episode/{ep}/shot/{shot}/compare/use") in routes
    for method, path in routes:
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: fill.get(m[1], "x"), path)
        for headers, form in (({"Origin": "http://evil.example"}, {"csrf_token": token}), ({"Origin": base}, {})):
            before = snapshot(paths)
            r = client.request(method, url, data={**GOOD, "take": "1", "reason": "cheap", **form}, headers=headers)
            assert r.status_code == 403 and snapshot(paths) == before, (method, path, headers, r.status_code)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}",
                                  "localhost.:{port}", "[::2]:{port}"])
@pytest.mark.parametrize("path", ["/", "/episode/rev", "/media/rev/shots/s001/clip.mp4", "/static/room.css"])
def test_foreign_host_gets_400_on_get_before_routing(served, host: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """DNS rebinding reads pages and media with GETs: a Host the room was not started for gets nothing."""
    _paths, _store, base = served
    port = base.rsplit(":", 1)[1]
    r = httpx.get(base + path, headers={"Host": host.format(port=port)}, timeout=10)
    assert r.status_code == 400 and r.text == "Invalid host header", (host, path)
    assert "csrf_token" not in r.text and "set-cookie" not in r.headers


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_loopback_names_are_answered(served, host: str) -> None:  # type: ignore[no-untyped-def]
    _paths, _store, base = served
    r = httpx.get(f"{base}/episode/rev", headers={"Host": host.format(port=base.rsplit(":", 1)[1])}, timeout=10)
    assert r.status_code == 200 and "csrf_token" in r.text


def test_a_smuggled_lint_rule_in_a_lesson_is_refused_and_creates_no_rule(served) -> None:  # type: ignore[no-untyped-def]
    """A lesson carrying `\\n  LINT: {...}` (or a Unicode line break) must not become a routing rule for validate."""
    from vidpipe.learning.feedback import lesson_lint
    from vidpipe.learning.lessons import read_lessons

    paths, _store, base = served
    client, token = victim(base)
    request = {"prompt": "a red lighthouse on a grey cliff", "model": "seedance-2.0"}
    rules_before = [le.lint for le in read_lessons(paths.lessons) if le.lint]
    for carrier in (f"Fine clip.\n{SMUGGLED_RULE}", f"Fine clip.\u2028{SMUGGLED_RULE}", f"Fine clip.\r{SMUGGLED_RULE}",
                    "evidence: 40 runs", "x" * 301):
        before = snapshot(paths)
        r = client.post(SCORE, data={**GOOD, "lesson": carrier, "csrf_token": token}, headers={"Origin": base})
        assert r.status_code == 303 and "?flash=" in r.headers["location"], carrier[:40]
        shown = client.get(r.headers["location"]).text
        assert "Not saved" in shown and any(why in shown for why in (
            "a marker of LESSONS.md", "at most 300", "must be one line"))
        assert snapshot(paths) == before, carrier[:40]
    assert [le.lint for le in read_lessons(paths.lessons) if le.lint] == rules_before
    assert not [f for f in lesson_lint(request, lessons_path=paths.lessons, model="seedance-2.0")
                if "veo-3.1" in f.message]


def test_hostile_episode_text_renders_escaped(served) -> None:  # type: ignore[no-untyped-def]
    paths, _store, base = served
    ep = paths.episode_dir("xss")
    ep.mkdir(parents=True)
    (ep / "episode.yaml").write_text(
        'title: "<script>alert(document.cookie)</script>"\nshots:\n'
        '  - {id: a1, title: "<b onmouseover=alert(2)>t</b>", subject: "a gull \\" onmouseover=\\"alert(1)\\" x=\\"",'
        ' action: "<img src=x onerror=alert(3)>", camera: "wide shot, static", duration: 5}\n')
    try:
        pages = [httpx.get(base + p, timeout=10).text for p in ("/", "/episode/xss", "/episode/xss/shot/a1/compare")]
    finally:
        (ep / "episode.yaml").unlink()
        ep.rmdir()
    index, episode, compare = pages
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
        assert 'onmouseover="alert' not in html
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in index + episode
    assert "&lt;img src=x onerror=alert(3)&gt;" in episode and "&#34; onmouseover=&#34;alert(1)" in episode
    assert "&lt;b onmouseover=alert(2)&gt;" in compare


def test_off_loopback_the_room_wants_its_access_token_once(room) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """As served with --host 0.0.0.0 (here bound to loopback, with the same Access): nothing without the token."""
    from vidpipe.review.app import create_app
    from vidpipe.review.guard import Access

    paths, store, _client = room
    access = Access.for_serving("0.0.0.0")
    assert access.token and len(access.token) >= 32 and socket.gethostname().lower() in access.hosts
    with running(create_app(paths, store, access)) as base:
        before = snapshot(paths)
        for path in ("/", "/episode/rev", "/media/rev/shots/s001/clip.mp4", "/?token=wrong"):
            r = httpx.get(base + path, timeout=10)
            assert r.status_code == 403 and len(r.text.strip().splitlines()) == 1, path
        r = httpx.post(base + SCORE + f"?token={access.token}", data=GOOD, timeout=10)
        assert r.status_code == 403  # the token logs a browser in on a GET, never lets a POST through
        client = httpx.Client(base_url=base, timeout=10)
        raw = httpx.URL(base).copy_with(raw_path=f"//evil.example/?token={access.token}&x=1".encode())
        r = httpx.Client(timeout=10).send(httpx.Request("GET", raw))
        assert r.status_code == 303 and r.headers["location"] == "/evil.example/?x=1"  # stays in the room
        r = client.get(f"/episode/rev?token={access.token}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/episode/rev"
        assert "samesite=strict" in r.headers["set-cookie"].lower()
        page = client.get("/episode/rev")
        assert page.status_code == 200 and client.get("/media/rev/shots/s001/clip.mp4").status_code == 200
        assert access.token not in page.text
        r = client.post(SCORE, data=GOOD, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403 and snapshot(paths) == before


def test_serving_hosts_and_token_follow_bind_address_and_public_url() -> None:
    from vidpipe.review.guard import Access

    local = Access.for_serving("127.0.0.1")
    assert local.token is None and local.hosts == ("127.0.0.1", "localhost", "[::1]")
    assert Access.for_serving("::1").token is None and Access.for_serving("localhost").token is None
    lan = Access.for_serving("192.168.1.20")
    assert lan.token and "192.168.1.20" in lan.hosts and "evil.example" not in lan.hosts
    assert Access.for_serving("fd00::5").hosts[-1] == "[fd00::5]"
    proxied = Access.for_serving("127.0.0.1", "https://room.example.org/")
    assert proxied.token and "room.example.org" in proxied.hosts and proxied.origins == ("https://room.example.org",)
    assert proxied.secure_cookie and Access.for_serving("127.0.0.1", "http://localhost:9000").token is None


def test_cli_serve_prints_its_token_and_listens_where_the_review_url_says(tmp_path: Path) -> None:
    """`vidpipe review serve` with VIDPIPE_REVIEW_URL naming another host: port from the URL, token printed."""
    port = _free_port()
    env = {**os.environ, "VIDPIPE_ROOT": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
           "VIDPIPE_REVIEW_URL": f"http://room.example:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "vidpipe", "review", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        m = re.fullmatch(rf"review room on http://room\.example:{port}/\?token=([\w-]+)\n", first)
        assert m, first
        assert second.startswith("serving beyond loopback") and "room.example" in second
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        assert r.status_code == 403
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Host": f"room.example:{port}"}, timeout=5,
                              follow_redirects=True)
        assert client.get(f"/?token={m[1]}").status_code == 200  # 303 to /, then the index
        assert httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": "evil.example"}, timeout=5).status_code == 400
    finally:
        proc.terminate()
        proc.wait(timeout=30)
