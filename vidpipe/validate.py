"""Validate a raw canonical request before anything is spent: rules → findings with contract codes.

The input is the request exactly as written (a dict from JSON), not a pydantic-coerced model:
"5" is not a duration and `true` is not a seed, and each wrong type must surface under its own
code (design.md §2). Field shapes without a code of their own are reported under the nearest
contract code: a non-list reference field under `too_many_reference_<kind>` (the rule "a list of
at most N"), a non-string `image` / `last_frame_image` under `unknown_field` (not an accepted value).
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vidpipe.errors import UnsupportedOnModel, VidpipeError
from vidpipe.jobfile import json_kind, load_jobs
from vidpipe.learning.feedback import lesson_lint
from vidpipe.model_caps import CAPS, SINGLE_FRAME_MODELS, adjustments, media_reasons, unsupported_reasons
from vidpipe.paths import Paths
from vidpipe.prompt import count_blocks, lint_prompt, quoted_lines
from vidpipe.providers import select_backend
from vidpipe.providers.base import Backend
from vidpipe.providers.registry import get_backend
from vidpipe.refcheck import REMOTE, MediaInfo, RefPolicy, check_refs, media_info
from vidpipe.routing import PROJECT_PROFILE, Route, history_store, project_profile, route_job
from vidpipe.schema import (ASPECT_RATIOS, CANONICAL_FIELDS, REAL_PERSON_BASES, RESOLUTIONS, CanonicalRequest,
                            Finding, Job)

REF_LIMITS = {"reference_images": 9, "reference_videos": 3, "reference_audios": 3}
REF_KIND = {"reference_images": "Image", "reference_videos": "Video", "reference_audios": "Audio"}
MAX_REF_SECONDS = 15.0
RISKY_DURATIONS = frozenset({7, 9, 11, 13, 14})
SEED_RANGE = (-1, 2**32 - 1)

CITATION = re.compile(r"\[(Image|Video|Audio)(\d+)\]")
# Words that direct what we hear (not things that merely could make a sound), and words that direct speech.
# Matched against the prompt's words (maximal \w runs, lower-cased): an exact word, or a stem that starts one
# (a set lookup per word is ~10x faster than one big alternation regex, which a 10,000-job file feels).
SOUND_EXACT = frozenset("sound sounds audio sfx ambience ambient soundtrack score song voice voices voiceover say "
                        "says said speak speaks spoken dialogue hum hums humming footsteps silence silent quiet noise "
                        "sing sings singing shout shouts asmr foley heard hear loud audible".split())
SOUND_STEMS = ("music", "narrat", "whisper", "roar", "crackl", "rumbl", "echo", "chim", "click", "creak", "hiss",
               "buzz", "laugh")
SPEECH_EXACT = frozenset("say says said speak speaks speaking spoken speech talk talks talking sing sings singing "
                         "lips dialogue deliver delivers voice".split())
SPEECH_STEMS = ("lipsync", "mouth", "narrat")
LIP_SYNC = re.compile(r"\blip-sync", re.I)
_WORD = re.compile(r"\w+")


def _directs(prompt: str, exact: frozenset[str], stems: tuple[str, ...]) -> bool:
    return any(w in exact or w.startswith(stems) for w in set(_WORD.findall(prompt.lower())))


LIPSYNC_MODES = frozenset({"lip-sync", "talking-avatar"})


def _f(code: str, message: str, severity: str = "error") -> Finding:
    return Finding(code=code, message=message, severity=severity)  # type: ignore[arg-type]


def _is_int(value: Any) -> bool:
    return type(value) is int  # bool is a subclass of int and is never a number here


def _str_set(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    return isinstance(value, str) and bool(value.strip())


def _refs(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _check_fields(body: dict[str, Any]) -> list[Finding]:
    """Unknown fields, the prompt, and every field's type and range."""
    out: list[Finding] = []
    for key in body:
        if key not in CANONICAL_FIELDS:
            near = get_close_matches(str(key), CANONICAL_FIELDS, n=1)
            hint = f"; did you mean {near[0]}?" if near else f"; accepted: {', '.join(CANONICAL_FIELDS)}"
            out.append(_f("unknown_field", f"unknown field {key!r}{hint}"))
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        what = "missing" if "prompt" not in body else ("blank" if isinstance(prompt, str) else json_kind(prompt))
        out.append(_f("prompt_required", f"prompt is required and must be non-blank text (got {what})"))
    for key in ("image", "last_frame_image"):
        if key in body and not _str_set(body, key):
            out.append(_f("unknown_field", f"{key} must be a path or URL string (got {json_kind(body[key])}); "
                                           "remove the field if there is no frame"))
    for key, limit in REF_LIMITS.items():
        code = f"too_many_{key}"
        if key not in body:
            continue
        value = body[key]
        if not isinstance(value, list):
            out.append(_f(code, f"{key} must be a list of at most {limit} paths or URLs (got {json_kind(value)})"))
        elif len(value) > limit:
            out.append(_f(code, f"{key} has {len(value)} items; at most {limit} are accepted"))
        elif any(not isinstance(v, str) or not v.strip() for v in value):
            bad = next(v for v in value if not isinstance(v, str) or not v.strip())
            out.append(_f(code, f"{key} must hold only path or URL strings (got {json_kind(bad)})"))
    if "duration" in body:
        d = body["duration"]
        if not _is_int(d) or not (d == -1 or 4 <= d <= 15):
            out.append(_f("duration_invalid", f"duration must be an integer 4–15 seconds or -1 (auto), got {json_kind(d)}"))
    for key, allowed, code in (("resolution", RESOLUTIONS, "resolution_invalid"),
                               ("aspect_ratio", ASPECT_RATIOS, "aspect_ratio_invalid")):
        if key in body and body[key] not in allowed:
            out.append(_f(code, f"{key} must be one of {', '.join(allowed)} (got {json_kind(body[key])})"))
    if body.get("seed") is not None:  # null means unset
        s = body["seed"]
        if not _is_int(s) or not SEED_RANGE[0] <= s <= SEED_RANGE[1]:
            out.append(_f("seed_invalid", f"seed must be an integer 0–{SEED_RANGE[1]} (or -1 for random), got {json_kind(s)}"))
    if "generate_audio" in body and not isinstance(body["generate_audio"], bool):
        out.append(_f("generate_audio_invalid", f"generate_audio must be true or false (got {json_kind(body['generate_audio'])})"))
    return out


