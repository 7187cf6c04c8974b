"""`vidpipe write`: a logline becomes a draft episode that loads, validates, prices and never overwrites.

Offline: the beat-sheet writer on 20 loglines of every shape (possessive leads, places, no place, long,
odd punctuation) × aspects and lengths — every draft validates with no errors. With a key: the real
google-genai client against the loopback Gemini fake, which sees a structured-output request (JSON mime
type and a response schema) and answers with a draft; a draft that does not validate writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fakes.gemini_fake import TEXT_MODELS, GeminiFake
from vidpipe.episode import load_episode, validate_episode
from vidpipe.errors import SpecError
from vidpipe.paths import Paths
from vidpipe.write.beats import draft_episode
from vidpipe.write.draft import write_episode

REPO = Path(__file__).resolve().parents[1]
LOGLINES = [
    "a lighthouse keeper's last night before automation",
    "A baker in Lyon bakes her final loaf before the shop closes.",
    "two brothers race a storm across the salt flats",
    "the last train conductor on a closing mountain line",
    "an astronaut's first morning back on Earth",
    "a street musician plays for an empty square at dawn",
    "the night nurse's longest shift",
    "a retired boxer teaches his granddaughter to stand her ground",
    "fishermen haul in an empty net off the northern coast",
    "a clockmaker repairs the town clock at midnight",
    "a girl and her dog search the forest for a lost kite",
    "the beekeeper's quiet war with the wind",
    "an old cinema projects its last film",
    "a translator's day inside a crowded courthouse",
    "snow falls on the harbour as the ferry leaves",
    "a mapmaker's journey to the edge of the desert",
    "the florist who never smiles",
    "a chef cooks one perfect dish in a burning kitchen",
    "hope",
    "a very long logline about a painter who spends forty years painting the same bridge over the river in "
    "every season and every light, until the bridge itself is torn down",
]


@pytest.mark.parametrize("i", range(len(LOGLINES)))
def test_offline_drafts_validate(project: Paths, i: int) -> None:
    aspect = ("16:9", "9:16", "1:1", "4:3")[i % 4]
    minutes = (None, 0.5, 1.0, 2.0)[i % 4]
    done = write_episode(project, f"ep{i}", LOGLINES[i], aspect=aspect, minutes=minutes, use_llm=False)
    ep = load_episode(done.path.parent, paths=project)
    assert ep.title.startswith("DRAFT") and ep.aspect_ratio == aspect
    _, reports = validate_episode(project, f"ep{i}")
    assert [e for r in reports for e in r.errors] == []
    for shot in ep.shots:  # the 5 parts are there; one camera move named; durations avoid the risky ones
        assert shot.subject and shot.action and shot.camera and shot.style and shot.constraints
        assert shot.duration not in (7, 9, 11, 13, 14)
        assert "no text or subtitles" in shot.constraints
    assert all(2 <= len(m.description.split(",")) <= 3 for m in ep.cast)
    assert done.estimate is not None and done.estimate.total_usd == 0.0  # preview: free
    if minutes:
        total = sum(s.duration for s in ep.shots)
        assert abs(total - minutes * 60) <= max(10, 0.35 * minutes * 60)


def test_the_draft_is_deterministic_and_follows_lessons() -> None:
    a = draft_episode(LOGLINES[0], aspect="9:16")
    assert a == draft_episode(LOGLINES[0], aspect="9:16")
    assert a != draft_episode(LOGLINES[1], aspect="9:16")
    from vidpipe.learning.lessons import read_lessons
    dance = draft_episode("a dancer's audition", aspect="9:16", lessons=read_lessons(REPO / "LESSONS.md"))
    dialogue = [s for s in dance["shots"] if s.get("dialogue")]
    assert dialogue and all("no captions" in s["constraints"] for s in dialogue)


def test_write_never_overwrites(project: Paths) -> None:
    before = hashlib.sha256((project.episode_dir("mini") / "episode.yaml").read_bytes()).hexdigest()
    with pytest.raises(SpecError, match="already exists"):
        write_episode(project, "mini", "anything at all", use_llm=False)
    assert hashlib.sha256((project.episode_dir("mini") / "episode.yaml").read_bytes()).hexdigest() == before
    run = subprocess.run([sys.executable, "-m", "vidpipe", "write", "mini", "--logline", "x"], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=project.root)
    assert run.returncode != 0 and "already exists" in run.stderr and run.stderr.count("\n") == 1


def _llm_answer(shots: int) -> dict:
    return {"title": "The last light", "cast": [
        {"id": "keeper", "name": "the keeper", "kind": "person",
         "description": "a man in his sixties, yellow oilskin coat, navy knit cap"}],
        "shots": [{"id": f"s{i + 1:03d}", "title": f"Beat {i + 1}", "category": "character", "cast": ["keeper"],
                   "subject": "the keeper", "action": "the keeper climbs the spiral stairs",
                   "camera": "medium shot, static tripod shot", "style": "blue-hour light, film grain",
                   "constraints": ["no text or subtitles"], "audio": "wind and footsteps on iron", "duration": 5,
                   "dialogue": [], "blocks": []} for i in range(shots)]}


@pytest.fixture
def gemini(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    fake = GeminiFake(b"", b"", key="gem-writer-key-9").start()
    monkeypatch.setenv("GEMINI_API_KEY", "gem-writer-key-9")
    monkeypatch.setenv("VIDPIPE_GEMINI_BASE_URL", fake.url)
    monkeypatch.setenv("VIDPIPE_WRITER_MODEL", TEXT_MODELS[0])
    yield fake
    fake.stop()


def test_llm_writer_sends_a_structured_output_request(project: Paths, gemini: GeminiFake) -> None:
    gemini.text_reply = json.dumps(_llm_answer(3))
    done = write_episode(project, "pilot", "a lighthouse keeper's last night", shots=3, aspect="16:9")
    assert done.writer == "gemini"
    (sent,) = gemini.submits
    cfg = sent["body"]["generationConfig"]
    assert cfg["responseMimeType"] == "application/json"
    schema = cfg.get("responseSchema") or cfg.get("responseJsonSchema")
    assert schema and {"title", "cast", "shots"} <= set(schema["properties"])
    text = " ".join(p.get("text", "") for c in sent["body"]["contents"] for p in c["parts"])
    assert "a lighthouse keeper's last night" in text and "LESSON:" in text  # the lessons go in the instructions
    written = yaml.safe_load(done.path.read_text())
    assert written["title"].startswith("DRAFT") and [s["id"] for s in written["shots"]] == ["s001", "s002", "s003"]


def test_llm_draft_that_does_not_validate_writes_nothing(project: Paths, gemini: GeminiFake) -> None:
    bad = _llm_answer(2)
    bad["shots"][1]["duration"] = 40  # outside 4–15
    gemini.text_reply = json.dumps(bad)
    with pytest.raises(SpecError, match="duration"):
        write_episode(project, "pilot", "a lighthouse keeper's last night", shots=2)
    assert not project.episode_dir("pilot").exists() or not any(project.episode_dir("pilot").iterdir())
