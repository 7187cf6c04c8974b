"""fal's platform API request history, as the fake fal serves it (fal docs "List requests by
endpoint(s)", platform OpenAPI v1: `GET /v1/models/requests/by-endpoint`).

Query: `endpoint_id` (repeated or comma-separated, 1–50, required), `start` (default 24 h ago; 90 days
with `request_id`), `end` (exclusive, default now), `status` (success | error | user_error),
`request_id`, `limit` (1–100, default 50), `cursor` (base64 of the page number), `expand=payloads`
(adds `json_input` / `json_output`). Answer: `{items, next_cursor, has_more}`, newest end first; each
item `request_id, endpoint_id, sent_at, started_at, ended_at, status_code, duration`. A request is
listed only `delay_s` after it was sent (fal's listing lag). Auth is checked by the caller.
"""

from __future__ import annotations

import base64
import binascii
import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.fakes.contract import err
from tests.fakes.server import Reply


def history_page(requests: list[tuple[str, dict[str, Any]]], query: dict[str, list[str]], *, latency_s: float,
                 delay_s: float) -> Reply:
    """One page of `requests` (request id, {endpoint, body, sent_at}) for `query`."""
    ids = [e for v in query.get("endpoint_id", []) for e in v.split(",") if e]
    if not ids or len(ids) > 50:
        return Reply(422, {"detail": [err(["query", "endpoint_id"], "1 to 50 endpoint ids required", "missing")]})
    try:
        limit = int(query.get("limit", ["50"])[0])
        page = int(base64.b64decode(query["cursor"][0], validate=True).decode()) if "cursor" in query else 1
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return Reply(422, {"detail": [err(["query", "cursor"], "Invalid limit or cursor", "value_error")]})
    if not 1 <= limit <= 100 or page < 1:
        return Reply(422, {"detail": [err(["query", "limit"], "Input should be between 1 and 100",
                                          "less_than_equal", limit)]})
    rid_filter = query.get("request_id", [None])[0]
    now = datetime.now(timezone.utc)
    try:
        start = _when(query["start"][0]) if "start" in query else \
            now - (timedelta(days=90) if rid_filter else timedelta(hours=24))
        end = _when(query["end"][0]) if "end" in query else now
    except ValueError:
        return Reply(422, {"detail": [err(["query", "start"], "Invalid ISO8601 date", "datetime_parsing")]})
    status = query.get("status", [None])[0]
    if status not in (None, "success", "error", "user_error"):
        return Reply(422, {"detail": [err(["query", "status"], "Input should be 'success', 'error' or 'user_error'",
                                          "enum", status)]})
    payloads = "payloads" in ",".join(query.get("expand", []))
    items = []
    for rid, req in requests:
        sent = req["sent_at"]
        if req["endpoint"] not in ids or not start <= sent < end or (rid_filter and rid != rid_filter):
            continue
        if (now - sent).total_seconds() < delay_s:
            continue
        prompt = str(req["body"].get("prompt", "")) if isinstance(req["body"], dict) else ""
        code = 422 if "[[moderate]]" in prompt else 500 if "[[fail]]" in prompt else 200
        if status and status != ("success" if code == 200 else "user_error" if code < 500 else "error"):
            continue
        item: dict[str, Any] = {"request_id": rid, "endpoint_id": req["endpoint"], "sent_at": _z(sent),
                                "started_at": _z(sent), "ended_at": _z(sent + timedelta(seconds=latency_s)),
                                "status_code": code, "duration": latency_s}
        if payloads:
            item["json_input"] = copy.deepcopy(req["body"])
            item["json_output"] = None
        items.append(item)
    items.sort(key=lambda it: it["ended_at"], reverse=True)
    more = page * limit < len(items)
    return Reply(200, {"items": items[(page - 1) * limit: page * limit], "has_more": more,
                       "next_cursor": base64.b64encode(str(page + 1).encode()).decode() if more else None})


def _when(text: str) -> datetime:
    """An ISO8601 date or date-time as the platform API reads it (a bare date is midnight UTC)."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _z(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
