"""Every SDK error type the adapters can meet maps to one vidpipe error (a table, as httpx tests its
own mapping); the paths through the fakes are in test_provider_paths.py."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import httpx
import pytest

from vidpipe import errors as E
from vidpipe.providers.base import map_exception

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
    ("ReadTimeout submit", lambda: httpx.ReadTimeout("t", request=REQ), True, E.SubmitUnknown,
     "submit_unknown"),
    ("ReadTimeout poll", lambda: httpx.ReadTimeout("t", request=REQ), False, E.ProviderTimeout, "timeout"),
    ("WriteTimeout submit", lambda: httpx.WriteTimeout("t", request=REQ), True, E.SubmitUnknown,
     "submit_unknown"),
    ("ReadError", lambda: httpx.ReadError("r", request=REQ), False, E.ProviderUnavailable, "connection"),
    ("WriteError submit", lambda: httpx.WriteError("w", request=REQ), True, E.SubmitUnknown,
     "submit_unknown"),
    ("CloseError", lambda: httpx.CloseError("c", request=REQ), False, E.ProviderUnavailable, "connection"),
    ("RemoteProtocolError submit", lambda: httpx.RemoteProtocolError("reset", request=REQ), True,
     E.SubmitUnknown, "submit_unknown"),
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
    assert not issubclass(E.SubmitUnknown, E.TRANSIENT)
