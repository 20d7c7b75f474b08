"""Pages for identity: sign-in steps, profile, and administration."""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from rasid.core import i18n
from rasid.core.actor import ROLES
from rasid.core.errors import RasidError, TooManyAttempts
from rasid.identity import security, service
from rasid.identity.models import ORG_KINDS, User
from rasid.web.deps import (
    DB,
    SESSION_COOKIE,
    Auth,
    LoginRedirect,
    PageActor,
    safe_next,
    settings_of,
)
from rasid.web.templating import render

router = APIRouter(include_in_schema=False)


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _form_error(request: Request, template: str, ctx: dict[str, Any], exc: RasidError) -> Response:
    ctx = dict(ctx)
    ctx["error_exc"] = exc  # translated by render(), once the page language is set
    ctx["error_field"] = exc.field
    return render(request, template, ctx, status_code=exc.status)


# --- sign in / out -----------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, auth: Auth, next: str = "/") -> Response:
    if auth.signed_in:
        return _redirect(safe_next(next))
    return render(request, "identity/login.html", {"next": safe_next(next), "username": ""})


@router.post("/login")
def login_submit(
    request: Request,
    db: DB,
    auth: Auth,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    settings = settings_of(request)
    address = request.client.host if request.client else None
    outcome = service.authenticate(
        db, settings, username, password, address=address, request_id=auth.actor.request_id
    )
    ctx = {"next": safe_next(next), "username": username}
    if not outcome.ok or outcome.user is None:
        if outcome.reason == "locked":
            error = TooManyAttempts(
                "Too many failed attempts. Try again in %(minutes)s minutes.",
                retry_after_seconds=outcome.retry_after_seconds,
                minutes=(outcome.retry_after_seconds + 59) // 60,
            )
            response = _form_error(request, "identity/login.html", ctx, error)
            response.headers["Retry-After"] = str(outcome.retry_after_seconds)
            return response
        message = (
            i18n.N_("This account is disabled.")
            if outcome.reason == "disabled"
            else i18n.N_("Wrong username or password.")
        )
        return _form_error(
            request, "identity/login.html", ctx, RasidError(message, code="login_failed")
        )
    if auth.session is not None:
        service.end_session(db, auth.actor, auth.session.id, reason="replaced")
    new = service.start_session(
        db,
        settings,
        outcome.user,
        mfa_passed=not outcome.mfa_required,
        address=address,
        user_agent=request.headers.get("user-agent"),
        request_id=auth.actor.request_id,
    )
    target = "/login/mfa?next=" + safe_next(next) if outcome.mfa_required else safe_next(next)
    if not outcome.mfa_required and service.mfa_enrolment_required(outcome.user):
        target = "/profile/mfa"
    response = _redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        new.cookie_value,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )
    return response


def _pending(auth: Any) -> None:
    if auth.user is None:
        raise LoginRedirect("/login")
    if not auth.mfa_pending:
        raise LoginRedirect("/")


@router.get("/login/mfa")
def mfa_page(request: Request, auth: Auth, next: str = "/") -> Response:
    _pending(auth)
    return render(request, "identity/mfa.html", {"next": safe_next(next)})


@router.post("/login/mfa")
def mfa_submit(
    request: Request, db: DB, auth: Auth, code: str = Form(""), next: str = Form("/")
) -> Response:
    _pending(auth)
    assert auth.session is not None
    ok = service.complete_mfa(
        db,
        settings_of(request),
        auth.session.id,
        code,
        address=auth.actor.address,
        request_id=auth.actor.request_id,
    )
    if not ok:
        return _form_error(
            request,
            "identity/mfa.html",
            {"next": safe_next(next)},
            RasidError(
                i18n.N_("The code is wrong or has expired; try the current code."), field="code"
            ),
        )
    return _redirect(safe_next(next))


@router.post("/logout")
def logout(request: Request, db: DB, auth: Auth) -> Response:
    if auth.session is not None:
        service.end_session(db, auth.actor, auth.session.id, reason="logout")
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- profile ------------------------------------------------------------------------------


