"""House rules that keep the layout honest."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import vidpipe

REPO = Path(__file__).resolve().parents[1]


def test_core_library_never_imports_dagster() -> None:
    mods = [m.name for m in pkgutil.walk_packages(vidpipe.__path__, "vidpipe.") if ".__main__" not in m.name]
    code = ("import importlib, sys\n"
            f"for m in {mods!r}: importlib.import_module(m)\n"
            "from vidpipe.cli import main\n"
            "main(['--help'])\n"
            "assert not [k for k in sys.modules if k == 'dagster' or k.startswith('dagster.')], 'dagster imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(mods) > 30


def test_source_files_stay_small() -> None:
    big = [str(p.relative_to(REPO)) for d in ("vidpipe", "assets", "resources", "sensors")
           for p in (REPO / d).rglob("*.py") if len(p.read_text().splitlines()) > 420]
    assert big == []
