"""Preflight: before the first paid call of a run, ask the providers whether the contract still holds.

fal: every endpoint the run will call is listed and active (`GET {api}/models?endpoint_id=…&expand=
openapi-3.0`), every field vidpipe will send is in its live input schema with an allowed enum value,
no newly required field is missing, and the live unit price (`GET {api}/models/pricing`) is compared
with the dated snapshot (contracts/fal_prices.json): the ratio scales the run's estimates, so the
budget is held against today's price. Gemini: every model id is in `models.list`. ElevenLabs: the
voice exists (`voices.get`). A drift is one line before any spend, naming provider, model and field; a
dropped hint (`seed`) is not sent, anything else refuses the jobs that need it.

Answers are cached in the data root for a day (`preflight.json`); `vidpipe doctor --online` forces a
fresh read. The platform host is `VIDPIPE_FAL_API_URL` (default https://api.fal.ai/v1, or the queue
override's /v1), like the queue's override. `VIDPIPE_PREFLIGHT=off` skips it (a proxy without the platform API); offline runs
and the preview backend never reach it. If the platform API cannot be reached, the run says so in one
line and is checked against the snapshot instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from google.genai import errors as gerr
from pydantic import BaseModel, Field

from vidpipe.errors import ProviderNotConfigured, ProviderRejected, VidpipeError
from vidpipe.paths import Paths
from vidpipe.providers import contracts
from vidpipe.providers.base import HTTP_ERRORS
from vidpipe.providers.elevenlabs import ElevenLabsTTS, map_elevenlabs_errors
from vidpipe.providers.fal_history import api_url
from vidpipe.providers.fal_models import HINTS
from vidpipe.providers.gemini import GeminiBackend
from vidpipe.providers.keys import require_key

CACHE_FILE = "preflight.json"
TTL_S = 24 * 3600.0
BATCH = 50  # endpoint ids per platform call (the API's limit)
PAID = frozenset({"fal", "gemini"})


class LiveEndpoint(BaseModel):
    """What fal's platform API said about one endpoint (only what the checks need)."""

    listed: bool
    status: str = "active"
    fields: dict[str, list[Any] | None] = Field(default_factory=dict)  # name → enum (None: free)
    required: list[str] = Field(default_factory=list)
    unit_price: float | None = None
    unit: str | None = None
    checked_at: float = 0.0


class Cache(BaseModel):
    fal: dict[str, LiveEndpoint] = Field(default_factory=dict)
    gemini: dict[str, float] = Field(default_factory=dict)  # model id → when models.list listed it


@dataclass
class Verdict:
    """What the preflight decided: lines to show, jobs to refuse, fields to stop sending, price factors."""

    lines: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)       # endpoint/model → the one line
    drop: dict[str, set[str]] = field(default_factory=dict)    # endpoint → hint fields to stop sending
    factor: dict[str, float] = field(default_factory=dict)     # endpoint → live price / snapshot price

    def say(self, line: str) -> None:
        if line not in self.lines:
            self.lines.append(line)


FAL_READ_ERRORS: tuple[type[BaseException], ...] = (*HTTP_ERRORS, ValueError, KeyError)
GEMINI_READ_ERRORS: tuple[type[BaseException], ...] = (*HTTP_ERRORS, gerr.APIError, ValueError)

def _today() -> str:
    return dt.date.today().isoformat()


