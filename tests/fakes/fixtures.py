"""Pytest fixtures for the provider fakes. Import them into a test module:

    from tests.fakes.fixtures import fal_fake, media_files  # noqa: F401
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from tests.fakes.fal_fake import FalFake
from vidpipe.media.ffmpeg import run_ffmpeg

if TYPE_CHECKING:
    from tests.fakes.elevenlabs_fake import ElevenLabsFake
    from tests.fakes.gemini_fake import GeminiFake

FAKE_FAL_KEY = "fake.fal.key.for.tests+SECRET"


def make_clip(path: Path, *, seconds: float = 4.0, width: int = 320, height: int = 180, audio: bool = True) -> Path:
    """A small real H.264 MP4 (lavfi test pattern, optional sine audio)."""
    args = ["-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=24:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate=44100"]
    args += ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"]
    args += ["-c:a", "aac", "-shortest"] if audio else []
    run_ffmpeg([*args, str(path)], what="test clip")
    return path


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real media made once per session: clips, a still, a speech-like WAV, a big image."""
    d = tmp_path_factory.mktemp("fake_media")
    clip = make_clip(d / "clip.mp4")
    still = d / "still.png"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=size=320x180", "-frames:v", "1", str(still)], what="still")
    wav = d / "voice.wav"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=220:duration=3:sample_rate=22050", str(wav)], what="wav")
    big = d / "big.bin.png"
    Image.frombytes("RGB", (640, 640), random.Random(7).randbytes(640 * 640 * 3)).save(big)  # a real PNG > 1 MB
    return {"clip": clip, "still": still, "wav": wav, "big": big}


@pytest.fixture
def fal_fake(media_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FalFake]:
    """A running fake fal queue + storage + platform API with FAL_KEY, VIDPIPE_FAL_QUEUE_URL,
    VIDPIPE_FAL_STORAGE_URL and VIDPIPE_FAL_API_URL pointing at it; the SDK's and vidpipe's backoffs
    made instant; uploads cached in the test's root."""
    import fal_client.client as fc

    import vidpipe.generate.retry as gen
    import vidpipe.providers.fal as vfal
    from vidpipe.providers import preflight

    fake = FalFake({"clip.mp4": media_files["clip"].read_bytes(), "still.png": media_files["still"].read_bytes(),
                    "garbage.mp4": b"this is not an mp4 " * 64, "empty.mp4": b""}, keys={FAKE_FAL_KEY}).start()
    monkeypatch.setenv("FAL_KEY", FAKE_FAL_KEY)
    monkeypatch.setenv("VIDPIPE_FAL_QUEUE_URL", fake.url)
    monkeypatch.setenv("VIDPIPE_FAL_STORAGE_URL", fake.url)
    monkeypatch.setenv("VIDPIPE_FAL_API_URL", fake.url + "/v1")  # the platform API (preflight)
    cache = tmp_path / "fal_uploads.json"  # not the checkout's data root
    monkeypatch.setattr(vfal.UploadCache, "default", classmethod(lambda cls: cls(cache)))
    monkeypatch.setattr(preflight, "default_root", lambda: tmp_path / "preflight")  # nor its preflight cache
    for name in ("QUEUE_URL_FORMAT", "REST_URL", "CDN_URL"):  # restored after the test
        monkeypatch.setattr(fc, name, getattr(fc, name))
    monkeypatch.setattr(fc, "_get_retry_delay", lambda *a, **k: 0.0)  # the SDK's own backoff, made instant
    monkeypatch.setattr(vfal, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(vfal, "SUBMIT_RETRY_BASE_S", 0.0)
    monkeypatch.setattr(gen, "RETRY_BASE_S", 0.01, raising=False)
    yield fake
    fake.stop()


FAKE_GEMINI_KEY = "gemini-test-key-SECRET-1111"
FAKE_ELEVEN_KEY = "eleven-test-key-SECRET-2222"


@pytest.fixture
def gemini_fake(media_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                tmp_path: Path) -> Iterator["GeminiFake"]:
    """A running fake Gemini API; GEMINI_API_KEY + VIDPIPE_GEMINI_BASE_URL point at it; the preflight's cache
    for stills in the test's folder."""
    import vidpipe.generate.retry as gen
    import vidpipe.providers.gemini as vgem
    from tests.fakes.gemini_fake import GeminiFake
    from vidpipe.providers import preflight

    monkeypatch.setattr(preflight, "default_root", lambda: tmp_path / "preflight")
    fake = GeminiFake(media_files["clip"].read_bytes(), media_files["still"].read_bytes(), key=FAKE_GEMINI_KEY).start()
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_GEMINI_KEY)
    monkeypatch.setenv("VIDPIPE_GEMINI_BASE_URL", fake.url)
    monkeypatch.setattr(vgem, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(gen, "RETRY_BASE_S", 0.01, raising=False)
    yield fake
    fake.stop()


@pytest.fixture
def eleven_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator["ElevenLabsFake"]:
    """A running fake ElevenLabs API; ELEVENLABS_API_KEY + VIDPIPE_ELEVENLABS_BASE_URL point at it."""
    from tests.fakes.elevenlabs_fake import ElevenLabsFake

    fake = ElevenLabsFake(key=FAKE_ELEVEN_KEY).start()
    monkeypatch.setenv("ELEVENLABS_API_KEY", FAKE_ELEVEN_KEY)
    monkeypatch.setenv("VIDPIPE_ELEVENLABS_BASE_URL", fake.url)
    yield fake
    fake.stop()
