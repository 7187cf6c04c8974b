"""Fake fal queue + storage + media host, speaking what fal_client 1.0.3 expects (providers.md §1).

    POST /{endpoint_id}                          submit → {request_id, status_url, response_url, cancel_url}
    GET  /{owner}/{alias}/requests/{id}/status   202 IN_QUEUE/IN_PROGRESS until `latency_s`, then 200 COMPLETED
    GET  /{owner}/{alias}/requests/{id}          the result (or the run's error)
    PUT  /{owner}/{alias}/requests/{id}/cancel
    POST /storage/auth/token?storage_type=fal-cdn-v3   CDN upload token (Key auth)
    POST /files/upload                           bytes (token auth, X-Fal-File-Name) → {access_url}
    POST /storage/upload/initiate?storage_type=gcs + PUT upload_url   the fallback upload
    GET  /media/{name}                           result files and uploads
    GET  /v1/models/requests/by-endpoint         the platform API's request history (below)

Submits are checked against `fal_contract.ENDPOINTS` (the providers' published schemas): an
unknown endpoint is a 404, a bad body a 422 with `detail[]`, a bad key 401, a locked account 403,
a data URI or a URL to a file never uploaded here a 422. Outcomes of accepted jobs come from
markers in the prompt (`[[moderate]]`, `[[novideo]]`, `[[garbage]]`, `[[empty]]`, `[[fail]]`,
`[[failed_status]]`); one-shot faults are queued per operation with `fail_next(op, reply)`.
Timing knobs for crash tests: `submit_delay_s` (the submit answers late) and `hold_media()` (a media
download stops halfway until released, with a deadline).

Lost answers: `accept_then_drop(n)` makes the next n valid submits be accepted (queued, listed in
the history, billed: `accepted` counts them) and then the connection is closed without an answer.
The platform API's request history (`GET /v1/models/requests/by-endpoint`, Key auth) is served by
fal_history.py; a request is listed `history_delay_s` after it was sent.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.fakes.contract import Error, err
from tests.fakes.fal_contract import AUDIO_LIMITS_S, ENDPOINTS
from tests.fakes.fal_contracts import FalPlatform
from tests.fakes.fal_history import history_page
from tests.fakes.server import FakeServer, Reply

NGINX_502 = Reply(502, raw=b"<html><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
                  content_type="text/html")
REQUEST_TIMEOUT_504 = Reply(504, {"detail": "Request timed out", "error_type": "request_timeout"},
                            headers={"X-Fal-Error-Type": "request_timeout"})
OPS = ("submit", "status", "result", "media", "token", "upload", "initiate")


class FalFake(FakeServer):
    def __init__(self, media: dict[str, bytes], *, keys: set[str] | None = None):
        super().__init__()
        self.media = dict(media)
        self.keys = set(keys or ())          # empty: any "Key …" is accepted
        self.locked_keys: set[str] = set()   # 403: balance exhausted
        self.endpoints = copy.copy(ENDPOINTS)
        self.platform = FalPlatform(self)  # GET /v1/models[/pricing] from the dated snapshots (fal_contracts.py)
        self.latency_s = 0.0
        self.submits: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []  # submits answered 4xx, with the detail sent back
        self.uploads: list[dict[str, Any]] = []
        self.status_calls: Counter[str] = Counter()
        self.result_calls: Counter[str] = Counter()
        self.media_calls: Counter[str] = Counter()
        self.auth_seen: set[str] = set()
        self.attempts: Counter[str] = Counter()  # every call of an operation, faulted or not
        self.faults: dict[str, list[Reply | None]] = {op: [] for op in OPS}
        self.requests: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self._ids = itertools.count(1)
        self.submit_delay_s = 0.0
        self.drop_after_accept = 0             # accept_then_drop(): submits accepted, then the answer lost
        self.history_delay_s = 0.0             # how long after it was sent a request appears in the history
        self.history_calls: list[dict[str, list[str]]] = []
        self.media_midway = threading.Event()   # set when a held download has sent half its bytes
        self._media_release: threading.Event | None = None

    def hold_media(self) -> threading.Event:
        """From now on media downloads stall halfway until the returned event is set (or 30 s pass)."""
        self._media_release = threading.Event()
        self.media_midway.clear()
        return self._media_release

    def accept_then_drop(self, times: int = 1) -> None:
        """The next `times` valid submits are queued (and billed) but their answer never arrives."""
        with self.lock:
            self.drop_after_accept += times

    @property
    def accepted(self) -> int:
        """Requests fal holds (and bills): every accepted submit, whether its answer arrived or not."""
        with self.lock:
            return len(self.requests)

    def foreign_request(self, endpoint: str, body: dict[str, Any]) -> str:
        """A request made on this account elsewhere (the dashboard, another tool): queued, billed, listed."""
        rid = f"req-{next(self._ids):04d}"
        with self.lock:
            self.requests[rid] = {"endpoint": endpoint, "body": body, "t0": time.monotonic(),
                                  "sent_at": datetime.now(timezone.utc)}
        return rid

    def fail_next(self, op: str, reply: Reply | None, times: int = 1) -> None:
        """Serve `reply` (None = reset the connection) for the next `times` calls of `op`."""
        with self.lock:
            self.faults[op].extend([reply] * times)

    def _fault(self, op: str) -> tuple[bool, Reply | None]:
        with self.lock:
            self.attempts[op] += 1
            if self.faults[op]:
                return True, self.faults[op].pop(0)
        return False, None

    # -- routing --------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Reply | None:
        if path.startswith("/media/") and method == "GET":
            return self._media(path[len("/media/"):])
        if path == "/files/upload" and method == "POST":
            return self._cdn_upload(headers, body)
        if path.startswith("/gcs/") and method == "PUT":
            return self._gcs_put(path[len("/gcs/"):], body)
        auth = headers.get("authorization", "")
        if not auth.startswith("Key "):
            return Reply(401, {"detail": "Missing authorization header"})
        key = auth[4:]
        self.auth_seen.add(key)
        if self.keys and key not in self.keys:
            return Reply(401, {"detail": "Invalid key: authentication failed"})
        if key in self.locked_keys:
            return Reply(403, {"detail": "User is locked. Reason: Exhausted balance. Top up your balance at "
                                         "fal.ai/dashboard/billing."})
        if path == "/v1/models/requests/by-endpoint" and method == "GET":
            return self._history(query)
        platform = self.platform.reply(method, path, query)
        if platform is not None:
            return platform
        if path == "/storage/auth/token" and method == "POST":
            return self._token(query)
        if path == "/storage/upload/initiate" and method == "POST":
            return self._gcs_initiate(query, body)
        parts = path.strip("/").split("/")
        if "requests" in parts:
            i = parts.index("requests")
            rid = parts[i + 1] if len(parts) > i + 1 else ""
            tail = parts[i + 2:]
            if rid not in self.requests:
                return Reply(404, {"detail": f"Request {rid} not found"})
            if tail == ["status"] and method == "GET":
                return self._status(rid)
            if tail == ["cancel"] and method == "PUT":
                return Reply(202, {"status": "CANCELLATION_REQUESTED"})
            if not tail and method == "GET":
                return self._result(rid)
            return Reply(405, {"detail": "Method not allowed"})
        if method == "POST":
            return self._submit("/".join(parts), body, headers)
        return Reply(404, {"detail": "Not found"})

    # -- queue ----------------------------------------------------------------------------------
    def _submit(self, endpoint: str, body: Any, headers: dict[str, str]) -> Reply | None:
        hit, fault = self._fault("submit")
        if hit:
            return fault
        contract = self.endpoints.get(endpoint)
        if contract is None:
            return Reply(404, {"detail": f"Application '{endpoint}' not found"})
        if "json" not in headers.get("content-type", ""):
            return Reply(422, {"detail": [err(["body"], "Input should be a JSON object", "json_invalid")]})
        errors = contract.validate(body, ["body"]) or self._media_rules(endpoint, body)
        if errors:
            with self.lock:
                self.refused.append({"endpoint": endpoint, "body": body, "detail": errors})
            return Reply(422, {"detail": errors})
        if self.submit_delay_s:
            time.sleep(self.submit_delay_s)
        rid = f"req-{next(self._ids):04d}"
        base = f"{self.url}/{'/'.join(endpoint.split('/')[:2])}/requests/{rid}"
        with self.lock:
            self.requests[rid] = {"endpoint": endpoint, "body": body, "t0": time.monotonic(),
                                  "sent_at": datetime.now(timezone.utc)}
            self.submits.append({"endpoint": endpoint, "body": body, "request_id": rid})
            if self.drop_after_accept > 0:
                self.drop_after_accept -= 1
                return None  # queued and billed; the connection closes before the answer
        return Reply(200, {"request_id": rid, "gateway_request_id": rid, "queue_position": 0,
                           "status_url": base + "/status", "response_url": base, "cancel_url": base + "/cancel"})

    def _status(self, rid: str) -> Reply | None:
        with self.lock:
            self.status_calls[rid] += 1
        hit, fault = self._fault("status")
        if hit:
            return fault
        req = self.requests[rid]
        elapsed = time.monotonic() - req["t0"]
        if elapsed < self.latency_s:
            if elapsed < self.latency_s / 4:
                return Reply(202, {"status": "IN_QUEUE", "queue_position": 0, "logs": None})
            return Reply(202, {"status": "IN_PROGRESS", "logs": None})
        prompt = _prompt(req["body"])
        if "[[failed_status]]" in prompt:
            return Reply(200, {"status": "FAILED", "logs": None})
        done: dict[str, Any] = {"status": "COMPLETED", "logs": None, "metrics": {"inference_time": 0.1}}
        if "[[fail]]" in prompt:
            done.update(error="Runner disconnected while processing", error_type="runner_disconnected")
        return Reply(200, done)

    def _result(self, rid: str) -> Reply | None:
        with self.lock:
            self.result_calls[rid] += 1
        hit, fault = self._fault("result")
        if hit:
            return fault
        req = self.requests[rid]
        body = req["body"] if isinstance(req["body"], dict) else {}
        prompt = _prompt(body)
        if "[[moderate]]" in prompt and "kling" not in req["endpoint"]:  # Kling: a different gateway
            return Reply(422, {"detail": [{"loc": ["body", "prompt"], "msg": "content flagged by the safety checker",
                                           "type": "content_policy_violation", "categories": ["violence"]}]},
                         headers={"x-fal-request-id": rid, "X-Fal-Retryable": "false"})
        if "[[fail]]" in prompt:
            return Reply(500, {"detail": "Runner disconnected while processing", "error_type": "runner_disconnected"},
                         headers={"x-fal-request-id": rid, "X-Fal-Error-Type": "runner_disconnected"})
        if "[[novideo]]" in prompt:
            return Reply(200, {"seed": 42})
        if self.endpoints[req["endpoint"]].output == "images":
            n = int(body.get("num_images", 1))
            size = body.get("image_size") if isinstance(body.get("image_size"), dict) else {}
            return Reply(200, {"images": [{"url": f"{self.url}/media/still.png", "width": size.get("width"),
                                           "height": size.get("height"), "content_type": "image/png"}] * n,
                               "seed": body.get("seed", 7), "has_nsfw_concepts": [False] * n, "prompt": prompt})
        name = "garbage.mp4" if "[[garbage]]" in prompt else "empty.mp4" if "[[empty]]" in prompt else "clip.mp4"
        return Reply(200, {"video": {"url": f"{self.url}/media/{name}", "content_type": "video/mp4",
                                     "file_name": name, "file_size": len(self.media.get(name, b""))}, "seed": 42})

    def _media_rules(self, endpoint: str, body: dict[str, Any]) -> list[Error]:
        """Every URL into this host must name an uploaded file; audio/video lengths within fal's limits."""
        errors: list[Error] = []
        for key, value in body.items():
            for i, url in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(url, str) and url.startswith(self.url) and key not in ("prompt",):
                    name = url[len(self.url) + len("/media/"):]
                    if not url.startswith(f"{self.url}/media/") or name not in self.media:
                        errors.append(err(["body", key] + ([i] if isinstance(value, list) else []),
                                          "Could not download the file from the URL", "file_download_error", url))
        if errors:
            return errors
        limits = AUDIO_LIMITS_S.get(endpoint)
        if limits and isinstance(body.get("audio_url"), str):
            secs = self.seconds(body["audio_url"])
            cap = limits.get(str(body.get("resolution", "1080p")))
            if secs is not None and cap is not None and secs > cap:
                errors.append(err(["body", "audio_url"], f"Audio must be at most {cap:g} s at this resolution "
                                                          f"(got {secs:.1f} s)", "audio_too_long", secs))
        if endpoint.endswith("reference-to-video"):
            vids = [self.seconds(u) for u in body.get("video_urls") or []]
            auds = [self.seconds(u) for u in body.get("audio_urls") or []]
            if vids and None not in vids and not 2 <= sum(v for v in vids if v) <= 15:
                errors.append(err(["body", "video_urls"], "Reference videos must total 2–15 s", "value_error"))
            if auds and None not in auds and sum(a for a in auds if a) > 15:
                errors.append(err(["body", "audio_urls"], "Reference audio must total at most 15 s", "value_error"))
        return errors

    def seconds(self, url: str) -> float | None:
        """Length of a media file stored here (None for other hosts or unreadable bytes)."""
        import av

        if not url.startswith(f"{self.url}/media/"):
            return None
        data = self.media.get(url[len(self.url) + len("/media/"):])
        if not data:
            return None
        with tempfile.NamedTemporaryFile(suffix=Path(url).suffix) as f:
            f.write(data)
            f.flush()
            try:
                with av.open(f.name) as c:
                    return c.duration / 1_000_000 if c.duration else None
            except (av.error.FFmpegError, OSError):
                return None

    # -- platform API: request history ----------------------------------------------------------
    def _history(self, query: dict[str, list[str]]) -> Reply:
        with self.lock:
            self.history_calls.append(query)
            listed = list(self.requests.items())
        return history_page(listed, query, latency_s=self.latency_s, delay_s=self.history_delay_s)

    # -- storage --------------------------------------------------------------------------------
    def _token(self, query: dict[str, list[str]]) -> Reply | None:
        hit, fault = self._fault("token")
        if hit:
            return fault
        if query.get("storage_type") != ["fal-cdn-v3"]:
            return Reply(422, {"detail": [err(["query", "storage_type"], "Input should be 'fal-cdn-v3'", "enum")]})
        token = hashlib.sha256(f"tok{next(self._ids)}".encode()).hexdigest()[:32]
        with self.lock:
            self.tokens.add(token)
        expires = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
        return Reply(200, {"token": token, "token_type": "Bearer", "base_url": self.url, "expires_at": expires})

    def _cdn_upload(self, headers: dict[str, str], body: Any) -> Reply | None:
        hit, fault = self._fault("upload")
        if hit:
            return fault
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return Reply(401, {"detail": "Invalid or expired upload token"})
        lifecycle = headers.get("x-fal-object-lifecycle")
        if lifecycle is not None:
            try:
                secs = json.loads(lifecycle).get("expiration_duration_seconds")
            except (json.JSONDecodeError, AttributeError):
                secs = None
            if not isinstance(secs, int) or secs <= 0:
                return Reply(400, {"detail": f"Invalid X-Fal-Object-Lifecycle: {lifecycle}"})
        return self._store(headers.get("x-fal-file-name") or "upload.bin", headers.get("content-type", ""), body,
                           lifecycle)

    def _gcs_initiate(self, query: dict[str, list[str]], body: Any) -> Reply | None:
        hit, fault = self._fault("initiate")
        if hit:
            return fault
        if query.get("storage_type") != ["gcs"] or not isinstance(body, dict) or "content_type" not in body:
            return Reply(422, {"detail": [err(["body", "content_type"], "Field required", "missing")]})
        slot = f"{next(self._ids):04d}-{body.get('file_name') or 'upload.bin'}"
        with self.lock:
            self.media[f"pending/{slot}"] = b""
        return Reply(200, {"upload_url": f"{self.url}/gcs/{slot}", "file_url": f"{self.url}/media/gcs/{slot}"})

    def _gcs_put(self, slot: str, body: Any) -> Reply:
        with self.lock:
            if self.media.pop(f"pending/{slot}", None) is None:
                return Reply(403, raw=b"<Error><Code>AccessDenied</Code></Error>", content_type="application/xml")
            self.media[f"gcs/{slot}"] = bytes(body or b"")
            self.uploads.append({"name": slot, "size": len(body or b""), "via": "gcs"})
        return Reply(200, raw=b"")

    def _store(self, name: str, ctype: str, body: Any, lifecycle: str | None) -> Reply:
        data = bytes(body or b"")
        if not data:
            return Reply(400, {"detail": "Empty upload"})
        key = f"up/{hashlib.sha256(data).hexdigest()[:16]}/{name}"
        with self.lock:
            self.media[key] = data
            self.uploads.append({"name": name, "size": len(data), "content_type": ctype, "lifecycle": lifecycle,
                                 "via": "cdn"})
        return Reply(200, {"access_url": f"{self.url}/media/{key}"})

    def _media(self, name: str) -> Reply | None:
        with self.lock:
            self.media_calls[name] += 1
        hit, fault = self._fault("media")
        if hit:
            return fault
        if name not in self.media:
            return Reply(404, {"detail": "expired"})
        ctype = "image/png" if name.endswith(".png") else "video/mp4"
        release = self._media_release
        if release is not None:
            def pause() -> None:
                self.media_midway.set()
                release.wait(30)
            return Reply(200, raw=self.media[name], content_type=ctype, pause_at=len(self.media[name]) // 2,
                         pause=pause)
        return Reply(200, raw=self.media[name], content_type=ctype)


def _prompt(body: Any) -> str:
    return str(body.get("prompt", "")) if isinstance(body, dict) else ""

