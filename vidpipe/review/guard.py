"""Who may use the review room: only its own host names, only its own pages' forms, a token off loopback.

A web page the person happens to visit must not act for them (a form POST from another origin), nor
read the room by rebinding its own name to 127.0.0.1. So, outermost first:

1. Host allow-list (Starlette's TrustedHostMiddleware): the loopback names, the bound host and the
   configured public URL's; anything else is 400 before routing, on GET too.
2. A session cookie (Starlette's signed SessionMiddleware, SameSite=Strict, HttpOnly) with a random
   per-session CSRF token; pages put it in every form through the Jinja global `csrf_field()`.
3. `RoomGuard`: every request that is not GET/HEAD/OPTIONS must carry that token and, when the browser
   says where it comes from (Origin, else Referer), come from the room itself; otherwise 403 with one
   line, before any route runs, so nothing is written. Off loopback the room also wants its access
   token once per browser (`?token=…`, printed at start, as Jupyter does).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI
from jinja2 import pass_context
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("", "0.0.0.0", "::", "[::]")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_COOKIE = "vidpipe_room"
MAX_BODY = 1 << 20  # a score form is a few kB; a bigger body is refused before it is parsed


def _bare(host: str) -> str:
    return host.strip().lower().removeprefix("[").removesuffix("]")


def _as_host(host: str) -> str:
    """A host as it appears in a Host header (IPv6 literals in brackets)."""
    bare = _bare(host)
    return f"[{bare}]" if ":" in bare else bare


def display_host(bind: str) -> str:
    """The name to print in a link for a bind address (a wildcard is reached through this machine's name)."""
    return socket.gethostname().lower() if bind.strip().lower() in WILDCARDS else _as_host(bind)


def is_loopback(host: str) -> bool:
    bare = _bare(host)
    if bare == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Access:
    """What the room answers to: host names, extra trusted origins, and the access token (None on loopback)."""

    hosts: tuple[str, ...] = LOOPBACK_HOSTS
    origins: tuple[str, ...] = ()
    token: str | None = None
    secure_cookie: bool = False

    @classmethod
    def for_serving(cls, bind: str = "127.0.0.1", public_url: str | None = None) -> Access:
        """The allow-list for a room bound to `bind` and reached at `public_url`; a token when either is off loopback."""
        hosts = list(LOOPBACK_HOSTS)
        if bind.strip().lower() in WILDCARDS:  # every interface: the machine's own names
            hosts += [socket.gethostname().lower(), socket.getfqdn().lower()]
        else:
            hosts.append(_as_host(bind))
        origins: list[str] = []
        public = urlsplit(public_url) if public_url else None
        if public and public.hostname:
            hosts.append(_as_host(public.hostname))
            origins.append(f"{public.scheme}://{public.netloc}".lower())
        exposed = not is_loopback(bind) or bool(public and public.hostname and not is_loopback(public.hostname))
        return cls(hosts=tuple(dict.fromkeys(hosts)), origins=tuple(origins),
                   token=secrets.token_urlsafe(24) if exposed else None,
                   secure_cookie=bool(public and public.scheme == "https"))


def csrf_token(request: Request) -> str:
    """This session's form token (made on first use; the session cookie carries it, signed)."""
    return str(request.session.setdefault("csrf", secrets.token_urlsafe(32)))


@pass_context
def csrf_field(context: dict) -> Markup:
    """`{{ csrf_field() }}` inside a <form method="post">: the one line every room form needs."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token(context["request"]))


def protect(app: FastAPI, access: Access) -> None:
    """Install the three layers on `app` (the last added runs first: host, then session, then the guard)."""
    app.add_middleware(RoomGuard, access=access)
    app.add_middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32), session_cookie=SESSION_COOKIE,
                       max_age=None, same_site="strict", https_only=access.secure_cookie)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(access.hosts), www_redirect=False)


def _refuse(why: str) -> Response:
    return PlainTextResponse(f"Forbidden: {why}\n", status_code=403)


class RoomGuard:
    """Refuses, before routing, any state-changing request that did not come from the room's own page."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if self.access.token is not None:
            answer = self._access(request)
            if answer is not None:
                await answer(scope, receive, send)
                return
        if request.method in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        why = self._foreign_origin(request)
        body = b""
        if why is None:
            body, why = await self._read_body(request, receive)
        if why is None:
            why = await self._bad_token(request, scope, body)
        if why is not None:
            await _refuse(why)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _access(self, request: Request) -> Response | None:
        """Off loopback: `?token=` once per browser session, then the signed cookie says who it is."""
        given = request.query_params.get("token")
        if given is not None:
            right = hmac.compare_digest(given.encode(), str(self.access.token).encode())
            if request.method not in SAFE_METHODS or not right:
                return _refuse("wrong access token; use the link `vidpipe review serve` printed")
            request.session["auth"] = True
            request.session["csrf"] = secrets.token_urlsafe(32)  # a fresh session: no token made before login survives
            rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            path = "/" + request.url.path.lstrip("/")  # never `//host`: that would send the browser elsewhere
            return RedirectResponse(path + (f"?{rest}" if rest else ""), status_code=303)
        if not request.session.get("auth"):
            return _refuse("this review room needs its access token: open the link `vidpipe review serve` printed")
        return None

    def _foreign_origin(self, request: Request) -> str | None:
        """Origin (else Referer) must name the room itself when the browser sends one; browsers always do cross-site."""
        origin = request.headers.get("origin")
        source = origin if origin is not None else request.headers.get("referer")
        if source is None:
            return None  # not a browser (curl, a script): the form token alone decides
        parts = urlsplit(source)
        netloc = parts.netloc.lower()
        if netloc and (netloc == request.headers.get("host", "").lower()
                       or f"{parts.scheme}://{netloc}" in self.access.origins):
            return None
        return f"this request came from another site ({'Origin' if origin is not None else 'Referer'}: {source[:80]!r})"

    async def _read_body(self, request: Request, receive: Receive) -> tuple[bytes, str | None]:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return b"", f"request body over {MAX_BODY} bytes"
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"", "the client went away"
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return b"", f"request body over {MAX_BODY} bytes"
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    async def _bad_token(self, request: Request, scope: Scope, body: bytes) -> str | None:
        expected = request.session.get("csrf")
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.headers.get("content-type", "").split(";")[0].strip() in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                form: FormData = await Request(scope, _replay(body, _disconnected)).form()
            except HTTPException:  # a malformed multipart body: no token can be read from it
                form = FormData()
            try:
                value = form.get(CSRF_FIELD)
                given = value if isinstance(value, str) else None
            finally:
                await form.close()
        if not expected or not given or not hmac.compare_digest(given.encode(), str(expected).encode()):
            return ("this form did not come from the review room's own page (missing or stale form token); "
                    "reload the page and try again")
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body over once, then defers to the real connection."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}
