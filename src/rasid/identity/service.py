"""Identity business rules: organisations, users, roles, logins, sessions, tokens, MFA.

No HTTP here: routes and the CLI call these functions with an :class:`Actor` and a
database session, and own the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel import Locale
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rasid.audit import service as audit
from rasid.core.actor import ROLES, Actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, NotFound, TooManyAttempts, ValidationFailed
from rasid.core.settings import Settings
from rasid.identity import security
from rasid.identity.models import (
    ORG_KINDS,
    ApiToken,
    LoginThrottle,
    Organisation,
    User,
    UserRole,
    WebSession,
)

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
LANGUAGES = ("ar", "en")
TOKEN_PREFIX = "rsd_"  # noqa: S105 - a public prefix
MFA_REQUIRED_ROLES = frozenset({"admin"})

# CLDR's two-letter territories, less its groupings and private-use codes.
_NOT_COUNTRIES = frozenset({"ZZ", "QO", "EU", "EZ", "UN", "XA", "XB"})
_COUNTRIES = frozenset(
    str(code)
    for code in Locale("en").territories
    if len(str(code)) == 2 and str(code).isalpha() and str(code) not in _NOT_COUNTRIES
)


def require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "Your roles do not allow this action (%(permission)s).", permission=permission
        )


# --- plain views of the caller (safe to use after the transaction has ended) -----------


@dataclass(frozen=True)
class OrgView:
    id: int
    slug: str
    name_ar: str
    name_en: str


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name_ar: str
    display_name_en: str
    language: str
    roles: tuple[str, ...]
    mfa_enabled: bool
    org: OrgView

    @classmethod
    def of(cls, user: User) -> UserView:
        org = user.org
        return cls(
            id=user.id,
            username=user.username,
            display_name_ar=user.display_name_ar,
            display_name_en=user.display_name_en,
            language=user.language,
            roles=tuple(user.roles),
            mfa_enabled=user.mfa_enabled,
            org=OrgView(org.id, org.slug, org.name_ar, org.name_en),
        )


@dataclass(frozen=True)
class SessionView:
    id: int
    csrf_secret: str
    mfa_passed: bool


# --- snapshots for the audit log --------------------------------------------------------


def org_snapshot(org: Organisation) -> dict[str, Any]:
    return {
        "slug": org.slug,
        "name_ar": org.name_ar,
        "name_en": org.name_en,
        "country": org.country,
        "kind": org.kind,
        "in_community": org.in_community,
        "active": org.active,
    }


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name_ar": user.display_name_ar,
        "display_name_en": user.display_name_en,
        "org": user.org.slug if user.org else user.org_id,
        "roles": sorted(user.roles),
        "active": user.active,
        "language": user.language,
        "mfa_enabled": user.mfa_enabled,
    }


# --- organisations ------------------------------------------------------------------


def _validate_org_fields(
    name_ar: str, name_en: str, country: str, kind: str
) -> tuple[str, str, str, str]:
    name_ar, name_en = name_ar.strip(), name_en.strip()
    if not name_ar:
        raise ValidationFailed("The Arabic name is required.", field="name_ar")
    if not name_en:
        raise ValidationFailed("The English name is required.", field="name_en")
    code = country.strip().upper()
    if code not in _COUNTRIES:
        raise ValidationFailed(
            "%(value)s is not an ISO 3166-1 alpha-2 country code.", field="country", value=country
        )
    if kind not in ORG_KINDS:
        raise ValidationFailed(
            "Unknown organisation kind %(value)s; use one of %(kinds)s.",
            field="kind",
            value=kind,
            kinds=", ".join(ORG_KINDS),
        )
    return name_ar, name_en, code, kind


def create_org(
    db: Session,
    actor: Actor,
    *,
    slug: str,
    name_ar: str,
    name_en: str,
    country: str,
    kind: str = "agency",
    in_community: bool = True,
) -> Organisation:
    require(actor, "administer")
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationFailed(
            "The short name must be 2–63 lower-case letters, digits or hyphens.", field="slug"
        )
    name_ar, name_en, code, kind = _validate_org_fields(name_ar, name_en, country, kind)
    if db.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise Conflict("An organisation named %(slug)s already exists.", field="slug", slug=slug)
    org = Organisation(
        slug=slug,
        name_ar=name_ar,
        name_en=name_en,
        country=code,
        kind=kind,
        in_community=in_community,
    )
    db.add(org)
    db.flush()
    audit.record_change(db, actor, "create", "organisation", org.id, None, org_snapshot(org))
    return org


def update_org(
    db: Session,
    actor: Actor,
    slug: str,
    *,
    name_ar: str | None = None,
    name_en: str | None = None,
    country: str | None = None,
    kind: str | None = None,
    in_community: bool | None = None,
    active: bool | None = None,
) -> Organisation:
    require(actor, "administer")
    org = get_org(db, slug)
    before = org_snapshot(org)
    new_ar, new_en, new_country, new_kind = _validate_org_fields(
        name_ar if name_ar is not None else org.name_ar,
        name_en if name_en is not None else org.name_en,
        country if country is not None else org.country,
        kind if kind is not None else org.kind,
    )
    org.name_ar, org.name_en, org.country, org.kind = new_ar, new_en, new_country, new_kind
    if in_community is not None:
        org.in_community = in_community
    if active is not None:
        org.active = active
    db.flush()
    after = org_snapshot(org)
    if after != before:
        audit.record_change(db, actor, "update", "organisation", org.id, before, after)
    return org


def get_org(db: Session, slug: str) -> Organisation:
    org = db.scalar(select(Organisation).where(Organisation.slug == slug.strip().lower()))
    if org is None:
        raise NotFound("No organisation named %(slug)s.", field="org", slug=slug)
    return org


def list_orgs(db: Session) -> list[Organisation]:
    """Organisations are directory data: every signed-in account may list them."""
    return list(db.scalars(select(Organisation).order_by(Organisation.slug)).all())


# --- users ------------------------------------------------------------------------------


def _validate_roles(roles: list[str]) -> list[str]:
    cleaned = sorted({r.strip().lower() for r in roles if r.strip()})
    if not cleaned:
        raise ValidationFailed("A user needs at least one role.", field="roles")
    for role in cleaned:
        if role not in ROLES:
            raise ValidationFailed(
                "Unknown role %(role)s; use one of %(roles)s.",
                field="roles",
                role=role,
                roles=", ".join(ROLES),
            )
    return cleaned


def create_user(
    db: Session,
    actor: Actor,
    *,
    username: str,
    org_slug: str,
    roles: list[str],
    password: str,
    display_name_ar: str = "",
    display_name_en: str = "",
    language: str = "ar",
) -> User:
    require(actor, "administer")
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            "The username must be 3–64 lower-case letters, digits, dots, hyphens or underscores.",
            field="username",
        )
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("The username %(username)s is taken.", field="username", username=username)
    if language not in LANGUAGES:
        raise ValidationFailed("The language must be ar or en.", field="language")
    role_list = _validate_roles(roles)
    security.check_password_policy(password, username=username)
    org = get_org(db, org_slug)
    user = User(
        username=username,
        org_id=org.id,
        org=org,
        password_hash=security.hash_password(password),
        display_name_ar=display_name_ar.strip(),
        display_name_en=display_name_en.strip(),
        language=language,
    )
    user.role_rows = [UserRole(role=r) for r in role_list]
    db.add(user)
    db.flush()
    audit.record_change(db, actor, "create", "user", user.id, None, user_snapshot(user))
    return user


def get_user(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("No user named %(username)s.", field="username", username=username)
    return user


def list_users(db: Session, actor: Actor) -> list[User]:
    require(actor, "administer")
    return list(db.scalars(select(User).order_by(User.username)).all())


def update_user(
    db: Session,
    actor: Actor,
    username: str,
    *,
    roles: list[str] | None = None,
    display_name_ar: str | None = None,
    display_name_en: str | None = None,
    org_slug: str | None = None,
    active: bool | None = None,
) -> User:
    require(actor, "administer")
    user = get_user(db, username)
    before = user_snapshot(user)
    if roles is not None:
        wanted = _validate_roles(roles)
        if user.id == actor.user_id and "admin" in before["roles"] and "admin" not in wanted:
            raise ValidationFailed("You cannot remove your own admin role.", field="roles")
        user.role_rows = [UserRole(role=r) for r in wanted]
    if display_name_ar is not None:
        user.display_name_ar = display_name_ar.strip()
    if display_name_en is not None:
        user.display_name_en = display_name_en.strip()
    if org_slug is not None:
        org = get_org(db, org_slug)
        user.org_id, user.org = org.id, org
    db.flush()
    if active is not None and active != user.active:
        if not active:
            return _disable(db, actor, user, before)
        user.active = True
    db.flush()
    after = user_snapshot(user)
    if after != before:
        audit.record_change(db, actor, "update", "user", user.id, before, after)
    return user


def disable_user(db: Session, actor: Actor, username: str) -> User:
    """Disable an account and end all its sessions and API tokens at once."""
    require(actor, "administer")
    user = get_user(db, username)
    return _disable(db, actor, user, user_snapshot(user))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _disable(db: Session, actor: Actor, user: User, before: dict[str, Any]) -> User:
    if user.id == actor.user_id:
        raise ValidationFailed("You cannot disable your own account.", field="username")
    now = utcnow()
    user.active = False
    ended = _rowcount(
        db.execute(
            update(WebSession)
            .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
            .values(ended_at=now, end_reason="user_disabled")
        )
    )
    revoked = _rowcount(
        db.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    )
    db.flush()
    audit.record(
        db,
        actor,
        "update",
        object_type="user",
        object_id=user.id,
        before=before,
        after=user_snapshot(user),
        detail={"sessions_ended": ended, "tokens_revoked": revoked},
    )
    return user


def set_password(
    db: Session,
    actor: Actor,
    username: str,
    new_password: str,
    *,
    current_password: str | None = None,
) -> None:
    """Change a password: the user themself (with the current one) or an administrator."""
    user = get_user(db, username)
    own = actor.user_id == user.id
    if own:
        if current_password is None or not security.verify_password(
            user.password_hash, current_password
        ):
            raise ValidationFailed("The current password is wrong.", field="current_password")
    else:
        require(actor, "administer")
    security.check_password_policy(new_password, username=user.username)
    user.password_hash = security.hash_password(new_password)
    user.password_changed_at = utcnow()
    # A password change ends every other session of the account.
    db.execute(
        update(WebSession)
        .where(
            WebSession.user_id == user.id,
            WebSession.ended_at.is_(None),
            WebSession.id != (actor.session_id or -1),
        )
        .values(ended_at=utcnow(), end_reason="password_changed")
    )
    audit.record(
        db, actor, "update", object_type="user", object_id=user.id, detail={"changed": "password"}
    )


def set_language(db: Session, actor: Actor, language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationFailed("The language must be ar or en.", field="language")
    if actor.user_id is None:
        return
    user = db.get(User, actor.user_id)
    if user is None or user.language == language:
        return
    before = user.language
    user.language = language
    audit.record_change(
        db, actor, "update", "user", user.id, {"language": before}, {"language": language}
    )


def actor_for(
    user: User,
    *,
    via: str,
    session_id: int | None = None,
    token_id: int | None = None,
    address: str | None = None,
    request_id: str | None = None,
) -> Actor:
    kwargs: dict[str, Any] = {}
    if request_id:
        kwargs["request_id"] = request_id
    return Actor(
        user_id=user.id,
        username=user.username,
        org_id=user.org_id,
        roles=frozenset(user.roles),
        via=via,
        session_id=session_id,
        token_id=token_id,
        address=address,
        language=user.language,
        org_in_community=user.org.in_community and user.org.active,
        **kwargs,
    )


def actor_for_username(
    db: Session, username: str, *, via: str = "cli", address: str = "local"
) -> Actor:
    """The CLI's ``--as USERNAME``: the same rules as the web, for an active user."""
    user = get_user(db, username)
    if not user.active:
        raise Forbidden("The account %(username)s is disabled.", username=user.username)
    return actor_for(user, via=via, address=address)


