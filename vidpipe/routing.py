"""Which model a request runs on, and why (design.md §2 "Routing").

Precedence: an explicit model wins; then the profile (talking-avatar default/alternate for the
user's own talking shots); then learned routing from QC history may replace the table's choice;
the intent table decides otherwise. A model in the profile's `avoid` list is never chosen by
auto, learned or fallback routing: the next capable candidate is taken and the reason says so.
An explicit model in `avoid` is kept but flagged: an error for a `me` job, a warning otherwise.

`route_job` is the one entry point: `vidpipe route`, `vidpipe validate`, `generate` and `render`
all call it with the same inputs (the QC store, the project's profile, an explicit model), so
they always agree. Every decision is one sentence plus its evidence (the table row, or the
learned comparison with n and means), which `--explain` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.learning.feedback import learned_route
from vidpipe.model_caps import CAPS, unsupported_reasons
from vidpipe.paths import Paths
from vidpipe.profile import load_profile
from vidpipe.schema import MODELS, Finding, Job, Profile
from vidpipe.store import Store

DEFAULT_MODEL = "seedance-2.0"
I2V_MODEL = "wan-2.7-i2v"
FALLBACK_MODEL = "kling-3.0-omni"
TALKING_MODES = frozenset({"talking-avatar"})


@dataclass(frozen=True)
class Route:
    """A routing decision: the model, one sentence why, the evidence, and what overrode the table."""

    model: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    overridden_by: str | None = None  # "explicit" | "profile" | "learned" | "fallback" | None (the table decided)
    findings: tuple[Finding, ...] = ()  # e.g. `model_avoided` (explicit model in the profile's avoid list)

    def explain(self) -> str:
        """What decided, in one line: the learned comparison (n, means) or the table row."""
        ev = self.evidence
        if "learned" in ev:
            lv = ev["learned"]
            return (f"learned from QC history: {lv['model']} mean {lv['mean']:.2f} (n={lv['n']}) vs "
                    f"{lv['default']} mean {lv['default_mean']:.2f} (n={lv['default_n']}) for {lv['category']}")
        parts = []
        if "table_row" in ev:
            parts.append(f"table row: {ev['table_row']}")
        for key in ("requested", "profile_preference", "avoided", "learned_rejected", "fallback_for"):
            if key in ev:
                parts.append(f"{key.replace('_', ' ')}: {ev[key]}")
        if ev.get("avoid"):
            parts.append(f"profile avoid: {', '.join(ev['avoid'])}")
        return "; ".join(parts) or "explicit choice"


def _count(request: dict[str, Any], key: str) -> int:
    value = request.get(key)
    return len(value) if isinstance(value, list) else 0


def _has(request: dict[str, Any], key: str) -> bool:
    value = request.get(key)
    return isinstance(value, str) and bool(value.strip())


TABLE_ROWS = (  # design.md §2, in order; the first row that matches decides
    ("reference_audios", f"reference_audios → {DEFAULT_MODEL}"),
    ("reference_videos", f"reference_videos → {DEFAULT_MODEL}"),
    ("two_images", f"≥2 reference_images → {DEFAULT_MODEL}"),
    ("i2v", f"image without reference_images → {I2V_MODEL}"),
    ("default", f"everything else → {DEFAULT_MODEL}"),
)
_ROW = dict(TABLE_ROWS)


def table_route(request: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The intent table alone: (model, reason, evidence). Tolerates wrongly typed fields."""
    n_img, n_vid, n_aud = (_count(request, k) for k in ("reference_images", "reference_videos", "reference_audios"))
    evidence: dict[str, Any] = {"reference_images": n_img, "reference_videos": n_vid, "reference_audios": n_aud,
                                "image": _has(request, "image")}

    def row(key: str, model: str, why: str) -> tuple[str, str, dict[str, Any]]:
        return model, why, {**evidence, "table_row": _ROW[key]}

    if n_aud:
        return row("reference_audios", DEFAULT_MODEL,
                   f"reference_audios set ({n_aud}): lip-sync inside a generated scene needs {DEFAULT_MODEL}")
    if n_vid:
        return row("reference_videos", DEFAULT_MODEL,
                   f"reference_videos set ({n_vid}): motion transfer needs {DEFAULT_MODEL}'s video references")
    if n_img >= 2:
        return row("two_images", DEFAULT_MODEL,
                   f"{n_img} reference_images: character consistency across references needs {DEFAULT_MODEL}")
    if _has(request, "image") and not n_img:
        return row("i2v", I2V_MODEL, f"a single first-frame image and no references: image-to-video goes to {I2V_MODEL}")
    return row("default", DEFAULT_MODEL,
               f"text-led request (native audio, at most one reference): the generalist {DEFAULT_MODEL}")