def _check_combinations(body: dict[str, Any], model: str) -> list[Finding]:
    """Exclusivity rules between frames and references, and what audio references need."""
    out: list[Finding] = []
    images, videos, audios = (_refs(body, k) for k in REF_LIMITS)
    has_image, has_last = _str_set(body, "image"), _str_set(body, "last_frame_image")
    if (has_image or has_last) and images:
        which = "image" if has_image else "last_frame_image"
        out.append(_f("image_with_reference_images",
                      f"{which} (a frame to animate) cannot be combined with reference_images; use frames for "
                      "image-to-video or references for character consistency, not both"))
    if has_last and not has_image:
        out.append(_f("last_frame_requires_image", "last_frame_image needs image (the first frame) as well"))
    frame_counts = has_image and model in SINGLE_FRAME_MODELS
    if audios and not images and not videos and not frame_counts:
        hint = "; with only a face `image`, choose a talking-avatar model (omnihuman-1.5)" if has_image else ""
        out.append(_f("audio_refs_need_visual_ref",
                      f"reference_audios need a reference image or video to attach the voice to{hint}"))
    return out


def _check_citations(body: dict[str, Any]) -> list[Finding]:
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        return []
    out: list[Finding] = []
    cited: dict[str, set[int]] = {k: set() for k in REF_KIND.values()}
    for kind, num in CITATION.findall(prompt):
        cited[kind].add(int(num))
    for key, kind in REF_KIND.items():
        have = len(body[key]) if isinstance(body.get(key), list) else 0
        for n in sorted(cited[kind]):
            if not 1 <= n <= have:
                has = f"only {have} {key}" if have else f"no {key}"
                extra = " (the first frame `image` is not citable)" if kind == "Image" and _str_set(body, "image") else ""
                out.append(_f("citation_out_of_range", f"the prompt cites [{kind}{n}] but the request has {has}{extra}"))
        for n in range(1, have + 1):
            if n not in cited[kind]:
                out.append(_f("reference_uncited", f"{key}[{n - 1}] is never cited as [{kind}{n}] in the prompt; "
                                                   "say what it is for", "warning"))
    return out


def _info(ref: str) -> MediaInfo | None:
    """The measured local file a reference names (relative to the cwd, as the backends read it), else None."""
    if not ref or ref.startswith(REMOTE) or len(ref) > 4096:
        return None
    try:
        return media_info(os.path.expanduser(ref))
    except (OSError, ValueError):
        return None


