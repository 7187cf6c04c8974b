"""What installing vidpipe adds to someone's environment, and that `dg` accepts the project.

The wheel ships `vidpipe` only; the Dagster wiring (definitions.py, assets/, resources/, sensors/) is
loaded by the code location from the project folder, so `pip install vidpipe` never puts generic
top-level names like `assets` into a user's site-packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_vidpipe_only(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("vidpipe", "assets", "resources", "sensors"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "definitions.py", src / "definitions.py")
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                          "--no-index", str(src), "-w", str(tmp_path / "dist")], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("vidpipe-*.whl")
    tops = {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"vidpipe", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}, tops
    names = zipfile.ZipFile(wheel).namelist()
    assert "vidpipe/review/templates/base.html" in names or any(n.startswith("vidpipe/review/templates/") for n in names)


def test_dg_check_and_list_defs_accept_the_project(tmp_path: Path) -> None:
    dg = Path(sys.executable).with_name("dg")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("")
    check = subprocess.run([str(dg), "check", "defs"], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert check.returncode == 0 and "All definitions loaded successfully" in check.stdout + check.stderr, \
        (check.stdout + check.stderr)[-2000:]
    listed = subprocess.run([str(dg), "list", "defs", "--json"], cwd=REPO, capture_output=True, text=True, env=env,
                            timeout=300)
    assert listed.returncode == 0, listed.stderr[-2000:]
    for key in ("shot_clip", "final_cut", "delivery"):
        assert key in listed.stdout
