"""`vidpipe doctor [--json] [--online [--voice ID]]` — what this machine will do: keys present, ffmpeg,
backends, data root, Dagster home; with `--online`, the providers' live contracts (the preflight, read
fresh and cached for the day's runs).

Keys are reported as present or missing, never shown. Exit 0 when everything needed for an
offline render is there (ffmpeg found, data root writable) and, with --online, no contract drift
would stop a run; 1 otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Optional

import typer

from vidpipe.cli import app
from vidpipe.environment import decide
from vidpipe.errors import FfmpegNotFound
from vidpipe.media.ffmpeg import ffmpeg_choice
from vidpipe.paths import Paths
from vidpipe.providers import contracts, preflight
from vidpipe.providers.gemini import image_model, veo_model


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


def online(paths: Paths, keys: dict[str, bool], voice: str | None = None) -> dict[str, Any]:
    """The preflight for everything vidpipe may call with the keys present, read fresh (forced)."""
    out: dict[str, Any] = {"lines": [], "refused": [], "snapshots": [
        {"file": f, "source": src, "read_on": str(d)} for f, src, d in contracts.sources()]}
    root = paths.db.parent
    if keys.get("FAL_KEY"):
        eps = sorted(contracts.fal_schemas().endpoints)
        v = preflight.check({e: [] for e in eps}, set(), root=root, force=True)
        cache = preflight._load(root)  # noqa: SLF001 - the answers just read
        out["lines"] += v.lines + [line for e in eps if e in cache.fal
                                   for line in preflight.drift_from_snapshot(e, cache.fal[e], read="today")]
        out["refused"] += list(v.refuse.values())
    if keys.get("GEMINI_API_KEY") or keys.get("GOOGLE_API_KEY"):
        v = preflight.check({}, {veo_model(), image_model()}, root=root, force=True)
        out["lines"] += v.lines
        out["refused"] += list(v.refuse.values())
    if voice and keys.get("ELEVENLABS_API_KEY"):
        if not preflight.voice_exists(voice):
            line = f"elevenlabs voice {voice} does not exist on this account; list yours with `vidpipe voices`"
            out["lines"].append(line)
            out["refused"].append(line)
    return out


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
           check_online: bool = typer.Option(False, "--online", help="Ask the providers now: models, fields, prices "
                                             "(the preflight, refreshed for today's runs)"),
           voice: Optional[str] = typer.Option(None, "--voice", help="With --online: the ElevenLabs voice id to check")
           ) -> None:
    """Check the setup: which keys are set (never their values), ffmpeg, each stage's backend, folders."""
    paths = Paths.from_env()
    facts = diagnose(paths)
    ok = facts["ffmpeg"]["found"] and facts["writable"]
    if check_online:
        facts["online"] = online(paths, facts["keys"], voice)
        ok = ok and not facts["online"]["refused"]
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
        if check_online:
            lines.append("online      " + ("; ".join(facts["online"]["lines"]) or "every contract as published"))
            lines += [f"snapshot    {x['file']} read {x['read_on']} from {x['source']}"
                      for x in facts["online"]["snapshots"]]
        typer.echo("\n".join(lines))
    if not ok:
        raise typer.Exit(1)
