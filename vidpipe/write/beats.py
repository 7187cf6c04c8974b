"""The offline writer: a logline → a DRAFT episode, by a fixed beat sheet, the same every time.

Not a story generator: it lays the logline onto the beats a short episode needs (establish the
place, meet the lead, a detail, the turn, the peak, the release), in the 5-part order the skill
asks for — one visible verb per action, a named camera move per shot, a cast with 2–3 concrete
traits, constraints that pre-empt what LESSONS.md says goes wrong — so a person edits words
instead of facing an empty file. Everything is chosen from hashes of the logline: the same
logline gives the same draft.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from vidpipe.learning.lessons import Lesson

PLACE_NOUNS = frozenset(("lighthouse", "harbour", "harbor", "bakery", "kitchen", "station", "farm", "shop", "cinema",
                         "forest", "desert", "mountain", "river", "city", "street", "school", "hospital", "library",
                         "workshop", "ship", "train", "theatre", "theater", "garden", "market", "church", "mine",
                         "factory", "castle", "island", "hotel", "bar", "diner", "court", "ring", "gym"))
SAFE_DURATIONS = (5, 6, 8, 10, 12, 15)  # 7, 9, 11, 13, 14 are duration_risky
PALETTES = ("teal and amber palette, soft film grain", "muted greens and warm ochre, 35mm film grain",
            "cool blue night palette with warm practical lights", "desaturated grey-blue with a single red accent",
            "golden-hour warmth, gentle halation, Kodak Portra tones")
PEOPLE = (("a woman in her sixties", ("short grey hair", "round wire-rimmed glasses")),
          ("a man in his fifties", ("a close-cropped dark beard", "a weathered sun-lined face")),
          ("a woman in her thirties", ("long auburn hair tied back", "a silver nose ring")),
          ("a man in his seventies", ("a white walrus moustache", "a flat tweed cap")),
          ("a man in his twenties", ("curly black hair", "a thin gold chain")),
          ("a woman in her forties", ("silver-streaked black hair", "a red knitted hat")))
WARDROBE = ("a rust-red wool coat", "a faded navy work jacket", "a cream cable-knit sweater", "a green waxed raincoat",
            "a charcoal overcoat with brass buttons", "a mustard-yellow scarf")


@dataclass(frozen=True)
class Beat:
    """One beat of the sheet: what the shot is for, and the words that make it visible."""

    name: str
    category: str
    camera: str
    action: str  # {lead} / {place} filled in; one visible verb
    lead_in_frame: bool


BEATS = (
    Beat("Establish", "landscape", "wide establishing shot, 24mm lens, slow push-in", "light shifts slowly across {place}",
         False),
    Beat("Meet {lead_name}", "character", "medium shot, 35mm lens, static tripod shot", "{lead} looks up toward the window",
         True),
    Beat("The detail", "character", "close-up, 85mm lens, slow pan left", "{lead}'s hands turn a small brass key", True),
    Beat("The turn", "action", "medium wide shot, handheld camera, following", "{lead} walks quickly through {place}",
         True),
    Beat("The peak", "character", "medium close-up, slow orbit around the subject", "{lead} stops and closes both eyes",
         True),
    Beat("Release", "landscape", "wide shot, slow pull-out", "{lead} stands still as the light fades over {place}", True),
)
MULTI = ((0, 5, "light shifts across {place}", "wide shot, static tripod shot"),
         (5, 10, "{lead} steps into frame", "medium shot, slow push-in"),
         (10, 15, "{lead} looks toward the horizon", "close-up, static tripod shot"))


def _pick(options: tuple[Any, ...], logline: str, salt: str) -> Any:
    h = int(hashlib.sha256(f"{salt}|{logline}".encode()).hexdigest(), 16)
    return options[h % len(options)]


def _lead_and_place(logline: str) -> tuple[str, str]:
    """('the lighthouse keeper', 'the lighthouse') from "a lighthouse keeper's last night …"; plain fallbacks."""
    text = re.sub(r"\s+", " ", logline.strip().rstrip("."))
    owner = re.match(r"^(?:an?|the)?\s*([\w -]{2,40}?)'s\b", text, re.IGNORECASE)
    words = (owner.group(1) if owner else " ".join(re.findall(r"[A-Za-z-]+", text)[1:3] or ["the", "lead"])).lower()
    lead = f"the {words.removeprefix('the ').strip()}"
    noun = lead.split()[-1]
    place_words = lead.split()[1:-1]
    at = re.search(r"\b(?:in|at|on|inside|across)\s+(?:an?|the)?\s*([\w -]{3,30})", text, re.IGNORECASE)
    if at:
        place = f"the {at.group(1).strip().lower()}"
    elif place_words and place_words[-1] in PLACE_NOUNS:  # "lighthouse keeper" → the lighthouse
        place = f"the {place_words[-1]}"
    else:
        place = "the quiet room" if noun != "room" else "the old house"
    return lead, place


def _constraints(lessons: list[Lesson], *, category: str, aspect: str, has_dialogue: bool) -> list[str]:
    """Base constraints plus one phrase from every lesson's lint rule that applies to this shot."""
    out = ["no text or subtitles", "stable identity and wardrobe"]
    if has_dialogue:
        out.append("no captions")
    for lesson in lessons:
        rule = lesson.lint or {}
        when = rule.get("when") or {}
        if when.get("category") not in (None, category) or when.get("aspect_ratio") not in (None, aspect):
            continue
        phrases = rule.get("require_any") or []
        if phrases and not any(p in " ".join(out) for p in phrases):
            out.append(str(phrases[0]))
    return out


