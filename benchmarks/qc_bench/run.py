"""Run QC over the labelled benchmark and print precision and recall per code, and false blocking on clean clips.

For each code: "found" counts a report at any severity against the cases built to show it; "blocks" counts
error-severity reports against the cases where the code must block (a finding the rules make a warning is
not a block). Codes a case allows (scene text where text is allowed, softness of a 176x144 source) do not
count either way. Clean cases are those where nothing must block: any blocking defect there is a false block.

    python -m benchmarks.qc_bench.run [--out DIR] [--code DIR] [--json PATH] [--only GROUP]

`--code DIR` runs the QC of another checkout (e.g. /work/main) on the same clips: the before/after table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _setup_path(code: Path | None) -> None:
    for p in ([str(code)] if code else []) + [str(REPO)]:
        if p not in sys.path:
            sys.path.insert(0 if p == str(code) else len(sys.path), p)


def ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def _blocks(d: dict[str, Any], raw: bool) -> bool:
    """Is the finding an error — as reported, or (raw) as its detector said before the unproven-detector rule?"""
    return d["severity"] == "error" or (raw and "detector not proven on the benchmark" in d.get("detail", ""))


def score(cases: list[Any], reports: dict[str, list[dict[str, Any]]], raw: bool = False) -> dict[str, Any]:
    """Per-code precision/recall (found and blocking) and the clean-clip false-blocking rate."""
    from benchmarks.qc_bench.cases import MEASURED

    per: dict[str, dict[str, Any]] = {}
    wrong: dict[str, list[str]] = defaultdict(list)
    for code in MEASURED:
        tp = fp = fn = btp = bfp = bfn = 0
        for c in cases:
            got = [d for d in reports[c.id] if d["code"] == code]
            sev = "error" if any(_blocks(d, raw) for d in got) else ("warning" if got else None)
            want = c.expect.get(code)
            if want:
                tp += sev is not None
                fn += sev is None
                if sev is None:
                    wrong[code].append(f"missed {c.id}")
            elif sev is not None and code not in c.allow:
                fp += 1
                wrong[code].append(f"false {c.id} ({sev})")
            if want == "error":
                btp += sev == "error"
                bfn += sev != "error"
                if sev == "warning":
                    wrong[code].append(f"not blocking {c.id}")
            elif sev == "error":
                bfp += 1
                if want == "warning":
                    wrong[code].append(f"blocked {c.id} (should warn)")
        per[code] = {"positives": sum(1 for c in cases if code in c.expect),
                     "blocking_positives": sum(1 for c in cases if c.expect.get(code) == "error"),
                     "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn),
                     "block_precision": ratio(btp, btp + bfp), "block_recall": ratio(btp, btp + bfn),
                     "tp": tp, "fp": fp, "fn": fn}
    clean = [c for c in cases if "error" not in c.expect.values()]
    falsely = [c.id for c in clean if any(_blocks(d, raw) and d.get("confirmed") is not False
                                          for d in reports[c.id])]
    return {"codes": per, "clean_cases": len(clean), "clean_blocked": falsely,
            "false_blocking_rate": ratio(len(falsely), len(clean)), "wrong": dict(wrong)}


def print_table(result: dict[str, Any]) -> None:
    print(f"\nQC benchmark: {result['cases']} cases on {result['clips']} clips ({result['qc_s']:.0f} s of QC), "
          f"detectors {result.get('detector_version')}")
    print(f"{'code':22s} {'pos':>4s} {'prec':>6s} {'recall':>6s} | {'block+':>6s} {'b.prec':>6s} {'b.rec':>6s} | "
          f"{'raw b.prec':>10s} {'raw b.rec':>9s}")
    fmt = lambda v: "  -   " if v is None else f"{v:6.3f}"  # noqa: E731
    for code, m in result["codes"].items():
        r = result["raw"]["codes"][code]
        print(f"{code:22s} {m['positives']:4d} {fmt(m['precision'])} {fmt(m['recall'])} | "
              f"{m['blocking_positives']:6d} {fmt(m['block_precision'])} {fmt(m['block_recall'])} | "
              f"{fmt(r['block_precision']):>10s} {fmt(r['block_recall']):>9s}")
    print(f"false blocking on clean clips: {len(result['clean_blocked'])}/{result['clean_cases']} "
          f"= {result['false_blocking_rate']} (raw detectors: {len(result['raw']['clean_blocked'])}/"
          f"{result['clean_cases']})")


def write_accuracy(result: dict[str, Any]) -> None:
    """Keep this version's raw detector numbers (what the unproven-detector rule reads) beside the detectors."""
    from vidpipe.qc.content.accuracy import ACCURACY_FILE

    data = json.loads(ACCURACY_FILE.read_text()) if ACCURACY_FILE.exists() else {"versions": {}}
    data["versions"][result["detector_version"]] = {
        "benchmark": f"benchmarks/qc_bench: {result['cases']} cases on {result['clips']} clips",
        "false_blocking_rate": result["raw"]["false_blocking_rate"],
        "codes": {c: {k: m[k] for k in ("positives", "blocking_positives", "precision", "recall", "block_precision",
                                        "block_recall")} for c, m in result["raw"]["codes"].items()}}
    ACCURACY_FILE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {ACCURACY_FILE.relative_to(REPO)} for {result['detector_version']}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="clip cache (default data/cache/qc_bench)")
    ap.add_argument("--code", type=Path, default=None, help="run the QC of this checkout instead")
    ap.add_argument("--json", type=Path, default=None, help="write the full result here")
    ap.add_argument("--only", default="", help="only cases of this group")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--write-accuracy", action="store_true",
                    help="store the raw per-code numbers for this detector version in vidpipe/qc/content/accuracy.json")
    args = ap.parse_args(argv if argv is not None else [])
    _setup_path(args.code)
    from benchmarks.qc_bench.build import DEFAULT_DIR, build
    from benchmarks.qc_bench.cases import build_cases
    from vidpipe.qc.report import run_qc

    paths = build(args.out or DEFAULT_DIR)
    _, cases = build_cases()
    cases = [c for c in cases if not args.only or c.group == args.only]
    reports: dict[str, list[dict[str, Any]]] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vidpipe-qc-bench-") as tmp:
        for k, c in enumerate(cases):
            backend = "preview" if c.group == "preview" else None
            rep = run_qc(paths[c.clip], request=c.request, out_dir=Path(tmp) / str(k), backend=backend)
            reports[c.id] = [d.model_dump(mode="json") for d in rep.defects]
    qc_s = time.perf_counter() - t0
    result = {"cases": len(cases), "clips": len({c.clip for c in cases}), "qc_s": round(qc_s, 1),
              "groups": {g: sum(1 for c in cases if c.group == g) for g in dict.fromkeys(c.group for c in cases)},
              **score(cases, reports), "raw": score(cases, reports, raw=True)}
    try:
        from vidpipe.qc.content import DETECTOR_VERSION
        result["detector_version"] = DETECTOR_VERSION
    except ImportError:
        result["detector_version"] = None
    print_table(result)
    if args.verbose:
        for code, items in result["wrong"].items():
            for line in items:
                print(f"  {code}: {line}")
    if args.write_accuracy and not args.only and result["detector_version"]:
        write_accuracy(result)
    if args.json:
        args.json.write_text(json.dumps({**result, "reports": reports}, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
