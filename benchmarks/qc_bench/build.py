"""Build (or reuse) every benchmark clip under a cache folder (default data/cache/qc_bench, git-ignored).

A clip is rebuilt only when its recipe changes: the file name carries a hash of the recipe and BUILD_VERSION.

    python -m benchmarks.qc_bench.build [--out DIR] [--only PREFIX]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.qc_bench import footage  # noqa: E402
from benchmarks.qc_bench.cases import build_cases  # noqa: E402

BUILD_VERSION = 1
DEFAULT_DIR = REPO / "data" / "cache" / "qc_bench"


def clip_path(out: Path, name: str, recipe: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps([BUILD_VERSION, recipe], sort_keys=True, default=str).encode()).hexdigest()
    return out / f"{name}-{digest[:10]}.mp4"


def preview_clip(request: dict[str, Any], out: Path) -> Path:
    """The preview backend's animatic for `request`, through the backend registry (the runner's own path)."""
    from vidpipe.providers.base import Ticket
    from vidpipe.providers.registry import get_backend

    backend = get_backend("preview")
    endpoint, body = backend.translate("preview", request)
    ticket = Ticket(job_id=out.stem, model="preview", endpoint=endpoint, body=body, workdir=out.parent)
    ticket.request_id = backend.submit(ticket)
    result = backend.poll(ticket, deadline=time.time() + 600)
    return backend.fetch(backend.result_url(result), out)


def build(out: Path = DEFAULT_DIR, only: str = "") -> dict[str, Path]:
    """Every clip the cases need, built once; returns name → path."""
    clips, _ = build_cases()
    paths: dict[str, Path] = {}
    out.mkdir(parents=True, exist_ok=True)
    made = 0
    t0 = time.perf_counter()
    for name, recipe in clips.items():
        if only and not name.startswith(only):
            continue
        path = clip_path(out, name, recipe)
        if not path.exists():
            if "preview" in recipe:
                tmp = path.with_name(path.stem + ".part.mp4")
                preview_clip(recipe["preview"], tmp).replace(path)
            else:
                footage.render(recipe, path)
            made += 1
        paths[name] = path
    print(f"qc bench: {len(paths)} clips ({made} built in {time.perf_counter() - t0:.0f} s) in {out}", flush=True)
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    build(args.out, args.only)


if __name__ == "__main__":
    main(sys.argv[1:])
