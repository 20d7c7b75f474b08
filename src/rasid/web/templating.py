"""Jinja2 environment shared by every context's pages, and the one ``render`` helper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from rasid import __version__
from rasid.core import dates, i18n
from rasid.web.deps import RequestAuth, expected_csrf

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Each context keeps its pages in <context>/templates/<context>/…
TEMPLATE_DIRS = [
    PACKAGE_DIR / name / "templates"
    for name in (
        "web",
        "identity",
        "audit",
        "registry",
        "intel",
        "maritime",
        "training",
        "logistics",
    )
]


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # gettext msgid
    permission: str | None = None
    icon: str = ""


# Contexts append their entries in the application factory.
NAV: list[NavItem] = []


def _allowed(actor: Any, item: NavItem) -> bool:
    if item.permission is None:
        return True
    return any(actor.can(p) for p in item.permission.split("|"))


def labeller(labels: dict[str, str]) -> Any:
    """A template function translating a stored key by its label (the key when unknown)."""

    def label(key: str) -> str:
        return i18n.gettext(labels.get(key) or key or "")

    return label


def _static_url(path: str) -> str:
    return f"/static/{path}?v={__version__}"


def _fmt_dt(value: datetime | None) -> Markup:
    return dates.time_element(value, i18n.get_language())


def _fmt_date(value: date | None) -> str:
    return "—" if value is None else dates.format_date(value, i18n.get_language())


def _role_label(role: str) -> str:
    from rasid.core.actor import ROLE_LABELS

    return i18n.gettext(ROLE_LABELS.get(role, role))


def _kind_label(kind: str) -> str:
    from rasid.identity.models import ORG_KIND_LABELS

    return i18n.gettext(ORG_KIND_LABELS.get(kind, kind))


def _country_name(code: str) -> str:
    from babel import Locale

    name = Locale.parse(i18n.get_language()).territories.get(code.upper())
    return f"{name} ({code})" if name else code


def _today() -> date:
    return datetime.now(dates.LOCAL_TZ).date()


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(p) for p in TEMPLATE_DIRS if p.exists()]),
        autoescape=select_autoescape(("html", "xml")),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static"] = _static_url
    env.globals["version"] = __version__
    env.globals["role_label"] = _role_label
    env.globals["kind_label"] = _kind_label
    env.globals["country_name"] = _country_name
    env.globals["today"] = _today
    env.filters["dt"] = _fmt_dt
    env.filters["d"] = _fmt_date
    return env


def add_template_dir(path: Path) -> None:
    """Let a context that lives outside the defaults contribute templates."""
    env = environment()
    loader = env.loader
    assert isinstance(loader, FileSystemLoader)
    if str(path) not in loader.searchpath:
        loader.searchpath.append(str(path))


def request_language(request: Request) -> str:
    """The signed-in user's language, else the language cookie, else Arabic."""
    auth: RequestAuth | None = getattr(request.state, "auth", None)
    if auth is not None and auth.user is not None:
        return auth.user.language
    from rasid.web.deps import LANG_COOKIE

    cookie = request.cookies.get(LANG_COOKIE, "")
    return cookie if cookie in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def base_context(request: Request) -> dict[str, Any]:
    auth: RequestAuth | None = getattr(request.state, "auth", None)
    language = request_language(request)
    # Dependencies run in worker threads; set the language where the page renders.
    i18n.set_language(language)
    actor = auth.actor if auth else None
    user = auth.user if auth and auth.signed_in else None
    nav = [item for item in NAV if user is not None and actor is not None and _allowed(actor, item)]
    return {
        "request": request,
        "lang": language,
        "dir": "rtl" if i18n.is_rtl(language) else "ltr",
        "other_lang": "en" if language == "ar" else "ar",
        "user": user,
        "actor": actor if user else None,
        "csrf_token": expected_csrf(request, auth) if auth else "",
        "nav": nav,
        "path": request.url.path,
    }


def render_string(request: Request, name: str, context: dict[str, Any]) -> str:
    """A template rendered in the request's language, for a document (PDF) rather than a page."""
    ctx = base_context(request)
    ctx.update(context)
    return environment().get_template(name).render(ctx)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = base_context(request)
    if context:
        ctx.update(context)
    error_exc = ctx.pop("error_exc", None)
    if error_exc is not None:
        ctx["error"] = error_exc.translated(i18n.gettext)
    html = environment().get_template(name).render(ctx)
    response = HTMLResponse(html, status_code=status_code)
    new_cookie = getattr(request.state, "new_csrf_cookie", None)
    if new_cookie:
        from rasid.web.deps import CSRF_COOKIE, settings_of

        response.set_cookie(
            CSRF_COOKIE,
            new_cookie,
            httponly=True,
            samesite="strict",
            secure=settings_of(request).secure_cookies or request.url.scheme == "https",
            path="/",
        )
    return response
