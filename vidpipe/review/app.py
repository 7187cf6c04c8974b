"""The review room's web app (FastAPI + Jinja, autoescaped). Serves only files under the media root.

Scoring is POST-redirect-GET: a valid score is saved and the browser is sent back to the shot; an
invalid one is kept server-side under a short token and the GET page shows it at the form, so a
refresh never re-posts and never loses what was typed.
"""

from __future__ import annotations

import getpass
import secrets
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from vidpipe.errors import SpecError, VidpipeError
from vidpipe.learning.trends import plot_trends, trends
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import accept_shot, use_take
from vidpipe.learning.lessons import LESSON_MAX, one_line
from vidpipe.pipeline.scoring import apply_judgement
from vidpipe.qc.judge import Judgement
from vidpipe.review import data
from vidpipe.review.guard import CSRF_FIELD, Access, csrf_field, protect
from vidpipe.review.urls import compare_path, episode_path
from vidpipe.schema import FAILURE_MODES, Scores
from vidpipe.store import Store

RUBRIC = ("prompt_fidelity", "subject_consistency", "camera_and_motion", "audio_match", "overall")
TEXTS = ("what_worked", "what_to_change", "lesson")
FLASH_KEEP = 200  # invalid submissions remembered for their error page (oldest forgotten first)
NOTE_MAX = 2000  # what worked / what to change: free notes, stored in qc.json and DuckDB only


