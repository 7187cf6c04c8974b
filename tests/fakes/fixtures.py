"""Pytest fixtures for the provider fakes. Import them into a test module:

    from tests.fakes.fixtures import fal_fake, media_files  # noqa: F401
"""

from __future__ import annotations

import random
import sys
import types
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


def _ensure_collaborators() -> None:
    """Until validate/routing/preview land, minimal stand-ins so the runner can be exercised."""
    try:
        import vidpipe.validate  # noqa: F401
    except ImportError:
        import json

        from vidpipe.schema import Finding, Job

        m = types.ModuleType("vidpipe.validate")

        def validate_request(body: dict, *, model: str = "auto", job: object = None, **kw: object) -> list:
            bad = [k for k in body if k not in ("prompt", "image", "last_frame_image", "reference_images",
                                                 "reference_videos", "reference_audios", "duration", "resolution",
                                                 "aspect_ratio", "generate_audio", "seed")]
            return [Finding(code="unknown_field", message=f"unknown field {k}") for k in bad]

        def load_jobs(path: object) -> list:
            data = json.loads(Path(str(path)).read_text())
            return [Job.model_validate(d) for d in (data if isinstance(data, list) else [data])]

        m.validate_request = validate_request  # type: ignore[attr-defined]
        m.load_jobs = load_jobs  # type: ignore[attr-defined]
        sys.modules["vidpipe.validate"] = m
    try:
        import vidpipe.routing  # noqa: F401
    except ImportError:
        m = types.ModuleType("vidpipe.routing")

        class Route:
            def __init__(self, model: str, reason: str):
                self.model, self.reason, self.evidence, self.overridden_by = model, reason, [], None

        def route(req: dict, **kw: object) -> Route:
            if req.get("image") and not req.get("reference_images"):
                return Route("wan-2.7-i2v", "stub: single image")
            return Route("seedance-2.0", "stub: default")

        m.route = route  # type: ignore[attr-defined]
        sys.modules["vidpipe.routing"] = m
    try:
        import vidpipe.providers.preview  # noqa: F401
    except ImportError:
        from vidpipe.schema import frame_size

        m = types.ModuleType("vidpipe.providers.preview")

        def render_clip(request: dict, out: Path, *, model: str = "preview", fps: int = 24, label: str = "") -> Path:
            w, h = frame_size(request.get("resolution", "720p"), request.get("aspect_ratio", "16:9"))
            d = request.get("duration", 5)
            return make_clip(Path(out), seconds=5 if d == -1 else d, width=w // 4 * 2, height=h // 4 * 2)

        def render_still(prompt: str, out: Path, *, width: int, height: int, label: str = "",
                         seed: int | None = None) -> Path:
            run_ffmpeg(["-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}", "-frames:v", "1", str(out)])
            return Path(out)

        m.render_clip = render_clip  # type: ignore[attr-defined]
        m.render_still = render_still  # type: ignore[attr-defined]
        sys.modules["vidpipe.providers.preview"] = m
    try:
        import vidpipe.media.speech  # noqa: F401
    except ImportError:
        m = types.ModuleType("vidpipe.media.speech")

        def synthesize(text: str, out_wav: Path, *, voice: str = "en", rate_wpm: int = 160) -> Path:
            secs = max(0.5, len(text.split()) * 60 / rate_wpm)
            run_ffmpeg(["-y", "-f", "lavfi", "-i", f"sine=frequency=200:duration={secs}", str(out_wav)])
            return Path(out_wav)

        m.synthesize = synthesize  # type: ignore[attr-defined]
        sys.modules["vidpipe.media.speech"] = m


@pytest.fixture
def collaborators() -> None:
    _ensure_collaborators()


@pytest.fixture
def fal_fake(media_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[FalFake]:
    """A running fake fal queue with FAL_KEY + VIDPIPE_FAL_QUEUE_URL pointing at it; retries fast."""
    import fal_client.client as fc

    import vidpipe.generate as gen
    import vidpipe.providers.fal as vfal

    _ensure_collaborators()
    fake = FalFake({"clip.mp4": media_files["clip"].read_bytes(), "still.png": media_files["still"].read_bytes(),
                    "garbage.mp4": b"this is not an mp4 " * 64, "empty.mp4": b""}).start()
    monkeypatch.setenv("FAL_KEY", FAKE_FAL_KEY)
    monkeypatch.setenv("VIDPIPE_FAL_QUEUE_URL", fake.url)
    monkeypatch.setattr(fc, "QUEUE_URL_FORMAT", fc.QUEUE_URL_FORMAT)  # restored after the test
    monkeypatch.setattr(fc, "_get_retry_delay", lambda *a, **k: 0.0)  # the SDK's own backoff, made instant
    monkeypatch.setattr(vfal, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(gen, "RETRY_BASE_S", 0.01)
    yield fake
    fake.stop()


FAKE_GEMINI_KEY = "gemini-test-key-SECRET-1111"
FAKE_ELEVEN_KEY = "eleven-test-key-SECRET-2222"


@pytest.fixture
def gemini_fake(media_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator["GeminiFake"]:
    """A running fake Gemini API; GEMINI_API_KEY + VIDPIPE_GEMINI_BASE_URL point at it."""
    import vidpipe.generate as gen
    import vidpipe.providers.gemini as vgem
    from tests.fakes.gemini_fake import GeminiFake

    _ensure_collaborators()
    fake = GeminiFake(media_files["clip"].read_bytes(), media_files["still"].read_bytes()).start()
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_GEMINI_KEY)
    monkeypatch.setenv("VIDPIPE_GEMINI_BASE_URL", fake.url)
    monkeypatch.setattr(vgem, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(gen, "RETRY_BASE_S", 0.01)
    yield fake
    fake.stop()


@pytest.fixture
def eleven_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator["ElevenLabsFake"]:
    """A running fake ElevenLabs API; ELEVENLABS_API_KEY + VIDPIPE_ELEVENLABS_BASE_URL point at it."""
    from tests.fakes.elevenlabs_fake import ElevenLabsFake

    _ensure_collaborators()
    fake = ElevenLabsFake().start()
    monkeypatch.setenv("ELEVENLABS_API_KEY", FAKE_ELEVEN_KEY)
    monkeypatch.setenv("VIDPIPE_ELEVENLABS_BASE_URL", fake.url)
    yield fake
    fake.stop()
