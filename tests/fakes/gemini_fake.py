"""Fake Gemini API (v1beta) for google-genai: Veo predictLongRunning + operations, file download, Imagen :predict.

    POST /v1beta/models/{model}:predictLongRunning   → {"name": "models/{model}/operations/{id}"}
    GET  /v1beta/models/{model}/operations/{id}      → {"done": false} until `latency_s`, then the response
    GET  /v1beta/files/{id}:download?alt=media       → MP4 bytes (needs x-goog-api-key)
    POST /v1beta/models/{model}:predict              → {"predictions": [{"bytesBase64Encoded", "mimeType"}]}

A prompt containing `[[filtered]]` finishes with 0 samples and raiMediaFilteredCount 1.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections import Counter
from typing import Any

from tests.fakes.server import FakeServer, Reply


class GeminiFake(FakeServer):
    def __init__(self, video: bytes, png: bytes):
        super().__init__()
        self.video, self.png = video, png
        self.latency_s = 0.0
        self.keys_seen: set[str] = set()
        self.submits: list[dict[str, Any]] = []
        self.polls: Counter[str] = Counter()
        self.downloads = 0
        self.ops: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Reply | None:
        key = headers.get("x-goog-api-key")
        if not key:
            return Reply(403, {"error": {"code": 403, "message": "API key missing", "status": "PERMISSION_DENIED"}})
        self.keys_seen.add(key)
        if not path.startswith("/v1beta/"):
            return Reply(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})
        rest = path[len("/v1beta/"):]
        if method == "POST" and rest.endswith(":predictLongRunning"):
            model = rest[len("models/"):-len(":predictLongRunning")]
            op = f"models/{model}/operations/op{next(self._ids):03d}"
            with self.lock:
                self.ops[op] = {"t0": time.monotonic(), "body": body}
                self.submits.append({"model": model, "body": body, "name": op})
            return Reply(200, {"name": op})
        if method == "POST" and rest.endswith(":predict"):
            inst = (body or {}).get("instances", [{}])[0]
            n = int((body or {}).get("parameters", {}).get("sampleCount", 1))
            self.submits.append({"model": rest[len("models/"):-len(":predict")], "body": body})
            if "[[filtered]]" in inst.get("prompt", ""):
                return Reply(200, {"predictions": [{"raiFilteredReason": "filtered by safety"}]})
            pred = {"bytesBase64Encoded": base64.b64encode(self.png).decode(), "mimeType": "image/png"}
            return Reply(200, {"predictions": [pred] * n})
        if method == "POST" and rest.endswith(":generateContent"):
            model = rest[len("models/"):-len(":generateContent")]
            self.submits.append({"model": model, "body": body})
            part = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(self.png).decode()}}
            return Reply(200, {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}],
                               "modelVersion": model})
        if method == "GET" and "/operations/" in rest:
            return self._op(rest)
        if method == "GET" and rest.startswith("files/") and rest.endswith(":download"):
            self.downloads += 1
            return Reply(200, raw=self.video, content_type="video/mp4")
        return Reply(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})

    def _op(self, name: str) -> Reply:
        if name not in self.ops:
            return Reply(404, {"error": {"code": 404, "message": "operation not found", "status": "NOT_FOUND"}})
        self.polls[name] += 1
        op = self.ops[name]
        if time.monotonic() - op["t0"] < self.latency_s:
            return Reply(200, {"name": name, "done": False})
        prompt = (op["body"] or {}).get("instances", [{}])[0].get("prompt", "")
        if "[[filtered]]" in prompt:
            resp = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["violates the usage guidelines"]}
        else:
            uri = f"{self.url}/v1beta/files/f{name[-3:]}:download?alt=media"
            resp = {"generatedSamples": [{"video": {"uri": uri}}]}
        return Reply(200, {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": resp}})