def _capable(model: str, request: dict[str, Any]) -> bool:
    return not unsupported_reasons(model, request)


def _candidates(first: str, request: dict[str, Any], extra: tuple[str, ...] = ()) -> list[str]:
    """`first`, then sensible alternatives for this request, most suitable first, no repeats."""
    order = [first, *extra, DEFAULT_MODEL]
    if _has(request, "image") or _count(request, "reference_images") == 1:
        order += [I2V_MODEL, FALLBACK_MODEL, "omnihuman-1.5"]
    order += [m for m in MODELS if m not in order]
    seen: list[str] = []
    for m in order:
        if m not in seen:
            seen.append(m)
    return seen


def _avoid(profile: Profile | None) -> set[str]:
    return set(profile.model_preferences.avoid) if profile is not None else set()


def _first_allowed(cands: list[str], request: dict[str, Any], avoid: set[str]) -> str | None:
    for m in cands:
        if m not in avoid and _capable(m, request):
            return m
    for m in cands:  # nothing capable: keep the order but still never pick an avoided model
        if m not in avoid:
            return m
    return None


def route(request: dict[str, Any], *, model: str | None = "auto", profile: Profile | None = None, me: bool = False,
          category: str | None = None, mode: str | None = None, store: Any = None) -> Route:
    """Choose the model for `request` and explain it.

    Args:
        request: the canonical request body (raw dict; wrong types are tolerated).
        model: "auto" routes; any other name is an explicit choice and wins (except a profile `avoid`).
        profile: the user's profile: talking-avatar preferences and the `avoid` list.
        me: the request shows the user (their avatar) — profile preferences apply.
        category / mode: the shot's category and production mode (learned routing keys on them).
        store: the QC store; only with a store may learned routing replace the table's choice.
    Returns:
        A Route (model, reason sentence, evidence, overridden_by).
    """
    avoid = _avoid(profile)
    if model and model != "auto":
        if model not in avoid:
            return Route(model, f"{model} was chosen explicitly, so the routing table was not consulted",
                         {"requested": model}, "explicit")
        severity = "error" if me else "warning"
        tail = ("a video of you never runs on an avoided model; choose another model or auto" if me
                else "it runs because it was asked for explicitly")
        finding = Finding(code="model_avoided", severity=severity,  # type: ignore[arg-type]
                          message=f"{model} is in the profile's avoid list; {tail}")
        return Route(model, f"{model} was chosen explicitly although the profile says to avoid it",
                     {"requested": model, "avoid": sorted(avoid)}, "explicit", (finding,))

    table_model, table_reason, evidence = table_route(request)
    chosen, reason, by = table_model, table_reason, None
    talking = mode in TALKING_MODES or (mode is None and _count(request, "reference_audios") > 0)
    if me and profile is not None and talking:  # a scene with the user speaking (lip-sync mode) keeps the table
        prefs = profile.model_preferences
        for pick, role in ((prefs.talking_avatar_default, "default"), (prefs.talking_avatar_alternate, "alternate")):
            if pick in avoid or pick not in CAPS or not _capable(pick, request):
                continue
            chosen, by = pick, "profile"
            reason = (f"the user's own talking shot uses the profile's talking-avatar {role}, {pick}"
                      + ("" if role == "default" else f" ({prefs.talking_avatar_default} cannot take this request)"))
            evidence = {**evidence, "profile_preference": role}
            break
    if by is None and store is not None:
        learned = _learned(category, mode, table_model, store)
        if learned is not None and learned.model != table_model and learned.model not in avoid:
            if _capable(learned.model, request):
                chosen, reason, by = learned.model, learned.reason, "learned"
                evidence = {**evidence, "learned": learned.evidence}
            else:
                evidence = {**evidence, "learned_rejected": learned.model}
    if chosen in avoid:
        alt = _first_allowed(_candidates(chosen, request), request, avoid) or DEFAULT_MODEL
        reason = f"{reason}; but the profile says to avoid {chosen}, so {alt}, the next model that can take it"
        evidence = {**evidence, "avoided": chosen}
        chosen, by = alt, "profile"
    return Route(chosen, _one_sentence(reason), evidence, by)