def _check_media_length(body: dict[str, Any], model: str) -> list[Finding]:
    """Local reference videos and audios must total ≤15 s each (URLs are not measured); a model with
    its own audio limit (a talking avatar) is held to that instead (model_caps.media_reasons)."""
    out: list[Finding] = []
    caps = CAPS.get(model)
    for key in ("reference_videos", "reference_audios"):
        if key == "reference_audios" and caps is not None and caps.audio_max_s is not None:
            continue
        total, measured = 0.0, []
        for ref in _refs(body, key):
            mi = _info(ref)
            if mi is not None and mi.seconds is not None:
                total += mi.seconds
                measured.append(f"{Path(ref).name} {mi.seconds:.1f} s")
        if total > MAX_REF_SECONDS + 0.05:
            out.append(_f("reference_media_too_long", f"local {key} total {total:.1f} s ({', '.join(measured)}); "
                                                      f"at most {MAX_REF_SECONDS:.0f} s — trim them"))
    return out


def _model_findings(model: str, body: dict[str, Any]) -> list[Finding]:
    """What this model cannot take (`unsupported_on_model`) and what it will do differently (warnings)."""
    out = [_f("unsupported_on_model", msg) for msg in unsupported_reasons(model, body)]
    out += [_f("unsupported_on_model", msg) for msg in media_reasons(model, body, _info)]
    out += [_f("model_adjustment", msg, "warning") for msg in adjustments(model, body, _info)]
    return out


def _check_real_person(job: Job | None) -> list[Finding]:
    if job is None:
        return []
    rp = job.real_person
    if rp is not None and rp.basis is None and not job.me:
        return [_f("real_person_policy", f"job {job.id} declares a real person without a valid basis; set "
                                         f"real_person.basis to one of {', '.join(REAL_PERSON_BASES)}")]
    if rp is None and job.mode == "real-person" and not job.me:
        return [_f("real_person_policy", f"job {job.id} is a real-person shot without a declaration; add "
                                         f"real_person: {{\"basis\": one of {', '.join(REAL_PERSON_BASES)}}}")]
    return []


def _check_audio_direction(body: dict[str, Any], mode: str | None) -> list[Finding]:
    raw = body.get("prompt")
    prompt: str = raw if isinstance(raw, str) else ""
    out: list[Finding] = []
    audios = _refs(body, "reference_audios")
    if body.get("generate_audio", True) is True and not audios and not _directs(prompt, SOUND_EXACT, SOUND_STEMS) \
            and not quoted_lines(prompt):
        out.append(_f("audio_direction_missing", "generate_audio is on but the prompt never says what we hear; add a "
                                                 "'Sound: ...' sentence (ambience, effects, voice) or turn audio off",
                      "warning"))
    if (audios or mode in LIPSYNC_MODES) and not quoted_lines(prompt) and not LIP_SYNC.search(prompt) \
            and not _directs(prompt, SPEECH_EXACT, SPEECH_STEMS):
        out.append(_f("lipsync_line_missing", "lip-sync needs the spoken line in quotes or a speech direction "
                                              "(who speaks, to whom, how) in the prompt", "warning"))
    return out


def _where(job: Job | None) -> str:
    if job is not None and job.shot:
        return f"shot {job.episode}/{job.shot}" if job.episode else f"shot {job.shot}"
    return f"job {job.id}" if job is not None else "request"


def validate_request(body: Any, *, model: str | None = "auto", job: Job | None = None,
                     lessons_path: Path | None = None, refs: RefPolicy | None = None) -> list[Finding]:
    """Every finding for one raw canonical request, errors first.

    Args:
        body: the request as parsed from JSON (never pre-coerced).
        model: "auto" or the explicit model; an explicit model adds `unsupported_on_model` checks.
        job: the job around the body: real-person policy, mode and category come from it.
        lessons_path: LESSONS.md for lesson lint (`lesson:<id>` warnings).
        refs: where local references may come from (default: the project's roots and allow-list).
    Returns:
        Findings (severity "error" or "warning"); no errors means the request may be submitted.
    """
    if not isinstance(body, dict):
        return [_f("prompt_required", f"a request must be a JSON object with a prompt (got {json_kind(body)})")]
    model = model or "auto"
    mode = job.mode if job is not None else None
    findings = _check_fields(body) + _check_combinations(body, model) + _check_citations(body)
    findings += check_refs(body, refs or RefPolicy.for_project(), where=_where(job))
    findings += _check_media_length(body, model) + _check_real_person(job)
    if model != "auto":
        findings += _model_findings(model, body)
    d = body.get("duration")
    if _is_int(d) and d in RISKY_DURATIONS:
        findings.append(_f("duration_risky", f"{d} s is an unusual length that models handle less reliably; "
                                             "prefer 4, 5, 6, 8, 10, 12 or 15", "warning"))
    findings += _check_audio_direction(body, mode)
    prompt = body.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        findings += lint_prompt(prompt, blocks=count_blocks(prompt))
        findings += lesson_lint(body, category=job.category if job else None, lessons_path=lessons_path,
                                model=model)
    return sorted(findings, key=lambda f: f.severity != "error")


