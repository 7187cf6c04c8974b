"""Fake fal queue (+ its media host) speaking the protocol fal_client 1.0.3 expects (providers.md §1).

    POST /{endpoint_id}                          submit → {request_id, status_url, response_url, cancel_url}
    GET  /{owner}/{alias}/requests/{id}/status   202 IN_QUEUE/IN_PROGRESS until `latency_s`, then 200 COMPLETED
    GET  /{owner}/{alias}/requests/{id}          the result (or the run's error)
    PUT  /{owner}/{alias}/requests/{id}/cancel
    GET  /media/{name}                           result files

Per-request outcomes come from markers in the prompt (`[[moderate]]`, `[[novideo]]`, `[[garbage]]`,
`[[empty]]`); one-shot faults are queued per operation with `fail_next(op, reply)`.
Timing knobs for crash tests: `submit_delay_s` (the submit answers late, so a claim is held
meanwhile) and `hold_media()` (a media download stops halfway until released, with a deadline).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from typing import Any

from tests.fakes.server import FakeServer, Reply

NGINX_502 = Reply(502, raw=b"<html><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
                  content_type="text/html")


class FalFake(FakeServer):
    def __init__(self, media: dict[str, bytes]):
        super().__init__()
        self.media = dict(media)
        self.latency_s = 0.0
        self.submits: list[dict[str, Any]] = []
        self.status_calls: Counter[str] = Counter()
        self.result_calls: Counter[str] = Counter()
        self.media_calls: Counter[str] = Counter()
        self.auth_seen: set[str] = set()
        self.attempts: Counter[str] = Counter()  # every call of an operation, faulted or not
        self.faults: dict[str, list[Reply | None]] = {"submit": [], "status": [], "result": [], "media": []}
        self.requests: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.submit_delay_s = 0.0
        self.media_midway = threading.Event()   # set when a held download has sent half its bytes
        self._media_release: threading.Event | None = None

    def hold_media(self) -> threading.Event:
        """From now on media downloads stall halfway until the returned event is set (or 30 s pass)."""
        self._media_release = threading.Event()
        self.media_midway.clear()
        return self._media_release

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

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Reply | None:
        if path.startswith("/media/"):
            return self._media(path[len("/media/"):])
        auth = headers.get("authorization", "")
        if not auth.startswith("Key "):
            return Reply(401, {"detail": "missing credentials"})
        self.auth_seen.add(auth[4:])
        parts = path.strip("/").split("/")
        if "requests" in parts:
            i = parts.index("requests")
            rid = parts[i + 1]
            tail = parts[i + 2:] if len(parts) > i + 2 else []
            if rid not in self.requests:
                return Reply(404, {"detail": f"request {rid} not found"})
            if tail == ["status"]:
                return self._status(rid)
            if tail == ["cancel"] and method == "PUT":
                return Reply(202, {"status": "CANCELLATION_REQUESTED"})
            if not tail and method == "GET":
                return self._result(rid)
            return Reply(404, {"detail": "no such route"})
        if method == "POST":
            return self._submit("/".join(parts), body)
        return Reply(404, {"detail": "no such route"})

    # -- operations ---------------------------------------------------------------------------
    def _submit(self, endpoint: str, body: Any) -> Reply | None:
        hit, fault = self._fault("submit")
        if hit:
            return fault
        if self.submit_delay_s:
            time.sleep(self.submit_delay_s)
        rid = f"req-{next(self._ids):04d}"
        owner, alias = endpoint.split("/")[:2]
        base = f"{self.url}/{owner}/{alias}/requests/{rid}"
        with self.lock:
            self.requests[rid] = {"endpoint": endpoint, "body": body, "t0": time.monotonic()}
            self.submits.append({"endpoint": endpoint, "body": body, "request_id": rid})
        return Reply(200, {"request_id": rid, "gateway_request_id": rid, "queue_position": 0, "status_url": base + "/status",
                           "response_url": base, "cancel_url": base + "/cancel"})

    def _status(self, rid: str) -> Reply | None:
        with self.lock:
            self.status_calls[rid] += 1
        hit, fault = self._fault("status")
        if hit:
            return fault
        elapsed = time.monotonic() - self.requests[rid]["t0"]
        if elapsed < self.latency_s:
            if elapsed < self.latency_s / 4:
                return Reply(202, {"status": "IN_QUEUE", "queue_position": 0, "logs": None})
            return Reply(202, {"status": "IN_PROGRESS", "logs": None})
        return Reply(200, {"status": "COMPLETED", "logs": None, "metrics": {"inference_time": 0.1}})

    def _result(self, rid: str) -> Reply | None:
        with self.lock:
            self.result_calls[rid] += 1
        hit, fault = self._fault("result")
        if hit:
            return fault
        req = self.requests[rid]
        body = req["body"] if isinstance(req["body"], dict) else {}
        prompt = str(body.get("prompt", ""))
        if "[[moderate]]" in prompt and "kling" not in req["endpoint"]:  # Kling: a different gateway
            return Reply(422, {"detail": [{"loc": ["body", "prompt"], "msg": "content flagged by the safety checker",
                                           "type": "content_policy_violation", "categories": ["violence"]}]},
                         headers={"x-fal-request-id": rid, "X-Fal-Retryable": "false"})
        if "[[novideo]]" in prompt:
            return Reply(200, {"seed": 42})
        if req["endpoint"].startswith(("fal-ai/flux", "fal-ai/flux-pro")):
            n = int(body.get("num_images", 1))
            size = body.get("image_size") or {}
            return Reply(200, {"images": [{"url": f"{self.url}/media/still.png", "width": size.get("width"),
                                           "height": size.get("height"), "content_type": "image/png"}] * n,
                               "seed": body.get("seed", 7), "has_nsfw_concepts": [False] * n, "prompt": prompt})
        name = "garbage.mp4" if "[[garbage]]" in prompt else "empty.mp4" if "[[empty]]" in prompt else "clip.mp4"
        return Reply(200, {"video": {"url": f"{self.url}/media/{name}", "content_type": "video/mp4",
                                     "file_name": name, "file_size": len(self.media.get(name, b""))}, "seed": 42})

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
