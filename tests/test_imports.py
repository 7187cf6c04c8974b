"""No import cycles anywhere in vidpipe/: walk every module's imports (module- and function-level) with ast.

A cycle hidden in function-level imports still means two modules cannot be understood (or
loaded in a fresh process) alone; this fails naming the whole cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "vidpipe"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the vidpipe modules it imports (a `from pkg import sub` names the submodule)."""
    files = {module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    src = ".".join(base + ([node.module] if node.module else []))
                else:
                    src = node.module or ""
                targets = [f"{src}.{a.name}" if f"{src}.{a.name}" in files else src for a in node.names]
            for t in targets:
                while t and t not in files:  # `import vidpipe.a.b` -> the deepest vidpipe module named
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
                # importing vidpipe.a.b first runs vidpipe.a's __init__ (unless we are inside vidpipe.a already)
                pkg = t.rpartition(".")[0]
                while pkg and pkg in files and not (mod + ".").startswith(pkg + "."):
                    graph[mod].add(pkg)
                    pkg = pkg.rpartition(".")[0]
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (iterative DFS, deterministic order)."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop(0)
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph[nxt])))
    return None


def test_graph_sees_the_modules() -> None:
    graph = import_graph()
    assert "vidpipe.generate.runner" in graph and "vidpipe.generate.plan" in graph["vidpipe.generate.runner"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    # a package's __init__ runs before its submodule: importing vidpipe.pipeline.record depends on vidpipe.pipeline
    assert "vidpipe.pipeline" in graph["vidpipe.storyboard.episode_sheet"]


def test_no_import_cycles_in_vidpipe() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


# Imports allowed inside functions: SDKs and libraries that are slow to import (measured with
# `python -X importtime`, see the closing note of issue 11) or optional, and only needed by one path.
LAZY_OK = {
    "google": "google-genai: ~1 s, only with a Gemini key",
    "fal_client": "only on the fal backend",
    "elevenlabs": "~1 s of pydantic models, only with an ElevenLabs key",
    "boto3": "~0.5 s, only when VIDPIPE_S3_BUCKET is set", "botocore": "with boto3",
    "rapidocr_onnxruntime": "loads ONNX models; only when a clip is OCR-checked",
    "onnxruntime": "with rapidocr",
    "webrtcvad": "speech check only", "espeakng_loader": "offline voice only",
    "av": "PyAV decoder; only for probing references", "skimage": "~1 s; face check and continuity seam only",
    "scipy": "~0.3 s; text check only",
    "librosa": "numba compiles its beat tracker at import (2–20 s); only when a music file is analysed", "matplotlib": "~0.5 s; trend plots only",
    "uvicorn": "review server only", "imageio_ffmpeg": "only when no ffmpeg is on PATH",
    "dagster_celery": "optional deployment", "dagster_k8s": "optional deployment",
}
PROJECT = [ROOT / "vidpipe", ROOT / "assets", ROOT / "resources", ROOT / "sensors", ROOT / "definitions.py",
           ROOT / "launch.py"]


def function_level_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement inside a function body of `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    out += [(node.lineno, a.name) for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    out.append((node.lineno, "." * node.level + (node.module or "")))
    return out


def test_function_level_imports_are_seen(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("import os\n\ndef f():\n    from vidpipe.paths import Paths\n    import fal_client\n    return Paths\n")
    assert function_level_imports(src) == [(4, "vidpipe.paths"), (5, "fal_client")]


def test_imports_are_at_the_top_of_modules() -> None:
    """A function-level import hides a dependency (and, often, a cycle); only slow optional SDKs may."""
    files = [p for base in PROJECT for p in ([base] if base.is_file() else sorted(base.rglob("*.py")))]
    hidden = [f"{p.relative_to(ROOT)}:{line}: {mod}" for p in files for line, mod in function_level_imports(p)
              if mod.split(".")[0] not in LAZY_OK]
    assert not hidden, "import at the top of the module instead:\n" + "\n".join(hidden)
