"""Review room routes (FastAPI TestClient) over a really rendered one-shot episode."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ONE_SHOT = """\
title: Review
resolution: "480p"
shots:
  - {id: s001, subject: "a red lighthouse on a grey cliff", action: "the lamp turns on", camera: "wide shot, slow push-in",
     style: "blue hour, teal palette", constraints: ["no text"], audio: "wind and surf", duration: 4}
"""


@pytest.fixture(scope="module")
def room(tmp_path_factory):  # type: ignore[no-untyped-def]
    from vidpipe.paths import Paths
    from vidpipe.pipeline.run import render_episode
    from vidpipe.review.app import create_app
    from vidpipe.store import Store

    root = tmp_path_factory.mktemp("room")
    (root / "data" / "episodes" / "rev").mkdir(parents=True)
    (root / "data" / "episodes" / "rev" / "episode.yaml").write_text(ONE_SHOT)
    (root / "LESSONS.md").write_text("# LESSONS\n\n## Accumulated lessons\n\n")
    paths = Paths.from_env(root)
    run = render_episode(paths, "rev", deliver=False)
    assert not run.failed
    store = Store(paths.db)
    return paths, store, TestClient(create_app(paths, store))


def test_episode_page_shows_player_sheet_prompt_parts_and_form(room) -> None:  # type: ignore[no-untyped-def]
    _paths, _store, client = room
    html = client.get("/episode/rev").text
    assert 'src="/media/rev/shots/s001/clip.mp4"' in html and "contact_sheet.jpg" in html
    assert 'class="part p-camera"' in html and "slow push-in" in html
    assert "seedance-2.0" in html and "unjudged" in html and 'name="overall"' in html
    assert client.get("/").text.count("/episode/rev") == 1


def test_media_is_served_only_from_the_media_root(room, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths, _store, client = room
    assert client.get("/media/rev/shots/s001/clip.mp4").status_code == 200
    secret = paths.root / "secret.txt"
    secret.write_text("FAL_KEY=nope")
    link = paths.media / "rev" / "escape.txt"
    link.symlink_to(secret)
    for bad in ("/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/rev/escape.txt",
                f"/media/{secret}", "/media//etc/passwd"):
        r = client.get(bad)
        assert r.status_code == 404 and "nope" not in r.text, bad


def test_bad_submit_keeps_input_and_shows_errors(room) -> None:  # type: ignore[no-untyped-def]
    _paths, store, client = room
    r = client.post("/episode/rev/shot/s001/score", data={"overall": "9", "prompt_fidelity": "4",
                                                          "lesson": "<script>alert(1)</script>"})
    assert r.status_code == 400 and "choose a score from 1 to 5" in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert(1)" not in r.text  # escaped, kept
    assert 'value="4" selected' in r.text
    assert store.query("SELECT count(*) AS n FROM scores")[0]["n"] == 0


def test_score_lands_in_duckdb_lessons_and_trends(room) -> None:  # type: ignore[no-untyped-def]
    paths, store, client = room
    form = {"overall": "4", "prompt_fidelity": "5", "subject_consistency": "4", "camera_and_motion": "4",
            "audio_match": "3", "failure_modes": ["style drift"], "lesson": "Blue hour reads well in previews."}
    r = client.post("/episode/rev/shot/s001/score", data=form, follow_redirects=False)
    assert r.status_code == 303
    row = store.query("SELECT judge, overall, failure_modes FROM scores")[-1]
    assert row == {"judge": "human", "overall": 4, "failure_modes": ["style drift"]}
    assert "Blue hour reads well in previews." in paths.lessons.read_text()
    assert "<b>4/5</b> by human" in client.get("/episode/rev").text
    trends = client.get("/trends").text
    assert "seedance-2.0" in trends and client.get("/media/_trends.png").status_code == 200


def test_compare_shows_takes_side_by_side(room) -> None:  # type: ignore[no-untyped-def]
    import shutil

    paths, _store, client = room
    shot = paths.shot_media("rev", "s001")
    take = shot / "takes" / "kling"
    take.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot / "clip.mp4", take / "clip.mp4")
    (take / "shot.json").write_text('{"prompt": "alt", "generation": {"model": "kling-3.0-omni"}}')
    html = client.get("/episode/rev/shot/s001/compare").text
    assert html.count("<video") == 2 and "kling-3.0-omni" in html and "seedance-2.0" in html
