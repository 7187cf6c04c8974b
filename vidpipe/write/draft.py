"""Write a drafted episode to `data/episodes/EP/episode.yaml`: never over an existing one, and only a
draft that loads, validates and prices like a hand-written episode.

The draft is checked in a scratch folder under the data root first, so a draft that would fail
leaves nothing behind in the episodes folder; the file then appears by an atomic rename.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vidpipe.environment import has_key
from vidpipe.episode import EPISODE_FILES, find_episode_file, validate_episode
from vidpipe.errors import SpecError
from vidpipe.estimate import EpisodeEstimate, estimate_episode
from vidpipe.learning.lessons import read_lessons
from vidpipe.paths import Paths, safe_id
from vidpipe.schema import Finding
from vidpipe.write.beats import draft_episode
from vidpipe.write.llm import llm_draft

HEADER = ("# DRAFT written by `vidpipe write` ({how}) from the logline:\n#   {logline}\n"
          "# Read it and change the words before spending: nothing here is final.\n")


@dataclass
class Written:
    """What `write` made: the file, who wrote it, the lint warnings and the estimate."""

    path: Path
    writer: str
    warnings: list[tuple[str, Finding]] = field(default_factory=list)
    estimate: EpisodeEstimate | None = None


def compose(logline: str, *, shots: int | None, aspect: str, minutes: float | None, paths: Paths,
            use_llm: bool | None = None) -> tuple[dict[str, Any], str]:
    """(episode mapping, writer name): the LLM when GEMINI_API_KEY is set (or asked), else the beat sheet."""
    lessons = read_lessons(paths.lessons)
    llm = has_key("gemini") if use_llm is None else use_llm
    if llm:
        n = shots or (max(3, min(12, round(minutes * 60 / 8))) if minutes else 5)
        text = paths.lessons.read_text(encoding="utf-8") if paths.lessons.is_file() else "(none yet)"
        return llm_draft(logline, shots=n, aspect=aspect, minutes=minutes, lessons_text=text), "gemini"
    return draft_episode(logline, shots=shots, aspect=aspect, minutes=minutes, lessons=lessons), "offline beat sheet"


def write_episode(paths: Paths, episode_id: str, logline: str, *, shots: int | None = None, aspect: str = "16:9",
                  minutes: float | None = None, use_llm: bool | None = None) -> Written:
    """Draft, check and write the episode. Raises SpecError (nothing written) when it exists or fails."""
    folder = paths.episode_dir(safe_id(episode_id, "episode id"))
    if find_episode_file(folder) is not None:
        raise SpecError(f"episode {episode_id} already exists ({find_episode_file(folder)}); write never overwrites",
                        path=str(folder))
    data, writer = compose(logline, shots=shots, aspect=aspect, minutes=minutes, paths=paths, use_llm=use_llm)
    text = HEADER.format(how=writer, logline=logline.strip()) + yaml.safe_dump(data, sort_keys=False,
                                                                                allow_unicode=True, width=110)
    scratch = paths.data / "cache" / "write" / str(os.getpid()) / episode_id  # the folder name is the episode id
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        (scratch / EPISODE_FILES[0]).write_text(text, encoding="utf-8")
        _, reports = validate_episode(paths, scratch)
        errors = [f"{r.label} {e.code}: {e.message}" for r in reports for e in r.errors]
        if errors:
            raise SpecError(f"the {writer} draft does not validate, nothing written: " + "; ".join(errors[:3]))
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{EPISODE_FILES[0]}.tmp"
        tmp.write_text(text, encoding="utf-8")
        try:
            os.link(tmp, folder / EPISODE_FILES[0])  # refuses to replace one written meanwhile
        except FileExistsError:
            raise SpecError(f"episode {episode_id} appeared while drafting; write never overwrites",
                            path=str(folder)) from None
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    warnings = [(r.label, w) for r in reports for w in r.warnings]
    return Written(path=folder / EPISODE_FILES[0], writer=writer, warnings=warnings,
                   estimate=estimate_episode(paths, episode_id))