def _profile_ctx(db: DB, actor: Any, **extra: Any) -> dict[str, Any]:
    user = service.get_user(db, actor.username)
    return {
        "me": user,
        "sessions": service.list_sessions(db, user.id),
        "tokens": service.list_tokens(db, actor),
        "current_session_id": actor.session_id,
        "mfa_mandatory": bool(service.MFA_REQUIRED_ROLES & set(user.roles)),
        **extra,
    }


@router.get("/profile")
def profile(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "identity/profile.html", _profile_ctx(db, actor))


@router.post("/profile/password")
def profile_password(
    request: Request,
    db: DB,
    actor: PageActor,
    current_password: str = Form(""),
    new_password: str = Form(""),
    confirm_password: str = Form(""),
) -> Response:
    try:
        if new_password != confirm_password:
            raise RasidError(i18n.N_("The two new passwords differ."), field="confirm_password")
        service.set_password(
            db, actor, actor.username, new_password, current_password=current_password
        )
    except RasidError as exc:
        db.rollback()
        return _form_error(request, "identity/profile.html", _profile_ctx(db, actor), exc)
    return render(
        request,
        "identity/profile.html",
        _profile_ctx(db, actor, notice=i18n.N_("Password changed.")),
    )


@router.post("/profile/sessions/{session_id}/end")
def profile_end_session(session_id: int, db: DB, actor: PageActor) -> Response:
    service.end_session(db, actor, session_id, reason="ended_by_user")
    if session_id == actor.session_id:
        response = _redirect("/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return _redirect("/profile#sessions")


@router.post("/profile/tokens")
def profile_create_token(
    request: Request, db: DB, actor: PageActor, name: str = Form(""), expires_days: int = Form(90)
) -> Response:
    try:
        new = service.create_token(db, actor, actor.username, name=name, expires_days=expires_days)
    except RasidError as exc:
        db.rollback()
        return _form_error(request, "identity/profile.html", _profile_ctx(db, actor), exc)
    return render(
        request, "identity/profile.html", _profile_ctx(db, actor, new_token=new.plaintext)
    )


@router.post("/profile/tokens/{token_id}/revoke")
def profile_revoke_token(token_id: int, db: DB, actor: PageActor) -> Response:
    service.revoke_token(db, actor, token_id)
    return _redirect("/profile#tokens")


def _qr_svg(uri: str) -> Markup:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buf = io.BytesIO()
    image.save(buf)
    svg = buf.getvalue().decode("utf-8")
    svg = svg[svg.index("<svg") :]  # drop the XML declaration for inline use
    return Markup(svg)  # noqa: S704 - generated by qrcode from our own URI


@router.get("/profile/mfa")
def mfa_enrol_page(request: Request, db: DB, actor: PageActor) -> Response:
    user = service.get_user(db, actor.username)
    if user.mfa_enabled:
        return _redirect("/profile")
    secret = user.mfa_secret or service.begin_mfa_enrolment(db, actor)
    return render(request, "identity/mfa_enrol.html", _enrol_ctx(user, secret))


def _enrol_ctx(user: User, secret: str) -> dict[str, Any]:
    uri = security.totp_uri(secret, user.username)
    return {
        "secret": secret,
        "qr": _qr_svg(uri),
        "mandatory": service.mfa_enrolment_required(user),
    }


@router.post("/profile/mfa")
def mfa_enrol_submit(request: Request, db: DB, actor: PageActor, code: str = Form("")) -> Response:
    try:
        service.confirm_mfa_enrolment(db, actor, code)
    except RasidError as exc:
        user = service.get_user(db, actor.username)
        return _form_error(
            request, "identity/mfa_enrol.html", _enrol_ctx(user, user.mfa_secret or ""), exc
        )
    return _redirect("/profile#mfa")


@router.post("/profile/mfa/disable")
def mfa_disable(request: Request, db: DB, actor: PageActor) -> Response:
    try:
        service.disable_mfa(db, actor, actor.username)
    except RasidError as exc:
        db.rollback()
        return _form_error(request, "identity/profile.html", _profile_ctx(db, actor), exc)
    return _redirect("/profile#mfa")


# --- administration: organisations ---------------------------------------------------------


def _orgs_ctx(db: DB, **extra: Any) -> dict[str, Any]:
    return {"orgs": service.list_orgs(db), "kinds": ORG_KINDS, "form": {}, **extra}


@router.get("/admin/organisations")
def orgs_page(request: Request, db: DB, actor: PageActor) -> Response:
    service.require(actor, "administer")
    return render(request, "identity/orgs.html", _orgs_ctx(db))


@router.post("/admin/organisations")
def orgs_create(
    request: Request,
    db: DB,
    actor: PageActor,
    slug: str = Form(""),
    name_ar: str = Form(""),
    name_en: str = Form(""),
    country: str = Form(""),
    kind: str = Form("agency"),
    in_community: bool = Form(False),
) -> Response:
    form = {
        "slug": slug,
        "name_ar": name_ar,
        "name_en": name_en,
        "country": country,
        "kind": kind,
        "in_community": in_community,
    }
    try:
        service.create_org(
            db,
            actor,
            slug=slug,
            name_ar=name_ar,
            name_en=name_en,
            country=country,
            kind=kind,
            in_community=in_community,
        )
    except RasidError as exc:
        db.rollback()
        return _form_error(request, "identity/orgs.html", _orgs_ctx(db, form=form), exc)
    return _redirect("/admin/organisations")


@router.get("/admin/organisations/{slug}")
def org_edit_page(slug: str, request: Request, db: DB, actor: PageActor) -> Response:
    service.require(actor, "administer")
    org = service.get_org(db, slug)
    return render(request, "identity/org_edit.html", {"org": org, "kinds": ORG_KINDS})


@router.post("/admin/organisations/{slug}")
def org_edit_submit(
    slug: str,
    request: Request,
    db: DB,
    actor: PageActor,
    name_ar: str = Form(""),
    name_en: str = Form(""),
    country: str = Form(""),
    kind: str = Form("agency"),
    in_community: bool = Form(False),
    active: bool = Form(False),
) -> Response:
    try:
        service.update_org(
            db,
            actor,
            slug,
            name_ar=name_ar,
            name_en=name_en,
            country=country,
            kind=kind,
            in_community=in_community,
            active=active,
        )
    except RasidError as exc:
        db.rollback()
        return _form_error(
            request,
            "identity/org_edit.html",
            {"org": service.get_org(db, slug), "kinds": ORG_KINDS},
            exc,
        )
    return _redirect("/admin/organisations")


# --- administration: users --------------------------------------------------------------------


def _users_ctx(db: DB, actor: Any, **extra: Any) -> dict[str, Any]:
    return {
        "users": service.list_users(db, actor),
        "orgs": service.list_orgs(db),
        "roles": ROLES,
        "form": {"roles": [], "language": "ar"},
        **extra,
    }


@router.get("/admin/users")
def users_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "identity/users.html", _users_ctx(db, actor))


