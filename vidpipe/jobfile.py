"""Job files: one job, an array of jobs, or a bare canonical body — read into `Job`s with one clear line
naming the file and the job for every way the structure is wrong (the request itself is validate.py's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidpipe.errors import SpecError
from vidpipe.refcheck import FIELD_KIND, REMOTE
from vidpipe.schema import REAL_PERSON_BASES, Job, load_model, read_json

JOB_FIELDS = frozenset(Job.model_fields)


def anchor_refs(body: dict[str, Any], base: Path) -> dict[str, Any]:
    """The body with relative local references made relative to `base` (the folder of the file that names
    them), so a job file means the same thing from any working directory (the seed's verified prompts keep
    their reference files beside the job file)."""

    def anchor(value: Any) -> Any:
        if not isinstance(value, str) or not value.strip() or value.startswith(REMOTE) or Path(value).is_absolute():
            return value
        return str(base / value)

    out = dict(body)
    for key in FIELD_KIND:
        if isinstance(out.get(key), list):
            out[key] = [anchor(v) for v in out[key]]
        elif key in out:
            out[key] = anchor(out[key])
    return out


def json_kind(value: Any) -> str:
    """How a JSON value reads to a person: 'a string "5"', 'null', 'a float 5.0', 'true'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'a string "{value}"' if len(value) < 40 else "a string"
    if isinstance(value, float):
        return f"a float {value}"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "an object"
    return repr(value)


def _job_from(item: Any, index: int, source: str) -> Job:
    where = f"job {index + 1}"
    if not isinstance(item, dict):
        raise SpecError(f"{where} must be a JSON object (a job or a request body), got {json_kind(item)}", path=source)
    if "input" not in item:  # a bare canonical body
        return Job(id=f"job{index + 1}", input=item)
    unknown = sorted(set(item) - JOB_FIELDS)
    if unknown:
        raise SpecError(f"{where}: unknown job field(s) {', '.join(map(repr, unknown))}; a job has "
                        f"{', '.join(sorted(JOB_FIELDS))}", path=source)
    data = dict(item)
    if not isinstance(data["input"], dict):
        raise SpecError(f"{where}: input must be a JSON object (the request body), got {json_kind(data['input'])}",
                        path=source)
    if data.get("id") is None:
        data["id"] = f"job{index + 1}"
    elif type(data["id"]) is int:
        data["id"] = str(data["id"])
    if data.get("model") is None:
        data["model"] = "auto"
    rp = data.get("real_person")
    if rp is not None and (not isinstance(rp, dict) or rp.get("basis") not in REAL_PERSON_BASES):
        # keep the declaration but without a usable basis: the real-person rule reports it by code
        data["real_person"] = {"name": rp.get("name") if isinstance(rp, dict) and isinstance(rp.get("name"), str)
                               else None, "basis": None}
    job: Job = load_model(Job, data, path=f"{source} ({where})")
    return job


def parse_jobs(data: Any, *, source: str) -> list[Job]:
    """One job, an array of jobs, or a bare canonical body → jobs (bare bodies are labelled job1, job2…).

    Raises:
        SpecError: the structure is not a job file (names the source and the job).
    """
    items = data if isinstance(data, list) else [data]
    if not items:
        raise SpecError("the job file holds an empty array; nothing to do", path=source)
    return [_job_from(item, i, source) for i, item in enumerate(items)]


def load_jobs(path: str | Path) -> list[Job]:
    """Read a job file; relative references resolve against the file's folder, not the working directory.
    Raises SpecError naming the file (and line/column for invalid JSON)."""
    base = Path(path).resolve().parent
    return [j.model_copy(update={"input": anchor_refs(j.input, base)})
            for j in parse_jobs(read_json(path), source=str(path))]
