"""Identity rules: passwords, lock-out, sessions, tokens, MFA, organisations and users."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.actor import system_actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, ValidationFailed
from rasid.core.settings import Settings
from rasid.identity import security
from rasid.identity import service as identity
from rasid.identity.models import ApiToken, User, WebSession
from tests.conftest import PASSWORD, World


def _login(
    factory: sessionmaker[Session],
    settings: Settings,
    username: str,
    password: str,
    address: str = "10.0.0.1",
) -> identity.LoginOutcome:
    with factory.begin() as db:
        return identity.authenticate(
            db, settings, username, password, address=address, request_id="r1"
        )


def _actions(factory: sessionmaker[Session], prefix: str) -> list[AuditEntry]:
    with factory() as db:
        return list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.startswith(prefix))
                .order_by(AuditEntry.seq)
            ).all()
        )


# --- passwords -------------------------------------------------------------------------------


def test_password_policy() -> None:
    with pytest.raises(ValidationFailed) as short:
        security.check_password_policy("short-pass1")
    assert short.value.field == "password" and "12" in short.value.message
    security.check_password_policy("a" * 64)  # at least 64 allowed
    security.check_password_policy("كلمة مرور عربية طويلة")  # any characters, Arabic included
    with pytest.raises(ValidationFailed):
        security.check_password_policy("password1234")  # on the blocklist
    with pytest.raises(ValidationFailed):
        security.check_password_policy("xx-analyst-xx-2026", username="analyst")


def test_passwords_are_stored_as_argon2id(world: World, factory: sessionmaker[Session]) -> None:
    with factory() as db:
        user = identity.get_user(db, "analyst")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


# --- lock-out -----------------------------------------------------------------------------------


def test_account_locks_after_repeated_failures_and_success_is_refused_while_locked(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    for _ in range(settings.login_max_failures_account):
        assert _login(factory, settings, "analyst", "wrong password!!").reason == "bad_credentials"
    locked = _login(factory, settings, "analyst", PASSWORD)
    assert not locked.ok and locked.reason == "locked"
    assert 0 < locked.retry_after_seconds <= settings.login_lockout_minutes * 60 + 1
    # Other accounts from another address are not affected.
    assert _login(factory, settings, "analyst2", PASSWORD, address="10.0.0.2").ok
    failures = _actions(factory, "login.failure")
    assert len(failures) == settings.login_max_failures_account + 1
    assert failures[-1].outcome == "refused" and failures[-1].username == "analyst"


def test_lockout_backs_off_and_expires(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    from rasid.identity.models import LoginThrottle

    for _ in range(settings.login_max_failures_account):
        _login(factory, settings, "analyst", "wrong password!!")
    with factory.begin() as db:  # let the first lock-out run out
        db.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    for _ in range(settings.login_max_failures_account):
        _login(factory, settings, "analyst", "wrong password!!")
    again = _login(factory, settings, "analyst", PASSWORD)
    # The second lock-out lasts twice as long as the first.
    assert again.reason == "locked"
    assert again.retry_after_seconds > settings.login_lockout_minutes * 60 * 1.5


def test_address_locks_after_failures_across_accounts(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    names = [f"nobody-{i}" for i in range(settings.login_max_failures_address)]
    for name in names:  # spraying unknown usernames from one address
        assert (
            _login(factory, settings, name, "wrong password!!", address="10.9.9.9").reason
            == "bad_credentials"
        )
    assert _login(factory, settings, "analyst", PASSWORD, address="10.9.9.9").reason == "locked"
    assert _login(factory, settings, "analyst", PASSWORD, address="10.9.9.10").ok


def test_disabled_account_cannot_sign_in(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    with factory.begin() as db:
        identity.disable_user(db, world.actor("admin"), "analyst")
    assert _login(factory, settings, "analyst", PASSWORD).reason == "disabled"


# --- sessions and tokens --------------------------------------------------------------------------


def _session(factory: sessionmaker[Session], settings: Settings, username: str) -> str:
    with factory.begin() as db:
        user = identity.get_user(db, username)
        return identity.start_session(
            db,
            settings,
            user,
            mfa_passed=True,
            address="10.0.0.1",
            user_agent="pytest",
            request_id="r",
        ).cookie_value


def test_session_idle_timeout_and_absolute_lifetime(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    idle = _session(factory, settings, "analyst")
    absolute = _session(factory, settings, "analyst2")
    with factory.begin() as db:
        assert identity.resolve_session(db, settings, idle) is not None
        db.execute(
            update(WebSession)
            .where(WebSession.token_hash == security.digest(idle))
            .values(last_seen_at=utcnow() - timedelta(minutes=settings.session_idle_minutes + 1))
        )
        db.execute(
            update(WebSession)
            .where(WebSession.token_hash == security.digest(absolute))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with factory.begin() as db:
        assert identity.resolve_session(db, settings, idle) is None
        assert identity.resolve_session(db, settings, absolute) is None
    with factory() as db:
        reasons = {r.end_reason for r in db.scalars(select(WebSession)).all()}
        assert reasons == {"idle", "expired"}
    with factory() as db:
        assert identity.resolve_session(db, settings, "not-a-session") is None


def test_tokens_are_shown_once_stored_hashed_expire_and_revoke(
    world: World, factory: sessionmaker[Session]
) -> None:
    admin = world.actor("admin")
    with factory.begin() as db:
        new = identity.create_token(db, admin, "watch", name="feed", expires_days=1)
        token_id = new.row.id
    assert new.plaintext.startswith("rsd_") and len(new.plaintext) > 40
    with factory() as db:
        stored = db.get(ApiToken, token_id)
        assert stored is not None and stored.token_hash == security.digest(new.plaintext)
        assert new.plaintext not in {stored.token_hash, stored.prefix}
    with factory.begin() as db:
        found = identity.resolve_token(db, new.plaintext)
        assert found is not None and found[1].username == "watch"
        db.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(expires_at=utcnow() - timedelta(1))
        )
    with factory.begin() as db:
        assert identity.resolve_token(db, new.plaintext) is None  # expired
    with factory.begin() as db:
        other = identity.create_token(db, admin, "watch")
        identity.revoke_token(db, admin, other.row.id)
    with factory.begin() as db:
        assert identity.resolve_token(db, other.plaintext) is None  # revoked
        assert identity.resolve_token(db, "rsd_guess") is None


def test_only_admins_make_tokens_for_others(world: World, factory: sessionmaker[Session]) -> None:
    with factory.begin() as db:
        identity.create_token(db, world.actor("analyst"), "analyst")  # own token: fine
    with factory() as db, pytest.raises(Forbidden):
        identity.create_token(db, world.actor("analyst"), "watch")


def test_disabling_a_user_ends_sessions_and_tokens_at_once(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    cookie = _session(factory, settings, "watch")
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), "watch").plaintext
    with factory.begin() as db:
        identity.disable_user(db, world.actor("admin"), "watch")
    with factory.begin() as db:
        assert identity.resolve_session(db, settings, cookie) is None
        assert identity.resolve_token(db, token) is None
        user = identity.get_user(db, "watch")
        assert (
            db.scalar(select(WebSession.end_reason).where(WebSession.user_id == user.id))
            == "user_disabled"
        )


# --- MFA -----------------------------------------------------------------------------------------------


def test_totp_enrolment_and_single_use_codes(world: World, factory: sessionmaker[Session]) -> None:
    analyst = world.actor("analyst")
    with factory.begin() as db:
        secret = identity.begin_mfa_enrolment(db, analyst)
    with factory.begin() as db, pytest.raises(ValidationFailed):
        identity.confirm_mfa_enrolment(
            db, analyst, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
        )
    with factory.begin() as db:
        identity.confirm_mfa_enrolment(db, analyst, pyotp.TOTP(secret).now())
    with factory() as db:
        user = identity.get_user(db, "analyst")
        assert user.mfa_enabled and user.mfa_last_step is not None
        # The code just used cannot be used again (replay).
        assert (
            security.totp_match(secret, pyotp.TOTP(secret).now(), last_step=user.mfa_last_step)
            is None
        )


def test_admin_cannot_turn_off_own_mfa(world: World, factory: sessionmaker[Session]) -> None:
    admin = world.actor("admin")
    with factory.begin() as db:
        secret = identity.begin_mfa_enrolment(db, admin)
        identity.confirm_mfa_enrolment(db, admin, pyotp.TOTP(secret).now())
    with factory() as db, pytest.raises(ValidationFailed):
        identity.disable_mfa(db, admin, "admin")
    with factory() as db:
        assert identity.mfa_enrolment_required(identity.get_user(db, "admin")) is False


# --- organisations and users ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"country": "XX"}, "country"),
        ({"country": "Yemen"}, "country"),
        ({"kind": "club"}, "kind"),
        ({"name_ar": "  "}, "name_ar"),
    ],
)
def test_bad_organisation_input_names_the_field(
    world: World, factory: sessionmaker[Session], kwargs: dict[str, str], field: str
) -> None:
    data = {
        "slug": "new-org",
        "name_ar": "جهة",
        "name_en": "Org",
        "country": "YE",
        "kind": "agency",
    } | kwargs
    with factory() as db, pytest.raises(ValidationFailed) as exc:
        identity.create_org(db, system_actor(), **data)
    assert exc.value.field == field


def test_duplicates_and_permissions(world: World, factory: sessionmaker[Session]) -> None:
    with factory() as db, pytest.raises(Conflict) as dup:
        identity.create_org(
            db, system_actor(), slug="moi-ct", name_ar="x", name_en="x", country="YE"
        )
    assert dup.value.field == "slug"
    with factory() as db, pytest.raises(Conflict):
        identity.create_user(
            db,
            system_actor(),
            username="analyst",
            org_slug="moi-ct",
            roles=["viewer"],
            password=PASSWORD,
        )
    with factory() as db, pytest.raises(Forbidden):
        identity.create_org(
            db, world.actor("analyst"), slug="x-org", name_ar="x", name_en="x", country="YE"
        )
    with factory() as db, pytest.raises(ValidationFailed) as role:
        identity.create_user(
            db,
            system_actor(),
            username="newbie",
            org_slug="moi-ct",
            roles=["superuser"],
            password=PASSWORD,
        )
    assert role.value.field == "roles"


def test_password_change_needs_the_current_one_and_ends_other_sessions(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    other = _session(factory, settings, "analyst")
    analyst = world.actor("analyst")
    with factory() as db, pytest.raises(ValidationFailed) as wrong:
        identity.set_password(
            db, analyst, "analyst", "a brand new passphrase", current_password="nope"
        )
    assert wrong.value.field == "current_password"
    with factory.begin() as db:
        identity.set_password(
            db, analyst, "analyst", "a brand new passphrase", current_password=PASSWORD
        )
    with factory.begin() as db:
        assert identity.resolve_session(db, settings, other) is None
        user = db.scalar(select(User).where(User.username == "analyst"))
        assert user is not None and security.verify_password(
            user.password_hash, "a brand new passphrase"
        )
