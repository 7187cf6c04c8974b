"""Every retry and error path through the real SDKs against the fakes: fal 401/403/408/429/504/other 4xx,
resets and FAILED jobs (a paid submit sent once; only a 429 is asked again), Gemini HTTP errors, poll deadlines, operation
errors and the key dropped across redirects, ElevenLabs 401/429/5xx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes.elevenlabs_fake import ElevenLabsFake
from tests.fakes.fal_fake import NGINX_502, REQUEST_TIMEOUT_504, FalFake
from tests.fakes.fixtures import FAKE_GEMINI_KEY, eleven_fake, fal_fake, gemini_fake, media_files  # noqa: F401
from tests.fakes.gemini_fake import GeminiFake, google_error
from tests.fakes.server import FakeServer, Reply
from vidpipe import errors as E
from vidpipe.providers.base import Ticket

pytestmark = pytest.mark.timeout(120)


# -- fal paths through fal-client and the fake --------------------------------------------------------------
def _ticket(tmp_path: Path, prompt: str = "a kite", endpoint: str = "bytedance/seedance-2.0/text-to-video") -> Ticket:
    return Ticket("j", "seedance-2.0", endpoint, {"prompt": prompt, "duration": "5"}, tmp_path)


def _fal_submit(tmp_path: Path, **kw: Any) -> str:
    from vidpipe.providers.fal import FalBackend

    return FalBackend().submit(_ticket(tmp_path, **kw))


@pytest.mark.parametrize("fault,times,cls,code,attempts", [
    (Reply(401, {"detail": "Invalid key"}), 1, E.ProviderRejected, "unauthorized", 1),
    (Reply(403, {"detail": "User is locked. Reason: Exhausted balance."}), 1, E.ProviderRejected, "unauthorized", 1),
    (Reply(408, {"detail": "Request timeout"}), 10, E.ProviderTimeout, "timeout", 1),  # the runner: unknown
    (Reply(429, {"detail": "rate limited"}), 10, E.ProviderRateLimited, "rate_limited", 6),  # a refusal: again
    (REQUEST_TIMEOUT_504, 10, E.ProviderTimeout, "request_timeout", 1),
    (NGINX_502, 10, E.ProviderUnavailable, "unavailable", 1),  # the runner: unknown (the app may have it)
    (Reply(400, {"detail": "bad request"}), 1, E.ProviderRejected, "http_400", 1),
    (None, 10, E.SubmitUnknown, "submit_unknown", 1),  # connection reset: maybe accepted
], ids=["401", "403", "408", "429", "504", "502-nginx", "400", "reset"])
def test_fal_submit_errors_with_one_retry_layer(fal_fake: FalFake, tmp_path: Path, fault: Reply | None, times: int,
                                                cls: type[E.ProviderError], code: str, attempts: int) -> None:
    """vidpipe's own POST: sent again only on a 429 (fal queued nothing), never after a maybe-accepted send."""
    fal_fake.fail_next("submit", fault, times=times)
    with pytest.raises(cls) as info:
        _fal_submit(tmp_path)
    assert type(info.value) is cls and info.value.code == code
    assert fal_fake.attempts["submit"] == attempts and fal_fake.submits == []


