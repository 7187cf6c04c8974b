"""The 5-part prompt composer (Subject → Action → Camera → Style → Constraints) and the prompt lint.

Order matters: earlier tokens carry more weight, so the visible subject comes first and the
production rules last. Multi-shot clips become time-coded blocks (`[00:00-00:04] ...`) that
Seedance reads as hard cuts; each block re-anchors the subject so identity and wardrobe hold.
`lint_prompt` is the one implementation of the word-budget and dialogue-length checks;
validate.py reuses it.
"""

from __future__ import annotations

import re

from collections.abc import Sequence

from vidpipe.cast import CastRef
from vidpipe.schema import Block, Episode, Finding, Profile, Shot

# Word budgets (SKILL: ~50–90 words for one shot, 120–280 for a multi-shot time-coded prompt).
SINGLE_SHOT_WORDS = (50, 90)
MULTI_SHOT_WORDS = (120, 280)
DIALOGUE_WORDS = (4, 10)

TIME_CODE = re.compile(r"\[\d{1,2}:\d{2}(?:\.\d+)?\s*[-–]\s*\d{1,2}:\d{2}(?:\.\d+)?\]")
QUOTED = re.compile(r"\"([^\"\n]+)\"|“([^”\n]+)”")
_WORD = re.compile(r"[\w\[\]][\w'’\-\[\]]*")


def _sentence(text: str | None) -> str:
    """'waves break' → 'Waves break.' (capitalised, one closing stop, blank stays blank)."""
    t = (text or "").strip()
    if not t:
        return ""
    t = t[0].upper() + t[1:]
    return t if t[-1] in ".!?\"”" else t + "."


def _labelled(label: str, text: str | None) -> str:
    t = (text or "").strip().rstrip(".")
    return f"{label}: {t}." if t else ""


def time_code(seconds: int) -> str:
    """12 → '00:12' (mm:ss, as Seedance reads block headers)."""
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _speaker(name: str) -> str:
    """'keeper' → 'The keeper'; names (capitalised) stay as they are."""
    name = name.strip()
    if not name:
        return "The speaker"
    if name[0].isupper() or name.lower().startswith(("the ", "a ", "an ")):
        return name[0].upper() + name[1:]
    return f"The {name}"


def _said(speaker: str, line: str) -> str:
    line = line.strip().strip('"“”')
    return f'{_speaker(speaker)} says: "{line}"'


def audio_on(shot: Shot) -> bool:
    """Audio is generated when the shot says so, else when it directs sound or has dialogue."""
    if shot.generate_audio is not None:
        return shot.generate_audio
    return bool((shot.audio or "").strip() or shot.dialogue or any(b.dialogue for b in shot.blocks))


def _subject(shot: Shot, profile: Profile | None, cast: Sequence[CastRef] = ()) -> str:
    """The subject; a `me` shot is anchored to the avatar [Image1] (unless "me" is a cast member)."""
    subject = (shot.subject or "").strip()
    if shot.me and profile is not None and not any(c.member.me for c in cast):
        return f"{subject}, the person in [Image1]" if subject else "The person in [Image1]"
    return subject


def _with_cast(subject: str, cast: Sequence[CastRef], *, full: bool) -> str:
    """Each member joins the Subject: its description in full once, then name + citation in every block."""
    if not cast:
        return subject
    members = "; ".join(c.introduce() if full else c.anchor() for c in cast)
    return f"{subject.rstrip('.')}, with {members}" if subject else members


def _constraints(shot: Shot, profile: Profile | None, cast: Sequence[CastRef] = ()) -> list[str]:
    rules = [c.strip().rstrip(".") for c in shot.constraints if c.strip()]
    if (shot.me or any(c.member.me for c in cast)) and profile is not None:
        rules += [r.strip().rstrip(".") for r in profile.avatar.rules if r.strip() and r.strip().rstrip(".") not in rules]
    return rules


def _block_line(block: Block, subject: str, speaker: str, cast: Sequence[CastRef] = ()) -> str:
    anchor = _with_cast((block.subject or subject).strip(), cast, full=False)
    parts = [f"[{time_code(block.start)}-{time_code(block.end)}]"]
    action = block.action.strip().rstrip(".")
    parts.append(_sentence(f"{anchor}: {action}" if anchor else action))
    if block.camera:
        parts.append(_labelled("Camera", block.camera))
    if block.dialogue:
        parts.append(_said(speaker, block.dialogue))
    return " ".join(parts)


