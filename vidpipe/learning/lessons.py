"""LESSONS.md in the skill's format: parsed for lint and routing, only ever appended to, under a file lock.

An entry is `- YYYY-MM-DD · model · category · overall N/5` followed by indented `LESSON:`,
`EVIDENCE:` and optional `ID:`, `BY:` and `LINT:` (a JSON rule) lines. Entries vidpipe appends carry
an `ID:` that cannot collide (date + random) and a `BY:` line saying who wrote it (`human`, `vlm`,
`miner`) and when; entries without an `ID:` (the seed, or ones a person typed into the file) are
L001… in file order. Nothing is rewritten: seed lessons stay, contradictions are new entries.

What a score can write is bounded here, at the storage layer, so the CLI, the review room and a
VLM judge's answer are all covered: one line of plain text, at most LESSON_MAX characters, with
none of the file's own markers. A `LINT:` rule is only ever written by the miner (from its
evidence) or typed by a person editing the file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, UTC
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock

from vidpipe.errors import SpecError
from vidpipe.store import Store

_HEAD = re.compile(r"^- (\d{4}-\d{2}-\d{2}) · (.+?) · (.+?) · overall (\d)/5\s*$")
MARKERS = ("LESSON:", "EVIDENCE:", "LINT:", "ID:", "BY:")
_MARKER = re.compile(r"\b(?:(?i:LESSON|EVIDENCE|LINT)|ID|BY)\s*:")  # the format's markers ("lint:" too)
LESSON_MAX = 300  # characters of a lesson a score writes (a sentence or two)
FIELD_MAX = 400  # any other field of an entry (evidence, model, category)
LOCK_TIMEOUT_S = 60.0
Source = Literal["human", "vlm", "miner", "file"]


@dataclass
class Lesson:
    id: str
    date: str
    model: str
    category: str
    overall: int
    lesson: str
    evidence: str = ""
    lint: dict[str, Any] | None = None
    extra: list[str] = field(default_factory=list)
    source: Source = "file"  # who wrote it: a person scoring (human), a VLM judge, the miner, or the file itself
    author: str | None = None  # the person's user name, the judge model, or "vidpipe learn"
    written_at: str | None = None

    @property
    def human(self) -> bool:
        """Written by a person: through a score, or typed into LESSONS.md."""
        return self.source in ("human", "file")

    def render(self) -> str:
        lines = [f"- {self.date} · {one_line(self.model, 'model')} · {one_line(self.category, 'category')} · "
                 f"overall {int(self.overall)}/5",
                 f"  LESSON: {one_line(self.lesson, 'lesson', limit=FIELD_MAX)}",
                 f"  EVIDENCE: {one_line(self.evidence, 'evidence', allow_empty=True)}"]
        if self.id and not re.fullmatch(r"L\d{3,}", self.id):
            lines.append(f"  ID: {self.id}")
        if self.source != "file":
            lines.append(f"  BY: {self.source} · {one_line(self.author or '?', 'author')} · {self.written_at or ''}")
        if self.lint:
            lines.append(f"  LINT: {json.dumps(self.lint, sort_keys=True)}")
        return "\n".join(lines) + "\n"

    def row(self) -> dict[str, Any]:
        """The `lessons` table row (vidpipe.store.Store.put_lessons)."""
        return {"id": self.id, "date": self.date, "model": self.model, "category": self.category,
                "overall": self.overall, "lesson": self.lesson, "evidence": self.evidence,
                "source": "mined" if self.source == "miner" else self.source, "lint": self.lint,
                "author": self.author, "human": self.human}


def one_line(text: str | None, what: str = "lesson", *, limit: int = FIELD_MAX, allow_empty: bool = False) -> str:
    """`text` as one line of plain text, or SpecError naming the field: no line breaks or control characters,
    none of LESSONS.md's markers (LESSON:, EVIDENCE:, LINT:, ID:, BY:), at most `limit` characters."""
    s = (text or "").strip()
    if not s and not allow_empty:
        raise SpecError(f"{what}: empty")
    bad = next((c for c in s if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise SpecError(f"{what}: must be one line of plain text (found {'a line break' if bad in chr(10) + chr(13) else repr(bad)})")
    m = _MARKER.search(s)
    if m:
        raise SpecError(f"{what}: may not contain {m.group(0)!r} (a marker of LESSONS.md's format)")
    if len(s) > limit:
        raise SpecError(f"{what}: {len(s)} characters; at most {limit}")
    return s


def parse_lessons(text: str) -> list[Lesson]:
    """Every entry of a LESSONS.md text; unknown lines are kept in the file, ignored here."""
    out: list[Lesson] = []
    cur: Lesson | None = None
    for line in text.splitlines():
        m = _HEAD.match(line)
        if m:
            cur = Lesson(f"L{len(out) + 1:03d}", m[1], m[2].strip(), m[3].strip(), int(m[4]), "")
            out.append(cur)
            continue
        if cur is None:
            continue
        s = line.strip()
        if s.startswith("LESSON:"):
            cur.lesson = s[7:].strip()
        elif s.startswith("EVIDENCE:"):
            cur.evidence = s[9:].strip()
        elif s.startswith("ID:"):
            cur.id = s[3:].strip() or cur.id
        elif s.startswith("BY:"):
            parts = [p.strip() for p in s[3:].split("·")]
            if parts and parts[0] in ("human", "vlm", "miner"):
                cur.source = parts[0]  # type: ignore[assignment]
                cur.author = parts[1] if len(parts) > 1 else None
                cur.written_at = parts[2] if len(parts) > 2 and parts[2] else None
        elif s.startswith("LINT:"):
            try:
                cur.lint = json.loads(s[5:].strip())
            except json.JSONDecodeError:
                cur.extra.append(s)
        elif s and not line.startswith("  "):
            cur = None
    return out


def read_lessons(path: Path | None) -> list[Lesson]:
    """The file's lessons; parsed once per file version (validate lints every job of a 10,000-job file)."""
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return []
    if st is None or not stat.S_ISREG(st.st_mode):
        return []
    return list(_parsed(os.fspath(str(path)), st.st_mtime_ns, st.st_size))  # a new list; the entries are not mutated


@lru_cache(maxsize=8)
def _parsed(path: str, _mtime: int, _size: int) -> tuple[Lesson, ...]:
    return tuple(parse_lessons(Path(path).read_text(encoding="utf-8")))


def lessons_lock(path: Path) -> FileLock:
    """The cross-process lock every writer of this LESSONS.md holds (a `.lock` file beside it)."""
    p = Path(path)
    return FileLock(str(p.with_name(f".{p.name}.lock")), timeout=LOCK_TIMEOUT_S, is_singleton=True)


def new_id() -> str:
    """An id no other writer can produce: the date plus 32 random bits (L20261202-3fa9c1d2)."""
    return f"L{date.today():%Y%m%d}-{secrets.token_hex(4)}"


def append_lesson(path: Path, lesson: Lesson) -> Lesson:
    """Append one entry (newest last) under the file's lock, with a fresh id. Existing bytes are never touched."""
    if lesson.source in ("human", "vlm"):  # a score's lesson: bounded plain text, never a rule
        lesson.lesson = one_line(lesson.lesson, "lesson", limit=LESSON_MAX)
        lesson.lint = None
    lesson.id = lesson.id if lesson.id and not re.fullmatch(r"L\d{3,}", lesson.id) else new_id()
    lesson.written_at = lesson.written_at or datetime.now(UTC).isoformat(timespec="seconds")
    entry = lesson.render()  # validates every field before the file is opened
    p = Path(path)
    with lessons_lock(p), p.open("ab+") as f:  # append mode: every write lands at the end
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            f.write(b"# LESSONS\n\n")
        else:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                f.write(b"\n")
        f.write(entry.encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    return lesson


def new_lesson(model: str, category: str, overall: int, lesson: str, evidence: str,
               lint: dict[str, Any] | None = None, *, source: Source = "miner", author: str | None = None) -> Lesson:
    return Lesson("", date.today().isoformat(), model, category, overall, lesson, evidence, lint,
                  source=source, author=author)


def sync_lessons(store: Store, path: Path | None) -> int:
    """Mirror every entry of LESSONS.md into the `lessons` table (so lessons a person typed into the file are
    there too, marked human); returns how many entries the file holds."""
    entries = read_lessons(path)
    store.put_lessons([e.row() for e in entries])
    return len(entries)
