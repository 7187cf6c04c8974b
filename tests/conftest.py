"""Shared fixtures: a clean environment (no provider keys leak in) and throwaway project roots."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PROVIDER_ENV = (
    "FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "GEMINI_API_KEY", "GOOGLE_API_KEY", "ELEVENLABS_API_KEY",
    "VIDPIPE_FAL_QUEUE_URL", "VIDPIPE_FAL_API_URL", "VIDPIPE_GEMINI_BASE_URL", "VIDPIPE_GEMINI_VEO_MODEL",
    "VIDPIPE_GEMINI_IMAGE_MODEL", "VIDPIPE_PREFLIGHT", "VIDPIPE_ELEVENLABS_BASE_URL", "VIDPIPE_ROOT",
    "VIDPIPE_MEDIA", "VIDPIPE_DB", "VIDPIPE_EPISODES", "VIDPIPE_LESSONS", "VIDPIPE_FAILURE_WEBHOOK",
    "VIDPIPE_S3_BUCKET", "VIDPIPE_S3_PREFIX", "VIDPIPE_S3_ENDPOINT_URL", "VIDPIPE_EXECUTOR", "VIDPIPE_DELIVERY_RESOLUTION",
)

MINI_EPISODE = """\
title: Mini
aspect_ratio: "16:9"
resolution: "480p"
fps: 24
music: {ambience: "soft wind", gain_db: -20}
shots:
  - id: s001
    mode: text-to-video
    category: landscape
    subject: a red lighthouse on a grey cliff, white door, salt-stained walls
    action: waves roll in below as gulls circle the tower
    camera: wide shot, 24mm lens, slow push-in from the sea
    style: overcast morning, muted teal palette, 35mm film grain
    constraints: [single continuous take, no text]
    audio: wind and surf
    narration: The light has stood here for a century.
    duration: 4
  - id: s002
    mode: image-to-video
    category: character
    still: {prompt: "weathered hands on a brass wheel, warm lamp light"}
    subject: weathered hands, a brass wheel, a wool sleeve
    action: the hands turn the wheel slowly
    camera: close-up, 85mm lens, slow pan left
    style: warm tungsten light, shallow depth of field
    constraints: [five fingers on each hand, no text]
    audio: creaking brass
    duration: 4
    transition: crossfade
    transition_dur: 0.5
  - id: s003
    mode: text-to-video
    category: action
    subject: the keeper in a yellow oilskin coat and navy cap
    style: stormy night, cyan and sodium palette
    constraints: [same coat in every block, no subtitles]
    blocks:
      - {start: 0, end: 2, action: "he climbs the iron stairs", camera: "low angle handheld follow"}
      - {start: 2, end: 4, action: "he wipes the lantern glass", camera: "medium shot, slow orbit"}
    audio: rain on glass
    duration: 4
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-lanes", action="store_true", help="write tests/lanes.json from this run's timings")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--record-lanes"):
        from tests.lanes import Recorder

        config.pluginmanager.register(Recorder(), "vidpipe-lanes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from tests.lanes import mark_slow

    mark_slow(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI (VIDPIPE_CI=1) a skip fails the test unless it is marked `optional` with a reason.

    A silent skip hides a broken install (no Chromium, no Postgres) behind a green run.
    """
    report = yield
    if report.skipped and os.environ.get("VIDPIPE_CI") == "1" and item.get_closest_marker("optional") is None:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped in CI without @pytest.mark.optional: {reason}"
    return report


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No provider key or override from the host machine reaches a test; pytest's temp folders (where the
    tests' reference media live) are an allowed reference root (tests/test_confinement.py removes that)."""
    for var in PROVIDER_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDPIPE_ALLOW_PATHS", str(tmp_path_factory.getbasetemp()))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A throwaway project root with the mini episode `mini`; VIDPIPE_ROOT points at it."""
    from vidpipe.paths import Paths

    root = tmp_path / "proj"
    (root / "data" / "episodes" / "mini").mkdir(parents=True)
    (root / "data" / "episodes" / "mini" / "episode.yaml").write_text(MINI_EPISODE)
    shutil.copy(REPO / "LESSONS.md", root / "LESSONS.md") if (REPO / "LESSONS.md").exists() else None
    monkeypatch.setenv("VIDPIPE_ROOT", str(root))
    monkeypatch.chdir(root)
    return Paths.from_env(root)