def collapse(text: str) -> str:
    """Every run of whitespace (newlines, tabs, U+2028…) as one space, control characters dropped: a line
    break typed into the lesson box is harmless; the storage layer (`lessons.one_line`) decides the rest."""
    return " ".join("".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc").split())


def parse_score_form(form: dict[str, Any], modes: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(clean values, errors by field) for a scoring form; nothing is saved while errors remain."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in RUBRIC:
        raw = str(form.get(f, "")).strip()
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 5:
            errors[f] = "choose a score from 1 to 5"
        else:
            values[f] = int(raw)
    bad = [m for m in modes if m not in FAILURE_MODES]
    if bad:
        errors["failure_modes"] = f"unknown failure mode(s): {', '.join(bad)}"
    values["failure_modes"] = [m for m in modes if m in FAILURE_MODES]
    for f in TEXTS:
        text = str(form.get(f, ""))
        values[f] = (collapse(text) if f == "lesson" else text.strip()) or None
    if values["lesson"]:
        try:
            values["lesson"] = one_line(values["lesson"], "lesson", limit=LESSON_MAX)
        except SpecError as exc:
            errors["lesson"] = str(exc)
    for f in ("what_worked", "what_to_change"):
        if values[f] and len(values[f]) > NOTE_MAX:
            errors[f] = f"keep this to {NOTE_MAX} characters"
    return values, errors


def create_app(paths: Paths | None = None, store: Store | None = None, access: Access | None = None) -> FastAPI:
    """The room; `access` says which hosts it answers and whether it wants a token (default: loopback, none)."""
    paths = paths or Paths.from_env()
    store = store or Store(paths.db)
    here = Path(__file__).parent
    templates = Jinja2Templates(directory=str(here / "templates"))
    templates.env.globals.update(rubric=RUBRIC, failure_modes=FAILURE_MODES, episode_path=episode_path,
                                 compare_path=compare_path, csrf_field=csrf_field, lesson_max=LESSON_MAX)
    app = FastAPI(title="vidpipe review room", docs_url=None, redoc_url=None, openapi_url=None)
    protect(app, access or Access())
    flashes: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def media_url(p: Path | None) -> str | None:
        if p is None:
            return None
        try:
            return "/media/" + Path(p).resolve().relative_to(paths.media.resolve()).as_posix()
        except ValueError:  # a file outside the media root is never linked
            return None

    templates.env.globals["media_url"] = media_url

    def page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return page(request, "error.html", {"status": exc.status_code, "message": exc.detail}, exc.status_code)

    @app.exception_handler(data.NotFound)
    async def not_found(request: Request, exc: data.NotFound) -> Response:
        return page(request, "error.html", {"status": 404, "message": str(exc)}, 404)

    @app.exception_handler(VidpipeError)
    async def bad_spec(request: Request, exc: VidpipeError) -> Response:
        # An episode whose file does not parse: say why, as a page (the index lists it too).
        return page(request, "error.html", {"status": 422, "message": str(exc).replace(f"{paths.episodes}/", "")}, 422)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        return page(request, "index.html", {"cards": data.episode_cards(paths, store)})

    @app.get("/episode/{ep}", response_class=HTMLResponse)
    def episode(request: Request, ep: str, flash: str | None = None) -> Response:
        view = data.episode_view(paths, ep, store)
        return page(request, "episode.html", {**view, "form": flashes.get(flash or "", {})})

    @app.get("/episode/{ep}/shot/{shot}", response_class=HTMLResponse)
    def shot_page(ep: str, shot: str) -> Response:
        data.shot_view(paths, ep, shot)  # 404 for a shot that does not exist
        return RedirectResponse(f"{episode_path(ep)}#shot-{shot}", status_code=303)

    @app.post("/episode/{ep}/shot/{shot}/score", response_class=HTMLResponse)
    async def score(request: Request, ep: str, shot: str) -> Response:
        _episode, sv = data.shot_view(paths, ep, shot)
        form = await request.form()
        values, errors = parse_score_form(dict(form), [str(m) for m in form.getlist("failure_modes")])
        take = sv.take
        if take.review_dir is None or take.qc is None:
            errors["clip"] = "this shot has no QC report yet; render it first"
        if errors:
            token = secrets.token_urlsafe(8)
            kept = {k: v for k, v in form.items() if k != CSRF_FIELD}
            flashes[token] = {"shot": shot, "values": {**kept, **values}, "errors": errors}
            while len(flashes) > FLASH_KEEP:
                flashes.popitem(last=False)
            return RedirectResponse(f"{episode_path(ep)}?flash={token}#shot-{shot}", status_code=303)
        _save_score(paths, store, ep, sv, values)
        return RedirectResponse(f"{episode_path(ep)}#shot-{shot}", status_code=303)

    @app.get("/episode/{ep}/shot/{shot}/compare", response_class=HTMLResponse)
    def compare(request: Request, ep: str, shot: str, used: int | None = None) -> Response:
        episode, sv = data.shot_view(paths, ep, shot, store)
        return page(request, "compare.html", {"episode": episode, "shot": sv, "used": used})

    @app.post("/episode/{ep}/shot/{shot}/compare/use", response_class=HTMLResponse)
    async def use_this_take(request: Request, ep: str, shot: str) -> Response:
        """A person puts take N into the cut (same as `vidpipe take EP SHOT N`); the cut follows on its next run."""
        episode, _sv = data.shot_view(paths, ep, shot)
        raw = str((await request.form()).get("take", ""))
        if not (raw.isascii() and raw.isdigit()):
            raise data.NotFound(f"shot {ep}|{shot} has no take {raw!r}")
        try:
            use_take(ShotRef(paths, episode, episode.shot(shot)), int(raw), by=f"{getpass.getuser()} (review room)",
                     store=store)
        except SpecError as exc:
            raise data.NotFound(str(exc)) from None
        return RedirectResponse(f"{compare_path(ep, shot)}?used={int(raw)}", status_code=303)

    @app.post("/episode/{ep}/shot/{shot}/accept", response_class=HTMLResponse)
    async def accept(request: Request, ep: str, shot: str) -> Response:
        """A person accepts a clip that failed QC, with a reason (same as `vidpipe accept EP SHOT --reason`)."""
        episode, _sv = data.shot_view(paths, ep, shot)
        reason = str((await request.form()).get("reason", ""))
        try:
            accept_shot(ShotRef(paths, episode, episode.shot(shot)), reason, by=f"{getpass.getuser()} (review room)",
                        store=store)
        except SpecError as exc:
            token = secrets.token_urlsafe(8)
            flashes[token] = {"shot": shot, "values": {"reason": reason}, "errors": {"reason": str(exc)}}
            return RedirectResponse(f"{episode_path(ep)}?flash={token}#shot-{shot}", status_code=303)
        return RedirectResponse(f"{episode_path(ep)}#shot-{shot}", status_code=303)

    @app.get("/trends", response_class=HTMLResponse)
    def trends_page(request: Request) -> Response:
        rows = trends(store, by=("model", "category"))
        if rows:
            plot_trends(rows, paths.media / "_trends.png")
        return page(request, "trends.html", {"rows": rows})

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        f = here / "static" / name
        if "/" in name or not f.is_file():
            return Response("not found", status_code=404)
        return FileResponse(f)

    @app.get("/media/{rel:path}")
    def media(rel: str) -> Response:
        try:
            return FileResponse(data.safe_media_path(paths.media, rel))
        except SpecError:
            return Response("not found", status_code=404)

    return app


def _save_score(paths: Paths, store: Store, ep: str, sv: data.ShotView, values: dict[str, Any]) -> None:
    """Record a person's judgement with the clip's real model (from the shot's record, not the QC file)."""
    take = sv.take
    assert take.review_dir is not None
    context: dict[str, Any] = {"episode": ep, "shot": sv.id, "features": {"category": sv.category or "general"}}
    if take.model:
        context["model"] = take.model
    episode = data.load(paths, ep)
    ref = ShotRef(paths, episode, episode.shot(sv.id))
    judgement = Judgement(scores=Scores(**{f: values[f] for f in RUBRIC}), failure_modes=values["failure_modes"],
                          what_worked=values["what_worked"], what_to_change=values["what_to_change"],
                          lesson=values["lesson"])
    apply_judgement(take.review_dir / "qc.json", judgement, judge="human", store=store, lessons_path=paths.lessons,
                    context=context, ref=ref, by=f"{getpass.getuser()} (review room)")