# --- login and throttling --------------------------------------------------------------


@dataclass
class LoginOutcome:
    ok: bool
    user: User | None = None
    reason: str | None = None  # "bad_credentials", "locked", "disabled"
    retry_after_seconds: int = 0
    mfa_required: bool = False


def _throttle_row(db: Session, scope: str, key: str) -> LoginThrottle:
    row = db.scalar(
        select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
    )
    if row is None:
        row = LoginThrottle(scope=scope, key=key, failures=0, window_start=utcnow(), lockouts=0)
        db.add(row)
        db.flush()
    return row


def _locked_for(row: LoginThrottle, now: datetime) -> int:
    if row.locked_until is not None and row.locked_until > now:
        return int((row.locked_until - now).total_seconds()) + 1
    return 0


def _register_failure(row: LoginThrottle, settings: Settings, limit: int, now: datetime) -> None:
    window = timedelta(minutes=settings.login_failure_window_minutes)
    if now - row.window_start > window:
        row.failures = 0
        row.window_start = now
    row.failures += 1
    if row.failures >= limit:
        # Back-off doubles with each lock-out, capped at one day.
        minutes = min(settings.login_lockout_minutes * (2**row.lockouts), 24 * 60)
        row.locked_until = now + timedelta(minutes=minutes)
        row.lockouts += 1
        row.failures = 0
        row.window_start = now


