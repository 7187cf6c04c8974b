"""`vidpipe doctor [--json]` — what this machine will do: keys present, ffmpeg, backends, data root, Dagster home.

Keys are reported as present or missing, never shown. Exit 0 when everything needed for an
offline render is there (ffmpeg found, data root writable), 1 otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import typer

from vidpipe.cli import app
from vidpipe.environment import decide
from vidpipe.errors import FfmpegNotFound
from vidpipe.media.ffmpeg import ffmpeg_choice
from vidpipe.paths import Paths


def _ffmpeg() -> dict[str, Any]:
    try:
        choice = ffmpeg_choice()
    except FfmpegNotFound as exc:
        return {"found": False, "error": str(exc)}
    out = subprocess.run([choice.path, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30).stdout
    return {"found": True, "path": choice.path, "version": (out.split() or ["?", "?", "?"])[2],
            "source": choice.source, "passed_over": list(choice.passed_over)}


def _writable(folder: Path) -> bool:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return os.access(probe, os.W_OK)


def diagnose(paths: Paths) -> dict[str, Any]:
    """The facts doctor prints (also used by tests)."""
    d = decide()
    dagster_home = os.environ.get("DAGSTER_HOME")
    return {
        "keys": d.keys,
        "ffmpeg": _ffmpeg(),
        "backends": {"video": d.video, "still": d.still, "voice": d.voice, "judge": d.judge},
        "data_root": str(paths.root),
        "episodes": str(paths.episodes),
        "media": str(paths.media),
        "database": str(paths.db),
        "writable": _writable(paths.media),
        "profile": str(paths.profile) if paths.profile.is_file() else None,
        "dagster_home": dagster_home,
    }


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Check the setup: which keys are set (never their values), ffmpeg, each stage's backend, folders."""
    facts = diagnose(Paths.from_env())
    ok = facts["ffmpeg"]["found"] and facts["writable"]
    if as_json:
        typer.echo(json.dumps(facts, indent=2))
    else:
        keys = ", ".join(f"{k} {'set' if v else 'not set'}" for k, v in facts["keys"].items())
        ff = facts["ffmpeg"]
        b = facts["backends"]
        lines = [
            f"keys        {keys}",
            f"ffmpeg      {ff['path'] + ' (' + ff['version'] + ', from ' + ff['source'] + ')' if ff['found'] else 'NOT FOUND: ' + ff['error']}",
            *(f"            passed over {why}" for why in ff.get("passed_over", [])),
            f"video       {b['video']}" + ("  (offline preview: set FAL_KEY for real clips)" if b["video"] == "preview" else ""),
            f"stills      {b['still']}",
            f"voice       {b['voice']}",
            f"judge       {b['judge']}" + ("  (people score: vidpipe score / review room)" if b["judge"] == "none" else ""),
            f"data root   {facts['data_root']}",
            f"media       {facts['media']}" + ("" if facts["writable"] else "  NOT WRITABLE"),
            f"database    {facts['database']}",
            f"profile     {facts['profile'] or 'none (a video of you needs profile/profile.json)'}",
            f"dagster     {facts['dagster_home'] or 'DAGSTER_HOME not set (make dev / make demo set it)'}",
        ]
        typer.echo("\n".join(lines))
    if not ok:
        raise typer.Exit(1)
