"""The takes of a shot, as the review room shows them: one list, the take in the cut first.

A take is any clip a shot has produced: the current clip.mp4, the numbered takes the record keeps
under takes/<k>/, other clips a person dropped under takes/, and earlier runner outputs cached in
gen/. Each clip appears once (hard links and copies of the same file are one take). The compare
page plays them side by side; recorded takes can be put into the cut ("use this take").
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vidpipe.pipeline.record import GenerationRecord, ShotRecord, ShotRef
from vidpipe.pipeline.takes import rank
from vidpipe.qc.verdict import verdict
from vidpipe.schema import QCReport
from vidpipe.sidecar import read_sidecar


@dataclass
class Take:
    """One generated clip of a shot. The current take is what the cut uses; others are alternatives.

    `key` is stable across page loads; `number` is what "use this take" and `vidpipe take` name.
    """

    key: str
    label: str
    source: Literal["current", "takes", "gen"]
    clip: Path | None
    number: int | None = None  # the take number (`vidpipe take EP SHOT N`) when the record gives one
    model: str | None = None
    backend: str | None = None
    cost_usd: float | None = None
    request_id: str | None = None
    seed: int | None = None
    prompt: str | None = None
    review_dir: Path | None = None
    qc: QCReport | None = None
    current: bool = False
    choosable: bool = False  # a recorded take a person may put into the cut ("use this take")
    best_by_rule: bool = False  # what the takes rule would choose (vidpipe.pipeline.takes.rank)
    chosen_by_person: bool = False  # the record's take_override
    recorded_pass: bool | None = None  # the verdict the shot record holds for this clip (None: not recorded)

    @property
    def defects(self) -> list[str]:
        return [d.code for d in self.qc.defects] if self.qc else []

    @property
    def error_defects(self) -> list[str]:
        return [d.code for d in self.qc.blocking_defects()] if self.qc else []

    @property
    def passed(self) -> bool | None:
        """The one QC verdict on this take: the shot record's; for a clip the record does not know (dropped
        under takes/, or cached in gen/), the rule applied to its qc.json; None without either."""
        if self.recorded_pass is not None:
            return self.recorded_pass
        return verdict(self.qc) if self.qc else None

    @property
    def overall(self) -> int | None:
        return self.qc.scores.overall if self.qc and self.qc.scores else None

    @property
    def sheet(self) -> Path | None:
        p = self.review_dir / "contact_sheet.jpg" if self.review_dir else None
        return p if p and p.exists() else None


def _review(folder: Path, *names: str, any_dir: bool = True) -> tuple[Path | None, QCReport | None]:
    """The QC folder of a take (review/<name>/ for the first name that has one, else any) and its report."""
    base = folder / "review"
    dirs = sorted(d for d in base.iterdir() if (d / "qc.json").exists()) if base.is_dir() else []
    review = next((d for n in names for d in dirs if d.name == n), dirs[0] if dirs and any_dir else None)
    for d in (base, folder) if review is None and any_dir else ():
        if (d / "qc.json").exists():
            review = d
            break
    return _qc_at(review)


def _qc_at(review: Path | None) -> tuple[Path | None, QCReport | None]:
    if review is None or not (review / "qc.json").exists():
        return None, None
    try:
        return review, QCReport.model_validate_json((review / "qc.json").read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return review, None


def _record_facts(g: GenerationRecord | None, rec: ShotRecord) -> dict[str, Any]:
    """Model, cost, seed and prompt of a generation in the shot record."""
    return {
        "model": g.model if g else None, "backend": g.backend if g else None,
        "cost_usd": g.cost_usd if g else None, "request_id": g.request_id if g else None,
        "seed": g.seed if g and g.seed is not None else rec.request.get("seed"), "prompt": rec.prompt,
    }


def _runner_facts(side: dict[str, Any]) -> dict[str, Any]:
    """Model, cost, seed and prompt from a runner sidecar (gen/<job>.json) or a take's own JSON."""
    job_input = ((side.get("job") or {}).get("input")) or {}
    gen = side.get("generation") or {}
    return {
        "model": gen.get("model") or side.get("model"),
        "backend": gen.get("backend") or side.get("backend"),
        "cost_usd": gen.get("cost_usd", side.get("cost_usd")),
        "request_id": gen.get("request_id") or side.get("request_id"),
        "seed": side.get("seed", job_input.get("seed")),
        "prompt": side.get("prompt") or job_input.get("prompt"),
    }


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def list_takes(ref: ShotRef, rec: ShotRecord | None = None) -> list[Take]:
    """Every take of a shot, the one in the cut first (each clip once, however many places hold it).

    Sources, in order: the shot's clip.mp4 (facts from the record's `generation`); the record's
    `takes` (takes/<k>/clip.mp4 with QC in takes/<k>/review/); any other clip under `takes/`
    (`takes/<name>/` folders, or `takes/<name>.mp4` with a `<name>.json`); and earlier outputs in
    the runner's cache folder `gen/` that are none of these.
    """
    rec = rec if rec is not None else ref.read()
    review, qc = _review(ref.dir, ref.clip_id, any_dir=False)
    facts = {**_gen_sidecar_facts(ref), **{k: v for k, v in _record_facts(rec.generation, rec).items() if v is not None}}
    has_clip = ref.clip_path.exists()
    number = rec.chosen_take if rec.takes else None
    recorded = rec.qc.passed if rec.qc is not None and rec.qc_state not in ("awaiting QC", "not rendered") else None
    current = Take("current", f"take {number}" if number else "current take", "current",
                   ref.clip_path if has_clip else None, number, review_dir=review, qc=qc, current=True,
                   recorded_pass=recorded, **facts)
    takes = [current]
    seen = [ref.clip_path] if has_clip else []
    best = min(rec.takes, key=rank).take if rec.takes else None

    def add(take: Take) -> None:
        if take.clip is None or not take.clip.exists() or any(_same_file(take.clip, s) for s in seen):
            return
        seen.append(take.clip)
        takes.append(take)

    for t in sorted(rec.takes, key=lambda t: t.take):
        if t.take == number:  # the take in the cut: its QC stays the one run on clip.mp4
            current.best_by_rule, current.chosen_by_person = t.take == best, t.take == rec.take_override
            if current.qc is None:
                current.review_dir, current.qc = _qc_at(Path(t.review_dir))
            continue
        rdir, report = _qc_at(Path(t.review_dir))
        add(Take(f"take:{t.take}", f"take {t.take}", "takes", Path(t.generation.path), t.take, review_dir=rdir,
                 qc=report, choosable=True, best_by_rule=t.take == best, recorded_pass=t.passed,
                 **_record_facts(t.generation, rec)))
    tdir = ref.takes_dir
    for entry in sorted(tdir.iterdir(), key=lambda p: _natural(p.name)) if tdir.is_dir() else []:
        if entry.is_dir():
            clip = next(iter(sorted(entry.glob("clip.mp4")) or sorted(p for p in entry.glob("*.mp4") if _is_output(p))),
                        None)
            if clip is None:
                continue
            side = read_sidecar(entry / "take.json") or read_sidecar(clip.with_suffix(".json")) or {}
            rdir, report = _review(entry, clip.stem, ref.clip_id)
            add(Take(f"takes:{entry.name}", f"take {entry.name}", "takes", clip,
                     int(entry.name) if entry.name.isdigit() else None, review_dir=rdir, qc=report, **_runner_facts(side)))
        elif entry.suffix == ".mp4" and _is_output(entry):
            rdir, report = _review(tdir, entry.stem, any_dir=False)
            add(Take(f"takes:{entry.stem}", f"take {entry.stem}", "takes", entry, review_dir=rdir, qc=report,
                     **_runner_facts(read_sidecar(entry.with_suffix(".json")) or {})))
    gdir = ref.gen_dir
    older = sorted(gdir.glob("*.mp4"), key=lambda p: p.stat().st_mtime, reverse=True) if gdir.is_dir() else []
    for clip in filter(_is_output, older):
        add(Take(f"gen:{clip.stem}", f"cached {clip.stem}", "gen", clip,
                 **_runner_facts(read_sidecar(clip.with_suffix(".json")) or {})))
    return takes


def _gen_sidecar_facts(ref: ShotRef) -> dict[str, Any]:
    """Facts of the current clip from the runner's sidecar beside its cached output (fills record gaps)."""
    if not ref.clip_path.exists() or not ref.gen_dir.is_dir():
        return {}
    for mp4 in ref.gen_dir.glob("*.mp4"):
        if _same_file(mp4, ref.clip_path):
            return {k: v for k, v in _runner_facts(read_sidecar(mp4.with_suffix(".json")) or {}).items() if v is not None}
    return {}


def _is_output(p: Path) -> bool:
    """A finished clip, not a hidden work file or a half-written temporary."""
    return not p.name.startswith(".") and not p.name.endswith(".tmp.mp4")


def _natural(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]
