"""A tiny schema language for the fakes: field specs and a checker that reports pydantic-style errors.

The fakes' tables are written from providers.md and the providers' pages, never from vidpipe's own
model tables, so a translator and a fake can disagree and a test notices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Error = dict[str, Any]  # {"loc": [...], "msg": str, "type": str, "input": Any}


@dataclass(frozen=True)
class F:
    """One field: its JSON type, whether it is required, allowed values and numeric/length limits."""

    kind: str                     # str | bool | int | num | enum | url | urls | obj | list | any
    required: bool = False
    enum: tuple[Any, ...] = ()
    lo: float | None = None       # int/num: minimum; str: min length; urls/list: min items
    hi: float | None = None       # int/num: maximum; str: max length; urls/list: max items
    fields: dict[str, "F"] = field(default_factory=dict)  # obj: nested fields (empty = any keys)


def enum(*values: Any, required: bool = False) -> F:
    return F("enum", required=required, enum=tuple(values))


def err(loc: list[Any], msg: str, etype: str, value: Any = None) -> Error:
    return {"loc": loc, "msg": msg, "type": etype, "input": value}


def is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def check(body: Any, spec: dict[str, F], loc: list[Any], *, extra_ok: bool = False) -> list[Error]:
    """Every violation of `spec` in `body` (unknown fields, missing, wrong type, enum, limits)."""
    if not isinstance(body, dict):
        return [err(loc, "Input should be a valid dictionary", "dict_type", body)]
    out: list[Error] = []
    if not extra_ok:
        out += [err([*loc, k], "Extra inputs are not permitted", "extra_forbidden", v)
                for k, v in body.items() if k not in spec]
    for name, f in spec.items():
        if name not in body:
            if f.required:
                out.append(err([*loc, name], "Field required", "missing"))
            continue
        out += check_value(body[name], f, [*loc, name])
    return out


def check_value(v: Any, f: F, loc: list[Any]) -> list[Error]:
    if f.kind == "any":  # checked by an endpoint rule
        return []
    if f.kind == "str":
        if not isinstance(v, str):
            return [err(loc, "Input should be a valid string", "string_type", v)]
        if f.lo is not None and len(v) < f.lo:
            return [err(loc, f"String should have at least {int(f.lo)} characters", "string_too_short", v)]
        if f.hi is not None and len(v) > f.hi:
            return [err(loc, f"String should have at most {int(f.hi)} characters", "string_too_long", v[:40])]
        return []
    if f.kind == "bool":
        return [] if isinstance(v, bool) else [err(loc, "Input should be a valid boolean", "bool_type", v)]
    if f.kind in ("int", "num"):
        ok = isinstance(v, int) if f.kind == "int" else isinstance(v, (int, float))
        if not ok or isinstance(v, bool):
            what = "integer" if f.kind == "int" else "number"
            return [err(loc, f"Input should be a valid {what}", f"{'int' if f.kind == 'int' else 'float'}_type", v)]
        if f.lo is not None and v < f.lo:
            return [err(loc, f"Input should be greater than or equal to {f.lo:g}", "greater_than_equal", v)]
        if f.hi is not None and v > f.hi:
            return [err(loc, f"Input should be less than or equal to {f.hi:g}", "less_than_equal", v)]
        return []
    if f.kind == "enum":
        if v not in f.enum or type(v) is not type(f.enum[0]):
            listed = ", ".join(repr(x) for x in f.enum)
            return [err(loc, f"Input should be {listed}", "enum", v)]
        return []
    if f.kind == "url":
        if not isinstance(v, str):
            return [err(loc, "Input should be a valid string", "string_type", v)]
        if not is_url(v):  # data URIs included: vidpipe promises URLs to partner models
            return [err(loc, "Input should be a valid URL (http/https)", "url_parsing", v[:40])]
        return []
    if f.kind in ("urls", "list"):
        if not isinstance(v, list):
            return [err(loc, "Input should be a valid list", "list_type", v)]
        if f.lo is not None and len(v) < f.lo:
            return [err(loc, f"List should have at least {int(f.lo)} items", "too_short", len(v))]
        if f.hi is not None and len(v) > f.hi:
            return [err(loc, f"List should have at most {int(f.hi)} items", "too_long", len(v))]
        if f.kind == "urls":
            return [e for i, x in enumerate(v) for e in check_value(x, F("url"), [*loc, i])]
        return []
    if f.kind == "obj":
        return check(v, f.fields, loc) if f.fields else ([] if isinstance(v, dict) else
                                                          [err(loc, "Input should be a valid dictionary",
                                                               "dict_type", v)])
    raise AssertionError(f"unknown field kind {f.kind}")


Rule = Callable[[dict[str, Any]], list[Error]]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint's contract: its fields plus cross-field rules, and what kind of output it makes."""

    fields: dict[str, F]
    rules: tuple[Rule, ...] = ()
    output: str = "video"  # video | images

    def validate(self, body: Any, loc: list[Any]) -> list[Error]:
        errors = check(body, self.fields, loc)
        if not errors and isinstance(body, dict):
            for rule in self.rules:
                errors += rule(body)
        return errors
