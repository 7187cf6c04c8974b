"""Review room routes (FastAPI TestClient) over a really rendered episode: a two-block shot and a two-take shot.

Beside it sit an episode that was never rendered and one whose file is not UTF-8, so the index,
the statuses and the 404/422 pages are checked against what a data folder really holds.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ONE_SHOT = """\
title: Review
resolution: "480p"
shots:
  - id: s001
    subject: "a red lighthouse on a grey cliff"
    style: "blue hour, teal palette"
    constraints: ["no text"]
    audio: "wind and surf"
    duration: 4
    blocks:
      - {start: 0, end: 2, action: "the lamp turns on", camera: "wide shot, slow push-in"}
      - {start: 2, end: 4, action: "the lamp glows over the sea", camera: "close-up, static tripod"}
  - {id: s002, subject: "a gull on a railing", action: "it shakes the rain off", camera: "close-up, static",
     style: "grey morning", audio: "rain and gulls", duration: 4, takes: 2}
"""

PLANNED = """\
title: Planned, not rendered
shots:
  - {id: a1, subject: "a fishing boat", action: "it leaves the harbour", camera: "wide shot, static", duration: 5}
  - {id: a2, subject: "a gull", action: "it lands on the mast", camera: "close-up, pan left", duration: 5}
"""


@pytest.fixture(scope="module")
def room(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The rendered data root, rendered once per session (the browser test reuses it: rendering is the slow part)."""
    from vidpipe.paths import Paths
    from vidpipe.pipeline.run import render_episode
    from vidpipe.review.app import create_app
    from vidpipe.store import Store

    root = tmp_path_factory.getbasetemp() / "review-room"
    paths = Paths.from_env(root)
    if not (root / "rendered").exists():
        eps = root / "data" / "episodes"
        for ep, text in (("rev", ONE_SHOT), ("plan", PLANNED)):
            (eps / ep).mkdir(parents=True)
            (eps / ep / "episode.yaml").write_text(text)
        (eps / "has space").mkdir()
        (eps / "has space" / "episode.yaml").write_text(PLANNED)
        (eps / "broken").mkdir()
        (eps / "broken" / "episode.yaml").write_bytes(b"title: caf\xe9 \xff\nshots: []\n")
        (root / "LESSONS.md").write_text("# LESSONS\n\n## Accumulated lessons\n\n")
        run = render_episode(paths, "rev", deliver=False)
        assert not run.failed
        (root / "rendered").touch()
    store = Store(paths.db)
    return paths, store, TestClient(create_app(paths, store), base_url="http://127.0.0.1")


def form_token(client: TestClient) -> str:
    """The session's form token, as the room's own page hands it to its forms (the client keeps the cookie)."""
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/episode/rev").text)
    assert m, "the episode page's score form carries no form token"
    return m[1]


