"""No layer re-POSTs a paid call whose request may have arrived: fal (our own POST), Veo on the Gemini
API (google-genai with one attempt), ElevenLabs (SDK with max_retries=0). Only a connection that never
opened is tried again. Real SDKs and httpx against the loopback fakes; POSTs counted at the server."""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.elevenlabs_fake import ElevenLabsFake
from tests.fakes.fal_fake import NGINX_502, FalFake
from tests.fakes.fixtures import eleven_fake, fal_fake, gemini_fake, media_files  # noqa: F401
from tests.fakes.gemini_fake import GeminiFake, google_error
from tests.fakes.server import FakeServer, Reply
from vidpipe.errors import ProviderError
from vidpipe.generate import generate_jobs
from vidpipe.providers.elevenlabs import ElevenLabsTTS
from vidpipe.stills import make_still
from vidpipe.schema import Job

KITE = Job(id="j0", model="seedance-2.0", input={"prompt": "a red kite over dunes", "duration": 4})
VEO = Job(id="v", model="veo-3.1", input={"prompt": "a kite at dusk", "duration": 4})



@pytest.fixture(autouse=True)
def _no_preflight(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests put a fault on the paid POST itself; the preflight's own reads (models.list, the platform
    API) would take it first. The preflight is tested in test_preflight.py."""
    monkeypatch.setenv("VIDPIPE_PREFLIGHT", "off")

def count_posts(fake: FakeServer) -> Counter[str]:
    """Every POST the server read, answered or not."""
    posts: Counter[str] = Counter()
    handle = fake.handle

    def counting(method: str, path: str, *rest: Any) -> Reply | None:
        if method == "POST":
            posts[path] += 1
        return handle(method, path, *rest)

    fake.handle = counting  # type: ignore[method-assign]
    return posts


def test_fal_gateway_5xx_on_submit_is_unknown_not_sent_again(fal_fake: FalFake, tmp_path: Path) -> None:
    """fal-client retries an nginx 502 (it guesses the app never saw it); the app may have queued it."""
    fal_fake.fail_next("submit", NGINX_502)
    [res] = generate_jobs([KITE], tmp_path / "o", backend="fal")
    assert res.error_code == "submit_unknown" and fal_fake.attempts["submit"] == 1, res.error


def test_fal_connection_refused_is_not_sent_and_the_next_run_submits(fal_fake: FalFake, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection that never opened proves nothing left: a plain failure, no claim left behind."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens here once closed
    monkeypatch.setenv("VIDPIPE_FAL_QUEUE_URL", closed)
    [res] = generate_jobs([KITE], tmp_path / "o", backend="fal")
    assert res.status == "failed" and res.error_code == "connection", res.error
    assert not [c for c in (tmp_path / "o" / ".claims").glob("*.json")]  # as if nothing happened
    monkeypatch.setenv("VIDPIPE_FAL_QUEUE_URL", fal_fake.url)
    [again] = generate_jobs([KITE], tmp_path / "o", backend="fal")
    assert again.status == "done" and fal_fake.accepted == 1, again.error


def test_a_failed_upload_before_the_submit_is_not_an_unknown_submission(
        fal_fake: FalFake, tmp_path: Path, media_files: dict[str, Path]) -> None:
    """fal storage fails (both its upload routes): the paid POST never left, so the job just fails and the
    next run submits it — no `submit_unknown` waiting for a person."""
    job = Job(id="w", model="wan-2.7-i2v", input={"prompt": "a kite lands", "duration": 4,
                                                  "image": str(media_files["still"])})
    for op in ("token", "initiate"):
        fal_fake.fail_next(op, Reply(500, {"detail": "storage is down"}), times=20)
    [res] = generate_jobs([job], tmp_path / "o", backend="fal")
    assert res.status == "failed" and res.error_code != "submit_unknown", res.error
    assert fal_fake.attempts["submit"] == 0 and fal_fake.uploads == []
    fal_fake.faults = {op: [] for op in fal_fake.faults}
    [again] = generate_jobs([job], tmp_path / "o", backend="fal")
    assert again.status == "done" and fal_fake.accepted == 1, again.error


def test_veo_submit_reset_is_sent_once_and_stays_unknown(gemini_fake: GeminiFake, tmp_path: Path) -> None:
    """Gemini has no request history to look in: a lost answer stays submit_unknown until --resubmit."""
    posts = count_posts(gemini_fake)
    gemini_fake.fail_next.append(None)  # the connection drops after the POST was read
    [res] = generate_jobs([VEO], tmp_path / "o", backend="gemini")
    assert res.error_code == "submit_unknown" and "dashboard" in (res.error or ""), res.error
    [again] = generate_jobs([VEO], tmp_path / "o", backend="gemini")
    assert again.error_code == "submit_unknown"
    assert sum(posts.values()) == 1 and gemini_fake.submits == []


def test_veo_submit_503_is_sent_once(gemini_fake: GeminiFake, tmp_path: Path) -> None:
    """google-genai retries 408/429/5xx when retry options are on; vidpipe runs it with one attempt."""
    posts = count_posts(gemini_fake)
    gemini_fake.fail_next.append(google_error(503, "UNAVAILABLE", "The service is currently unavailable."))
    [res] = generate_jobs([VEO], tmp_path / "o", backend="gemini")
    assert res.error_code == "submit_unknown" and sum(posts.values()) == 1, res.error


@pytest.mark.parametrize("fault", ["503", "reset"])
def test_a_gemini_still_is_sent_once(gemini_fake: GeminiFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     fault: str) -> None:
    """A still is paid per image: a 503 or a lost answer may have been billed, so it is not asked again."""
    import vidpipe.generate.retry as retry

    monkeypatch.setattr(retry, "_sleep", lambda s: None)
    posts = count_posts(gemini_fake)
    gemini_fake.fail_next.extend([google_error(503, "UNAVAILABLE", "later") if fault == "503" else None] * 5)
    with pytest.raises(ProviderError) as info:
        make_still("a lighthouse at dawn", tmp_path / "s.png", model="gemini-image")
    assert info.value.code == "submit_unknown" and sum(posts.values()) == 1
    assert not (tmp_path / "s.png").exists()


def test_elevenlabs_5xx_is_sent_once(eleven_fake: ElevenLabsFake) -> None:
    """The SDK would POST the (per-character billed) speech again up to twice on a 5xx."""
    posts = count_posts(eleven_fake)
    eleven_fake.fail_next.append(Reply(500, {"detail": {"status": "internal_error", "message": "try again"}}))
    with pytest.raises(ProviderError):
        ElevenLabsTTS().speak("The light has stood here for a century.", "voice123")
    assert sum(posts.values()) == 1
