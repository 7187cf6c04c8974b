"""The review room's web app (FastAPI + Jinja, autoescaped). Serves only files under the media root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from vidpipe.errors import SpecError, VidpipeError
from vidpipe.paths import Paths
from vidpipe.review.data import episode_view, safe_media_path
from vidpipe.schema import FAILURE_MODES, Scores
from vidpipe.store import Store

RUBRIC = ("prompt_fidelity", "subject_consistency", "camera_and_motion", "audio_match", "overall")
TEXTS = ("what_worked", "what_to_change", "lesson")


def parse_score_form(form: dict[str, Any], modes: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(clean values, errors by field) for a scoring form; nothing is saved while errors remain."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in RUBRIC:
        raw = str(form.get(f, "")).strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 5:
            errors[f] = "choose a score from 1 to 5"
        else:
            values[f] = int(raw)
    bad = [m for m in modes if m not in FAILURE_MODES]
    if bad:
        errors["failure_modes"] = f"unknown failure mode(s): {', '.join(bad)}"
    values["failure_modes"] = [m for m in modes if m in FAILURE_MODES]
    for f in TEXTS:
        values[f] = str(form.get(f, "")).strip() or None
    return values, errors


def create_app(paths: Paths | None = None, store: Store | None = None) -> FastAPI:
    paths = paths or Paths.from_env()
    store = store or Store(paths.db)
    templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    templates.env.globals.update(rubric=RUBRIC, failure_modes=FAILURE_MODES)
    app = FastAPI(title="vidpipe review room", docs_url=None, redoc_url=None)

    def media_url(p: Path | None) -> str | None:
        if p is None:
            return None
        return "/media/" + Path(p).resolve().relative_to(paths.media.resolve()).as_posix()

    templates.env.globals["media_url"] = media_url

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        from vidpipe.episode import list_episodes

        return templates.TemplateResponse(request, "index.html", {"episodes": list_episodes(paths.episodes)})

    def render_episode(request: Request, ep: str, *, form: dict[str, Any] | None = None, status: int = 200) -> Response:
        try:
            view = episode_view(paths, ep)
        except VidpipeError as exc:
            return HTMLResponse(f"<h1>Episode not found</h1><p>{_esc(str(exc))}</p>", status_code=404)
        return templates.TemplateResponse(request, "episode.html", {**view, "form": form or {}}, status_code=status)

    @app.get("/episode/{ep}", response_class=HTMLResponse)
    def episode(request: Request, ep: str) -> Response:
        return render_episode(request, ep)

    @app.post("/episode/{ep}/shot/{shot}/score", response_class=HTMLResponse)
    async def score(request: Request, ep: str, shot: str) -> Response:
        from vidpipe.qc.judge import score_clip

        form = await request.form()
        values, errors = parse_score_form(dict(form), list(form.getlist("failure_modes")))
        review = paths.shot_media(ep, shot) / "review" / f"{ep}-{shot}" / "qc.json"
        if not review.exists():
            errors["clip"] = "this shot has no QC report yet; render it first"
        if errors:
            return render_episode(request, ep, form={"shot": shot, "values": {**dict(form), **values},
                                                     "errors": errors}, status=400)
        scores = Scores(**{f: values[f] for f in RUBRIC})
        score_clip(review, scores, failure_modes=tuple(values["failure_modes"]), what_worked=values["what_worked"],
                   what_to_change=values["what_to_change"], lesson=values["lesson"], store=store,
                   lessons_path=paths.lessons)
        return RedirectResponse(f"/episode/{ep}#shot-{shot}", status_code=303)

    @app.get("/episode/{ep}/shot/{shot}/compare", response_class=HTMLResponse)
    def compare(request: Request, ep: str, shot: str) -> Response:
        view = episode_view(paths, ep)
        sv = next((s for s in view["shots"] if s.id == shot), None)
        if sv is None:
            return HTMLResponse("<h1>Shot not found</h1>", status_code=404)
        return templates.TemplateResponse(request, "compare.html", {"episode": view["episode"], "shot": sv})

    @app.get("/trends", response_class=HTMLResponse)
    def trends_page(request: Request) -> Response:
        from vidpipe.learning.trends import plot_trends, trends

        rows = trends(store, by=("model", "category"))
        plot_trends(rows, paths.media / "_trends.png")
        return templates.TemplateResponse(request, "trends.html", {"rows": rows})

    @app.get("/media/{rel:path}")
    def media(rel: str) -> Response:
        try:
            return FileResponse(safe_media_path(paths.media, rel))
        except SpecError:
            return Response("not found", status_code=404)

    return app


def _esc(text: str) -> str:
    import html

    return html.escape(text)