# -- job files ---------------------------------------------------------------------------------
@dataclass
class JobReport:
    """What `vidpipe validate` shows for one job: label, route, errors, warnings."""

    label: str
    route: str
    errors: list[Finding]
    warnings: list[Finding]
    route_reason: str = ""
    job: Job | None = field(default=None, repr=False)
    route_evidence: str = ""

    def to_dict(self, *, explain: bool = False) -> dict[str, Any]:
        """The `--json` shape: {"label","route","errors","warnings"} (+ "route_reason" with explain)."""
        out: dict[str, Any] = {
            "label": self.label,
            "route": self.route,
            "errors": [{"code": f.code, "message": f.message} for f in self.errors],
            "warnings": [{"code": f.code, "message": f.message} for f in self.warnings],
        }
        if explain:
            out["route_reason"] = self.route_reason
            out["route_evidence"] = self.route_evidence
        return out


def check_job(job: Job, *, model: str | None = None, store: Any = None, profile: Any = PROJECT_PROFILE,
              lessons_path: Path | None = None, refs: RefPolicy | None = None,
              fallback: bool = False, backend: str | None = None) -> tuple[Route, list[Finding]]:
    """Route and validate one job: the one check behind `validate`, `route`, `generate` and `render`.

    The request is validated against the model it will really run on (explicit or routed) and
    translated for the backend that would run it (`backend`, else the environment's choice), so
    validate reports what generate would refuse — a provider's own limit included (Veo reference
    images exist on the Gemini API, not on fal) — plus the route's own findings (`model_avoided`).
    Errors first.
    """
    r = route_job(job, model=model, store=store, profile=profile, fallback=fallback)
    findings = validate_request(job.input, model=r.model, job=job, lessons_path=lessons_path, refs=refs)
    if not any(f.severity == "error" for f in findings):
        findings += _translation_findings(job.input, r.model, backend)
    findings += list(r.findings)
    return r, sorted(findings, key=lambda f: f.severity != "error")


@functools.cache
def _translator(name: str) -> Backend:
    """One adapter per backend for translating (pure): building one per job was a tenth of validate's time."""
    return get_backend(name)


def _translation_findings(body: dict[str, Any], model: str, backend: str | None) -> list[Finding]:
    """What the backend's translator refuses (pure, no network): the same call plan_job makes."""
    try:
        name = select_backend(backend, model)
        _translator(name).translate(model, CanonicalRequest.model_validate(body).body())
    except UnsupportedOnModel as exc:
        return [_f("unsupported_on_model", str(exc))]
    except (ValidationError, VidpipeError):
        return []  # an invalid body is reported by validate_request; a missing key by plan/doctor
    return []


def report_job(job: Job, *, model: str | None = None, profile: Any = PROJECT_PROFILE,
               lessons_path: Path | None = None, store: Any = None, refs: RefPolicy | None = None,
               backend: str | None = None) -> JobReport:
    """Validate and route one job, exactly as `generate` plans it."""
    r, findings = check_job(job, model=model, store=store, profile=profile, lessons_path=lessons_path, refs=refs,
                            backend=backend)
    return JobReport(label=job.id, route=r.model, route_reason=r.reason, job=job, route_evidence=r.explain(),
                     errors=[f for f in findings if f.severity == "error"],
                     warnings=[f for f in findings if f.severity == "warning"])


def validate_file(path: str | Path, *, explain: bool = False, paths: Paths | None = None,
                  model: str | None = None, backend: str | None = None) -> list[JobReport]:
    """Validate and route every job in a job file.

    Args:
        path: a JSON job file (one job, an array, or a bare canonical body).
        explain: kept for the CLI; every report carries `route_reason` either way.
        paths: the project (profile, QC store, LESSONS.md, allowed reference roots); default from env.
        model: an explicit model for every job (as `generate --model`).
        backend: as `generate --backend` (default: the environment's choice).
    Raises:
        SpecError: unreadable file or invalid JSON (exit 2 in the CLI).
    """
    del explain
    jobs = load_jobs(path)
    paths = paths or Paths.from_env()
    profile, store = project_profile(paths), history_store(paths)
    refs = RefPolicy.for_project(paths, Path(path).parent)
    lessons = paths.lessons
    return [report_job(j, model=model, profile=profile, lessons_path=lessons, store=store, refs=refs, backend=backend)
            for j in jobs]


def reports_json(reports: list[JobReport], *, explain: bool = False) -> str:
    return json.dumps([r.to_dict(explain=explain) for r in reports], indent=2, ensure_ascii=False)
