"""fal's request history: find the request a lost submit answer belonged to, instead of guessing.

When a submit's answer is lost (a reset, a read timeout) fal may or may not hold the request.
fal's platform API lists an account's requests per endpoint with their input payloads:

    GET {VIDPIPE_FAL_API_URL, default https://api.fal.ai/v1}/models/requests/by-endpoint
        ?endpoint_id=…&expand=payloads&start=…&end=…&limit=100[&cursor=…]
    → {"items": [{"request_id", "endpoint_id", "sent_at", "started_at", "ended_at", "status_code",
                  "duration", "json_input", "json_output"}], "next_cursor": "Mg==", "has_more": true}

(fal docs, "List requests by endpoint(s)", platform OpenAPI v1; `start` defaults to 24 h ago,
`end` is exclusive, limit ≤ 100, `Authorization: Key …`.) A request matches when its endpoint is
ours and its `json_input` equals, field for field, the body we sent (the claim keeps that exact
body), it was sent inside the submit's time window, and no claim of ours already follows it.
fal may list a request only after a delay: "not found" is an answer for now, not for ever.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, UTC
from typing import Any

import httpx

API_URL = "https://api.fal.ai/v1"
PAGE_LIMIT = 100            # the API's maximum page size
MAX_PAGES = 50              # 5,000 requests in one window is far beyond one vidpipe submit's
SKEW = timedelta(minutes=5)  # our clock vs fal's, either side of the window
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def api_url() -> str:
    """fal's platform API (request history, models, prices): `VIDPIPE_FAL_API_URL`; else
    `<VIDPIPE_FAL_QUEUE_URL>/v1` when only the queue is overridden (a proxy or a loopback fake answers both,
    and a test never reaches the real host); else https://api.fal.ai/v1. The one place that decides it."""
    explicit = os.environ.get("VIDPIPE_FAL_API_URL", "").strip()
    queue = os.environ.get("VIDPIPE_FAL_QUEUE_URL", "").strip()
    return (explicit or (queue.rstrip("/") + "/v1" if queue else API_URL)).rstrip("/")


@dataclass(frozen=True)
class Found:
    request_id: str
    sent_at: str | None
    matches: int  # more than one: the same body was sent several times in the window (each is billed)
    others: tuple[str, ...] = ()


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def same_body(item: dict[str, Any], body: Any) -> bool:
    """The exact body, compared as JSON values (what went over the wire, not our Python objects)."""
    return item.get("json_input") == json.loads(json.dumps(body))


def find_request(endpoint: str, body: Any, *, key: str, since: datetime, exclude: set[str],
                 until: datetime | None = None) -> Found | None:
    """The earliest request on `endpoint` with exactly `body`, sent in [since − skew, until + skew).

    Raises httpx errors (the caller maps them): a failed lookup is not a "not found".
    """
    end = (until or datetime.now(UTC)) + SKEW
    params: dict[str, Any] = {"endpoint_id": endpoint, "expand": "payloads", "start": _iso(since - SKEW),
                              "end": _iso(end), "limit": PAGE_LIMIT}
    headers = {"Authorization": f"Key {key}", "Accept": "application/json"}
    hits: list[dict[str, Any]] = []
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        for _ in range(MAX_PAGES):
            resp = client.get(f"{api_url()}/models/requests/by-endpoint", params=params, headers=headers)
            resp.raise_for_status()
            page = resp.json()
            for item in page.get("items") or []:
                rid = item.get("request_id")
                if rid and rid not in exclude and item.get("endpoint_id", endpoint) == endpoint \
                        and same_body(item, body):
                    hits.append(item)
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
            params["cursor"] = cursor
    if not hits:
        return None
    hits.sort(key=lambda it: str(it.get("sent_at") or ""))
    first = hits[0]
    return Found(str(first["request_id"]), first.get("sent_at"), len(hits),
                 tuple(str(h["request_id"]) for h in hits[1:]))