def authenticate(
    db: Session,
    settings: Settings,
    username: str,
    password: str,
    *,
    address: str | None,
    request_id: str,
) -> LoginOutcome:
    """Check a username and password, with lock-out per account and per address.

    Every attempt is audited. The caller commits whatever the outcome: a failure's
    counters and audit entry must persist.
    """
    from rasid.core.actor import anonymous_actor

    name = username.strip().lower()[:64]
    now = utcnow()
    anon = anonymous_actor(address=address, request_id=request_id)
    account_row = _throttle_row(db, "account", name)
    address_row = _throttle_row(db, "address", address or "unknown")
    wait = max(_locked_for(account_row, now), _locked_for(address_row, now))
    if wait:
        audit.record(
            db,
            anon,
            "login.failure",
            outcome="refused",
            username=name,
            detail={"reason": "locked", "retry_after_seconds": wait},
        )
        return LoginOutcome(False, reason="locked", retry_after_seconds=wait)
    user = db.scalar(select(User).where(User.username == name))
    valid = security.verify_password(user.password_hash if user else None, password)
    if not valid or user is None:
        _register_failure(account_row, settings, settings.login_max_failures_account, now)
        _register_failure(address_row, settings, settings.login_max_failures_address, now)
        audit.record(
            db,
            anon,
            "login.failure",
            outcome="failed",
            username=name,
            object_type="user" if user else None,
            object_id=user.id if user else None,
            detail={"reason": "bad_credentials"},
        )
        return LoginOutcome(False, reason="bad_credentials")
    if not user.active or not user.org.active:
        audit.record(
            db,
            anon,
            "login.failure",
            outcome="refused",
            username=name,
            object_type="user",
            object_id=user.id,
            detail={"reason": "disabled"},
        )
        return LoginOutcome(False, reason="disabled")
    account_row.failures = 0
    account_row.lockouts = 0
    account_row.locked_until = None
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    return LoginOutcome(True, user=user, mfa_required=user.mfa_enabled)