def compose_prompt(shot: Shot, *, episode: Episode | None = None, profile: Profile | None = None,
                   cast: Sequence[CastRef] = ()) -> str:
    """The shot's prompt: its raw `prompt` as written, else the 5 parts as readable sentences.

    Args:
        shot: the shot (5-part fields, optional blocks, dialogue, audio direction).
        episode: accepted so callers pass their context; the frame (aspect, resolution) goes in
            the request fields, not the prompt, so it is not used in the text today.
        profile: for `me` shots, cites the avatar as [Image1] and appends its rules to Constraints.
        cast: the shot's cast members with their image numbers: each description joins the Subject,
            and every time-coded block re-anchors them by name and citation.
    Returns:
        The prompt text; multi-block shots get one `[mm:ss-mm:ss]` line per block.
    """
    del episode  # the frame lives in the request fields; kept in the signature for callers
    if shot.prompt and shot.prompt.strip():
        return shot.prompt.strip()
    base = _subject(shot, profile, cast)
    subject = _with_cast(base, cast, full=True)
    speaker = shot.dialogue[0].speaker if shot.dialogue else "the character"
    lines: list[str] = []
    if shot.blocks:
        lines.append(_sentence(subject))
        if shot.action:
            lines.append(_sentence(shot.action))
        lines.extend(_block_line(b, base, speaker, cast) for b in shot.blocks)
        if shot.camera:
            lines.append(_labelled("Camera throughout", shot.camera))
    else:
        lines += [_sentence(subject), _sentence(shot.action)]
        lines += [_said(d.speaker, d.line) for d in shot.dialogue]
        lines.append(_labelled("Camera", shot.camera))
    lines.append(_labelled("Style", shot.style))
    if audio_on(shot) and shot.audio:
        lines.append(_labelled("Sound", shot.audio))
    rules = _constraints(shot, profile, cast)
    if rules:
        lines.append(f"Constraints: {'; '.join(rules)}.")
    sep = "\n" if shot.blocks else " "
    return sep.join(line for line in lines if line)


def count_words(prompt: str) -> int:
    """Words a reader would count: time-code headers are not words; citations like [Image1] are."""
    return len(_WORD.findall(TIME_CODE.sub(" ", prompt)))


def count_blocks(prompt: str) -> int:
    """How many time-coded blocks the prompt has (0 for a single-shot prompt)."""
    return len(TIME_CODE.findall(prompt))


def quoted_lines(prompt: str) -> list[str]:
    """Every quoted line ("..." or “...”), which is how dialogue is written in a prompt."""
    return [a or b for a, b in QUOTED.findall(prompt)]


def lint_prompt(prompt: str, *, blocks: int = 0) -> list[Finding]:
    """Warnings for the word budget and for quoted lines outside 4–10 words.

    Args:
        prompt: the prompt text.
        blocks: number of shots the clip has; 0 counts the prompt's time-coded blocks.
    Returns:
        `word_count_low` / `word_count_high` / `dialogue_line_length` warnings.
    """
    shots = blocks or count_blocks(prompt)
    low, high = MULTI_SHOT_WORDS if shots >= 2 else SINGLE_SHOT_WORDS
    kind = f"a {shots}-shot time-coded prompt" if shots >= 2 else "a single-shot prompt"
    words = count_words(prompt)
    out: list[Finding] = []
    if words < low:
        out.append(Finding(code="word_count_low", severity="warning",
                           message=f"{words} word{'s' if words != 1 else ''} is thin for {kind} (aim for {low}–{high}); "
                                   "add concrete subject traits, a named camera move and a style"))
    elif words > high:
        out.append(Finding(code="word_count_high", severity="warning",
                           message=f"{words} words is a lot for {kind} (aim for {low}–{high}); "
                                   "remove one demand before adding three"))
    lo, hi = DIALOGUE_WORDS
    for line in quoted_lines(prompt):
        n = count_words(line)
        if not lo <= n <= hi:
            out.append(Finding(code="dialogue_line_length", severity="warning",
                               message=f'quoted line "{line}" has {n} words; spoken lines sync best at {lo}–{hi} '
                                       "words per shot — split or trim it"))
    return out
