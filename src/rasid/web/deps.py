"""Request-scoped dependencies: the database unit of work, who is asking, CSRF.

Every route gets its database session from :func:`get_db` (one transaction per
request, committed before the response is sent, rolled back on any error) and its
caller from :func:`get_auth`. Pages use :func:`page_actor`, JSON routes
:func:`api_actor`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit import service as audit
from rasid.core.actor import Actor, anonymous_actor
from rasid.core.errors import AuthenticationRequired, Forbidden, RasidError
from rasid.core.settings import Settings
from rasid.identity import security
from rasid.identity import service as identity
from rasid.identity.service import SessionView, UserView

SESSION_COOKIE = "rasid_session"
CSRF_COOKIE = "rasid_csrf"
LANG_COOKIE = "rasid_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRedirect(Exception):
    """A page needs a signed-in (or fully signed-in) user: send the browser elsewhere."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "")) or "none"


def get_db(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    db = factory()
    try:
        yield db
        db.commit()
    except BaseException as exc:
        db.rollback()
        if isinstance(exc, RasidError) and exc.audit:
            _audit_refusal(request, factory, exc)
        raise
    finally:
        db.close()


def _audit_refusal(request: Request, factory: sessionmaker[Session], exc: RasidError) -> None:
    """Write the audit entry of a refused access in its own transaction."""
    auth: RequestAuth | None = getattr(request.state, "auth", None)
    actor = (
        auth.actor
        if auth
        else anonymous_actor(address=client_address(request), request_id=request_id(request))
    )
    info: dict[str, Any] = dict(exc.audit or {})
    db = factory()
    try:
        audit.record(
            db,
            actor,
            str(info.pop("action", "access.refused")),
            object_type=info.get("object_type"),
            object_id=info.get("object_id"),
            outcome=str(info.get("outcome", "refused")),
            detail={"path": request.url.path, "method": request.method, "reason": exc.message},
        )
        db.commit()
    finally:
        db.close()


DB = Annotated[Session, Depends(get_db, scope="function")]
T = TypeVar("T")


def guarded(request: Request, db: Session, work: Callable[[], T]) -> T:
    """Run one change of a JSON route; on a refusal roll it back, audit it once (in its own
    transaction) and re-raise, so the error is rendered and nothing is half-saved."""
    try:
        return work()
    except RasidError as exc:
        db.rollback()
        _audit_refusal(request, request.app.state.session_factory, exc)
        exc.audit = None  # audited here; the unit of work must not record it a second time
        raise


@dataclass
class RequestAuth:
    """What the request proved about its caller."""

    actor: Actor
    user: UserView | None = None
    session: SessionView | None = None
    token_id: int | None = None
    mfa_pending: bool = False
    bad_credentials: bool = False

    @property
    def signed_in(self) -> bool:
        return self.user is not None and not self.mfa_pending

    @property
    def via_cookie(self) -> bool:
        return self.session is not None


def _bearer_or_basic(request: Request) -> tuple[str | None, str] | None:
    """(username or None, secret) from ``Authorization: Bearer`` or ``Basic``."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return None, value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        username, _, secret = decoded.partition(":")
        return username.strip().lower(), secret
    if header:
        return "", ""
    return None


def get_auth(request: Request, db: DB) -> RequestAuth:
    cached: RequestAuth | None = getattr(request.state, "auth", None)
    if cached is not None:
        return cached
    settings = settings_of(request)
    address = client_address(request)
    rid = request_id(request)
    auth = RequestAuth(actor=anonymous_actor(address=address, request_id=rid))
    credentials = _bearer_or_basic(request)
    if credentials is not None:
        basic_user, secret = credentials
        found = identity.resolve_token(db, secret) if secret else None
        if found is not None and basic_user is not None and found[1].username != basic_user:
            found = None
        if found is None:
            auth.bad_credentials = True
        else:
            token, user = found
            auth = RequestAuth(
                actor=identity.actor_for(
                    user, via="token", token_id=token.id, address=address, request_id=rid
                ),
                user=UserView.of(user),
                token_id=token.id,
            )
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        resolved = identity.resolve_session(db, settings, cookie) if cookie else None
        if resolved is not None:
            auth = RequestAuth(
                actor=identity.actor_for(
                    resolved.user,
                    via="session",
                    session_id=resolved.session.id,
                    address=address,
                    request_id=rid,
                ),
                user=UserView.of(resolved.user),
                session=SessionView(
                    resolved.session.id, resolved.session.csrf_secret, resolved.session.mfa_passed
                ),
                mfa_pending=not resolved.session.mfa_passed,
            )
    request.state.auth = auth
    return auth


Auth = Annotated[RequestAuth, Depends(get_auth)]


def expected_csrf(request: Request, auth: RequestAuth) -> str:
    if auth.session is not None:
        return auth.session.csrf_secret
    anon = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not anon:
        anon = security.new_secret()
        request.state.new_csrf_cookie = anon
    return security.hmac_token(settings_of(request).secret_key, "anon-csrf:" + anon)


async def csrf_guard(request: Request, auth: Auth) -> None:
    """Refuse any unsafe request that a browser could have been tricked into sending.

    Installed on the whole application. Requests authenticated by an
    ``Authorization`` header carry no ambient authority and are exempt; every other
    POST, PUT, PATCH or DELETE must echo the CSRF token in the ``csrf_token`` form
    field or the ``X-CSRF-Token`` header.
    """
    if (
        request.method in SAFE_METHODS
        or auth.token_id is not None
        or request.headers.get("authorization")
    ):
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not security.equal(sent, expected_csrf(request, auth)):
        raise Forbidden(
            "The form has expired or did not come from this site. Reload the page and try again.",
            code="csrf_failed",
        )


# Paths a signed-in administrator without MFA may still use: enrolment itself.
MFA_ENROL_PATHS = ("/profile/mfa", "/logout", "/language")


def page_actor(request: Request, auth: Auth) -> Actor:
    """The signed-in user for an HTML page, or a redirect to the login steps."""
    if auth.user is None:
        nxt = request.url.path
        if request.url.query:
            nxt += "?" + request.url.query
        raise LoginRedirect("/login?next=" + _quote(nxt))
    if auth.mfa_pending:
        raise LoginRedirect("/login/mfa")
    if identity.mfa_enrolment_required(auth.user) and not request.url.path.startswith(
        MFA_ENROL_PATHS
    ):
        raise LoginRedirect("/profile/mfa")
    return auth.actor


def api_actor(request: Request, auth: Auth) -> Actor:
    """The authenticated caller of a JSON route (API token or full web session)."""
    if auth.user is None or auth.mfa_pending:
        if auth.bad_credentials:
            raise AuthenticationRequired("The API token is unknown, expired or revoked.")
        raise AuthenticationRequired("Sign in or send an API token as 'Authorization: Bearer …'.")
    if auth.session is not None and identity.mfa_enrolment_required(auth.user):
        raise Forbidden("Set up two-factor authentication first.", code="mfa_enrolment_required")
    return auth.actor


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


PageActor = Annotated[Actor, Depends(page_actor)]
ApiActor = Annotated[Actor, Depends(api_actor)]


def safe_next(value: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