def check_login_throttle(db: Session, username: str, address: str | None) -> None:
    """Raise TooManyAttempts if either counter is locked (used by the MFA step)."""
    now = utcnow()
    for scope, key in (("account", username), ("address", address or "unknown")):
        row = db.scalar(
            select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        )
        if row is not None and (wait := _locked_for(row, now)):
            raise TooManyAttempts(
                "Too many failed attempts. Try again in %(minutes)s minutes.",
                retry_after_seconds=wait,
                minutes=(wait + 59) // 60,
            )


# --- web sessions ----------------------------------------------------------------------


@dataclass
class NewSession:
    row: WebSession
    cookie_value: str


def start_session(
    db: Session,
    settings: Settings,
    user: User,
    *,
    mfa_passed: bool,
    address: str | None,
    user_agent: str | None,
    request_id: str,
) -> NewSession:
    value = security.new_secret()
    now = utcnow()
    row = WebSession(
        token_hash=security.digest(value),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        mfa_passed=mfa_passed,
        csrf_secret=security.new_secret(),
        address=address,
        user_agent=(user_agent or "")[:300],
    )
    db.add(row)
    db.flush()
    actor = actor_for(
        user, via="session", session_id=row.id, address=address, request_id=request_id
    )
    action = "login.success" if mfa_passed else "login.password_ok"
    audit.record(
        db,
        actor,
        action,
        object_type="user",
        object_id=user.id,
        detail={"mfa": user.mfa_enabled, "session_id": row.id},
    )
    return NewSession(row, value)


