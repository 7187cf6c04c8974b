"""Every SDK error type the adapters can meet maps to one vidpipe error (a table, as httpx tests its
own mapping), and every retry / error path runs through the real SDKs against the fakes."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from tests.fakes.elevenlabs_fake import ElevenLabsFake
from tests.fakes.fal_fake import NGINX_502, REQUEST_TIMEOUT_504, FalFake
from tests.fakes.fixtures import FAKE_GEMINI_KEY, eleven_fake, fal_fake, gemini_fake, media_files  # noqa: F401
from tests.fakes.gemini_fake import GeminiFake, google_error
from tests.fakes.server import FakeServer, Reply
from vidpipe import errors as E
from vidpipe.providers.base import Ticket, map_exception

pytestmark = pytest.mark.timeout(120)

REQ = httpx.Request("POST", "https://example.test/x")


def _resp(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers, request=REQ)


def _fal_http(status: int, body: Any, headers: dict[str, str] | None = None) -> Exception:
    from fal_client.client import FalClientHTTPError

    r = _resp(status, body, headers)
    detail = body.get("detail") if isinstance(body, dict) else body
    etype = (body.get("error_type") if isinstance(body, dict) else None) or r.headers.get("x-fal-error-type")
    return FalClientHTTPError(detail, status, dict(r.headers), r, etype)


def _fal_timeout() -> Exception:
    from fal_client.client import FalClientTimeoutError

    return FalClientTimeoutError(30.0, "req-1")


def _fal_missing() -> Exception:
    from fal_client.auth import MissingCredentialsError

    return MissingCredentialsError("no credentials")


def _genai(cls: str, code: int, status: str, message: str = "m", **extra: Any) -> Exception:
    from google.genai import errors as gerr

    return getattr(gerr, cls)(code, {"error": {"code": code, "status": status, "message": message, **extra}},
                              _resp(code))


def _genai_unknown() -> Exception:
    from google.genai import errors as gerr

    return gerr.UnknownApiResponseError("unexpected reply")


def _eleven(cls: str, status: int, body: Any) -> Exception:
    import elevenlabs.errors as el
    from elevenlabs.core.api_error import ApiError

    if cls == "ApiError":
        return ApiError(status_code=status, headers={}, body=body)
    return getattr(el, cls)(body=body, headers={})


def _eleven_parsing() -> Exception:
    from elevenlabs.core.parse_error import ParsingError

    return ParsingError(status_code=200, headers={}, body="<html>", cause=None)  # type: ignore[call-arg]


def _parser(provider: str) -> Callable[[BaseException], Any]:
    if provider == "fal":
        from vidpipe.providers.fal import parse_fal_error
        return parse_fal_error
    if provider == "gemini":
        from vidpipe.providers.gemini import parse_gemini_error
        return parse_gemini_error
    from vidpipe.providers.elevenlabs import parse_elevenlabs_error
    return parse_elevenlabs_error


NGINX = {"detail": "<center>nginx</center>"}
RID = {"x-fal-request-id": "req-1"}
# provider, label, make the SDK exception, submit?, expected vidpipe class, expected code
TABLE: list[tuple[str, str, Callable[[], Exception], bool, type[E.ProviderError], str]] = [
    ("fal", "401", lambda: _fal_http(401, {"detail": "bad key"}), True, E.ProviderRejected, "unauthorized"),
    ("fal", "403 locked", lambda: _fal_http(403, {"detail": "User is locked"}), True, E.ProviderRejected,
     "unauthorized"),
    ("fal", "404 endpoint", lambda: _fal_http(404, {"detail": "not found"}), True, E.ProviderRejected, "http_404"),
    ("fal", "408", lambda: _fal_http(408, {"detail": "timeout"}), True, E.ProviderTimeout, "timeout"),
    ("fal", "409", lambda: _fal_http(409, {"detail": "conflict"}), True, E.ProviderRejected, "http_409"),
    ("fal", "422 validation", lambda: _fal_http(422, {"detail": [{"loc": ["body", "duration"], "msg": "bad",
                                                                   "type": "enum"}]}), True, E.ProviderRejected,
     "enum"),
    ("fal", "422 moderation", lambda: _fal_http(422, {"detail": [{"loc": ["body", "prompt"], "msg": "flagged",
                                                                   "type": "content_policy_violation"}]}, RID), False,
     E.ProviderRejected, "content_policy_violation"),
    ("fal", "429", lambda: _fal_http(429, {"detail": "slow down"}), True, E.ProviderRateLimited, "rate_limited"),
    ("fal", "500 in the app", lambda: _fal_http(500, {"detail": "crash"}, RID), True, E.ProviderError,
     "server_error"),
    ("fal", "502 nginx", lambda: _fal_http(502, NGINX), True, E.ProviderUnavailable, "unavailable"),
    ("fal", "503 runner", lambda: _fal_http(503, {"detail": "x", "error_type": "runner_scheduling_failure"}), True,
     E.ProviderUnavailable, "runner_scheduling_failure"),
    ("fal", "504 request_timeout", lambda: _fal_http(504, {"detail": "x", "error_type": "request_timeout"}), True,
     E.ProviderTimeout, "request_timeout"),
    ("fal", "client timeout", _fal_timeout, False, E.ProviderTimeout, "timeout"),
    ("fal", "no credentials", _fal_missing, True, E.ProviderNotConfigured, "not_configured"),
    ("gemini", "400", lambda: _genai("ClientError", 400, "INVALID_ARGUMENT"), True, E.ProviderRejected,
     "invalid_argument"),
    ("gemini", "400 bad key", lambda: _genai("ClientError", 400, "INVALID_ARGUMENT", "API key not valid",
                                             details=[{"reason": "API_KEY_INVALID"}]), True, E.ProviderRejected,
     "unauthorized"),
    ("gemini", "403", lambda: _genai("ClientError", 403, "PERMISSION_DENIED"), True, E.ProviderRejected,
     "unauthorized"),
    ("gemini", "404", lambda: _genai("ClientError", 404, "NOT_FOUND"), True, E.ProviderRejected, "not_found"),
    ("gemini", "429", lambda: _genai("ClientError", 429, "RESOURCE_EXHAUSTED"), True, E.ProviderRateLimited,
     "resource_exhausted"),
    ("gemini", "500", lambda: _genai("ServerError", 500, "INTERNAL"), True, E.ProviderUnavailable, "internal"),
    ("gemini", "503", lambda: _genai("ServerError", 503, "UNAVAILABLE"), True, E.ProviderUnavailable, "unavailable"),
    ("gemini", "504", lambda: _genai("ServerError", 504, "DEADLINE_EXCEEDED"), False, E.ProviderTimeout,
     "deadline_exceeded"),
    ("gemini", "APIError", lambda: _genai("APIError", 499, "CANCELLED"), False, E.ProviderRejected, "cancelled"),
    ("gemini", "unreadable reply", _genai_unknown, False, E.ProviderError, "bad_reply"),
    ("elevenlabs", "401", lambda: _eleven("ApiError", 401, {"detail": {"status": "invalid_api_key"}}), False,
     E.ProviderRejected, "unauthorized"),
    ("elevenlabs", "401 quota", lambda: _eleven("ApiError", 401, {"detail": {"status": "quota_exceeded",
                                                                            "message": "quota"}}), False,
     E.ProviderRejected, "quota_exceeded"),
    ("elevenlabs", "402", lambda: _eleven("ApiError", 402, {"detail": {"status": "paid_plan_required"}}), False,
     E.ProviderRejected, "paid_plan_required"),
    ("elevenlabs", "429 concurrency", lambda: _eleven("ApiError", 429, {"detail": {
        "status": "too_many_concurrent_requests"}}), False, E.ProviderRateLimited, "too_many_concurrent_requests"),
    ("elevenlabs", "500", lambda: _eleven("ApiError", 500, "boom"), False, E.ProviderUnavailable, "unavailable"),
    ("elevenlabs", "BadRequestError", lambda: _eleven("BadRequestError", 400, {"detail": {"status": "x"}}), False,
     E.ProviderRejected, "x"),
    ("elevenlabs", "UnauthorizedError", lambda: _eleven("UnauthorizedError", 401, {"detail": "no"}), False,
     E.ProviderRejected, "unauthorized"),
    ("elevenlabs", "ForbiddenError", lambda: _eleven("ForbiddenError", 403, {"detail": "no"}), False,
     E.ProviderRejected, "unauthorized"),
    ("elevenlabs", "NotFoundError", lambda: _eleven("NotFoundError", 404, {"detail": {"status": "voice_not_found"}}),
     False, E.ProviderRejected, "voice_not_found"),
    ("elevenlabs", "ConflictError", lambda: _eleven("ConflictError", 409, {"detail": "busy"}), False,
     E.ProviderRejected, "http_409"),
    ("elevenlabs", "TooEarlyError", lambda: _eleven("TooEarlyError", 425, {"detail": "early"}), False,
     E.ProviderRejected, "http_425"),
    ("elevenlabs", "UnprocessableEntityError", lambda: _eleven("UnprocessableEntityError", 422, {"detail": [
        {"loc": ["body", "text"], "msg": "Field required", "type": "missing"}]}), False, E.ProviderRejected,
     "validation_error"),
    ("elevenlabs", "ParsingError", _eleven_parsing, False, E.ProviderError, "bad_reply"),
]
HTTPX: list[tuple[str, Callable[[], Exception], bool, type[E.ProviderError], str]] = [
    ("ConnectError", lambda: httpx.ConnectError("refused", request=REQ), True, E.ProviderUnavailable, "connection"),
    ("ConnectTimeout", lambda: httpx.ConnectTimeout("t", request=REQ), True, E.ProviderUnavailable, "connection"),
    ("PoolTimeout", lambda: httpx.PoolTimeout("t", request=REQ), True, E.ProviderUnavailable, "connection"),
    ("UnsupportedProtocol", lambda: httpx.UnsupportedProtocol("ftp"), True, E.ProviderUnavailable, "connection"),
    ("ProxyError", lambda: httpx.ProxyError("p"), True, E.ProviderUnavailable, "connection"),
    ("LocalProtocolError", lambda: httpx.LocalProtocolError("l"), True, E.ProviderUnavailable, "connection"),
    ("ReadTimeout submit", lambda: httpx.ReadTimeout("t", request=REQ), True, E.SubmitOutcomeUnknown,
     "submit_outcome_unknown"),
    ("ReadTimeout poll", lambda: httpx.ReadTimeout("t", request=REQ), False, E.ProviderTimeout, "timeout"),
    ("WriteTimeout submit", lambda: httpx.WriteTimeout("t", request=REQ), True, E.SubmitOutcomeUnknown,
     "submit_outcome_unknown"),
    ("ReadError", lambda: httpx.ReadError("r", request=REQ), False, E.ProviderUnavailable, "connection"),
    ("WriteError submit", lambda: httpx.WriteError("w", request=REQ), True, E.SubmitOutcomeUnknown,
     "submit_outcome_unknown"),
    ("CloseError", lambda: httpx.CloseError("c", request=REQ), False, E.ProviderUnavailable, "connection"),
    ("RemoteProtocolError submit", lambda: httpx.RemoteProtocolError("reset", request=REQ), True,
     E.SubmitOutcomeUnknown, "submit_outcome_unknown"),
    ("RemoteProtocolError poll", lambda: httpx.RemoteProtocolError("reset", request=REQ), False,
     E.ProviderUnavailable, "connection"),
    ("DecodingError", lambda: httpx.DecodingError("gzip", request=REQ), False, E.ProviderUnavailable, "connection"),
    ("TooManyRedirects", lambda: httpx.TooManyRedirects("loop", request=REQ), False, E.ProviderUnavailable,
     "connection"),
    ("HTTPStatusError 401", lambda: httpx.HTTPStatusError("x", request=REQ, response=_resp(401, {})), True,
     E.ProviderRejected, "unauthorized"),
    ("HTTPStatusError 503", lambda: httpx.HTTPStatusError("x", request=REQ, response=_resp(503, {})), True,
     E.ProviderUnavailable, "unavailable"),
    ("TimeoutError", lambda: TimeoutError("socket"), False, E.ProviderTimeout, "timeout"),
]


@pytest.mark.parametrize("provider,make,submit,cls,code", [c[:1] + c[2:] for c in TABLE],
                         ids=[f"{c[0]}-{c[1]}" for c in TABLE])
def test_sdk_error_maps_to_one_vidpipe_error(provider: str, make: Callable[[], Exception], submit: bool,
                                             cls: type[E.ProviderError], code: str) -> None:
    err = map_exception(provider, make(), _parser(provider), submit=submit, model="m", job_id="j")
    assert type(err) is cls and err.code == code and err.provider == provider, (type(err), err and err.code, err)
    assert err.model == "m" and err.job_id == "j" and str(err)


@pytest.mark.parametrize("provider", ["fal", "gemini", "elevenlabs"])
@pytest.mark.parametrize("make,submit,cls,code", [c[1:] for c in HTTPX], ids=[c[0] for c in HTTPX])
def test_httpx_errors_map_the_same_for_every_provider(provider: str, make: Callable[[], Exception], submit: bool,
                                                      cls: type[E.ProviderError], code: str) -> None:
    err = map_exception(provider, make(), _parser(provider), submit=submit)
    assert type(err) is cls and err.code == code, (type(err), err and err.code)


# Exception types of the SDKs that the adapters never meet (with the reason), so a new SDK type fails here.
NOT_MET = {
    "RealtimeError": "realtime websockets are not used",
    "UnknownFunctionCallArgumentError": "no function calling", "UnsupportedFunctionError": "no function calling",
    "FunctionInvocationError": "no function calling", "ContinuationInterruptedError": "no streaming continuation",
    "InvalidURL": "a programming error (vidpipe builds the URLs)", "CookieConflict": "no cookies are used",
    "ExperimentalWarning": "a warning, not an error",
    "StreamError": "programming error", "StreamConsumed": "programming error", "StreamClosed": "programming error",
    "ResponseNotRead": "programming error", "RequestNotRead": "programming error",
    "FalClientError": "abstract base of the two mapped fal types", "HTTPError": "abstract base",
    "RequestError": "abstract base", "TransportError": "abstract base", "TimeoutException": "abstract base",
    "NetworkError": "abstract base", "ProtocolError": "abstract base",
}


def test_every_sdk_exception_type_is_in_the_table() -> None:
    import elevenlabs.core.api_error
    import elevenlabs.core.parse_error
    import elevenlabs.errors
    import fal_client.auth
    import fal_client.client
    import google.genai.errors

    modules = [fal_client.client, fal_client.auth, google.genai.errors, elevenlabs.errors,
               elevenlabs.core.api_error, elevenlabs.core.parse_error, httpx]
    found = {name for m in modules for name, obj in inspect.getmembers(m, inspect.isclass)
             if issubclass(obj, Exception) and obj.__module__.split(".")[0] in ("fal_client", "google", "elevenlabs",
                                                                                 "httpx")}
    tested = {e().__class__.__name__ for *_, e in [(c[0], c[2]) for c in TABLE] + [(c[0], c[1]) for c in HTTPX]}
    tested |= {"ClientError", "ServerError"}
    missing = sorted(found - tested - set(NOT_MET))
    assert not missing, f"SDK exception types with no mapping test: {missing}"


def test_one_exception_tree() -> None:
    """Every exception class vidpipe defines derives from VidpipeError and lives in vidpipe/errors.py."""
    import importlib
    import pkgutil

    import vidpipe

    strays = []
    for mod in pkgutil.walk_packages(vidpipe.__path__, "vidpipe."):
        if mod.name.startswith(("vidpipe._cli", "vidpipe.__main__")):
            continue
        m = importlib.import_module(mod.name)
        for name, obj in vars(m).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == mod.name \
                    and mod.name != "vidpipe.errors":
                strays.append(f"{mod.name}.{name}")
    assert not strays, strays
    assert issubclass(E.UnsupportedOnModel, E.ProviderRejected) and issubclass(E.ResultMissing, E.ProviderError)
    assert not issubclass(E.SubmitOutcomeUnknown, E.TRANSIENT)


# -- fal paths through fal-client and the fake --------------------------------------------------------------
def _ticket(tmp_path: Path, prompt: str = "a kite", endpoint: str = "bytedance/seedance-2.0/text-to-video") -> Ticket:
    return Ticket("j", "seedance-2.0", endpoint, {"prompt": prompt, "duration": "5"}, tmp_path)


def _fal_submit(tmp_path: Path, **kw: Any) -> str:
    from vidpipe.providers.fal import FalBackend

    return FalBackend().submit(_ticket(tmp_path, **kw))


@pytest.mark.parametrize("fault,times,cls,code,attempts", [
    (Reply(401, {"detail": "Invalid key"}), 1, E.ProviderRejected, "unauthorized", 1),
    (Reply(403, {"detail": "User is locked. Reason: Exhausted balance."}), 1, E.ProviderRejected, "unauthorized", 1),
    (Reply(408, {"detail": "Request timeout"}), 10, E.ProviderTimeout, "timeout", 10),
    (Reply(429, {"detail": "rate limited"}), 10, E.ProviderRateLimited, "rate_limited", 10),
    (REQUEST_TIMEOUT_504, 10, E.ProviderTimeout, "request_timeout", 1),  # fal-client honours the timeout type
    (NGINX_502, 10, E.ProviderUnavailable, "unavailable", 10),
    (Reply(400, {"detail": "bad request"}), 1, E.ProviderRejected, "http_400", 1),
    (None, 10, E.SubmitOutcomeUnknown, "submit_outcome_unknown", 10),  # connection reset: maybe accepted
], ids=["401", "403", "408", "429", "504", "502-nginx", "400", "reset"])
def test_fal_submit_errors_with_one_retry_layer(fal_fake: FalFake, tmp_path: Path, fault: Reply | None, times: int,
                                                cls: type[E.ProviderError], code: str, attempts: int) -> None:
    """fal-client alone retries (10 attempts on 408/429/gateway/transport); the adapter adds none."""
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
     "too_many_concurrent_requests", 3),  # the SDK retries the non-streaming call twice itself
    (Reply(500, {"detail": "boom"}), E.ProviderUnavailable, "unavailable", 3),
], ids=["401", "429", "500"])
def test_elevenlabs_errors(eleven_fake: ElevenLabsFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           reply: Reply, cls: type[E.ProviderError], code: str, calls: int) -> None:
    import elevenlabs.core.http_client as hc

    from vidpipe.tts import synthesize_speech

    monkeypatch.setattr(hc, "_retry_timeout", lambda **kw: 0.0)
    eleven_fake.fail_next.extend([reply] * 3)
    with pytest.raises(cls) as info:
        synthesize_speech("Hello there.", tmp_path / "a.mp3", voice_id="voice123")
    assert type(info.value) is cls and info.value.code == code
    assert 3 - len(eleven_fake.fail_next) == calls