def _durations(n_shots: int, minutes: float | None) -> list[int]:
    if not minutes:
        return [5] * n_shots
    per = minutes * 60 / n_shots
    best = min(SAFE_DURATIONS, key=lambda d: abs(d - per))
    return [best] * n_shots


def draft_episode(logline: str, *, shots: int | None = None, aspect: str = "16:9", minutes: float | None = None,
                  lessons: list[Lesson] | None = None) -> dict[str, Any]:
    """The episode mapping (as episode.yaml holds it) for `logline`. Pure and deterministic."""
    if not logline.strip():
        raise ValueError("the logline is empty")
    n = shots or (max(3, min(12, round(minutes * 60 / 8))) if minutes else 5)
    lead, place = _lead_and_place(logline)
    lead_name = lead.removeprefix("the ").title()
    who, looks = _pick(PEOPLE, logline, "person")
    traits = [who, _pick(WARDROBE, logline, "coat"), _pick(looks, logline, "look")]
    style = _pick(PALETTES, logline, "palette")
    durations = _durations(n, minutes)
    out_shots: list[dict[str, Any]] = []
    for i in range(n):
        beat = BEATS[0] if i == 0 else BEATS[-1] if i == n - 1 and n > 2 else BEATS[1 + (i - 1) % (len(BEATS) - 2)]
        fill = {"lead": lead, "place": place, "lead_name": lead_name}
        shot: dict[str, Any] = {
            "id": f"s{i + 1:03d}", "title": beat.name.format(**fill), "mode": "text-to-video",
            "category": beat.category, "cast": ["lead", "place"] if beat.lead_in_frame else ["place"],
            "subject": lead if beat.lead_in_frame else place,  # the composer adds each cast member's traits
            "action": beat.action.format(**fill), "camera": beat.camera, "style": style,
            "audio": "room tone and soft wind, distant footsteps", "duration": durations[i],
        }
        if durations[i] >= 15 and beat.lead_in_frame:  # a 15 s clip is usually 3 shots
            shot["blocks"] = [{"start": a, "end": b, "action": act.format(**fill), "camera": cam}
                              for a, b, act, cam in MULTI]
        if i == 0:
            shot["narration"] = logline.strip().rstrip(".")[:1].upper() + logline.strip().rstrip(".")[1:] + "."
        elif i == n - 1:
            shot["narration"] = "And when the light was gone, what mattered was still there."
        if beat.name.startswith("Meet"):
            shot["dialogue"] = [{"speaker": lead, "line": "Tonight is the last time I do this."}]
            shot["generate_audio"] = True
        if i and shot["category"] == "character" and i % 2 == 0:
            shot["transition"], shot["transition_dur"] = "crossfade", 0.5
        shot["constraints"] = _constraints(lessons or [], category=shot["category"], aspect=aspect,
                                           has_dialogue=bool(shot.get("dialogue")))
        out_shots.append(shot)
    return {
        "title": f"DRAFT — {logline.strip().rstrip('.')[:70]}",
        "aspect_ratio": aspect, "resolution": "720p", "fps": 24,
        "music": {"ambience": "low wind and a distant, steady hum", "gain_db": -20},
        "cast": [
            {"id": "lead", "name": lead, "kind": "person", "description": ", ".join(traits),
             "plate": f"full-length character reference of {lead}, {', '.join(traits)}, neutral light"},
            {"id": "place", "name": place, "kind": "place",
             "description": "weathered surfaces, salt-stained glass, one warm practical light",
             "plate": f"{place}, wide view, overcast daylight"},
        ],
        "shots": out_shots,
    }