def test_episode_page_shows_player_sheet_prompt_blocks_and_form(room) -> None:  # type: ignore[no-untyped-def]
    _paths, _store, client = room
    html = client.get("/episode/rev").text
    assert 'src="/media/rev/shots/s001/clip.mp4"' in html and "contact_sheet.jpg" in html
    assert 'class="part p-subject"' in html and "a red lighthouse" in html
    rows = re.findall(r'<tr class="block">(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    assert 'data-seek="0"' in rows[0] and "the lamp turns on" in rows[0] and "slow push-in" in rows[0]
    assert 'data-seek="2"' in rows[1] and "the lamp glows over the sea" in rows[1] and "static tripod" in rows[1]
    assert "seedance-2.0" in html and "unjudged" in html and 'name="overall"' in html
    assert 'href="/episode/rev/shot/s001/compare"' in html


def test_index_lists_every_episode_with_title_count_status_cost_and_thumbnail(room) -> None:  # type: ignore[no-untyped-def]
    _paths, _store, client = room
    html = client.get("/").text
    cards = dict(re.findall(r'<a class="card" href="/episode/([^"]+)" id="ep-[^"]+">(.*?)</a>', html, re.S))
    assert set(cards) == {"rev", "plan", "broken", "has%20space"}
    assert "may only use letters" in cards["has%20space"] and client.get("/episode/has%20space").status_code == 404
    rev, plan, broken = cards["rev"], cards["plan"], cards["broken"]
    assert "Review" in rev and "2 shots ·" in rev and "2 rendered" in rev and "$0.00" in rev
    assert 'class="badge awaiting-score">awaiting score<' in rev
    thumb = re.search(r'<img class="thumb"[^>]*src="([^"]+)"', rev)
    assert thumb and client.get(thumb.group(1)).status_code == 200
    assert "Planned, not rendered" in plan and "2 shots" in plan and "0 rendered" in plan and ">not rendered<" in plan
    assert "no frame yet" in plan
    assert ">failing<" in broken and "utf-8" in broken.lower()
    r = client.get("/episode/broken")
    assert r.status_code == 422 and "utf-8" in r.text.lower()


@pytest.mark.parametrize("method,url", [
    ("GET", "/episode/nope"), ("GET", "/episode/nope/shot/s001/compare"), ("GET", "/episode/rev/shot/nope/compare"),
    ("GET", "/episode/rev/shot/nope"), ("GET", "/episode/nope/shot/s001"), ("POST", "/episode/nope/shot/s001/score"),
    ("POST", "/episode/rev/shot/nope/score"), ("GET", "/episode/..%2F..%2Fetc"), ("GET", "/episode/.hidden"),
    ("GET", "/nothing/here"), ("GET", "/static/nope.css"),
])
def test_unknown_routes_are_404_pages(room, method: str, url: str) -> None:  # type: ignore[no-untyped-def]
    _paths, _store, client = room
    form = {"overall": "3", "csrf_token": form_token(client)} if method == "POST" else None
    r = client.request(method, url, data=form, follow_redirects=False)
    assert r.status_code == 404, (url, r.status_code)
    if not url.startswith("/static"):
        assert "Not found" in r.text and "/static/room.css" in r.text  # the room's own page, not a bare body


def test_bad_submit_redirects_and_shows_errors_at_the_form_with_input_kept(room) -> None:  # type: ignore[no-untyped-def]
    _paths, store, client = room
    before = store.query("SELECT count(*) AS n FROM scores")[0]["n"]
    r = client.post("/episode/rev/shot/s001/score", data={"overall": "9", "prompt_fidelity": "4", "csrf_token": form_token(client),
                                                          "lesson": "<script>alert(1)</script>"}, follow_redirects=False)
    assert r.status_code == 303
    loc = r.headers["location"]
    assert loc.startswith("/episode/rev?flash=") and loc.endswith("#shot-s001")
    for _ in range(2):  # a refresh is a GET of the same page: same errors, same input, nothing posted
        html = client.get(loc).text
        form = html[html.index('<section class="shot" id="shot-s001"'):]
        assert "Not saved" in form and "choose a score from 1 to 5" in form
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in form and "<script>alert(1)" not in html
        assert 'value="4" selected' in form and 'name="overall" class="invalid"' in form
    assert "Not saved" not in client.get("/episode/rev").text  # without the token the form is clean
    assert store.query("SELECT count(*) AS n FROM scores")[0]["n"] == before


def test_score_records_the_clips_real_model_in_duckdb_lessons_and_trends(room) -> None:  # type: ignore[no-untyped-def]
    paths, store, client = room
    form = {"overall": "4", "prompt_fidelity": "5", "subject_consistency": "4", "camera_and_motion": "4",
            "audio_match": "3", "failure_modes": ["style drift"], "lesson": "Blue hour reads well in previews.",
            "csrf_token": form_token(client)}
    r = client.post("/episode/rev/shot/s001/score", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/episode/rev#shot-s001"
    row = store.query("SELECT judge, model, overall, failure_modes FROM scores")[-1]
    assert row == {"judge": "human", "model": "seedance-2.0", "overall": 4, "failure_modes": ["style drift"]}
    lesson = [ln for ln in paths.lessons.read_text().splitlines() if "overall 4/5" in ln]
    assert lesson and "seedance-2.0" in lesson[-1] and "unknown" not in lesson[-1]
    page = client.get("/episode/rev").text
    s001 = page[page.index('id="shot-s001"'):page.index('id="shot-s002"')]
    assert "<b>4/5</b> by human" in s001 and 'class="badge rendered">rendered<' in s001
    trends = client.get("/trends").text
    assert "seedance-2.0" in trends and client.get("/media/_trends.png").status_code == 200


def test_media_is_served_only_from_the_media_root(room, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths, _store, client = room
    assert client.get("/media/rev/shots/s001/clip.mp4").status_code == 200
    secret = paths.root / "secret.txt"
    secret.write_text("FAL_KEY=nope")
    link = paths.media / "rev" / "escape.txt"
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    for bad in ("/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/rev/escape.txt",
                f"/media/{secret}", "/media//etc/passwd"):
        r = client.get(bad)
        assert r.status_code == 404 and "nope" not in r.text, bad


def test_compare_is_reachable_for_every_shot_even_unrendered(room) -> None:  # type: ignore[no-untyped-def]
    _paths, _store, client = room
    html = client.get("/episode/plan").text
    for shot in ("a1", "a2"):
        assert f'href="/episode/plan/shot/{shot}/compare"' in html
        page = client.get(f"/episode/plan/shot/{shot}/compare")
        assert page.status_code == 200 and "No takes yet" in page.text and "<video" not in page.text
    assert client.get("/episode/rev/shot/s001/compare").text.count("<video") == 1  # only the current take


def test_compare_lists_current_kept_and_cached_takes_once_each(room) -> None:  # type: ignore[no-untyped-def]
    import os

    from vidpipe.pipeline.record import ShotRef
    from vidpipe.review.data import list_takes

    paths, _store, client = room
    shot = paths.shot_media("rev", "s001")
    kept = shot / "takes" / "2"
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot / "clip.mp4", kept / "clip.mp4")
    (kept / ".preview-0.mp4").write_bytes(b"half")  # the preview backend's work file: not a take
    (kept / "take.json").write_text('{"prompt": "alt", "seed": 7, "generation": {"model": "kling-3.0-omni", "cost_usd": 0.84}}')
    os.link(shot / "clip.mp4", shot / "takes" / "same.mp4")  # the current clip again: not a second take
    old = shot / "gen" / "rev-s001.old.mp4"
    shutil.copy(shot / "clip.mp4", old)
    (shot / "gen" / "rev-s001.old.json").write_text('{"model": "wan-2.7-i2v", "backend": "preview", '
                                                    '"job": {"input": {"prompt": "older", "seed": 3}}}')
    ref = ShotRef.load(paths, "rev", "s001")
    shutil.copy(shot / "clip.mp4", shot / "takes" / "3.mp4")
    (shot / "takes" / "3.json").write_text('{"model": "veo-3.1", "seed": 33, "cost_usd": 1.6}')
    try:
        takes = list_takes(ref)
        assert [(t.key, t.source, t.current, t.number, t.choosable) for t in takes] == [
            ("current", "current", True, None, False), ("takes:2", "takes", False, 2, False),
            ("takes:3", "takes", False, None, False), ("gen:rev-s001.old", "gen", False, None, False)]
        assert (takes[2].model, takes[2].seed, takes[2].cost_usd) == ("veo-3.1", 33, 1.6)
        del takes[2]
        assert takes[0].model == "seedance-2.0" and takes[0].qc is not None
        assert (takes[1].model, takes[1].seed, takes[1].cost_usd, takes[1].prompt) == ("kling-3.0-omni", 7, 0.84, "alt")
        assert (takes[2].model, takes[2].seed, takes[2].qc) == ("wan-2.7-i2v", 3, None)
        html = client.get("/episode/rev/shot/s001/compare").text
        assert html.count("<video") == 4 and "Play all together" in html and "Use this take" not in html
        assert "kling-3.0-omni" in html and "wan-2.7-i2v" in html and "veo-3.1" in html and "in the cut" in html
        assert "no QC report for this take" in html and "(differs from the current)" in html
        assert "compare 4 takes" in client.get("/episode/rev").text
    finally:
        shutil.rmtree(shot / "takes")
        old.unlink()
        (shot / "gen" / "rev-s001.old.json").unlink()


def test_links_into_the_room_quote_ids_and_follow_the_configured_base(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.review.urls import compare_url, default_port, episode_url, media_url, shot_url

    monkeypatch.delenv("VIDPIPE_REVIEW_URL", raising=False)
    assert episode_url("ep01") == "http://127.0.0.1:8765/episode/ep01" and default_port() == 8765
    monkeypatch.setenv("VIDPIPE_REVIEW_URL", "http://room.local:9000/")
    assert episode_url("ep01") == "http://room.local:9000/episode/ep01" and default_port() == 9000
    assert media_url("ep01/shots/s1/clip.mp4") == "http://room.local:9000/media/ep01/shots/s1/clip.mp4"
    assert shot_url("ep01", "s1") == "http://room.local:9000/episode/ep01#shot-s1"
    assert compare_url("ep 1", "s/1", base="http://x") == "http://x/episode/ep%201/shot/s%2F1/compare"


def test_use_this_take_puts_another_take_into_the_cut(room) -> None:  # type: ignore[no-untyped-def]
    import os

    from vidpipe.pipeline.record import ShotRef

    paths, _store, client = room
    ref = ShotRef.load(paths, "rev", "s002")
    rec = ref.read()
    assert [t.take for t in rec.takes] == [1, 2] and rec.chosen_take in (1, 2)
    other = 3 - rec.chosen_take
    html = client.get("/episode/rev/shot/s002/compare").text
    assert html.count("<video") == 2 and f"take {rec.chosen_take} <span class=\"badge rendered\">in the cut" in html
    assert html.count('class="primary use"') == 1 and f'name="take" value="{other}"' in html
    assert "seed " in html and "no defects" in html  # each take shows its QC
    token = form_token(client)
    r = client.post("/episode/rev/shot/s002/compare/use", data={"take": str(other), "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/episode/rev/shot/s002/compare?used={other}"
    rec = ref.read()
    assert (rec.take_override, rec.chosen_take) == (other, other)
    assert os.path.samefile(ref.clip_path, ref.take_clip(other))
    html = client.get(r.headers["location"]).text
    assert f"Take {other} now goes into the cut" in html and "chosen by you" in html
    assert f'name="take" value="{rec.take_override}"' not in html
    for bad in ("9", "x", ""):
        assert client.post("/episode/rev/shot/s002/compare/use", data={"take": bad, "csrf_token": token}).status_code == 404
    assert ref.read().take_override == other


def test_a_shot_edited_after_its_render_shows_as_outdated(room) -> None:  # type: ignore[no-untyped-def]
    paths, _store, client = room
    spec = paths.episode_dir("rev") / "episode.yaml"
    text = spec.read_text()
    spec.write_text(text.replace('style: "grey morning"', 'style: "grey morning, light rain"'))
    try:
        page = client.get("/episode/rev").text
        s002 = page[page.index('id="shot-s002"'):]
        assert 'class="badge outdated">outdated<' in s002 and "re-renders on the next run" in s002
        assert 'class="badge outdated">outdated<' in client.get("/").text.split('id="ep-rev"')[1].split("</a>")[0]
    finally:
        spec.write_text(text)
    page = client.get("/episode/rev").text
    # the shot is current again (the episode's cut may still be outdated: an earlier test chose another take)
    assert "re-renders on the next run" not in page[page.index('id="shot-s002"'):]
