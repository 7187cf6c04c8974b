"""Screenshot: a shot that failed QC, red in Dagster's partitions view with its one-line reason.

    .venv/bin/python docs/make_failure_screenshot.py    # writes docs/dagster_failed_shot*.png

Builds a throwaway project (one two-shot episode) and instance, renders both shots through the real
render_shot_job, with the provider's clip for s002 replaced by a black clip (so real QC fails it), then
opens `dg dev` on that instance in headless Chromium (as docs/make_screenshots.py does) and saves the
shot_qc partitions view with the failed partition selected (and with its "View logs" open: the reason),
the asset's events and the failed run's page.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

EPISODE = """\
title: Kites
resolution: "480p"
shots:
  - {id: s001, subject: "a blue kite over dunes, long red tail", action: "the kite loops twice", camera: "wide shot, static tripod", style: "bright noon, pastel palette", duration: 4, generate_audio: false}
  - {id: s002, subject: "a child in a yellow raincoat", action: "she runs along the dune crest", camera: "tracking shot, pan right", style: "bright noon, pastel palette", duration: 4, generate_audio: false}
"""


def _render(work: Path) -> str:
    """Both shots through render_shot_job on a fresh instance; s002's provider output is black. Returns its run id."""
    import dagster as dg

    import vidpipe.providers.preview_backend as backend
    from tests.media_factory import Seg, make_clip

    real = backend.animatic
    from definitions import defs

    job = defs.resolve_job_def("render_shot_job")
    failed_run = ""
    with dg.DagsterInstance.get() as inst:
        inst.add_dynamic_partitions("episodes", ["kites"])
        inst.add_dynamic_partitions("shots", ["kites|s001", "kites|s002"])
        for shot in ("s001", "s002"):
            backend.animatic = real if shot == "s001" else (  # type: ignore[assignment]
                lambda body, out, **kw: make_clip(Path(out), [Seg("black", 4.0)], width=854, height=480, audio=None))
            r = job.execute_in_process(partition_key=f"kites|{shot}", instance=inst, raise_on_error=False)
            print(f"kites|{shot}: {'success' if r.success else 'failed'}")
            if not r.success:
                failed_run = r.run_id
    backend.animatic = real
    return failed_run


def main() -> list[Path]:
    from make_screenshots import shoot

    work = Path(tempfile.mkdtemp(prefix="vidpipe-shot-"))
    root, home = work / "proj", work / "dagster_home"
    (root / "data" / "episodes" / "kites").mkdir(parents=True)
    (root / "data" / "episodes" / "kites" / "episode.yaml").write_text(EPISODE)
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.local.yaml").read_text())
    for var in ("FAL_KEY", "GEMINI_API_KEY", "ELEVENLABS_API_KEY"):
        os.environ.pop(var, None)
    os.environ.update(DAGSTER_HOME=str(home), VIDPIPE_ROOT=str(root))
    run_id = _render(work)
    pages = {  # name → (path, text that must be on the page before the picture is taken)
        "dagster_failed_shot": ("/assets/shot_qc?view=partitions&partition=kites%7Cs002", "Failed"),
        "dagster_failed_shot_why": ("/assets/shot_qc?view=partitions&partition=kites%7Cs002", "Failed", "View logs"),
        "dagster_failed_shot_events": ("/assets/shot_qc?view=events&partition=kites%7Cs002", "failed QC"),
        "dagster_failed_shot_run": (f"/runs/{run_id}", "failed QC"),
    }
    try:
        return shoot(pages, ROOT / "docs", {**os.environ, "PYTHONPATH": str(ROOT)}, wait_s=180)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
