"""LESSONS.md in the skill's format: parsed for lint and routing, only ever appended to.

An entry is `- YYYY-MM-DD · model · category · overall N/5` followed by indented `LESSON:`,
`EVIDENCE:` and optional `LINT:` (a JSON rule) lines. Ids are L001… in file order, so they are
stable under appends. Nothing is rewritten: seed lessons stay, contradictions are new entries.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

_HEAD = re.compile(r"^- (\d{4}-\d{2}-\d{2}) · (.+?) · (.+?) · overall (\d)/5\s*$")


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

    def render(self) -> str:
        lines = [f"- {self.date} · {self.model} · {self.category} · overall {self.overall}/5",
                 f"  LESSON: {self.lesson}", f"  EVIDENCE: {self.evidence}"]
        if self.lint:
            lines.append(f"  LINT: {json.dumps(self.lint, sort_keys=True)}")
        return "\n".join(lines) + "\n"


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
    return list(_parsed(os.fspath(path), st.st_mtime_ns, st.st_size))  # a new list; the entries are not mutated


@lru_cache(maxsize=8)
def _parsed(path: str, _mtime: int, _size: int) -> tuple[Lesson, ...]:
    return tuple(parse_lessons(Path(path).read_text(encoding="utf-8")))


def append_lesson(path: Path, lesson: Lesson) -> Lesson:
    """Append one entry (newest last); assigns the next id. Existing bytes are never touched."""
    existing = read_lessons(path)
    lesson.id = f"L{len(existing) + 1:03d}"
    text = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else "# LESSONS\n\n"
    sep = "" if text.endswith("\n") else "\n"
    Path(path).write_text(text + sep + lesson.render(), encoding="utf-8")
    return lesson


def new_lesson(model: str, category: str, overall: int, lesson: str, evidence: str,
               lint: dict[str, Any] | None = None) -> Lesson:
    return Lesson("", date.today().isoformat(), model, category, overall, lesson, evidence, lint)
