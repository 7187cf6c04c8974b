"""What a storyboard panel shows, read from the prompt's words (no pixels here).

The composer writes Subject → Action → Camera → Style → Constraints, with `[mm:ss-mm:ss]` blocks
for multi-shot clips; this module reads that back: each block becomes a `Panel` with a shot size,
an angle and a camera move from its Camera part, the cast (subject and named members) as `Member`s
whose identity (label, colour, build) is a pure function of their name, so the same person looks
the same in every shot (two members of one shot never share a colour), and the dialogue with its
speaker. Only the cast is drawn (or, without one, a person the subject names): nouns are scenery.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

SIZES = ("wide", "medium", "medium close-up", "close-up", "extreme close-up")
_SIZE_WORDS = (
    ("extreme close-up", ("extreme close-up", "extreme close up", "extreme closeup", "ecu", "macro")),
    ("medium close-up", ("medium close-up", "medium close up", "medium closeup", "mcu")),
    ("close-up", ("close-up", "close up", "closeup", "cu")),
    ("wide", ("wide", "establishing", "long shot", "full shot", "full-body", "full body", "full-length", "extreme long", "aerial")),
    ("medium", ("medium", "mid shot", "mid-shot", "waist", "two-shot", "two shot", "cowboy")),
)
_ANGLE_WORDS = (
    ("low", ("low angle", "low-angle", "worm's-eye", "worm's eye", "from below", "looking up")),
    ("high", ("high angle", "high-angle", "bird's-eye", "bird's eye", "overhead", "top-down", "top down",
              "from above", "looking down", "drone", "aerial")),
    ("dutch", ("dutch", "canted")),
    ("eye level", ("eye level", "eye-level")),
)
# Film conventions: "pan left" = the camera turns left, so the scene slides right across the frame.
# The earliest move named in the Camera words wins (as QC reads them); on a tie, the first row here.
MOVES = (
    ("static", ("static", "locked-off", "locked off", "lock-off", "locked", "tripod", "still frame", "fixed",
                "still camera", "stationary camera", "no camera movement")),
    ("zoom_in", ("push-in", "push in", "pushes in", "slow push", "dolly in", "dolly-in", "dollies in", "zoom in",
                 "zooms in", "creep in", "creeps in", "move in", "moves in")),
    ("zoom_out", ("pull-out", "pull out", "pulls out", "pull back", "pulls back", "pull-back", "zoom out",
                  "zooms out", "dolly out", "dolly back")),
    ("orbit", ("orbit", "orbits", "arc around", "arcs around", "circles")),
    ("pan_left", ("pan left", "pans left", "panning left", "truck left", "dolly left", "tracks left",
                  "whip pan left")),
    ("pan_right", ("pan right", "pans right", "panning right", "truck right", "dolly right", "tracks right")),
    ("tilt_up", ("tilt up", "tilts up", "tilting up", "pedestal up")),
    ("tilt_down", ("tilt down", "tilts down", "tilting down", "pedestal down")),
    ("crane_up", ("crane up", "cranes up", "craning up", "boom up", "rise", "rising", "rises")),
    ("crane_down", ("crane down", "cranes down", "craning down", "boom down", "descends")),
    ("handheld", ("handheld", "hand-held", "shaky", "shoulder-mounted", "follow", "follows")),
)
# A bare move word, when no move above is named, still moves the camera (QC holds it to "some motion").
BARE_MOVES = (
    ("zoom_in", ("push", "dolly", "drone")),
    ("pan_right", ("pan", "pans", "tracking", "truck", "whip")),
    ("crane_up", ("crane",)),
)
MOVE_NAMES = {"zoom_in": "PUSH IN", "zoom_out": "PULL OUT", "orbit": "ORBIT", "pan_left": "PAN LEFT",
              "pan_right": "PAN RIGHT", "tilt_up": "TILT UP", "tilt_down": "TILT DOWN", "crane_up": "CRANE UP",
              "crane_down": "CRANE DOWN", "handheld": "HANDHELD", "static": "LOCKED OFF"}

IDENTITY_COLOURS = (
    (240, 176, 40), (70, 150, 235), (226, 78, 66), (84, 190, 112), (178, 110, 226),
    (244, 128, 184), (40, 196, 196), (250, 136, 52), (150, 200, 60), (130, 130, 240),
)
_KINDS = {
    "person": ("man", "woman", "boy", "girl", "child", "kid", "keeper", "sailor", "person", "people", "captain",
               "fisherman", "diver", "pilot", "soldier", "doctor", "chef", "king", "queen", "lady", "worker",
               "farmer", "detective", "officer", "nurse", "teacher", "student", "dancer", "runner", "rider",
               "astronaut", "presenter", "host", "he", "she", "baker", "waiter", "clerk", "artist", "grandmother",
               "grandfather", "boss", "neighbour", "neighbor", "customer", "owner", "mother", "father", "daughter",
               "son", "friend",
               "stranger", "guard", "driver", "musician", "singer", "narrator", "speaker", "character", "me"),
    "hands": ("hands", "hand", "fingers"),
    "place": ("lighthouse", "tower", "house", "cottage", "castle", "church", "building", "cabin", "barn",
              "skyscraper", "city", "town", "village", "temple", "mill", "hut", "station", "shop", "cafe",
              "bakery", "kitchen", "room", "street", "harbour", "harbor", "quay", "beach", "office", "market",
              "square", "park", "garden", "studio", "hall", "bar", "restaurant", "library", "forest", "field",
              "shore", "coast", "port", "dock", "alley", "bedroom", "corridor", "hallway", "workshop", "farm"),
    "vessel": ("boat", "trawler", "ship", "yacht", "ferry", "canoe", "kayak", "sailboat", "submarine", "vessel"),
    "animal": ("dog", "cat", "horse", "bird", "gull", "fox", "wolf", "deer", "cow", "sheep", "whale", "fish"),
}
_STOP = re.compile(r"\s(?:on|at|in|with|of|by|from|under|over|near|beside|behind|inside|through|across|against|"
                   r"into|onto|for|to|who|that|which|while|as)\s|\s\w{3,}ing\b|"
                   r"\s(?:seen|seated|sat|set|perched|lit|viewed|shown|framed|placed|wrapped|dressed)\b", re.I)
_FRAMING = re.compile(r"^(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,3}?(?:close-up|shot|portrait|reference|view|photo|"
                      r"picture|image|still|plate|study|sketch|render)\s+(?:of|showing)\s+", re.I)
_ARTICLE = re.compile(r"^(?:the|a|an|his|her|their|its|our|my|this|that)\s+", re.I)
_LABEL = re.compile(r"\b(Camera throughout|Camera|Style|Sound|Audio|Constraints):\s*")
_BLOCK = re.compile(r"\[(\d{1,2}):(\d{2})(?:\.\d+)?\s*[-–]\s*(\d{1,2}):(\d{2})(?:\.\d+)?\]")
_SAYS = re.compile(r"([A-Za-z][\w' -]{0,40}?)\s+(?:says|asks|replies|shouts|whispers|calls)[^\"“]{0,12}[:,]?\s*"
                   r"[\"“]([^\"”]+)[\"”]")
_QUOTE = re.compile(r"[\"“]([^\"”]{2,})[\"”]")
_CITE = re.compile(r"\s*\[Image\d+\]|,?\s*the person in\s*$", re.I)


@dataclass(frozen=True)
class Member:
    """One identity on screen: the same key always gives the same label, colour and build."""

    key: str
    label: str
    kind: str
    colour: tuple[int, int, int]
    traits: frozenset[str] = frozenset()
    cites: tuple[int, ...] = ()  # the [ImageN] numbers of its reference images in the request

    @property
    def build(self) -> float:
        """A per-identity body width factor (0.85–1.15), so two people differ in shape, not only colour."""
        return 0.85 + hashlib.sha256(self.key.encode()).digest()[1] / 255 * 0.3


@dataclass
class Panel:
    """One storyboard panel: a time-coded block (or the whole clip)."""

    index: int
    count: int
    start: float
    end: float
    size: str
    angle: str
    move: str
    members: list[Member]
    caption: str
    scene: str
    speaker: Member | None = None
    line: str = ""
    traits: frozenset[str] = field(default_factory=frozenset)

    @property
    def heading(self) -> str:
        """'MEDIUM · LOW ANGLE · HANDHELD' — what a director reads first."""
        angle = "EYE LEVEL" if self.angle == "eye level" else f"{self.angle.upper()} ANGLE"
        return f"{self.size.upper()} · {angle} · {MOVE_NAMES[self.move]}"


def _first(text: str, table: tuple[tuple[str, tuple[str, ...]], ...], default: str) -> str:
    """The name whose word appears earliest in `text` (whole words); on a tie, the first row."""
    low = f" {text.lower()} "
    best: tuple[int, int, str] | None = None
    for row, (name, words) in enumerate(table):
        for w in words:
            m = re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", low)
            if m and (best is None or (m.start(), row) < best[:2]):
                best = (m.start(), row, name)
    return best[2] if best else default


def camera_move(text: str) -> str:
    """The first named camera move in `text`; no named move is a locked-off (static) camera."""
    return _first(text, MOVES, "") or _first(text, BARE_MOVES, "static")


def shot_size(text: str) -> str:
    """Wide, medium, medium close-up, close-up or extreme close-up from the camera words (default medium)."""
    return _first(text, _SIZE_WORDS, "medium")


def camera_angle(text: str) -> str:
    """'low', 'high', 'dutch' or 'eye level' from the camera words."""
    return _first(text, _ANGLE_WORDS, "eye level")


def colour_for(key: str) -> tuple[int, int, int]:
    return IDENTITY_COLOURS[hashlib.sha256(key.encode()).digest()[0] % len(IDENTITY_COLOURS)]


def member(phrase: str) -> Member | None:
    """The identity a subject phrase names: 'the lighthouse keeper, a grey-bearded man …' → KEEPER.

    The key is the head noun of the phrase's first clause (a possessive names its owner:
    "the keeper's hands" is the keeper, shown as hands); capitalised names are kept whole.
    """
    text = _FRAMING.sub("", _CITE.sub("", phrase).strip(" .,;:"))
    clause = re.split(r"[,(]", text, maxsplit=1)[0].strip()
    clause = _STOP.split(f" {clause} ", maxsplit=1)[0].strip()
    part = ""
    if "'s " in clause or "’s " in clause:
        clause, part = re.split(r"['’]s ", clause, maxsplit=1)
    clause = _ARTICLE.sub("", clause.strip())
    words = [w for w in re.findall(r"[\w'-]+", clause) if w]
    if not words:
        return None
    names = [w for w in words if w[0].isupper()] if text[:1].isupper() and not _ARTICLE.match(text) else []
    key_words = names if names and len(names) == len(words) else [words[-1]]
    key = " ".join(key_words).lower()
    low = text.lower()
    kind = next((k for k, ws in _KINDS.items() if key_words[-1].lower() in ws), "")
    head = part.split()[-1].lower() if part.split() else ""
    if head in _KINDS["hands"]:
        kind = "hands"
    if not kind:
        kind = "person" if names else next(
            (k for k, ws in _KINDS.items() if any(re.search(rf"\b{w}\b", low) for w in ws)), "object")
    traits = frozenset(t for t in ("beard", "cap", "hat", "coat", "hood", "dress", "glasses", "lamp", "beam")
                       if re.search(rf"\b{t}(?:s|ed)?\b", low))
    return Member(key=key, label=" ".join(key_words).upper(), kind=kind, colour=colour_for(key), traits=traits)


_CITED = re.compile(r"(?:^|[,;]\s*)(?:with\s+)?(?P<name>[A-Za-z][\w' -]{0,60}?)\s*(?P<cites>(?:\[Image\d+\])+)"
                    r"(?:\s*:\s*(?P<desc>[^;]*))?")


def members(subject: str) -> list[Member]:
    """The identities a Subject part names: the cast, as the composer cites it, and nothing invented.

    Cast members come as the composer writes them ("…, with the keeper [Image1]: a grey-bearded
    man…; the lighthouse [Image2]: …"), each with its image numbers. Without citations, only a
    person the subject names ("a woman at a counter" → WOMAN) is drawn; other nouns ("the window",
    "a loaf") are scenery the caption carries, never figures.
    """
    cast: list[Member] = []
    for hit in _CITED.finditer(subject):
        found = member(f"{hit.group('name')}, {hit.group('desc') or ''}")
        if found is not None and all(o.key != found.key for o in cast):
            cites = tuple(int(n) for n in re.findall(r"\d+", hit.group("cites")))
            cast.append(Member(found.key, found.label, found.kind, found.colour, found.traits, cites))
    if cast:
        return distinct_colours(cast)
    parts = [p for p in re.split(r";|\s+and\s+(?=(?:the|a|an|his|her|their)\s|[A-Z])", subject) if p.strip()]
    out: list[Member] = []
    for p in parts:
        m = member(p)
        drawn = m is not None and (m.key.split()[-1] in _KINDS["person"] or m.kind == "hands")
        if m is not None and drawn and all(o.key != m.key for o in out):
            out.append(m)
    return distinct_colours(out)


def distinct_colours(cast: list[Member]) -> list[Member]:
    """Two members never share a colour: a clash moves the later one to the next free palette colour."""
    used: set[tuple[int, int, int]] = set()
    out = []
    for m in cast:
        colour = m.colour
        k = IDENTITY_COLOURS.index(colour) if colour in IDENTITY_COLOURS else 0
        while colour in used and len(used) < len(IDENTITY_COLOURS):
            k = (k + 1) % len(IDENTITY_COLOURS)
            colour = IDENTITY_COLOURS[k]
        used.add(colour)
        out.append(m if colour == m.colour else Member(m.key, m.label, m.kind, colour, m.traits, m.cites))
    return out


def labelled_parts(text: str) -> tuple[str, dict[str, str]]:
    """Split 'Subject. Action. Camera: x. Style: y.' into the unlabelled lead and {label: text}."""
    marks = list(_LABEL.finditer(text))
    lead = text[: marks[0].start()] if marks else text
    parts: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end(): end]
        parts[m.group(1).lower()] = re.split(r"\n", body, maxsplit=1)[0].strip().rstrip(".")
    return lead.strip(), parts


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", text.strip()) if s.strip()]


def _dialogue(text: str) -> tuple[str, str]:
    m = _SAYS.search(text)
    if m:
        return _ARTICLE.sub("", m.group(1).strip()), m.group(2).strip()
    q = _QUOTE.search(text)
    return ("", q.group(1).strip()) if q else ("", "")


def _strip_dialogue(text: str) -> str:
    text = _SAYS.sub("", text)
    return _QUOTE.sub("", text).strip()


def _clean(text: str) -> str:
    t = " ".join(text.split()).strip(" .;:")
    return (t[0].upper() + t[1:] + ".") if t else ""


def panels(prompt: str, duration: float) -> list[Panel]:
    """One panel per time-coded block (clamped to the clip), or one for the whole clip."""
    lead, parts = labelled_parts(_BLOCK.split(prompt, maxsplit=1)[0])
    _, whole = labelled_parts(prompt)
    style = whole.get("style", "")
    sentences = _sentences(_strip_dialogue(lead))
    subject = sentences[0] if sentences else lead
    cast = members(subject)
    throughout = whole.get("camera throughout", "")
    marks = list(_BLOCK.finditer(prompt))
    chunks: list[tuple[float, str]] = []
    if not marks:
        chunks.append((0.0, prompt))
    for i, m in enumerate(marks):
        start = float(int(m.group(1)) * 60 + int(m.group(2)))
        if start >= duration:
            break
        chunks.append((float(start), prompt[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(prompt)]))
    out: list[Panel] = []
    for i, (start, text) in enumerate(chunks):
        body, bparts = labelled_parts(text)
        camera = bparts.get("camera") or parts.get("camera") or throughout or (body if marks else prompt)
        speaker, line = _dialogue(text.split("Sound:", 1)[0])
        action_text = _strip_dialogue(body)
        if marks:
            anchor, _, act = action_text.partition(": ")
            known = {c.key: c for c in cast}
            local = [known.get(m.key, m) for m in members(anchor)] if act else []
            roster = local + [c for c in cast if c.key not in {m.key for m in local}] if local else list(cast)
            caption = _clean(act or action_text)
        else:
            roster = list(cast)
            rest = _sentences(action_text)[1:]
            caption = _clean(" ".join(rest) if rest else subject)
        who = None
        if line:
            spoken = member(speaker) if speaker else None
            who = next((m for m in roster if spoken and m.key == spoken.key), None) or spoken
            if who is None or (who.kind != "person" and not speaker):
                who = next((m for m in roster if m.kind in ("person", "hands")), roster[0] if roster else None)
        size_text = bparts.get("camera") or camera
        out.append(Panel(index=i, count=len(chunks), start=start, end=duration,
                         size=shot_size(size_text), angle=camera_angle(size_text), move=camera_move(camera),
                         members=roster, caption=caption, scene=f"{subject} {body} {style}", speaker=who,
                         line=line))
    for a, b in zip(out, out[1:]):
        a.end = b.start
    if out:
        out[0].start = 0.0
    return out
