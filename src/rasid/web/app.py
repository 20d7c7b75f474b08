"""The FastAPI application: pages, JSON API, static assets, error handling."""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rasid import __version__
from rasid.core import i18n
from rasid.core.db import make_engine, make_session_factory
from rasid.core.errors import RasidError, TooManyAttempts
from rasid.core.settings import Settings, get_settings
from rasid.web.deps import LoginRedirect, csrf_guard
from rasid.web.templating import NAV, NavItem, render

log = logging.getLogger("rasid.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class RequestContextMiddleware:
    """Request id (``X-Request-ID``), interface language and security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                rid = candidate if _REQUEST_ID_RE.match(candidate) else ""
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/openapi", "/taxii2/")) or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def _error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    field: str | None,
    translated: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if wants_json(request):
        return JSONResponse(
            {"error": {"code": code, "message": message, "field": field}},
            status_code=status,
            headers=headers,
        )
    response = render(
        request,
        "error.html",
        {"status": status, "message": translated or message, "code": code},
        status_code=status,
    )
    if headers:
        response.headers.update(headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRedirect)
    async def _login_redirect(request: Request, exc: LoginRedirect) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": exc.location})
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(RasidError)
    async def _rasid_error(request: Request, exc: RasidError) -> Response:
        headers = None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        from rasid.web.templating import request_language

        i18n.set_language(request_language(request))
        return _error_response(
            request,
            exc.status,
            exc.code,
            exc.message,
            exc.field,
            exc.translated(i18n.gettext),
            headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {
            404: ("not_found", i18n.N_("This page does not exist.")),
            405: ("method_not_allowed", i18n.N_("This action is not allowed here.")),
        }
        code, message = messages.get(exc.status_code, ("http_error", str(exc.detail)))
        from rasid.web.templating import request_language

        i18n.set_language(request_language(request))
        return _error_response(
            request,
            exc.status_code,
            code,
            message,
            None,
            i18n.gettext(message),
            getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form")]
        field = ".".join(loc) or None
        message = (
            f"{field}: {first.get('msg', 'invalid value')}"
            if field
            else str(first.get("msg", "invalid"))
        )
        return _error_response(request, 422, "invalid", message, field)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        rid = getattr(request.state, "request_id", "")
        log.exception("unhandled error, request %s", rid)
        message = i18n.N_(
            "Something went wrong on the server. The error was logged with reference %(ref)s."
        )
        # This handler runs outside the request middleware: add the reference header here.
        headers = {"X-Request-ID": rid} | {k.decode(): v.decode() for k, v in SECURITY_HEADERS}
        from rasid.web.templating import request_language

        i18n.set_language(request_language(request))
        return _error_response(
            request,
            500,
            "internal_error",
            message % {"ref": rid},
            None,
            i18n.gettext(message) % {"ref": rid},
            headers,
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Rasid API",
        version=__version__,
        description=(
            "Rasid (راصد) JSON API. Authenticate with `Authorization: Bearer <token>` "
            "(create one with `rasid tokens create`). Errors are "
            '`{"error": {"code", "message", "field"}}`.'
        ),
        dependencies=[Depends(csrf_guard)],
        docs_url="/api/docs",
        redoc_url=None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    from rasid.audit import api as audit_api
    from rasid.audit import views as audit_views
    from rasid.identity import api as identity_api
    from rasid.identity import views as identity_views
    from rasid.intel import api as intel_api
    from rasid.intel import taxii as intel_taxii
    from rasid.intel import views as intel_views
    from rasid.logistics import api as logistics_api
    from rasid.logistics import views as logistics_views
    from rasid.maritime import api as maritime_api
    from rasid.maritime import views as maritime_views
    from rasid.registry import api as registry_api
    from rasid.registry import views as registry_views
    from rasid.training import api as training_api
    from rasid.training import views as training_views
    from rasid.web import views as web_views

    NAV.clear()
    NAV.extend(
        [
            NavItem("/", i18n.N_("Dashboard"), None, "home"),
            NavItem("/registry/search", i18n.N_("Search"), "read", "search"),
            NavItem("/registry/incidents", i18n.N_("Incidents"), "read", "incident"),
            NavItem("/registry/entities", i18n.N_("Records"), "read", "records"),
            NavItem("/registry/screen", i18n.N_("Screen a list"), "read", "screen"),
            NavItem("/registry/duplicates", i18n.N_("Possible duplicates"), "write", "duplicates"),
            NavItem("/intel/reports", i18n.N_("Reports"), "read", "report"),
            NavItem("/intel/inbox", i18n.N_("Inbox"), "read", "inbox"),
            NavItem("/intel/rfis", i18n.N_("RFIs"), "read", "rfi"),
            NavItem("/intel/agreements", i18n.N_("Sharing agreements"), "administer", "agreement"),
            NavItem("/intel/peers", i18n.N_("Partner servers"), "release|administer", "peer"),
            NavItem("/maritime/map", i18n.N_("Live map"), "read", "map"),
            NavItem("/maritime/alerts", i18n.N_("Maritime alerts"), "read", "alert"),
            NavItem("/maritime/quarantine", i18n.N_("Feeds and quarantine"), "read", "feed"),
            NavItem("/maritime/advisories", i18n.N_("Advisories"), "read", "advisory"),
            NavItem("/maritime/zones", i18n.N_("Zones"), "read", "zone"),
            NavItem("/training/sessions", i18n.N_("Training"), "read", "training"),
            NavItem("/training/personnel", i18n.N_("Personnel"), "read", "personnel"),
            NavItem("/training/units", i18n.N_("Units and vetting"), "read", "unit"),
            NavItem("/training/due", i18n.N_("Training due lists"), "read", "due"),
            NavItem("/logistics/equipment", i18n.N_("Equipment"), "read", "equipment"),
            NavItem("/logistics/checks", i18n.N_("End-use checks"), "read", "check"),
            NavItem("/logistics/requests", i18n.N_("Support requests"), "read", "support"),
            NavItem("/admin/organisations", i18n.N_("Organisations"), "administer", "org"),
            NavItem("/admin/users", i18n.N_("Users"), "administer", "users"),
            NavItem("/admin/tokens", i18n.N_("API tokens"), "administer", "key"),
            NavItem("/audit", i18n.N_("Audit log"), "audit|administer", "audit"),
        ]
    )
    for router in (
        web_views.router,
        identity_views.router,
        audit_views.router,
        registry_views.router,
        intel_views.router,
        maritime_views.router,
        training_views.router,
        logistics_views.router,
        identity_api.router,
        audit_api.router,
        registry_api.router,
        intel_api.router,
        intel_taxii.router,
        maritime_api.router,
        training_api.router,
        logistics_api.router,
    ):
        app.include_router(router)
    return app