@router.post("/admin/users")
def users_create(
    request: Request,
    db: DB,
    actor: PageActor,
    username: str = Form(""),
    org: str = Form(""),
    roles: list[str] = Form([]),
    password: str = Form(""),
    display_name_ar: str = Form(""),
    display_name_en: str = Form(""),
    language: str = Form("ar"),
) -> Response:
    form = {
        "username": username,
        "org": org,
        "roles": roles,
        "display_name_ar": display_name_ar,
        "display_name_en": display_name_en,
        "language": language,
    }
    try:
        service.create_user(
            db,
            actor,
            username=username,
            org_slug=org,
            roles=roles,
            password=password,
            display_name_ar=display_name_ar,
            display_name_en=display_name_en,
            language=language,
        )
    except RasidError as exc:
        db.rollback()
        return _form_error(request, "identity/users.html", _users_ctx(db, actor, form=form), exc)
    return _redirect("/admin/users")


def _user_ctx(db: DB, actor: Any, username: str, **extra: Any) -> dict[str, Any]:
    service.require(actor, "administer")
    target = service.get_user(db, username)
    return {
        "target": target,
        "orgs": service.list_orgs(db),
        "roles": ROLES,
        "tokens": service.list_tokens(db, actor, user_id=target.id),
        **extra,
    }


