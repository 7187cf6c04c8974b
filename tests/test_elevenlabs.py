"""ElevenLabs TTS through the real SDK against the loopback fake: timestamps, chunking, cues, SRT."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from tests.fakes.elevenlabs_fake import ElevenLabsFake
from tests.fakes.fixtures import FAKE_ELEVEN_KEY, eleven_fake  # noqa: F401
from tests.fakes.server import Reply
from vidpipe.errors import ProviderNotConfigured, ProviderRejected
from vidpipe.providers.elevenlabs import chunk_text
from vidpipe.tts import synthesize_speech

TEXT = ("The light has stood here for a century. Every night it turns. "
        "Ships pass, and the keeper climbs the iron stairs! Does anyone remember his name?")


def _mp3_rate(path: Path) -> int:
    with av.open(str(path)) as c:
        return int(c.streams.audio[0].sample_rate)


def test_speech_with_timestamps(eleven_fake: ElevenLabsFake, tmp_path: Path) -> None:
    res = synthesize_speech(TEXT, tmp_path / "vo.mp3", voice_id="voice123")
    assert res.backend == "elevenlabs" and res.voice_id == "voice123"
    assert _mp3_rate(res.path) == 44100 and res.duration_s > 5
    call = eleven_fake.calls[0]
    assert call["voice_id"] == "voice123" and call["query"]["output_format"] == ["mp3_44100_128"]
    assert call["body"]["model_id"] == "eleven_multilingual_v2"
    assert [c.text for c in res.cues] == ["The light has stood here for a century.", "Every night it turns.",
                                          "Ships pass, and the keeper climbs the iron stairs!",
                                          "Does anyone remember his name?"]
    assert all(a.end <= b.start + 1e-6 for a, b in zip(res.cues, res.cues[1:]))
    align = json.loads(Path(res.alignment_path or "").read_text())
    assert "".join(align["alignment"]["characters"]) == TEXT and align["approximate"] is False
    assert res.words[0].text == "The" and len(res.words) == len(TEXT.split())
    srt = Path(res.srt_path or "").read_text()
    assert srt.startswith("1\n00:00:00,000 --> 00:00:0") and "Every night it turns." in srt
    assert eleven_fake.keys_seen == {FAKE_ELEVEN_KEY}
    for f in tmp_path.iterdir():
        assert FAKE_ELEVEN_KEY.encode() not in f.read_bytes()


def test_long_text_is_chunked_at_sentences(eleven_fake: ElevenLabsFake, tmp_path: Path) -> None:
    eleven_fake.char_limit = 70  # the fake refuses longer texts, as ElevenLabs does past a model's limit
    res = synthesize_speech(TEXT, tmp_path / "vo.mp3", voice_id="v", max_chars=70)
    texts = [c["body"]["text"] for c in eleven_fake.calls]
    assert len(texts) == 3 and all(len(t) <= 70 for t in texts)
    assert " ".join(texts) == TEXT  # split only at sentence ends
    assert eleven_fake.calls[1]["body"]["previous_text"].endswith(texts[0][-20:])
    assert res.cues[-1].text == "Does anyone remember his name?"
    # cue times run on across chunks (offset by each chunk's real length)
    assert res.cues[-1].start > res.cues[0].end and res.cues[-1].end <= res.duration_s + 0.1


def test_chunker_splits_a_giant_sentence() -> None:
    words = "word " * 50
    chunks = chunk_text(words.strip() + ".", 60)
    assert all(len(c) <= 60 for c in chunks) and " ".join(chunks).split() == (words.strip() + ".").split()


def test_errors_and_missing_key(eleven_fake: ElevenLabsFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    eleven_fake.fail_next.append(Reply(401, {"detail": {"status": "invalid_api_key"}}))
    with pytest.raises(ProviderRejected) as info:
        synthesize_speech("Hello there.", tmp_path / "a.mp3", voice_id="v")
    assert info.value.code == "unauthorized" and FAKE_ELEVEN_KEY not in str(info.value)
    monkeypatch.delenv("ELEVENLABS_API_KEY")
    with pytest.raises(ProviderNotConfigured) as info2:
        synthesize_speech("Hello there.", tmp_path / "a.mp3", backend="elevenlabs")
    assert "ELEVENLABS_API_KEY" in str(info2.value) and "--backend preview" in str(info2.value)


def test_preview_backend_cues(tmp_path: Path) -> None:
    res = synthesize_speech(TEXT, tmp_path / "p.mp3")  # no key → preview
    assert res.backend == "preview" and _mp3_rate(res.path) == 44100
    assert len(res.cues) == 4 and res.cues[-1].end == pytest.approx(res.duration_s, abs=0.05)
    align = json.loads(Path(res.alignment_path or "").read_text())
    assert align["approximate"] is False and align["alignment"]["engine"] == "espeak-ng"  # espeak's word events
    starts = [w.start for w in res.words]
    assert len(res.words) == len(TEXT.split()) and starts == sorted(starts) and starts[0] < 0.2
