"""Screenshot: a shot that failed QC, red in Dagster's partitions view with its one-line reason.

    .venv/bin/python docs/make_failure_screenshot.py    # writes docs/dagster_failed_shot*.png

Builds a throwaway project (one two-shot episode) and instance, renders both shots through the real
render_shot_job, with the provider's clip for s002 replaced by a black clip (so real QC fails it), then
opens `dg dev` on that instance in headless Chromium (as docs/make_screenshots.py does) and saves the
shot_qc partitions view with the failed partition selected, and the failed run's page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
    from make_screenshots import _free_port, _wait_up
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from vidpipe.media.ffmpeg import stop_group

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no chromium on PATH (Debian: apt-get install chromium)")
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
    port = _free_port()
    dg_bin = Path(sys.executable).with_name("dg")
    proc = subprocess.Popen([str(dg_bin), "dev", "-w", "workspace.yaml", "--port", str(port)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    pages = {  # name → (path, text that must be on the page before the picture is taken)
        "dagster_failed_shot": ("/assets/shot_qc?view=partitions&partition=kites%7Cs002", "Failed"),
        "dagster_failed_shot_events": ("/assets/shot_qc?view=events&partition=kites%7Cs002", "failed QC"),
        "dagster_failed_shot_run": (f"/runs/{run_id}", "failed QC"),
    }
    written = []
    try:
        _wait_up(url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            for name, (path, must_show) in pages.items():
                page.goto(url + path, wait_until="networkidle", timeout=120_000)
                page.wait_for_timeout(5000)
                skip = page.get_by_role("button", name="Skip")  # the first-visit "join the community" dialog
                if skip.count():
                    skip.first.click()
                    page.wait_for_timeout(1500)
                try:
                    page.get_by_text(must_show).first.wait_for(timeout=180_000)
                except PlaywrightTimeout:
                    print(f"warning: {path} never showed {must_show!r}; the picture shows what it did show")
                page.wait_for_timeout(3000)
                skip = page.get_by_role("button", name="Skip")  # it can also appear only after the data
                if skip.count():
                    skip.first.click()
                    page.wait_for_timeout(1500)
                target = ROOT / "docs" / f"{name}.png"
                page.screenshot(path=str(target))
                written.append(target)
                print(target)
            browser.close()
    finally:
        stop_group(proc, grace_s=30)
        shutil.rmtree(work, ignore_errors=True)
    return written


if __name__ == "__main__":
    main()
