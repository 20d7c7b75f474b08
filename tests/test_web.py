"""The web shell and JSON API driven through the real app (TestClient) on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.db import utcnow
from rasid.core.settings import Settings
from rasid.identity import service as identity
from rasid.identity.models import WebSession
from rasid.web.deps import DB, ApiActor
from tests.conftest import PASSWORD, World, csrf_from, login, page_csrf


def _audit(factory: sessionmaker[Session], action: str) -> list[AuditEntry]:
    with factory() as db:
        return list(
            db.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


def _enrol_mfa_via_page(client: TestClient) -> str:
    page = client.get("/profile/mfa")
    assert page.status_code == 200
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page.text)
    assert secret, "enrolment page shows the key"
    assert "<svg" in page.text  # the QR code, inline
    done = client.post(
        "/profile/mfa",
        data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": csrf_from(page.text)},
    )
    assert done.status_code in (200, 303)
    return secret.group(1)


# --- signing in ---------------------------------------------------------------------------------


def test_login_page_is_arabic_rtl_by_default(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "تسجيل الدخول إلى راصد" in page.text


def test_unauthenticated_pages_redirect_to_login_and_back(world: World, client: TestClient) -> None:
    first = client.get("/admin/users", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/admin/users"
    page = client.get(first.headers["location"])
    done = client.post(
        "/login",
        data={
            "username": "analyst",
            "password": PASSWORD,
            "next": "/profile",
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/profile"
    # An off-site "next" is ignored.
    client.cookies.clear()
    page = client.get("/login")
    evil = client.post(
        "/login",
        data={
            "username": "analyst",
            "password": PASSWORD,
            "next": "//evil.example/",
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/"


def test_successful_login_shows_arabic_dashboard_with_hijri_date(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    page = login(client, "analyst")
    assert page.status_code == 200 and str(page.url).endswith("/")  # type: ignore[attr-defined]
    assert '<html lang="ar" dir="rtl">' in page.text  # type: ignore[attr-defined]
    assert "لوحة المتابعة" in page.text and "هـ" in page.text  # type: ignore[attr-defined]
    success = _audit(factory, "login.success")
    assert success[-1].username == "analyst" and success[-1].session_id is not None


def test_session_cookie_flags(world: World, client: TestClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "analyst", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "rasid_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the TLS test below


def test_session_cookie_is_secure_over_tls(world: World, settings: Settings) -> None:
    from rasid.web.app import create_app

    with TestClient(create_app(settings), base_url="https://rasid.test") as tls:
        page = tls.get("/login")
        response = tls.post(
            "/login",
            data={"username": "analyst", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
            follow_redirects=False,
        )
        assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_is_refused_in_arabic_and_audited(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    page = login(client, "analyst", "not the password")
    assert page.status_code == 400  # type: ignore[attr-defined]
    assert "اسم المستخدم أو كلمة المرور غير صحيحة" in page.text  # type: ignore[attr-defined]
    assert client.get("/", follow_redirects=False).status_code == 303
    failure = _audit(factory, "login.failure")[-1]
    assert failure.username == "analyst" and failure.outcome == "failed" and failure.address


def test_lockout_through_the_login_page(
    world: World, client: TestClient, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures_account):
        login(client, "analyst", "not the password")
    page = login(client, "analyst")  # right password, but locked
    assert page.status_code == 429  # type: ignore[attr-defined]
    assert page.headers["retry-after"]  # type: ignore[attr-defined]
    assert "محاولات فاشلة كثيرة" in page.text  # type: ignore[attr-defined]


def test_csrf_is_required_on_every_form(world: World, client: TestClient) -> None:
    client.get("/login")
    refused = client.post("/login", data={"username": "analyst", "password": PASSWORD})
    assert refused.status_code == 403 and "انتهت صلاحية النموذج" in refused.text
    login(client, "admin")
    for path, data in [
        ("/logout", {}),
        ("/language", {"language": "en"}),
        (
            "/admin/organisations",
            {"slug": "x-org", "name_ar": "x", "name_en": "x", "country": "YE"},
        ),
        ("/profile/tokens", {"name": "t"}),
    ]:
        assert client.post(path, data=data | {"csrf_token": "forged"}).status_code == 403, path
        assert client.post(path, data=data).status_code == 403, path
    # A JSON call made with the session cookie needs the header too.
    assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 403


def test_session_idle_expiry_signs_out(
    world: World, client: TestClient, factory: sessionmaker[Session], settings: Settings
) -> None:
    login(client, "analyst")
    assert client.get("/", follow_redirects=False).status_code == 200
    with factory.begin() as db:
        db.execute(
            update(WebSession).values(
                last_seen_at=utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
            )
        )
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_logout_ends_the_session(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "analyst")
    cookie = client.cookies.get("rasid_session")
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    client.cookies.set("rasid_session", cookie or "")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert _audit(factory, "logout")[-1].username == "analyst"


# --- MFA ------------------------------------------------------------------------------------------


def test_mfa_login_flow(world: World, client: TestClient, factory: sessionmaker[Session]) -> None:
    login(client, "analyst")
    secret = _enrol_mfa_via_page(client)
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    page = login(client, "analyst")
    assert str(page.url).startswith("http://testserver/login/mfa")  # type: ignore[attr-defined]
    # Half signed-in: no page, no API.
    assert client.get("/", follow_redirects=False).headers["location"] == "/login/mfa"
    assert client.get("/api/v1/me").status_code == 401
    token = csrf_from(page.text)  # type: ignore[attr-defined]
    wrong = client.post("/login/mfa", data={"code": "12345x", "csrf_token": token})
    assert wrong.status_code == 400 and "الرمز خاطئ" in wrong.text
    # The enrolment used this period's code and a code works once: the app's next code is accepted
    # (one step of clock drift either way is allowed).
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    ok = client.post("/login/mfa", data={"code": next_code, "csrf_token": token})
    assert ok.status_code == 200 and "لوحة المتابعة" in ok.text
    assert _audit(factory, "login.failure")[-1].detail is not None


def test_admin_must_enrol_mfa_before_anything_else(world: World, client: TestClient) -> None:
    login(client, "admin")
    assert client.get("/admin/users", follow_redirects=False).headers["location"] == "/profile/mfa"
    assert client.get("/api/v1/users").json()["error"]["code"] == "mfa_enrolment_required"
    _enrol_mfa_via_page(client)
    assert client.get("/admin/users").status_code == 200


# --- the newcomer's path: admin creates an organisation and a user, all audited -----------------------


def test_admin_creates_org_and_user_in_english_and_finds_them_in_the_audit_log(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "admin")
    _enrol_mfa_via_page(client)
    switched = client.post(
        "/language",
        data={
            "language": "en",
            "next": "/admin/organisations",
            "csrf_token": page_csrf(client, "/"),
        },
    )
    assert '<html lang="en" dir="ltr">' in switched.text and "New organisation" in switched.text
    bad = client.post(
        "/admin/organisations",
        data={
            "slug": "ngo",
            "name_ar": "منظمة",
            "name_en": "NGO",
            "country": "ZZ",
            "kind": "other",
            "csrf_token": csrf_from(switched.text),
        },
    )
    assert bad.status_code == 422 and "ZZ is not an ISO 3166-1 alpha-2 country code." in bad.text
    assert (
        'aria-invalid="true"' in bad.text and 'value="ngo"' in bad.text
    )  # the form keeps its values
    created = client.post(
        "/admin/organisations",
        data={
            "slug": "red-sea-ngo",
            "name_ar": "منظمة البحر الأحمر",
            "name_en": "Red Sea NGO",
            "country": "DJ",
            "kind": "other",
            "in_community": "true",
            "csrf_token": csrf_from(switched.text),
        },
    )
    assert created.status_code == 200 and "red-sea-ngo" in created.text
    users = client.get("/admin/users")
    made = client.post(
        "/admin/users",
        data={
            "username": "newcomer",
            "org": "red-sea-ngo",
            "roles": ["analyst", "viewer"],
            "password": "a long enough password",
            "display_name_ar": "قادم جديد",
            "display_name_en": "Newcomer",
            "language": "en",
            "csrf_token": csrf_from(users.text),
        },
    )
    assert made.status_code == 200 and 'data-username="newcomer"' in made.text
    log = client.get("/audit?object_type=organisation")
    assert "red-sea-ngo" in log.text
    log = client.get("/audit?user=admin&action=create")
    assert log.status_code == 200 and "data-seq" in log.text
    with factory() as db:
        entries = db.scalars(
            select(AuditEntry).where(AuditEntry.username == "admin", AuditEntry.action == "create")
        ).all()
        assert {e.object_type for e in entries} == {"organisation", "user"}
        assert all(e.via == "session" and e.session_id for e in entries)
    # The new user signs in and sees English.
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    page = login(client, "newcomer", "a long enough password")
    assert '<html lang="en" dir="ltr">' in page.text  # type: ignore[attr-defined]


def test_non_admin_gets_403_on_admin_pages(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "analyst")
    for path in ("/admin/users", "/admin/organisations", "/admin/tokens", "/audit"):
        page = client.get(path)
        assert page.status_code == 403 and "غير مسموح" in page.text, path


def test_language_choice_is_remembered_per_user(
    world: World, client: TestClient, settings: Settings
) -> None:
    login(client, "analyst")
    client.post("/language", data={"language": "en", "csrf_token": page_csrf(client, "/")})
    client.cookies.clear()
    page = login(client, "analyst")
    assert '<html lang="en" dir="ltr">' in page.text and "Dashboard" in page.text  # type: ignore[attr-defined]


def test_user_sees_and_ends_own_sessions(
    world: World, client: TestClient, settings: Settings
) -> None:
    from rasid.web.app import create_app

    with TestClient(create_app(settings)) as other_browser:
        login(other_browser, "analyst")
        login(client, "analyst")
        profile = client.get("/profile")
        ids = re.findall(r'data-session="(\d+)"', profile.text)
        assert len(ids) == 2
        current = client.get("/api/v1/sessions").json()
        other_id = next(s["id"] for s in current if not s["current"])
        client.post(
            f"/profile/sessions/{other_id}/end", data={"csrf_token": csrf_from(profile.text)}
        )
        assert other_browser.get("/", follow_redirects=False).status_code == 303


# --- API -------------------------------------------------------------------------------------------------


def test_bearer_token_auth_and_error_shape(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), "admin").plaintext
    auth = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=auth)
    assert (
        me.status_code == 200 and me.json()["username"] == "admin" and me.json()["via"] == "token"
    )
    # No CSRF for header-authenticated calls; the change is audited with the token id.
    made = client.post(
        "/api/v1/organisations",
        headers=auth,
        json={"slug": "api-org", "name_ar": "جهة", "name_en": "API org", "country": "OM"},
    )
    assert made.status_code == 201 and made.json()["slug"] == "api-org"
    with factory() as db:
        entry = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "organisation")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None and entry.via == "token" and entry.token_id is not None
    bad = client.post(
        "/api/v1/organisations", headers=auth, json={"slug": "x2", "name_ar": "x", "name_en": "x"}
    )
    assert bad.status_code == 422
    assert bad.json() == {
        "error": {"code": "invalid", "message": "country: Field required", "field": "country"}
    }
    dup = client.post(
        "/api/v1/organisations",
        headers=auth,
        json={"slug": "api-org", "name_ar": "x", "name_en": "x", "country": "OM"},
    )
    assert dup.status_code == 409 and dup.json()["error"]["field"] == "slug"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer rsd_wrong"}).json() == {
        "error": {
            "code": "authentication_required",
            "message": "The API token is unknown, expired or revoked.",
            "field": None,
        }
    }
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/organisations/none-such", headers=auth).status_code == 404


def test_basic_auth_with_username_and_token(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), "watch").plaintext
    assert client.get("/api/v1/me", auth=("watch", token)).json()["username"] == "watch"
    assert (
        client.get("/api/v1/me", auth=("analyst", token)).status_code == 401
    )  # another user's token


def test_api_permissions(world: World, client: TestClient, factory: sessionmaker[Session]) -> None:
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), "analyst").plaintext
    auth = {"Authorization": f"Bearer {token}"}
    refused = client.get("/api/v1/users", headers=auth)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/users/admin", headers=auth).status_code == 403
    assert client.get("/api/v1/users/analyst", headers=auth).json()["org"] == "moi-ct"
    assert client.get("/api/v1/audit", headers=auth).status_code == 403


def test_auditor_api_filters_exports_and_verifies(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "analyst", "wrong password here")
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), "auditor").plaintext
    auth = {"Authorization": f"Bearer {token}"}
    failures = client.get("/api/v1/audit", params={"action": "login.failure"}, headers=auth).json()
    assert failures["total"] == 1 and failures["entries"][0]["username"] == "analyst"
    export = client.get(
        "/api/v1/audit/export.csv", params={"object_type": "user", "action": "create"}, headers=auth
    )
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 7 and {r["action"] for r in rows} == {"create"}
    assert _audit(factory, "export")[-1].username == "auditor"
    verify = client.get("/api/v1/audit/verify", headers=auth).json()
    assert verify["ok"] is True and verify["checked"] > 10


def test_audit_page_filters_by_date(world: World, client: TestClient) -> None:
    login(client, "auditor")
    today = utcnow().date().isoformat()
    page = client.get("/audit", params={"date_from": today, "date_to": today, "action": "login"})
    assert page.status_code == 200 and "login.success" in page.text
    none = client.get("/audit", params={"date_to": "2000-01-01"})
    assert "لا توجد قيود مطابقة" in none.text
    bad = client.get("/audit", params={"date_from": "yesterday"})
    assert bad.status_code == 422 and "yesterday" in bad.text
    export = client.get("/audit/export.csv", params={"action": "login"})
    assert export.status_code == 200 and "login.success" in export.text


def test_errors_are_pages_in_arabic_and_json_in_the_api(world: World, settings: Settings) -> None:
    from rasid.web.app import create_app

    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        missing = c.get("/no/such/page")
        assert missing.status_code == 404 and "هذه الصفحة غير موجودة" in missing.text
        assert c.get("/api/v1/nothing").json()["error"]["code"] == "not_found"
        crash = c.get("/boom")
        assert crash.status_code == 500
        assert "secret internal detail" not in crash.text and "Traceback" not in crash.text
        assert (
            crash.headers["x-request-id"] in crash.text
        )  # the reference to give the administrator


def test_security_headers(client: TestClient) -> None:
    page = client.get("/login")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/me" in spec["paths"] and "/api/v1/audit" in spec["paths"]
    assert "/login" not in spec["paths"]  # pages are not API


# Address strings in the shipped scripts that are never fetched; a new one fails the test below
# until someone has looked at it. The browser tests also record every request actually made.
NEVER_FETCHED = {
    "http://x",  # htmx: base for parsing relative paths
    "http://www.w3.org/2000/svg",  # SVG namespace (Leaflet, our link chart and timeline)
    "https://leafletjs.com",  # Leaflet's attribution prefix, switched off in map.js
    "http://en.wikipedia.org/wiki/MIT_License",  # licence comments in cytoscape.min.js
    "http://engelschall.com",
    "http://opensource.org/licenses/MIT",
    "https://github.com/gre/bezier-easing",
    "https://github.com/topojson/topojson-client",  # topojson-client header comment
}


@pytest.mark.parametrize("username", ["admin", "auditor", "analyst"])
def test_no_page_or_asset_references_another_server(
    world: World, client: TestClient, username: str
) -> None:
    """Rasid runs air-gapped: nothing served may point the browser at another host."""
    login(client, username)
    if username == "admin":
        _enrol_mfa_via_page(client)
    paths = [
        "/",
        "/profile",
        "/admin/organisations",
        "/admin/users",
        "/admin/tokens",
        "/audit",
        "/admin/organisations/moi-ct",
        "/admin/users/analyst",
        "/profile/mfa",
        "/no-such-page",
        "/registry/search?q=Saada",
        "/registry/incidents",
        "/registry/entities",
        "/registry/screen",
        "/registry/duplicates",
        "/intel/reports",
        "/intel/inbox",
        "/intel/rfis",
    ]
    if username == "analyst":
        paths += ["/registry/incidents/new", "/registry/entities/new?kind=place"]
    assets: set[str] = set()
    external = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
    for path in paths:
        page = client.get(path)
        assert not external.search(page.text), path
        assets.update(re.findall(r"""(?:src|href)="(/static/[^"?]+)""", page.text))
    client.cookies.clear()
    login_page = client.get("/login")
    assert not external.search(login_page.text)
    assert {
        "/static/css/rasid.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/fonts/fonts.css",
    } <= assets
    for asset in sorted(assets):
        body = client.get(asset)
        assert body.status_code == 200, asset
        if asset.endswith(".css"):
            urls = re.findall(r"url\(([^)]+)\)", body.text) + re.findall(
                r"@import\s+['\"]([^'\"]+)", body.text
            )
            for url in urls:
                assert not re.match(r"['\"]?(https?:)?//", url), (asset, url)
                client_path = url.strip("'\"")
                if asset.endswith("fonts.css"):
                    assert (
                        client.get(
                            "/static/vendor/fonts/" + client_path.removeprefix("./")
                        ).status_code
                        == 200
                    )
        if asset.endswith(".js"):
            found = set(re.findall(r"https?://[^\"'\s)]+", body.text))
            assert found <= NEVER_FETCHED, (asset, found - NEVER_FETCHED)


def test_refused_and_protected_reads_through_http_are_audited(
    world: World, settings: Settings, factory: sessionmaker[Session]
) -> None:
    """A route reading a protected record: 404 for the hidden one, and both outcomes in the log."""
    from rasid.access import service as access
    from rasid.access.markings import RED
    from rasid.web.app import create_app
    from tests.protected_model import Dossier

    with factory.begin() as db:
        analyst = identity.get_user(db, "analyst")
        row = Dossier(title="source identity", marking=RED, owner_org_id=analyst.org_id)
        db.add(row)
        db.flush()
        access.set_grants(db, row, recipients=[analyst.id])
        dossier_id = row.id
        tokens = {
            u: identity.create_token(db, world.actor("admin"), u).plaintext
            for u in ("analyst", "partner")
        }

    app = create_app(settings)

    def read_dossier(dossier_id: int, db: DB, actor: ApiActor) -> dict[str, str]:
        return {"title": access.get_visible(db, actor, Dossier, dossier_id).title}

    app.add_api_route("/api/v1/test-dossiers/{dossier_id}", read_dossier)
    with TestClient(app) as c:
        ok = c.get(
            f"/api/v1/test-dossiers/{dossier_id}",
            headers={"Authorization": f"Bearer {tokens['analyst']}"},
        )
        assert ok.json() == {"title": "source identity"}
        hidden = c.get(
            f"/api/v1/test-dossiers/{dossier_id}",
            headers={"Authorization": f"Bearer {tokens['partner']}"},
        )
        missing = c.get(
            "/api/v1/test-dossiers/999999", headers={"Authorization": f"Bearer {tokens['partner']}"}
        )
        assert hidden.status_code == missing.status_code == 404
    read = _audit(factory, "read")[-1]
    assert (read.username, read.object_id, read.via) == ("analyst", str(dossier_id), "token")
    refused = _audit(factory, "access.refused")
    assert len(refused) == 1  # the hidden record, not the missing one
    assert (refused[0].username, refused[0].object_id, refused[0].outcome) == (
        "partner",
        str(dossier_id),
        "refused",
    )
