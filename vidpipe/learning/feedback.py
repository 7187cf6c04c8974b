"""What was learned flows back: lesson lint for prompts and learned routing. (Stub: filled by the learning work.)

Interface (stable; validate.py and routing.py call these):
- lesson_lint(request, *, category, lessons_path) -> list[Finding]   (codes `lesson:<id>`, severity warning)
- learned_route(category, mode, default_model, store) -> LearnedChoice | None
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.schema import Finding


@dataclass(frozen=True)
class LearnedChoice:
    model: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def lesson_lint(request: dict[str, Any], *, category: str | None = None, lessons_path: Path | None = None) -> list[Finding]:
    return []


def learned_route(category: str | None, mode: str | None, default_model: str, store: Any = None) -> LearnedChoice | None:
    return None