def test_fal_wrong_key_and_locked_account(fal_fake: FalFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY", "not-the-key")
    with pytest.raises(E.ProviderRejected) as info:
        _fal_submit(tmp_path)
    assert info.value.code == "unauthorized" and "FAL_KEY" in str(info.value) and "not-the-key" not in str(info.value)
    fal_fake.keys.add("locked-key")
    fal_fake.locked_keys.add("locked-key")
    monkeypatch.setenv("FAL_KEY", "locked-key")
    with pytest.raises(E.ProviderRejected, match="Exhausted balance"):
        _fal_submit(tmp_path)


def _fal_poll(tmp_path: Path, prompt: str, deadline_s: float = 30.0) -> dict[str, Any]:
    import time

    from vidpipe.providers.fal import FalBackend

    fal = FalBackend()
    t = _ticket(tmp_path, prompt=prompt)
    t.request_id = fal.submit(t)
    return fal.poll(t, deadline=time.monotonic() + deadline_s)


def test_fal_failed_jobs(fal_fake: FalFake, tmp_path: Path) -> None:
    with pytest.raises(E.ProviderError) as info:  # COMPLETED with an error; the result GET is a 500 from the app
        _fal_poll(tmp_path, "a kite [[fail]]")
    assert info.value.code == "runner_disconnected" and not isinstance(info.value, E.TRANSIENT)
    assert fal_fake.result_calls["req-0001"] == 1  # x-fal-request-id: fal-client does not retry it either
    with pytest.raises(E.ProviderError) as info2:  # a FAILED status: fal-client raises ValueError
        _fal_poll(tmp_path, "a kite [[failed_status]]")
    assert info2.value.code == "bad_status" and "FAILED" in str(info2.value)


def test_fal_poll_deadline(fal_fake: FalFake, tmp_path: Path) -> None:
    fal_fake.latency_s = 60
    with pytest.raises(E.ProviderTimeout) as info:
        _fal_poll(tmp_path, "a kite", deadline_s=0.2)
    assert info.value.code == "deadline" and info.value.request_id == "req-0001"


# -- Gemini paths -----------------------------------------------------------------------------------------
def _veo(tmp_path: Path, prompt: str = "a kite") -> tuple[Any, Ticket]:
    from vidpipe.providers.gemini import GeminiBackend, translate_veo

    endpoint, body = translate_veo({"prompt": prompt, "duration": 8})
    return GeminiBackend(), Ticket("v", "veo-3.1", endpoint, body, tmp_path)


@pytest.mark.parametrize("reply,cls,code", [
    (google_error(400, "INVALID_ARGUMENT", "bad"), E.ProviderRejected, "invalid_argument"),
    (google_error(403, "PERMISSION_DENIED", "no"), E.ProviderRejected, "unauthorized"),
    (google_error(404, "NOT_FOUND", "gone"), E.ProviderRejected, "not_found"),
    (google_error(429, "RESOURCE_EXHAUSTED", "quota"), E.ProviderRateLimited, "resource_exhausted"),
    (google_error(500, "INTERNAL", "oops"), E.ProviderUnavailable, "internal"),
    (google_error(503, "UNAVAILABLE", "later"), E.ProviderUnavailable, "unavailable"),
], ids=["400", "403", "404", "429", "500", "503"])
def test_gemini_http_errors(gemini_fake: GeminiFake, tmp_path: Path, reply: Reply, cls: type[E.ProviderError],
                            code: str) -> None:
    gem, t = _veo(tmp_path)
    gemini_fake.fail_next.append(reply)
    with pytest.raises(cls) as info:
        gem.submit(t)
    assert type(info.value) is cls and info.value.code == code and gemini_fake.submits == []
    assert gemini_fake.fail_next == []  # one attempt: the SDK's own retry is off, vidpipe's is the runner's


def test_gemini_wrong_key(gemini_fake: GeminiFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "wrong-key")
    gem, t = _veo(tmp_path)
    with pytest.raises(E.ProviderRejected) as info:
        gem.submit(t)
    assert info.value.code == "unauthorized" and "GEMINI_API_KEY" in str(info.value)


def test_gemini_poll_deadline_and_operation_errors(gemini_fake: GeminiFake, tmp_path: Path) -> None:
    import time

    gemini_fake.latency_s = 60
    gem, t = _veo(tmp_path)
    t.request_id = gem.submit(t)
    with pytest.raises(E.ProviderTimeout) as info:
        gem.poll(t, deadline=time.monotonic() + 0.2)
    assert info.value.code == "deadline" and info.value.request_id == t.request_id
    gemini_fake.latency_s = 0
    for marker, cls, code in (("[[operror]]", E.ProviderError, "operation_error_13"),
                              ("[[quota]]", E.ProviderRateLimited, "rate_limited")):
        gem, t = _veo(tmp_path, f"a kite {marker}")
        t.request_id = gem.submit(t)
        with pytest.raises(cls) as info2:
            gem.poll(t, deadline=time.monotonic() + 30)
        assert type(info2.value) is cls and info2.value.code == code


class _Cdn(FakeServer):
    """Another host serving the video: it records the headers it was sent."""

    def __init__(self, video: bytes):
        super().__init__()
        self.video, self.headers_seen = video, []  # type: ignore[var-annotated]

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Reply:
        self.headers_seen.append(headers)
        return Reply(200, raw=self.video, content_type="video/mp4")


def test_gemini_key_is_dropped_across_redirects(gemini_fake: GeminiFake, tmp_path: Path,
                                                media_files: dict[str, Path]) -> None:
    import time

    cdn = _Cdn(media_files["clip"].read_bytes()).start()
    try:
        gemini_fake.redirect_to = f"{cdn.url}/blob/v.mp4"
        gem, t = _veo(tmp_path)
        t.request_id = gem.submit(t)
        url = gem.result_url(gem.poll(t, deadline=time.monotonic() + 30))
        out = gem.fetch(url, tmp_path / "v.mp4")
        assert out.read_bytes() == media_files["clip"].read_bytes()
        assert gemini_fake.downloads == 1 and FAKE_GEMINI_KEY in gemini_fake.keys_seen  # the API host got the key
        assert len(cdn.headers_seen) == 1 and "x-goog-api-key" not in cdn.headers_seen[0]  # the other host did not
        assert all(FAKE_GEMINI_KEY not in v for v in cdn.headers_seen[0].values())
    finally:
        cdn.stop()


@pytest.mark.parametrize("marker", ["[[blocked]]", "[[imagesafety]]"])
def test_gemini_still_refusals(gemini_fake: GeminiFake, tmp_path: Path, marker: str) -> None:
    from vidpipe.stills import make_still

    with pytest.raises(E.ProviderRejected) as info:
        make_still(f"a lighthouse {marker}", tmp_path / "s.png", model="gemini-image")
    assert info.value.code == "content_policy_violation" and not (tmp_path / "s.png").exists()


# -- ElevenLabs paths ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("reply,cls,code,calls", [
    (Reply(401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}), E.ProviderRejected,
     "unauthorized", 1),
    (Reply(429, {"detail": {"status": "too_many_concurrent_requests", "message": "busy"}}), E.ProviderRateLimited,
     "too_many_concurrent_requests", 3),  # nothing was made: asked again (vidpipe's loop, not the SDK's)
    (Reply(500, {"detail": "boom"}), E.ProviderUnavailable, "unavailable", 1),  # may have been made: once
], ids=["401", "429", "500"])
def test_elevenlabs_errors(eleven_fake: ElevenLabsFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           reply: Reply, cls: type[E.ProviderError], code: str, calls: int) -> None:
    import elevenlabs.core.http_client as hc

    from vidpipe.tts import synthesize_speech

    import vidpipe.providers.elevenlabs as vel

    monkeypatch.setattr(hc, "_retry_timeout", lambda **kw: 0.0)
    monkeypatch.setattr(vel, "RATE_LIMIT_BASE_S", 0.0)
    eleven_fake.fail_next.extend([reply] * 3)
    with pytest.raises(cls) as info:
        synthesize_speech("Hello there.", tmp_path / "a.mp3", voice_id="voice123")
    assert type(info.value) is cls and info.value.code == code
    assert 3 - len(eleven_fake.fail_next) == calls
