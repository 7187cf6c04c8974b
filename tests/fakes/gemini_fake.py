"""Fake Gemini Developer API (v1beta) for google-genai: Veo predictLongRunning + operations, file
download, and generateContent (image models for stills, text models for the judge).

    POST /v1beta/models/{model}:predictLongRunning   → {"name": "models/{model}/operations/{id}"}
    GET  /v1beta/models/{model}/operations/{id}      → {"done": false} until `latency_s`, then the response
    GET  /v1beta/files/{id}:download?alt=media       → MP4 bytes (needs the key), or a 302 to `redirect_to`
    POST /v1beta|v1/models/{model}:generateContent  → candidates[].content.parts[].inlineData (image models)
    GET  /v1beta/models?pageSize=…&pageToken=…     models.list: the entries of contracts/gemini_models.json
    GET  /v1beta/models/{model}                      models.get (404 for a retired or unknown id)

Which models exist comes from the dated snapshot (vidpipe/providers/contracts/gemini_models.json, Google's
deprecations page): a retired id (gemini-2.5-flash-image, gemini-3-pro-image-preview, veo-3.1-generate-preview)
answers 404 "is no longer available", as Google's API does after a shutdown. Tests retire or add
models through `models` / `retired`.

Requests are checked against the API's published contract (providers.md §0, §2.4; Gemini image
docs), written independently of vidpipe: unknown models are 404 NOT_FOUND, unknown fields, bad
enums and limits 400 INVALID_ARGUMENT, a missing key 403 PERMISSION_DENIED, a wrong key 400
API_KEY_INVALID — all as `{"error": {"code", "message", "status"}}`. Prompt markers: `[[filtered]]`
(Veo finishes with 0 samples), `[[operror]]` / `[[quota]]` (the operation ends with `error`),
`[[blocked]]` / `[[imagesafety]]` (generateContent refuses the still).
"""

from __future__ import annotations

import base64
import itertools
import time
from collections import Counter
from typing import Any

from tests.fakes.contract import F, check, enum
from tests.fakes.server import FakeServer, Reply
from vidpipe.providers import contracts

SNAPSHOT = contracts.gemini_models()
TEXT_MODELS = ("gemini-3.5-flash",)  # the judge's and the writer's
IMAGE_ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
VERTEX_ONLY = ("generateAudio", "seed", "fps", "storageUri", "compressionQuality")

IMAGE = F("obj", fields={"bytesBase64Encoded": F("str", required=True, lo=1),
                         "mimeType": enum("image/png", "image/jpeg", "image/webp", required=True)})
VEO_INSTANCE = {
    "prompt": F("str", required=True, lo=1),
    "image": IMAGE,
    "lastFrame": IMAGE,
    "referenceImages": F("list", lo=1, hi=3),
    "video": F("obj"),
}
VEO_PARAMS = {
    "aspectRatio": enum("16:9", "9:16"),
    "durationSeconds": enum(4, 6, 8),
    "resolution": enum("720p", "1080p", "4k"),
    "personGeneration": enum("allow_all", "allow_adult", "dont_allow"),
    "negativePrompt": F("str"),
    "enhancePrompt": F("bool"),
    "sampleCount": F("int", lo=1, hi=1),
}
REFERENCE = {"image": F("obj", required=True, fields=IMAGE.fields), "referenceType": enum("ASSET", required=True)}


def google_error(code: int, status: str, message: str, **extra: Any) -> Reply:
    return Reply(code, {"error": {"code": code, "message": message, "status": status, **extra}})


def invalid(message: str) -> Reply:
    return google_error(400, "INVALID_ARGUMENT", message)


def _first_problem(errors: list[dict[str, Any]], where: str) -> Reply | None:
    if not errors:
        return None
    e = errors[0]
    field = ".".join(str(x) for x in e["loc"])
    if e["type"] == "extra_forbidden":  # Google's wording for an unknown field
        return invalid(f'Invalid JSON payload received. Unknown name "{e["loc"][-1]}" at \'{where}\': '
                       "Cannot find field.")
    return invalid(f"{field}: {e['msg']}")