# -- fal ------------------------------------------------------------------------------------------------
def input_schema(doc: dict[str, Any]) -> tuple[dict[str, list[Any] | None], list[str]]:
    """(field → enum or None, required) from an endpoint's OpenAPI: the POST request body's schema."""
    schemas = (doc.get("components") or {}).get("schemas") or {}

    def deref(node: Any) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            node = schemas.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        return node if isinstance(node, dict) else {}

    body: dict[str, Any] = {}
    for ops in (doc.get("paths") or {}).values():
        post = (ops or {}).get("post") or {}
        content = ((post.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
        if content:
            body = deref(content.get("schema"))
            break
    fields: dict[str, list[Any] | None] = {}
    for name, prop in (body.get("properties") or {}).items():
        prop = deref(prop)
        values = list(prop.get("enum") or [])
        for branch in prop.get("anyOf") or prop.get("oneOf") or []:
            branch = deref(branch)
            if "enum" in branch:
                values += branch["enum"]
            elif branch.get("type") not in (None, "null"):
                values = []  # a free branch (e.g. {width, height}): no enum to hold values to
                break
        fields[name] = values or None
    return fields, list(body.get("required") or [])


def fetch_fal(endpoints: list[str], *, client: httpx.Client | None = None) -> dict[str, LiveEndpoint]:
    """One read of fal's platform API for these endpoints (schemas and prices). Raises httpx errors."""
    headers = {"Authorization": f"Key {require_key('fal')}"}
    http = client or httpx.Client(timeout=30)
    out: dict[str, LiveEndpoint] = {}
    now = time.time()
    try:
        for i in range(0, len(endpoints), BATCH):
            ids = endpoints[i:i + BATCH]
            params: list[tuple[str, str | int | float | bool | None]] = [("endpoint_id", e) for e in ids]
            r = http.get(f"{api_url()}/models", params=[*params, ("expand", "openapi-3.0")], headers=headers)
            r.raise_for_status()
            for e in ids:
                out[e] = LiveEndpoint(listed=False, checked_at=now)
            for m in r.json().get("models") or []:
                e = m.get("endpoint_id")
                if e in out:
                    fields, required = input_schema(m.get("openapi") or {})
                    out[e] = LiveEndpoint(listed=True, status=str((m.get("metadata") or {}).get("status") or "active"),
                                          fields=fields, required=required, checked_at=now)
            r = http.get(f"{api_url()}/models/pricing", params=params, headers=headers)
            r.raise_for_status()
            for p in r.json().get("prices") or []:
                e = p.get("endpoint_id")
                if e in out and out[e].listed:
                    out[e].unit_price, out[e].unit = float(p["unit_price"]), str(p.get("unit") or "")
    finally:
        if client is None:
            http.close()
    return out


def snapshot_view(endpoint: str) -> LiveEndpoint:
    """The snapshot as if it were the live answer (used when the platform API cannot be reached)."""
    spec = contracts.fal_schemas().endpoints.get(endpoint)
    price = contracts.fal_prices().by_endpoint().get(endpoint)
    if spec is None:
        return LiveEndpoint(listed=False)
    return LiveEndpoint(listed=True, status=spec.status, fields={n: f.enum for n, f in spec.fields.items()},
                        required=[n for n, f in spec.fields.items() if f.required],
                        unit_price=price.unit_price if price else None, unit=price.unit if price else None)


def judge_fal(endpoint: str, bodies: Iterable[dict[str, Any]], live: LiveEndpoint, v: Verdict, *, read: str) -> None:
    """Compare what vidpipe will send to `endpoint` with its live contract; record lines, refusals, drops."""
    snap = contracts.fal_schemas()
    known = snap.endpoints.get(endpoint)
    if not live.listed:
        v.refuse[endpoint] = (f"fal no longer lists {endpoint} (platform API, {read}); vidpipe will not submit to "
                              "it — choose another model for these jobs (--model) or update vidpipe")
        v.say(v.refuse[endpoint])
        return
    if live.status != "active":
        v.say(f"fal marks {endpoint} as {live.status} ({read}); it still runs today — plan to move off it")
    for body in bodies:
        for name, value in body.items():
            if name not in live.fields:
                if name in HINTS:
                    v.drop.setdefault(endpoint, set()).add(name)
                    v.say(f"fal removed `{name}` from {endpoint} (live schema, {read}); vidpipe will not send it")
                    continue
                new = sorted(set(live.fields) - set(known.fields if known else ()))
                hint = f" (new field{'s' if len(new) > 1 else ''}: {', '.join(new)} — renamed?)" if new else ""
                v.refuse.setdefault(endpoint, f"fal removed `{name}` from {endpoint} (live schema, {read}){hint}; "
                                              "vidpipe will not submit these jobs — update vidpipe")
            elif live.fields[name] is not None and value not in live.fields[name]:  # type: ignore[operator]
                allowed = ", ".join(repr(x) for x in live.fields[name] or [])
                v.refuse.setdefault(endpoint, f"fal no longer accepts {name}={value!r} on {endpoint} (live schema, "
                                              f"{read}; allowed: {allowed}); change the job or update vidpipe")
        for name in live.required:
            if name not in body:
                v.refuse.setdefault(endpoint, f"fal now requires `{name}` on {endpoint} (live schema, {read}); "
                                              "vidpipe does not send it — update vidpipe")
    if endpoint in v.refuse:
        v.say(v.refuse[endpoint])
    judge_price(endpoint, live, v, read=read)


def judge_price(endpoint: str, live: LiveEndpoint, v: Verdict, *, read: str) -> None:
    snap = contracts.fal_prices()
    p0 = snap.by_endpoint().get(endpoint)
    if p0 is None or live.unit_price is None:
        return
    if live.unit and live.unit != p0.unit:
        v.refuse.setdefault(endpoint, f"fal now bills {endpoint} per {live.unit} (was per {p0.unit}, {snap.read_on}); "
                                      "vidpipe cannot estimate it — update vidpipe before spending")
        v.say(v.refuse[endpoint])
        return
    if abs(live.unit_price - p0.unit_price) > 1e-9 and p0.unit_price > 0:
        v.factor[endpoint] = live.unit_price / p0.unit_price
        v.say(f"fal's price for {endpoint} changed: ${p0.unit_price:g}/{p0.unit} ({snap.read_on}) → "
              f"${live.unit_price:g}/{p0.unit} ({read}); estimates and the budget use the live price")


def drift_from_snapshot(endpoint: str, live: LiveEndpoint, *, read: str) -> list[str]:
    """Every difference between the live schema and the dated snapshot (what `doctor --online` lists)."""
    snap = contracts.fal_schemas()
    known = snap.endpoints.get(endpoint)
    if known is None or not live.listed:
        return []
    out = [f"fal removed `{n}` from {endpoint} (live {read}; snapshot {snap.read_on})"
           for n in sorted(set(known.fields) - set(live.fields))]
    out += [f"fal added `{n}` to {endpoint} (live {read})" for n in sorted(set(live.fields) - set(known.fields))]
    for n in sorted(set(known.fields) & set(live.fields)):
        was, now = known.fields[n].enum, live.fields[n]
        if was and now is not None and set(map(str, was)) != set(map(str, now)):
            out.append(f"fal changed `{n}` on {endpoint}: {sorted(map(str, was))} → {sorted(map(str, now))} "
                       f"(live {read})")
    return out


# -- Gemini and ElevenLabs ------------------------------------------------------------------------------
def gemini_listed(client: Any = None) -> set[str]:
    """Model ids in `models.list` (google-genai pages through them)."""
    c = client or GeminiBackend().client
    return {str(m.name).removeprefix("models/") for m in c.models.list(config={"page_size": 100})}


def judge_gemini(model: str, listed: set[str], v: Verdict) -> None:
    if model in listed:
        return
    gone = contracts.gemini_models().retired_by_id().get(model)
    why = (f"Google shut it down on {gone.shutdown}; replacement {gone.replacement}" if gone
           else "not in models.list for this key")
    env = "VIDPIPE_GEMINI_VEO_MODEL" if model.startswith("veo") else "VIDPIPE_GEMINI_IMAGE_MODEL"
    v.refuse[model] = f"gemini model {model} is not available ({why}); set {env} or use --backend fal"
    v.say(v.refuse[model])


def voice_exists(voice_id: str, client: Any = None) -> bool:
    """True when ElevenLabs answers for the voice (`GET /v1/voices/{id}`); False on its 404."""
    from elevenlabs.core.api_error import ApiError

    c = ElevenLabsTTS(client).client
    try:
        c.voices.get(voice_id)
    except ApiError as exc:
        if exc.status_code == 404:
            return False
        with map_elevenlabs_errors():
            raise
    return True


# -- the run's hook -------------------------------------------------------------------------------------
def _load(root: Path | None) -> Cache:
    if root is None or not (root / CACHE_FILE).is_file():
        return Cache()
    try:
        return Cache.model_validate_json((root / CACHE_FILE).read_text(encoding="utf-8"))
    except ValueError:
        return Cache()  # a damaged cache is only a cache: read the providers again


def _save(root: Path | None, cache: Cache) -> None:
    if root is None:
        return
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{CACHE_FILE}.{os.getpid()}"
    tmp.write_text(cache.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(root / CACHE_FILE)


def check(uses: dict[str, list[dict[str, Any]]], gemini_models: set[str], *, root: Path | None,
          force: bool = False) -> Verdict:
    """The preflight for fal endpoints (→ the bodies vidpipe will send) and Gemini model ids."""
    v, cache, now = Verdict(), _load(root), time.time()
    stale = [e for e in sorted(uses) if force or e not in cache.fal or now - cache.fal[e].checked_at > TTL_S]
    read = _today()
    if stale:
        try:
            cache.fal.update(fetch_fal(stale))
        except ProviderNotConfigured:
            return v  # no key: the run names the missing FAL_KEY for each job, nothing is sent
        except FAL_READ_ERRORS as exc:
            v.say(f"preflight: cannot read fal's platform API at {api_url()} ({type(exc).__name__}: "
                  f"{str(exc)[:120]}); checking against the snapshot of {contracts.fal_schemas().read_on} instead")
            for e in stale:
                cache.fal[e] = snapshot_view(e)
            read = f"snapshot {contracts.fal_schemas().read_on}"
            stale = []  # do not keep the snapshot as if fal had said it
    for e in sorted(uses):
        when = read if e in stale or not cache.fal[e].checked_at else \
            dt.date.fromtimestamp(cache.fal[e].checked_at).isoformat()
        judge_fal(e, uses[e], cache.fal[e], v, read=when)
    models = sorted(gemini_models)
    if models:
        unknown = [m for m in models if force or now - cache.gemini.get(m, 0.0) > TTL_S]
        if unknown:
            try:
                listed = gemini_listed()
            except ProviderNotConfigured:
                return v
            except GEMINI_READ_ERRORS as exc:
                v.say(f"preflight: cannot read Gemini's models.list ({type(exc).__name__}: {str(exc)[:120]}); "
                      "model ids not checked")
                return v
            for m in models:
                if m in listed:
                    cache.gemini[m] = now
        for m in models:
            judge_gemini(m, {x for x, t in cache.gemini.items() if now - t <= TTL_S}, v)
    if stale or models:
        _save(root, Cache(fal={e: x for e, x in cache.fal.items() if x.checked_at}, gemini=cache.gemini))
    return v


SAID: set[str] = set()  # drift lines already shown by check_call in this process


def off() -> bool:
    return os.environ.get("VIDPIPE_PREFLIGHT", "").strip().lower() in ("off", "0", "no")


def default_root() -> Path:
    """Where the cache lives for calls made without a store (stills): the data root's folder."""
    return Paths.from_env().db.parent


def check_call(backend: str, endpoint: str, body: dict[str, Any], *, root: Path | None = None) -> dict[str, Any]:
    """The preflight for one paid call made outside the runner (a still): the body to send (a dropped hint
    removed), or ProviderRejected(code=contract_drift) naming the drift, before anything is sent."""
    if off() or backend not in PAID:
        return body
    root = root or default_root()
    v = check({endpoint: [body]}, set(), root=root) if backend == "fal" else check({}, {endpoint}, root=root)
    for line in v.lines:
        if line not in SAID:  # a run of many stills says each drift once
            SAID.add(line)
            _stderr(line)
    if endpoint in v.refuse:
        raise ProviderRejected(v.refuse[endpoint], provider=backend, model=endpoint, code="contract_drift")
    return {k: x for k, x in body.items() if k not in v.drop.get(endpoint, set())}


def check_plans(plans: list[Any], *, root: Path | None, rekey: Callable[[str, str, dict[str, Any]], str],
                would_submit: Callable[[Any], bool] = lambda p: True,
                echo: Callable[[str], None] | None = None) -> Verdict:
    """The run's hook (generate_jobs, before any submit): check the contracts the planned jobs rely on.

    Only plans that would submit are checked (`would_submit`): a job whose request exists is resumed
    whatever fal says now; one whose claim cannot be read is left to the runner, which refuses it.

    Refused jobs get a `contract_drift` error (never submitted); a dropped hint leaves their body (and
    cache key, via `rekey(model, endpoint, body)`); a price change scales their estimate. Each drift
    line is shown once through `echo` (stderr by default).
    """
    if off():
        return Verdict()
    live = [p for p in plans if not p.errors and p.backend in PAID and p.endpoint and _submits(p, would_submit)]
    if not live:
        return Verdict()
    uses: dict[str, list[dict[str, Any]]] = {}
    for p in live:
        if p.backend == "fal":
            uses.setdefault(p.endpoint, []).append(p.body)
    gem = {p.endpoint for p in live if p.backend == "gemini"}
    v = check(uses, gem, root=root)
    for p in live:
        if p.endpoint in v.refuse:
            p.errors.append(("contract_drift", v.refuse[p.endpoint]))
            continue
        dropped = v.drop.get(p.endpoint, set()) & set(p.body)
        if dropped:
            p.body = {k: x for k, x in p.body.items() if k not in dropped}
            p.cache_key = rekey(p.model, p.endpoint, p.body)
        if p.endpoint in v.factor:
            p.est_cost_usd = round(p.est_cost_usd * v.factor[p.endpoint], 4)
    for line in v.lines:
        (echo or _stderr)(line)
    return v


def _submits(plan: Any, would_submit: Callable[[Any], bool]) -> bool:
    try:
        return would_submit(plan)
    except VidpipeError:
        return False  # e.g. an unreadable claim: the runner refuses that job itself, in its own words


def cached_factors(root: Path | None) -> dict[str, float]:
    """Price factors from a fresh cache (no network): what `vidpipe estimate` applies offline."""
    cache, now, v = _load(root), time.time(), Verdict()
    for e, live in cache.fal.items():
        if now - live.checked_at <= TTL_S:
            judge_price(e, live, v, read=dt.date.fromtimestamp(live.checked_at).isoformat())
    return v.factor


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def dump(v: Verdict) -> str:
    return json.dumps({"lines": v.lines, "refuse": v.refuse, "drop": {k: sorted(s) for k, s in v.drop.items()},
                       "factor": v.factor}, indent=2)
