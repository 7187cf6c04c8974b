"""The 5-part composer (order, blocks, dialogue, sound, profile) and the prompt lint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vidpipe.episode import load_episode
from vidpipe.prompt import compose_prompt, count_blocks, count_words, lint_prompt
from vidpipe.schema import Avatar, Episode, Profile, Shot
from vidpipe.shots import shot_to_job

DEMO = Path(__file__).resolve().parents[1] / "data" / "episodes" / "demo"


@pytest.fixture(scope="module")
def demo() -> Episode:
    return load_episode(DEMO)


def _prompt(demo: Episode, shot_id: str) -> str:
    """The prompt as a request carries it: with the shot's cast expanded (shots.shot_to_job)."""
    return shot_to_job(demo, demo.shot(shot_id), episode_dir=DEMO).input["prompt"]


def test_five_parts_in_order(demo: Episode) -> None:
    text = _prompt(demo, "s001")
    marks = [text.index("the lighthouse [Image1]: a white stone tower"), text.index("Waves break"),
             text.index("Camera: wide establishing"), text.index("Style: blue-hour"), text.index("Sound: wind"),
             text.index("Constraints: single continuous")]
    assert marks == sorted(marks), text
    assert text.startswith("A lighthouse on a sea cliff, with the lighthouse [Image1]")
    assert "Constraints: single continuous take; no text or subtitles; horizon level." in text


def test_time_coded_blocks_for_s003(demo: Episode) -> None:
    shot = demo.shot("s003")
    text = _prompt(demo, "s003")
    lines = text.splitlines()
    block_lines = [ln for ln in lines if re.match(r"\[\d\d:\d\d-\d\d:\d\d\]", ln)]
    assert [ln[:13] for ln in block_lines] == ["[00:00-00:04]", "[00:04-00:08]", "[00:08-00:12]"]
    for ln, block in zip(block_lines, shot.blocks):
        assert "the keeper [Image1]" in ln  # each block re-anchors the cast member by name and reference
        assert block.action in ln and f"Camera: {block.camera}." in ln
    assert "yellow oilskin coat, navy knit cap" in lines[0]  # the description, once, in the Subject
    assert lines[0].startswith("A lighthouse keeper in a storm")  # Subject first
    assert text.index("[00:08-00:12]") < text.index("Style:") < text.index("Constraints:")
    assert count_blocks(text) == 3
    assert [f.code for f in lint_prompt(text)] == []  # 120–280 words for a 3-shot prompt


def test_dialogue_is_quoted_with_speaker(demo: Episode) -> None:
    text = compose_prompt(demo.shot("s004"))
    assert 'The keeper says: "Trawler Marguerite, steer north of the light."' in text
    assert text.index("says:") < text.index("Camera:")


def test_raw_prompt_is_used_as_is() -> None:
    shot = Shot(id="x", prompt="  Exactly this. [Image1]  ", subject="ignored", camera="ignored")
    assert compose_prompt(shot) == "Exactly this. [Image1]"


@pytest.mark.parametrize(("generate_audio", "has_sound"), [
    pytest.param(None, True, id="default-on-with-audio-direction"),
    pytest.param(True, True, id="explicit-on"),
    pytest.param(False, False, id="explicit-off"),
])
def test_sound_sentence_only_when_audio_on(generate_audio: bool | None, has_sound: bool) -> None:
    shot = Shot(id="x", subject="a kettle", action="it boils", audio="a rising whistle", generate_audio=generate_audio)
    assert ("Sound: a rising whistle." in compose_prompt(shot)) is has_sound


def test_me_shot_cites_avatar_and_appends_rules() -> None:
    prof = Profile(avatar=Avatar(image="/me.png", rules=["identity 100% faithful", "mic to the side, mouth unobstructed"]))
    shot = Shot(id="m", me=True, subject="a founder at a desk", action="she explains the roadmap",
                constraints=["no subtitles"])
    text = compose_prompt(shot, profile=prof)
    assert text.startswith("A founder at a desk, the person in [Image1].")
    assert text.endswith("Constraints: no subtitles; identity 100% faithful; mic to the side, mouth unobstructed.")


@pytest.mark.parametrize(("prompt", "blocks", "expected"), [
    pytest.param("word " * 49, 0, ["word_count_low"], id="49-single"),
    pytest.param("word " * 50, 0, [], id="50-single"),
    pytest.param("word " * 90, 0, [], id="90-single"),
    pytest.param("word " * 91, 0, ["word_count_high"], id="91-single"),
    pytest.param("word " * 100, 2, ["word_count_low"], id="100-multi"),
    pytest.param("[00:00-00:04] " + "word " * 60 + "[00:04-00:08] " + "word " * 60, 0, [], id="120-detected-multi"),
    pytest.param("word " * 281, 3, ["word_count_high"], id="281-multi"),
    pytest.param("word " * 60 + '"Go now."', 0, ["dialogue_line_length"], id="short-line"),
    pytest.param("word " * 60 + "“one two three four five six seven eight nine ten eleven”", 0,
                 ["dialogue_line_length"], id="long-curly-line"),
    pytest.param("word " * 60 + '"Steer north of the light."', 0, [], id="good-line"),
])
def test_lint_prompt(prompt: str, blocks: int, expected: list[str]) -> None:
    found = lint_prompt(prompt, blocks=blocks)
    assert [f.code for f in found] == expected
    assert all(f.severity == "warning" for f in found)


def test_time_codes_are_not_words() -> None:
    assert count_words("[00:00-00:04] one two [Image1]") == 3
