"""Shell pages: dashboard, language switch, health check."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from rasid.core import i18n
from rasid.core.errors import ValidationFailed
from rasid.identity import service as identity
from rasid.web.dashboard import figures_for
from rasid.web.deps import DB, LANG_COOKIE, Auth, PageActor, safe_next, settings_of
from rasid.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "dashboard.html", {"figures": figures_for(db, actor)})


@router.post("/language")
def switch_language(
    request: Request, db: DB, auth: Auth, language: str = Form(...), next: str = Form("/")
) -> Response:
    if language not in i18n.LANGUAGES:
        raise ValidationFailed("The language must be ar or en.", field="language")
    if auth.user is not None:
        identity.set_language(db, auth.actor, language)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).secure_cookies or request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/healthz")
def healthz(db: DB) -> Response:
    db.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})