@dataclass
class ResolvedSession:
    session: WebSession
    user: User


def resolve_session(db: Session, settings: Settings, cookie_value: str) -> ResolvedSession | None:
    """Find the live session for a cookie, ending it if idle or past its lifetime."""
    row = db.scalar(
        select(WebSession).where(WebSession.token_hash == security.digest(cookie_value))
    )
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    reason = None
    if row.expires_at <= now:
        reason = "expired"
    elif now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        reason = "idle"
    user = db.get(User, row.user_id)
    if user is None or not user.active or not user.org.active:
        reason = reason or "user_disabled"
    if reason:
        row.ended_at = now
        row.end_reason = reason
        return None
    if now - row.last_seen_at > timedelta(seconds=30):
        row.last_seen_at = now
    assert user is not None
    return ResolvedSession(row, user)


def complete_mfa(
    db: Session,
    settings: Settings,
    session_id: int,
    code: str,
    *,
    address: str | None,
    request_id: str,
) -> bool:
    row = db.get(WebSession, session_id)
    user = db.get(User, row.user_id) if row is not None else None
    if row is None or user is None or row.ended_at is not None:
        raise Forbidden("The sign-in has expired; start again.")
    actor = actor_for(
        user, via="session", session_id=row.id, address=address, request_id=request_id
    )
    check_login_throttle(db, user.username, address)
    step = security.totp_match(user.mfa_secret or "", code, last_step=user.mfa_last_step)
    if step is None:
        now = utcnow()
        _register_failure(
            _throttle_row(db, "account", user.username),
            settings,
            settings.login_max_failures_account,
            now,
        )
        _register_failure(
            _throttle_row(db, "address", address or "unknown"),
            settings,
            settings.login_max_failures_address,
            now,
        )
        audit.record(
            db,
            actor,
            "login.failure",
            outcome="failed",
            object_type="user",
            object_id=user.id,
            detail={"reason": "bad_mfa_code"},
        )
        return False
    user.mfa_last_step = step
    row.mfa_passed = True
    audit.record(
        db,
        actor,
        "login.success",
        object_type="user",
        object_id=user.id,
        detail={"mfa": True, "session_id": row.id},
    )
    return True


def end_session(db: Session, actor: Actor, session_id: int, *, reason: str = "logout") -> None:
    row = db.get(WebSession, session_id)
    if row is None or (row.user_id != actor.user_id and not actor.can("administer")):
        raise NotFound("No session with id %(id)s.", field="session", id=session_id)
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason
    action = "logout" if reason == "logout" else "session.end"
    audit.record(
        db, actor, action, object_type="web_session", object_id=row.id, detail={"reason": reason}
    )


def list_sessions(db: Session, user_id: int) -> list[WebSession]:
    return list(
        db.scalars(
            select(WebSession)
            .where(
                WebSession.user_id == user_id,
                WebSession.ended_at.is_(None),
                WebSession.expires_at > utcnow(),
            )
            .order_by(WebSession.created_at.desc())
        ).all()
    )


def count_active_sessions(db: Session) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(WebSession)
            .where(WebSession.ended_at.is_(None), WebSession.expires_at > utcnow())
        )
        or 0
    )


# --- API tokens ----------------------------------------------------------------------------


@dataclass
class NewToken:
    row: ApiToken
    plaintext: str


def create_token(
    db: Session, actor: Actor, username: str, *, name: str = "", expires_days: int = 90
) -> NewToken:
    """A machine token for ``username``: shown once, stored hashed, expiring, revocable."""
    user = get_user(db, username)
    if user.id != actor.user_id:
        require(actor, "administer")
    if not user.active:
        raise ValidationFailed(
            "The account %(username)s is disabled.", field="username", username=user.username
        )
    if not 1 <= expires_days <= 3650:
        raise ValidationFailed("A token must expire in 1 to 3650 days.", field="expires_days")
    plaintext = security.new_secret(TOKEN_PREFIX)
    row = ApiToken(
        user_id=user.id,
        name=name.strip()[:100],
        prefix=plaintext[: len(TOKEN_PREFIX) + 6],
        token_hash=security.digest(plaintext),
        expires_at=utcnow() + timedelta(days=expires_days),
    )
    db.add(row)
    db.flush()
    audit.record_change(
        db,
        actor,
        "create",
        "api_token",
        row.id,
        None,
        {
            "user": user.username,
            "name": row.name,
            "prefix": row.prefix,
            "expires_at": row.expires_at.isoformat(),
        },
    )
    return NewToken(row, plaintext)


