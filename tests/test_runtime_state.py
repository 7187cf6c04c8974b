"""Runtime state is the project's data: it lives under data/, git ignores it, and the shipped LESSONS.md
is only the starting memory (scoring appends to data/LESSONS.md, never to the tracked file)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from vidpipe.learning.lessons import append_lesson, new_lesson, read_lessons
from vidpipe.paths import Paths

REPO = Path(__file__).resolve().parents[1]


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_live_lessons_begin_from_the_shipped_memory_and_leave_it_alone(project: Paths) -> None:
    shipped = project.root / "LESSONS.md"
    before = sha(shipped)
    live = project.lessons
    assert live == project.data / "LESSONS.md" and sha(live) == before
    seeds = len(read_lessons(live))
    append_lesson(project.lessons, new_lesson("seedance-2.0", "dialogue", 2, "Say no captions.", "test"))
    assert len(read_lessons(project.lessons)) == seeds + 1
    assert sha(shipped) == before  # the tracked file is untouched


def test_override_wins(project: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDPIPE_LESSONS", str(tmp_path / "mine.md"))
    assert project.lessons == tmp_path / "mine.md" and not (tmp_path / "mine.md").exists()


@pytest.mark.parametrize("name", ["data/claims/abc.json", "data/claims/abc.lock", "data/episode_errors.json",
                                  "data/run_failures.jsonl", "data/LESSONS.md", "data/vidpipe.duckdb",
                                  "data/media/demo/final.mp4", "data/cache/ffmpeg_probe.json"])
def test_runtime_files_are_ignored_by_git(name: str) -> None:
    assert subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO).returncode == 0, name


def test_episodes_stay_tracked_and_nothing_runtime_is_committed() -> None:
    assert subprocess.run(["git", "check-ignore", "-q", "data/episodes/demo/episode.yaml"], cwd=REPO).returncode == 1
    tracked = subprocess.run(["git", "ls-files", "data"], cwd=REPO, capture_output=True, text=True).stdout.split()
    assert tracked and all(t.startswith("data/episodes/") for t in tracked), tracked
