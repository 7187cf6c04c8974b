"""Take the README's Dagster screenshots from the real UI (headless Chromium against `dg dev`).

    make demo                                   # something to look at
    .venv/bin/python docs/make_screenshots.py   # writes docs/dagster_*.png

Starts `dg dev` on a free port with the project's instance ($DAGSTER_HOME, as `make dev` does),
opens each page once the UI has loaded, and saves what a person would see. Chromium is the
system one (Debian `chromium`), driven through Playwright.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from vidpipe.media.ffmpeg import stop_group  # noqa: E402

PAGES = {  # file name → (path in the UI, text that must be on the page before the picture is taken)
    "dagster_lineage": ("/assets/final_cut?view=lineage", "episode_shots"),
    "dagster_partitions": ("/assets/shot_clip?view=partitions", "Partitions"),
    "dagster_shot_still": ("/assets/shot_still?partition=demo%7Cs001", "still"),
    "dagster_shot_clip": ("/assets/shot_clip?partition=demo%7Cs001", "clip"),
    "dagster_shot_qc": ("/assets/shot_qc?view=events", "contact_sheet"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, timeout: float = 180) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url + "/server_info", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"dg dev did not answer at {url} within {timeout:.0f} s")


def _skip_welcome(page) -> None:  # type: ignore[no-untyped-def]
    """Close the first-visit "join the community" dialog (it can appear before or after the data)."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()
        page.wait_for_timeout(1500)


def shoot(pages: dict[str, tuple[str, ...]], out: Path, env: dict[str, str], *, wait_s: float = 60) -> list[Path]:
    """Start `dg dev` with `env`, save each page (name → (UI path, text to wait for[, button to click first]))
    as out/<name>.png, stop it."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no chromium on PATH (Debian: apt-get install chromium)")
    port = _free_port()
    dg = Path(sys.executable).with_name("dg")
    proc = subprocess.Popen([str(dg), "dev", "-w", "workspace.yaml", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    written = []
    try:
        _wait_up(url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            for name, (path, must_show, *click) in pages.items():
                page.goto(url + path, wait_until="networkidle", timeout=120_000)
                _skip_welcome(page)
                try:
                    page.get_by_text(must_show).first.wait_for(timeout=wait_s * 1000)
                except PlaywrightTimeout:
                    print(f"warning: {path} never showed {must_show!r}; the picture shows what it did show")
                _skip_welcome(page)
                if click:
                    page.get_by_role("button", name=click[0]).first.click()
                    page.wait_for_timeout(3000)
                page.wait_for_timeout(1500)  # images and the graph layout settle after the data arrives
                target = out / f"{name}.png"
                page.screenshot(path=str(target))
                written.append(target)
                print(target)
            browser.close()
    finally:
        stop_group(proc, grace_s=30)
    return written


def main(out: Path = ROOT / "docs") -> list[Path]:
    env = {**os.environ, "DAGSTER_HOME": os.environ.get("DAGSTER_HOME", str(ROOT / "data" / "dagster_home")),
           "VIDPIPE_ROOT": os.environ.get("VIDPIPE_ROOT", str(ROOT))}
    return shoot(PAGES, out, env)


if __name__ == "__main__":
    main()