def _one_sentence(text: str) -> str:
    """Capitalise prose (not a leading field name like reference_audios) and end with one stop."""
    text = text.strip()
    if "_" not in text.split(" ", 1)[0]:
        text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def fallback_model(request: dict[str, Any], profile: Profile | None = None) -> tuple[str | None, str]:
    """Where a moderation-refused job can go (kling-3.0-omni), or None and why it cannot."""
    if FALLBACK_MODEL in _avoid(profile):
        return None, f"no moderation fallback: the profile says to avoid {FALLBACK_MODEL}"
    problems = unsupported_reasons(FALLBACK_MODEL, request)
    if problems:
        return None, "no moderation fallback: " + "; ".join(problems)
    return FALLBACK_MODEL, f"{FALLBACK_MODEL} sits behind a different moderation gateway and can take this request"


# -- the one entry point ----------------------------------------------------------------------------
PROJECT_PROFILE: Any = object()  # sentinel: "the project's profile, if one is set up"


def _stat(p: Path) -> tuple[int, int] | None:
    try:
        st = p.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


_PROFILES: dict[tuple[str, Any], Profile | None] = {}
_LEARNED: dict[tuple[Any, ...], Any] = {}


def project_profile(paths: Paths | None = None) -> Profile | None:
    """The project's profile (`profile/profile.json`) or None when there is none; re-read when it changes."""
    path = (paths or Paths.from_env()).profile
    key = (str(path), _stat(path))
    if key not in _PROFILES:
        _PROFILES.clear()
        _PROFILES[key] = load_profile(path) if key[1] is not None else None
    return _PROFILES[key]


def _learned(category: str | None, mode: str | None, table_model: str, store: Any) -> Any:
    """learned_route, cached while the store's files are unchanged (10,000 jobs must not mean 10,000 queries)."""
    if not category:
        return None
    db = getattr(store, "path", None)
    if not isinstance(db, Path):
        return learned_route(category, mode, table_model, store)
    key = (str(db), _stat(db), _stat(db.with_name(db.name + ".wal")), category, mode, table_model)
    if key not in _LEARNED:
        if len(_LEARNED) > 1024:
            _LEARNED.clear()
        _LEARNED[key] = learned_route(category, mode, table_model, store)
    return _LEARNED[key]


def route_job(job: Job, *, model: str | None = None, store: Any = None, profile: Any = PROJECT_PROFILE,
              fallback: bool = False) -> Route:
    """The route of one job — the single function behind `route`, `validate`, `generate` and `render`.

    Args:
        job: the job (its model, `me`, category and mode are inputs).
        model: an explicit override for the job's own model (`generate --model`), None to keep it.
        store: the QC history (learned routing); None means no history.
        profile: the user's profile; by default the project's (`avoid` applies to every job, the
            talking-avatar preferences to `me` jobs).
        fallback: route the moderation fallback instead (kling-3.0-omni unless the profile avoids it).
    """
    prof = project_profile() if profile is PROJECT_PROFILE else profile
    if fallback:
        target, why = fallback_model(job.input, prof)
        if target is None:
            err = Finding(code="unsupported_on_model", message=why)
            return Route(FALLBACK_MODEL, _one_sentence(why), {"fallback_for": job.model}, "fallback", (err,))
        return Route(target, _one_sentence(why), {"fallback_for": job.model}, "fallback")
    chosen = model or job.model or "auto"
    return route(job.input, model=chosen, profile=prof, me=job.me, category=job.category, mode=job.mode, store=store)


def history_store(paths: Paths | None = None) -> Any:
    """The project's QC store when it exists (reading must not create a database), else None."""
    db = (paths or Paths.from_env()).db
    if not db.exists():
        return None

    return Store(db)


__all__ = ["Route", "route", "route_job", "table_route", "fallback_model", "project_profile", "history_store",
           "TABLE_ROWS"]