@router.get("/admin/users/{username}")
def user_page(username: str, request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "identity/user_edit.html", _user_ctx(db, actor, username))


@router.post("/admin/users/{username}")
def user_update(
    username: str,
    request: Request,
    db: DB,
    actor: PageActor,
    org: str = Form(""),
    roles: list[str] = Form([]),
    display_name_ar: str = Form(""),
    display_name_en: str = Form(""),
) -> Response:
    try:
        service.update_user(
            db,
            actor,
            username,
            org_slug=org,
            roles=roles,
            display_name_ar=display_name_ar,
            display_name_en=display_name_en,
        )
    except RasidError as exc:
        db.rollback()
        return _form_error(request, "identity/user_edit.html", _user_ctx(db, actor, username), exc)
    return _redirect(f"/admin/users/{username}")


@router.post("/admin/users/{username}/active")
def user_set_active(
    username: str, request: Request, db: DB, actor: PageActor, active: bool = Form(False)
) -> Response:
    try:
        service.update_user(db, actor, username, active=active)
    except RasidError as exc:
        db.rollback()
        return _form_error(request, "identity/user_edit.html", _user_ctx(db, actor, username), exc)
    return _redirect(f"/admin/users/{username}")


@router.post("/admin/users/{username}/password")
def user_set_password(
    username: str, request: Request, db: DB, actor: PageActor, password: str = Form("")
) -> Response:
    try:
        service.set_password(db, actor, username, password)
    except RasidError as exc:
        db.rollback()
        return _form_error(request, "identity/user_edit.html", _user_ctx(db, actor, username), exc)
    return render(
        request,
        "identity/user_edit.html",
        _user_ctx(db, actor, username, notice=i18n.N_("Password changed.")),
    )


@router.post("/admin/users/{username}/mfa-reset")
def user_reset_mfa(username: str, db: DB, actor: PageActor) -> Response:
    service.disable_mfa(db, actor, username)
    return _redirect(f"/admin/users/{username}")


# --- administration: API tokens --------------------------------------------------------------


def _tokens_ctx(db: DB, actor: Any, **extra: Any) -> dict[str, Any]:
    tokens = service.list_tokens(db, actor, all_users=True)
    users = {u.id: u for u in service.list_users(db, actor)}
    return {"tokens": tokens, "users": users, "form": {}, **extra}


@router.get("/admin/tokens")
def tokens_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "identity/tokens.html", _tokens_ctx(db, actor))


@router.post("/admin/tokens")
def tokens_create(
    request: Request,
    db: DB,
    actor: PageActor,
    username: str = Form(""),
    name: str = Form(""),
    expires_days: int = Form(90),
) -> Response:
    try:
        new = service.create_token(db, actor, username, name=name, expires_days=expires_days)
    except RasidError as exc:
        db.rollback()
        form = {"username": username, "name": name, "expires_days": expires_days}
        return _form_error(request, "identity/tokens.html", _tokens_ctx(db, actor, form=form), exc)
    return render(
        request,
        "identity/tokens.html",
        _tokens_ctx(db, actor, new_token=new.plaintext, new_token_user=username),
    )


@router.post("/admin/tokens/{token_id}/revoke")
def tokens_revoke(token_id: int, db: DB, actor: PageActor) -> Response:
    service.revoke_token(db, actor, token_id)
    return _redirect("/admin/tokens")
