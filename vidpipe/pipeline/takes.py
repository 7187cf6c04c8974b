"""Takes: N generations of one shot with different seeds, each QC'd, the best chosen by one rule.

Models without a seed (Seedance 2.0 and Kling on fal, the talking avatars) would get the same request
N times — one paid clip, N copies — so their takes 2..N differ by one sentence at the end of the prompt.

The rule (`rank`), in order: a take with no blocking defect beats one with any; then the higher
judge score (a judged take beats an unjudged one); then fewer defects, then fewer warnings; then
the earlier take. A person's choice (`vidpipe take EP SHOT N`, or "use this take" in the review
room) overrides the rule and is kept on the shot record until they change it.
"""

from __future__ import annotations

import hashlib

from vidpipe.errors import SpecError
from vidpipe.model_caps import CAPS
from vidpipe.pipeline.record import ShotRef, TakeRecord
from vidpipe.schema import Job

SEED_MAX = 2**31 - 1


def take_seed(job: Job, take: int) -> int | None:
    """Take 1 keeps the shot's own seed (so one-take shots are unchanged); take k offsets it by k−1.

    A shot with no seed gets a stable one derived from its job id, so rerunning never re-rolls takes.
    """
    seed = job.input.get("seed")
    if take == 1:
        return seed
    if seed is None or seed == -1:
        seed = int(hashlib.sha256(job.id.encode()).hexdigest()[:8], 16) % SEED_MAX
    return (int(seed) + take - 1) % SEED_MAX


def varies_by_prompt(model: str) -> bool:
    """True when takes on `model` cannot differ by seed (auto may route to such a model)."""
    caps = CAPS.get(model)
    return caps is None or not caps.takes_seed


def take_prompt(prompt: str, take: int) -> str:
    """The prompt of take k≥2 on a model without a seed: the shot's prompt plus one variation sentence."""
    return f"{prompt.rstrip()} Alternative take {take}: same shot, a fresh interpretation of motion and framing."


def take_jobs(job: Job, n: int) -> list[Job]:
    """The N jobs for N takes: take 1 is the job itself, take k has id `<id>-t<k>`, its own seed and, on a
    model without a seed, its own prompt (see the module docstring)."""
    jobs = [job]
    for k in range(2, n + 1):
        body = {**job.input, "seed": take_seed(job, k)}
        if varies_by_prompt(job.model) and isinstance(body.get("prompt"), str):
            body["prompt"] = take_prompt(body["prompt"], k)
        jobs.append(job.model_copy(update={"id": f"{job.id}-t{k}", "input": body}))
    return jobs


def rank(t: TakeRecord) -> tuple[int, int, int, int, int]:
    """Sort key: smaller is better (see the module docstring for the rule)."""
    return (1 if t.blocking else 0, -(t.overall or 0), len(t.defects), t.warnings, t.take)


def choose(takes: list[TakeRecord], override: int | None = None) -> TakeRecord:
    """The take that goes into the cut: the person's override when it exists, else the best by `rank`."""
    if not takes:
        raise SpecError("no take to choose from")
    if override is not None:
        for t in takes:
            if t.take == override:
                return t
    return min(takes, key=rank)


def check_take(ref: ShotRef, take: int) -> TakeRecord:
    """The recorded take `take` of the shot, or a clear error listing the takes there are."""
    rec = ref.read()
    have = [t.take for t in rec.takes]
    if take not in have:
        listed = ", ".join(map(str, have)) if have else "none (the shot has one take; set takes: N to make more)"
        raise SpecError(f"shot {ref.key} has no take {take}; its takes: {listed}")
    return next(t for t in rec.takes if t.take == take)
