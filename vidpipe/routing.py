"""Which model a request runs on, and why (design.md §2 "Routing").

Precedence: an explicit model wins; then the profile (talking-avatar default/alternate for the
user's own talking shots); then learned routing from QC history may replace the table's choice;
the intent table decides otherwise. A model in the profile's `avoid` list is never chosen: the
next capable candidate is taken and the reason says so. Every decision is one readable sentence
plus the evidence behind it, so `--explain` can show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vidpipe.learning.feedback import learned_route
from vidpipe.models import CAPS, unsupported_reasons
from vidpipe.schema import MODELS, Profile

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
    overridden_by: str | None = None  # "explicit" | "profile" | "learned" | None (the table decided)


def _count(request: dict[str, Any], key: str) -> int:
    value = request.get(key)
    return len(value) if isinstance(value, list) else 0


def _has(request: dict[str, Any], key: str) -> bool:
    value = request.get(key)
    return isinstance(value, str) and bool(value.strip())


def table_route(request: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The intent table alone: (model, reason, evidence). Tolerates wrongly typed fields."""
    n_img, n_vid, n_aud = (_count(request, k) for k in ("reference_images", "reference_videos", "reference_audios"))
    evidence: dict[str, Any] = {"reference_images": n_img, "reference_videos": n_vid, "reference_audios": n_aud,
                                "image": _has(request, "image")}
    if n_aud:
        return DEFAULT_MODEL, f"reference_audios set ({n_aud}): lip-sync inside a generated scene needs {DEFAULT_MODEL}", evidence
    if n_vid:
        return DEFAULT_MODEL, f"reference_videos set ({n_vid}): motion transfer needs {DEFAULT_MODEL}'s video references", evidence
    if n_img >= 2:
        return DEFAULT_MODEL, f"{n_img} reference_images: character consistency across references needs {DEFAULT_MODEL}", evidence
    if _has(request, "image") and not n_img:
        return I2V_MODEL, f"a single first-frame image and no references: image-to-video goes to {I2V_MODEL}", evidence
    return DEFAULT_MODEL, f"text-led request (native audio, at most one reference): the generalist {DEFAULT_MODEL}", evidence


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
        alt = _first_allowed(_candidates(DEFAULT_MODEL, request), request, avoid) or DEFAULT_MODEL
        return Route(alt, f"{model} was asked for but the profile says to avoid it; {alt} is the next model "
                          "that can take this request", {"requested": model, "avoid": sorted(avoid)}, "profile")

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
        learned = learned_route(category, mode, table_model, store)
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


def fallback_model(request: dict[str, Any]) -> tuple[str | None, str]:
    """Where a moderation-refused job can go (kling-3.0-omni), or None and why it cannot."""
    problems = unsupported_reasons(FALLBACK_MODEL, request)
    if problems:
        return None, "no moderation fallback: " + "; ".join(problems)
    return FALLBACK_MODEL, f"{FALLBACK_MODEL} sits behind a different moderation gateway and can take this request"