class GeminiFake(FakeServer):
    def __init__(self, video: bytes, png: bytes, *, key: str | None = None):
        super().__init__()
        self.video, self.png = video, png
        self.key = key
        self.latency_s = 0.0
        self.keys_seen: set[str] = set()
        self.submits: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.polls: Counter[str] = Counter()
        self.downloads = 0
        self.ops: dict[str, dict[str, Any]] = {}
        self.redirect_to: str | None = None   # downloads answer 302 to this URL when set
        self.fail_next: list[Reply] = []      # served (once each) before any routing
        self.text_reply = "{}"                # what text models answer (the judge's JSON)
        self._ids = itertools.count(1)
        # models.list entries by id (from the snapshot) and the ids Google shut down
        self.models: dict[str, dict[str, Any]] = {
            m.name.removeprefix("models/"): m.model_dump(by_alias=True) for m in SNAPSHOT.models}
        self.retired: set[str] = set(SNAPSHOT.retired_by_id())
        self.list_calls = 0

    def _methods(self, model: str) -> list[str]:
        return list(self.models.get(model, {}).get("supportedGenerationMethods", []))

    def _missing(self, model: str, method: str) -> Reply | None:
        if model in self.retired:
            return google_error(404, "NOT_FOUND", f"models/{model} is no longer available. It was shut down; see "
                                "https://ai.google.dev/gemini-api/docs/deprecations")
        if method not in self._methods(model) and not (method == "generateContent" and model in TEXT_MODELS):
            return google_error(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta, or is not "
                                f"supported for {method}. Call ListModels to see the list of available models and "
                                "their supported methods.")
        return None

    def _list(self, query: dict[str, list[str]]) -> Reply:
        self.list_calls += 1
        size = int(query.get("pageSize", ["50"])[0])
        start = int(query.get("pageToken", ["0"])[0] or 0)
        names = [n for n in self.models if n not in self.retired]
        page = [{"name": f"models/{n}", **{k: v for k, v in self.models[n].items() if k != "name"}}
                for n in names[start:start + size]]
        more = start + size < len(names)
        return Reply(200, {"models": page, **({"nextPageToken": str(start + size)} if more else {})})

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Reply | None:
        key = headers.get("x-goog-api-key")
        if not key:
            return google_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers "
                                "without established identity). Please use API Key or other form of API consumer "
                                "identity to call this API.")
        self.keys_seen.add(key)
        if self.key and key != self.key:
            return google_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                                details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                          "reason": "API_KEY_INVALID", "domain": "googleapis.com"}])
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0)
        if path.startswith("/v1/") and path.endswith(":generateContent"):  # the stable version serves it too
            return self._generate(path[len("/v1/models/"):-len(":generateContent")], body)
        if not path.startswith("/v1beta/"):
            return google_error(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")
        rest = path[len("/v1beta/"):]
        if method == "GET" and rest == "models":
            return self._list(query)
        if method == "GET" and rest.startswith("models/") and "/" not in rest[len("models/"):]:
            model = rest[len("models/"):]
            if model in self.retired or (model not in self.models and model not in TEXT_MODELS):
                return self._missing(model, "get") or google_error(404, "NOT_FOUND", f"models/{model} not found")
            return Reply(200, {"name": f"models/{model}", **{k: v for k, v in self.models.get(model, {}).items()
                                                             if k != "name"}})
        if method == "POST" and rest.endswith(":predictLongRunning"):
            return self._veo(rest[len("models/"):-len(":predictLongRunning")], body)
        if method == "POST" and rest.endswith(":generateContent"):
            return self._generate(rest[len("models/"):-len(":generateContent")], body)
        if method == "GET" and "/operations/" in rest:
            return self._op(rest)
        if method == "GET" and rest.startswith("files/") and rest.endswith(":download"):
            self.downloads += 1
            if self.redirect_to:
                return Reply(302, raw=b"", headers={"Location": self.redirect_to})
            return Reply(200, raw=self.video, content_type="video/mp4")
        return google_error(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")

    # -- Veo --------------------------------------------------------------------------------------
    def _veo(self, model: str, body: Any) -> Reply:
        missing = self._missing(model, "predictLongRunning")
        if missing is not None:
            with self.lock:
                self.refused.append({"model": model, "body": body, "error": missing.body})
            return missing
        problem = self._veo_problem(body)
        if problem is not None:
            with self.lock:
                self.refused.append({"model": model, "body": body, "error": problem.body})
            return problem
        op = f"models/{model}/operations/op{next(self._ids):03d}"
        with self.lock:
            self.ops[op] = {"t0": time.monotonic(), "body": body}
            self.submits.append({"model": model, "body": body, "name": op})
        return Reply(200, {"name": op})

    def _veo_problem(self, body: Any) -> Reply | None:
        bad = _first_problem(check(body, {"instances": F("list", required=True, lo=1, hi=1),
                                          "parameters": F("obj")}, []), "")
        if bad:
            return bad
        params = body.get("parameters") or {}
        for name in VERTEX_ONLY:
            if name in params:
                return invalid(f"`{name}` isn't supported by this model.")
        inst = body["instances"][0]
        bad = (_first_problem(check(inst, VEO_INSTANCE, ["instances", 0]), "instances[0]")
               or _first_problem(check(params, VEO_PARAMS, ["parameters"]), "parameters"))
        if bad:
            return bad
        for i, ref in enumerate(inst.get("referenceImages") or []):
            bad = _first_problem(check(ref, REFERENCE, ["instances", 0, "referenceImages", i]),
                                 f"instances[0].reference_images[{i}]")
            if bad:
                return bad
        seconds = params.get("durationSeconds", 8)
        if params.get("resolution", "720p") != "720p" and seconds != 8:
            return invalid(f"resolution {params['resolution']} is only supported with durationSeconds 8.")
        if inst.get("referenceImages") and (seconds != 8 or params.get("aspectRatio", "16:9") != "16:9"):
            return invalid("referenceImages are only supported with durationSeconds 8 and aspectRatio 16:9.")
        if "lastFrame" in inst and "image" not in inst:
            return invalid("lastFrame requires image.")
        if "video" in inst:
            return invalid("video input is not supported for this request.")
        return None

    def _op(self, name: str) -> Reply:
        if name not in self.ops:
            return google_error(404, "NOT_FOUND", f"Operation {name} not found.")
        self.polls[name] += 1
        op = self.ops[name]
        if time.monotonic() - op["t0"] < self.latency_s:
            return Reply(200, {"name": name, "done": False})
        prompt = op["body"]["instances"][0]["prompt"]
        if "[[operror]]" in prompt:
            return Reply(200, {"name": name, "done": True, "error": {"code": 13, "message": "Internal error."}})
        if "[[quota]]" in prompt:
            return Reply(200, {"name": name, "done": True, "error": {"code": 8, "message": "Resource exhausted."}})
        if "[[filtered]]" in prompt:
            resp = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["violates the usage guidelines"]}
        else:
            uri = f"{self.url}/v1beta/files/f{name[-3:]}:download?alt=media"
            resp = {"generatedSamples": [{"video": {"uri": uri}}]}
        return Reply(200, {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": resp}})

    # -- generateContent ----------------------------------------------------------------------------
    def _generate(self, model: str, body: Any) -> Reply:
        missing = self._missing(model, "generateContent")
        if missing is not None:
            self.refused.append({"model": model, "body": body, "error": missing.body})
            return missing
        contents = body.get("contents") if isinstance(body, dict) else None
        if not isinstance(contents, list) or not contents:
            return invalid("* GenerateContentRequest.contents: contents is not specified")
        text = " ".join(p.get("text", "") for c in contents for p in c.get("parts", []) if isinstance(p, dict))
        cfg = body.get("generationConfig") or {}
        self.submits.append({"model": model, "body": body})
        if model in TEXT_MODELS:
            if "imageConfig" in cfg or "IMAGE" in (cfg.get("responseModalities") or []):
                return invalid("Multi-modal output is not supported.")
            images = sum(1 for c in contents for p in c.get("parts", []) if isinstance(p, dict) and "inlineData" in p)
            usage = {"promptTokenCount": images * 258 + len(text) // 4, "candidatesTokenCount": len(self.text_reply) // 4,
                     "thoughtsTokenCount": 100}  # as the API reports it: what the call is billed on
            usage["totalTokenCount"] = sum(usage.values())
            return Reply(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": self.text_reply}]},
                                               "finishReason": "STOP"}], "modelVersion": model, "usageMetadata": usage})
        modalities = cfg.get("responseModalities") or ["TEXT", "IMAGE"]
        if any(m not in ("TEXT", "IMAGE") for m in modalities) or "IMAGE" not in modalities:
            return invalid(f"response modalities {modalities} are not supported by {model}; use IMAGE")
        image_cfg = cfg.get("imageConfig") or {}
        sizes = tuple(self.models[model].get("imageSizes") or ("1K",))
        bad = _first_problem(check(image_cfg, {"aspectRatio": enum(*IMAGE_ASPECTS),
                                               "imageSize": enum(*sizes)}, ["generationConfig", "imageConfig"]),
                             "generation_config.image_config")
        if bad:
            self.refused.append({"model": model, "body": body, "error": bad.body})
            return bad
        if "[[blocked]]" in text:
            return Reply(200, {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "modelVersion": model})
        if "[[imagesafety]]" in text:
            return Reply(200, {"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}], "modelVersion": model})
        part = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(self.png).decode()}}
        return Reply(200, {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP",
                                           "index": 0}], "modelVersion": model})
