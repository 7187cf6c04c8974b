"""The voice a paying user's first run speaks with: never a hard-coded id; --voice, the episode's
voice.voice_id or the profile; a placeholder is "not set"; `vidpipe voices` lists the account's voices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.elevenlabs_fake import LEGACY_VOICE, ElevenLabsFake
from tests.fakes.fixtures import FAKE_ELEVEN_KEY, eleven_fake  # noqa: F401
from vidpipe.errors import ProviderNotConfigured, ProviderRejected
from vidpipe.tts import is_placeholder, synthesize_speech

pytestmark = pytest.mark.timeout(120)
REPO = Path(__file__).resolve().parents[1]


def _profile(root: Path, voice: str | None) -> None:
    (root / "profile").mkdir(parents=True, exist_ok=True)
    example = json.loads((REPO / "profile" / "profile.example.json").read_text())
    example["voice"]["elevenlabs_voice_id"] = voice
    (root / "profile" / "profile.json").write_text(json.dumps(example))


@pytest.mark.parametrize("value,placeholder", [
    (None, True), ("", True), ("  ", True), ("YOUR_ELEVENLABS_VOICE_ID", True), ("<voice id>", True),
    ("voice123", False), ("JBFqnCBsd6RMkjVDRZzb", False)])
def test_placeholders_are_not_set(value: str | None, placeholder: bool) -> None:
    assert is_placeholder(value) is placeholder


def test_the_example_profile_value_is_a_placeholder() -> None:
    example = json.loads((REPO / "profile" / "profile.example.json").read_text())
    assert is_placeholder(example["voice"]["elevenlabs_voice_id"])


def test_no_voice_set_is_one_clear_error(eleven_fake: ElevenLabsFake, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    _profile(tmp_path, "YOUR_ELEVENLABS_VOICE_ID")
    with pytest.raises(ProviderNotConfigured) as info:
        synthesize_speech("Hello there.", tmp_path / "a.mp3", backend="elevenlabs")
    msg = str(info.value)
    assert info.value.code == "voice_not_set" and "\n" not in msg
    for where in ("--voice", "voice.voice_id", "voice.elevenlabs_voice_id", str(tmp_path / "profile" / "profile.json"),
                  "vidpipe voices"):
        assert where in msg, where
    assert eleven_fake.calls == [] and eleven_fake.refused == []  # nothing was sent


def test_voice_order_explicit_then_profile(eleven_fake: ElevenLabsFake, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    _profile(tmp_path, "v")
    assert synthesize_speech("Hello.", tmp_path / "a.mp3").voice_id == "v"  # the profile's
    assert synthesize_speech("Hello.", tmp_path / "b.mp3", voice_id="voice123").voice_id == "voice123"
    assert synthesize_speech("Hello.", tmp_path / "c.mp3", voice_id="YOUR_ELEVENLABS_VOICE_ID").voice_id == "v"
    assert [c["voice_id"] for c in eleven_fake.calls] == ["v", "voice123", "v"]


@pytest.mark.parametrize("voice,code", [(LEGACY_VOICE, "paid_plan_required"), ("retired-voice", "voice_not_found")])
def test_unusable_voices_say_what_to_do(eleven_fake: ElevenLabsFake, tmp_path: Path, voice: str, code: str) -> None:
    with pytest.raises(ProviderRejected) as info:
        synthesize_speech("Hello.", tmp_path / "a.mp3", voice_id=voice)
    assert info.value.code == code and "vidpipe voices" in str(info.value)


def _vidpipe(root: Path, *args: str, fake: ElevenLabsFake | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS", "VIDPIPE", "FAL_", "GEMINI"))}
    env.update(PYTHONPATH=str(REPO), VIDPIPE_ROOT=str(root))
    if fake is not None:
        env.update(ELEVENLABS_API_KEY=FAKE_ELEVEN_KEY, VIDPIPE_ELEVENLABS_BASE_URL=fake.url)
    return subprocess.run([sys.executable, "-m", "vidpipe", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=90)


def test_voices_command_lists_the_account(eleven_fake: ElevenLabsFake, tmp_path: Path) -> None:
    eleven_fake.voices.update({f"extra{i:03d}": (f"Voice {i}", "professional") for i in range(120)})  # two pages
    proc = _vidpipe(tmp_path, "voices", fake=eleven_fake)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["VOICE", "ID", "NAME", "CATEGORY"] and len(lines) == 1 + 123
    assert any(ln.split()[:3] == ["voice123", "Keeper", "cloned"] for ln in lines)
    proc = _vidpipe(tmp_path, "voices", "--json", fake=eleven_fake)
    rows = json.loads(proc.stdout)
    assert {"voice_id": "v", "name": "Narrator", "category": "generated"} in rows and len(rows) == 123
    assert FAKE_ELEVEN_KEY not in proc.stdout + proc.stderr


def test_voices_and_tts_commands_without_key_or_voice(eleven_fake: ElevenLabsFake, tmp_path: Path) -> None:
    proc = _vidpipe(tmp_path, "voices")
    assert proc.returncode == 1 and "ELEVENLABS_API_KEY" in proc.stderr and "Traceback" not in proc.stderr
    proc = _vidpipe(tmp_path, "tts", "Hello there.", "--backend", "elevenlabs", "--out", "a.mp3", fake=eleven_fake)
    assert proc.returncode == 1 and "no ElevenLabs voice is set" in proc.stderr and "Traceback" not in proc.stderr
    proc = _vidpipe(tmp_path, "tts", "Hello there.", "--voice", "voice123", "--model", "eleven_v3",
                    "--out", "a.mp3", fake=eleven_fake)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a.mp3").stat().st_size > 0 and eleven_fake.calls[-1]["body"]["model_id"] == "eleven_v3"