def resolve_token(db: Session, plaintext: str) -> tuple[ApiToken, User] | None:
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    found = db.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == security.digest(plaintext))
    ).one_or_none()
    now = utcnow()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or row.expires_at <= now:
        return None
    if not user.active or not user.org.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return row, user


def revoke_token(db: Session, actor: Actor, token_id: int) -> ApiToken:
    row = db.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.user_id and not actor.can("administer")):
        raise NotFound("No API token with id %(id)s.", field="token", id=token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record_change(
            db,
            actor,
            "delete",
            "api_token",
            row.id,
            {"prefix": row.prefix, "revoked": False},
            {"prefix": row.prefix, "revoked": True},
        )
    return row


def list_tokens(
    db: Session, actor: Actor, *, user_id: int | None = None, all_users: bool = False
) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.created_at.desc())
    if all_users:
        require(actor, "administer")
    else:
        stmt = stmt.where(ApiToken.user_id == (user_id if user_id is not None else actor.user_id))
        if user_id is not None and user_id != actor.user_id:
            require(actor, "administer")
    return list(db.scalars(stmt).all())


# --- MFA enrolment -------------------------------------------------------------------------


def begin_mfa_enrolment(db: Session, actor: Actor) -> str:
    """Store a fresh pending TOTP secret for the acting user and return it."""
    user = _self(db, actor)
    if user.mfa_enabled:
        raise Conflict("Two-factor authentication is already on for this account.", field="mfa")
    user.mfa_secret = security.new_totp_secret()
    user.mfa_last_step = None
    return user.mfa_secret


def confirm_mfa_enrolment(db: Session, actor: Actor, code: str) -> None:
    user = _self(db, actor)
    if user.mfa_enabled or not user.mfa_secret:
        raise ValidationFailed("Start the enrolment again.", field="code")
    step = security.totp_match(user.mfa_secret, code, last_step=None)
    if step is None:
        raise ValidationFailed(
            "The code is wrong or has expired; try the current code.", field="code"
        )
    user.mfa_enabled = True
    user.mfa_last_step = step
    audit.record_change(
        db, actor, "update", "user", user.id, {"mfa_enabled": False}, {"mfa_enabled": True}
    )


def disable_mfa(db: Session, actor: Actor, username: str) -> None:
    user = get_user(db, username)
    if user.id != actor.user_id:
        require(actor, "administer")
    elif MFA_REQUIRED_ROLES & set(user.roles):
        raise ValidationFailed(
            "Two-factor authentication is mandatory for administrators.", field="mfa"
        )
    user.mfa_enabled = False
    user.mfa_secret = None
    user.mfa_last_step = None
    audit.record_change(
        db, actor, "update", "user", user.id, {"mfa_enabled": True}, {"mfa_enabled": False}
    )


def mfa_enrolment_required(user: User | UserView) -> bool:
    return bool(MFA_REQUIRED_ROLES & set(user.roles)) and not user.mfa_enabled


def current_user(db: Session, actor: Actor) -> User:
    """The acting user's row (from the session's identity map when already loaded)."""
    return _self(db, actor)


def _self(db: Session, actor: Actor) -> User:
    if actor.user_id is None:
        raise Forbidden("Sign in first.")
    user = db.get(User, actor.user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def list_users_by_id(db: Session, user_ids: list[int] | set[int]) -> list[User]:
    """Directory lookup (usernames of named recipients and the like)."""
    if not user_ids:
        return []
    return list(
        db.scalars(select(User).where(User.id.in_(set(user_ids))).order_by(User.username)).all()
    )


def count_users(db: Session, *, active: bool | None = None) -> int:
    stmt = select(func.count()).select_from(User)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return int(db.scalar(stmt) or 0)


def count_orgs(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(Organisation)) or 0)
