"""Subtitles: word timings from the speech engine, phrase cues within each screen's line/reading-speed rules,
SRT + WebVTT sidecars read back by the subtitle library, and a styled burn-in inside the safe area."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pysubs2
import pytest

from tests.test_finish_roundtrip import coded  # noqa: F401  (the fixture)
from vidpipe.finish.captions import episode_words
from vidpipe.finish.formats import export_timeline
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.subtitles import RULES, TimedWord, ass_filter, phrase_cues, styled_ass, write_sidecars
from vidpipe.paths import Paths
from vidpipe.pipeline.episode_stages import NARRATION_LEAD_S, make_voiceover
from vidpipe.edit_schema import SubtitleCue


def _words(text: str, start: float = 0.0, step: float = 0.3, speaker: str = "narrator") -> list[TimedWord]:
    return [TimedWord(w, round(start + i * step, 3), round(start + (i + 1) * step, 3), speaker)
            for i, w in enumerate(text.split())]


@pytest.mark.parametrize("aspect", sorted(RULES))
def test_phrase_cues_keep_line_length_reading_speed_and_speakers(aspect: str) -> None:
    rules = RULES[aspect]
    words = _words("the light has stood here for a century and every night it turns while ships pass far out "
                   "beyond the reef where the keeper watches") + _words("Who goes there?", 8.0, speaker="keeper")
    cues = phrase_cues(words, rules)
    for c in cues:
        lines = c.text.split("\n")
        assert len(lines) <= rules.max_lines and all(len(ln) <= rules.max_line for ln in lines), c.text
    for a, b in zip(cues, cues[1:]):
        assert a.end <= b.start  # never two cues on screen at once
    # a cue is held for its reading time unless the next one starts first
    for a, b in zip(cues, cues[1:] + [None]):
        need = len(a.text) / rules.max_cps
        assert a.end - a.start >= need - 1e-3 or (b is not None and a.end == b.start)
    assert cues[-1].text == "Who goes there?"  # the speaker change starts a new cue
    assert " ".join(c.text.replace("\n", " ") for c in cues).split() == [w.text for w in words]
    if aspect == "9:16":
        assert max(len(ln) for c in cues for ln in c.text.split("\n")) <= 26


def test_sidecars_read_back_with_word_times(tmp_path: Path) -> None:
    words = _words("Every night for forty years.", 1.25, 0.37)
    paths = write_sidecars(words, tmp_path / "ep")
    assert sorted(p.name for p in paths) == ["ep.srt", "ep.vtt", "ep.words.srt", "ep.words.vtt"]
    assert (tmp_path / "ep.vtt").read_text().startswith("WEBVTT")
    for name in ("ep.words.srt", "ep.words.vtt"):
        subs = pysubs2.load(str(tmp_path / name))
        assert [(e.start, e.end, e.plaintext) for e in subs] == [(round(w.start * 1000), round(w.end * 1000), w.text)
                                                                  for w in words]
    phrases = pysubs2.load(str(tmp_path / "ep.srt"))
    assert len(phrases) == 1 and phrases[0].start == 1250


def test_episode_sidecars_carry_narration_word_timings(coded: Paths) -> None:  # noqa: F811
    vo = make_voiceover(coded, "mini", backend="preview")  # espeak's own word events
    words = episode_words(coded, "mini")
    narration = [w for w in words if w.speaker == "narrator"]
    text = "The light has stood here for a century."
    assert [w.text for w in narration] == text.split() and not narration[0].approximate
    assert narration[0].start == pytest.approx(NARRATION_LEAD_S, abs=0.15)  # the line starts 0.4 s into shot 1
    assert all(a.start < b.start for a, b in zip(narration, narration[1:]))
    assert narration[-1].end <= NARRATION_LEAD_S + vo.lines[0]["duration_s"] + 0.05
    res = export_timeline(coded, "mini", "otio")
    per_word = pysubs2.load(str(next(p for p in res.sidecars if p.name.endswith(".words.vtt"))))
    assert [e.plaintext for e in per_word] == text.split()


def test_dialogue_words_sit_inside_their_shot(coded: Paths) -> None:  # noqa: F811
    spec = coded.episode_dir("mini") / "episode.yaml"
    spec.write_text(spec.read_text().replace("    audio: rain on glass\n",
                                             "    audio: rain on glass\n    dialogue:\n"
                                             "      - {speaker: keeper, line: \"Hold the light steady.\"}\n", 1))
    words = [w for w in episode_words(coded, "mini") if w.speaker == "keeper"]
    assert [w.text for w in words] == ["Hold", "the", "light", "steady."] and all(w.approximate for w in words)
    # s003 is the third clip: it starts at 48 + 48 - 12 = 84 frames (3.5 s) and lasts 2 s
    assert 3.5 - 1e-3 <= words[0].start and words[-1].end <= 5.5 + 1e-3


def test_styled_burn_in_stays_in_the_safe_area(tmp_path: Path) -> None:
    w, h = 360, 640
    src = tmp_path / "black.mp4"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", f"color=c=black:s={w}x{h}:r=24:d=1", "-pix_fmt", "yuv420p", str(src)],
               what="black clip")
    ass = styled_ass([SubtitleCue(start=0, end=1, text="Hold the light\nsteady, keeper")], tmp_path / "c.ass", w, h,
                     "9:16")
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "burnt.mp4"
    run_ffmpeg(["-y", "-i", str(src), "-vf", ass_filter(ass, work), "-pix_fmt", "yuv420p", str(out)], what="burn")
    with av.open(str(out)) as c:
        frame = next(iter(c.decode(video=0))).to_ndarray(format="gray").astype(float)
    ink = np.argwhere(frame > 128)
    assert len(ink) > 500  # the captions were drawn (the bundled font was found)
    rules = RULES["9:16"]
    assert ink[:, 0].max() <= h * (1 - rules.margin_v) + 2  # above the bottom safe margin (platform UI)
    assert ink[:, 1].min() >= w * rules.margin_h - 2 and ink[:, 1].max() <= w * (1 - rules.margin_h) + 2
    assert ink[:, 0].min() >= h / 2  # in the lower half, not over faces
