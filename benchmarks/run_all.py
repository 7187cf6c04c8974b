"""`make bench`: run every benchmarks/bench_*.py `main()` and print the ratios side by side."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> int:
    results = {}
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        t = time.perf_counter()
        print(f"… {path.stem}", flush=True)
        try:
            results[path.stem] = mod.main([])
        except Exception as exc:  # one broken bench must not hide the others' ratios
            results[path.stem] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"  FAILED: {results[path.stem]['error']}", flush=True)
        print(f"  done in {time.perf_counter() - t:.0f} s", flush=True)
    print("\nbenchmark results")
    for name, res in results.items():
        for key, value in res.items():
            if any(w in key for w in ("ratio", "vmaf", "goal", "_s", "overhead", "error", "rate", "codes")):
                print(f"  {name:18s} {key:28s} {json.dumps(value)}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
