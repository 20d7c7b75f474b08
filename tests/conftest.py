"""Shared fixtures: a migrated database per test on SQLite and PostgreSQL, the app, users.

PostgreSQL tests use ``RASID_TEST_POSTGRES_URL``; they skip with a visible notice when
it is unset or unreachable, unless ``RASID_REQUIRE_POSTGRES=1`` (set by ``.ci/run``),
which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from rasid.core.actor import Actor, system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.core.migrate import upgrade
from rasid.core.settings import Settings
from rasid.identity import security
from rasid.identity import service as identity
from tests.protected_model import Dossier

# argon2id stays argon2id in tests, at a cost that keeps the suite quick.
security.set_hash_cost(time_cost=1, memory_kib=1024)

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-key-" + "x" * 40
POSTGRES_URL = os.environ.get("RASID_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("RASID_REQUIRE_POSTGRES") == "1"


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    if not POSTGRES_URL:
        lines.append("NOTICE: RASID_TEST_POSTGRES_URL is not set: PostgreSQL tests will be SKIPPED")
    if os.environ.get("RASID_REQUIRE_BROWSER") != "1":
        lines.append(
            "NOTICE: browser tests skip if Chromium is missing (RASID_REQUIRE_BROWSER=1 makes that a failure)"
        )
    return lines


# --- databases ------------------------------------------------------------------------------


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "rasid.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    Dossier.__table__.create(engine)  # type: ignore[attr-defined]
    engine.dispose()
    return path


def _pg_url(schema: str) -> str:
    base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("RASID_REQUIRE_POSTGRES=1 but RASID_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set RASID_TEST_POSTGRES_URL)")
    schema = f"rasid_test_{_worker()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = _pg_url(schema)
    upgrade(url)
    engine = make_engine(url)
    Dossier.__table__.create(engine)  # type: ignore[attr-defined]
    engine.dispose()
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
                )
            )
        ]
        conn.execute(
            text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        )
        conn.execute(
            text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, :h)"),
            {"h": "0" * 64},
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "rasid.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    schema = request.getfixturevalue("postgres_schema")
    url = _pg_url(schema)
    _reset_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    return Settings(data_dir=data_dir, database_url=database_url, secret_key=SECRET)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def db(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def system() -> Actor:
    return system_actor()


# --- people ---------------------------------------------------------------------------------


@dataclass
class World:
    """Three organisations and users used across the access and web tests."""

    factory: sessionmaker[Session]

    def actor(self, username: str) -> Actor:
        with self.factory() as s:
            return identity.actor_for_username(s, username, via="cli")


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    sys_actor = system_actor()
    with factory.begin() as s:
        identity.create_org(
            s,
            sys_actor,
            slug="moi-ct",
            name_ar="وحدة مكافحة الإرهاب",
            name_en="CT Unit",
            country="YE",
            kind="ministry",
        )
        identity.create_org(
            s,
            sys_actor,
            slug="coastguard",
            name_ar="خفر السواحل",
            name_en="Coast Guard",
            country="YE",
            kind="coast_guard",
        )
        identity.create_org(
            s,
            sys_actor,
            slug="partner",
            name_ar="الشريك",
            name_en="Partner Embassy",
            country="GB",
            kind="embassy",
        )
        identity.create_org(
            s,
            sys_actor,
            slug="observer",
            name_ar="المراقبون",
            name_en="Observers",
            country="CH",
            kind="international",
            in_community=False,
        )
        for username, org, roles in [
            ("admin", "moi-ct", ["admin"]),
            ("analyst", "moi-ct", ["analyst"]),
            ("analyst2", "moi-ct", ["analyst"]),
            ("watch", "coastguard", ["maritime"]),
            ("partner", "partner", ["liaison"]),
            ("observer", "observer", ["viewer"]),
            ("auditor", "moi-ct", ["auditor"]),
        ]:
            identity.create_user(
                s,
                sys_actor,
                username=username,
                org_slug=org,
                roles=roles,
                password=PASSWORD,
                display_name_ar="مستخدم " + username,
                display_name_en="User " + username,
            )
    return World(factory)


# --- web --------------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from rasid.web.app import create_app

    with TestClient(create_app(settings), base_url="http://testserver") as c:
        yield c


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> object:
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page.text),
            "next": "/",
        },
        follow_redirects=True,
    )


def page_csrf(client: TestClient, path: str = "/profile") -> str:
    return csrf_from(client.get(path).text)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The CLI pointed at this test's database and data directory."""
    from rasid.core import cli_support
    from rasid.core.settings import get_settings

    monkeypatch.setenv("RASID_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RASID_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    cli_support.session_factory.cache_clear()
    yield settings
    get_settings.cache_clear()
    cli_support.session_factory.cache_clear()


@pytest.fixture
def plan(world: World, factory: sessionmaker[Session]) -> dict[str, int]:
    """Ministry → directorate → two units (one denied); four people; a course, two sessions."""
    from rasid.training import service

    officer = world.actor("analyst")  # writes for moi-ct
    TODAY = date.today()
    with factory.begin() as db:
        ministry = service.create_unit(
            db, officer, code="moi", name_ar="الوزارة", name_en="Ministry", level="ministry"
        )
        direc = service.create_unit(
            db,
            officer,
            code="ct",
            name_ar="إدارة مكافحة الإرهاب",
            name_en="CT Directorate",
            level="directorate",
            parent_id=ministry.id,
        )
        good = service.create_unit(
            db, officer, code="u1", name_ar="الوحدة الأولى", name_en="Unit 1", parent_id=direc.id
        )
        bad = service.create_unit(
            db, officer, code="u2", name_ar="الوحدة الثانية", name_en="Unit 2", parent_id=direc.id
        )
        start = TODAY - timedelta(days=30)
        for ref, unit in (("U-1", good), ("U-2", bad)):
            service.record_vetting(
                db,
                officer,
                ref=ref,
                unit_id=unit.id,
                status="approved",
                requested_on=start - timedelta(days=10),
                decided_on=start,
            )
        service.record_vetting(
            db,
            officer,
            ref="U-2",
            unit_id=bad.id,
            status="denied",
            requested_on=start - timedelta(days=10),
            decided_on=start + timedelta(days=1),
        )
        people = {}
        for key, name, unit in (
            ("ali", "علي", good),
            ("salem", "سالم", good),
            ("noor", "نور", good),
            ("badr", "بدر", bad),
        ):
            p = service.create_person(
                db,
                officer,
                name_ar=name,
                name_latin=key.title(),
                national_id=f"NID-{key}",
                unit_id=unit.id,
            )
            people[key] = p.id
        for key in ("ali", "salem", "badr"):
            service.record_vetting(
                db,
                officer,
                ref=f"P-{key}",
                person_id=people[key],
                status="approved",
                requested_on=start - timedelta(days=5),
                decided_on=start,
            )
        course = service.create_course(
            db,
            officer,
            title_ar="التحقيق في الحوادث البحرية",
            title_en="Maritime incident investigation",
            duration_days=5,
            certificate_valid_months=24,
        )
        first = service.create_session(
            db,
            officer,
            course_id=course.id,
            start_date=TODAY + timedelta(days=10),
            end_date=TODAY + timedelta(days=14),
            capacity=2,
            venue="عدن",
        )
        clash = service.create_session(
            db,
            officer,
            course_id=course.id,
            start_date=TODAY + timedelta(days=12),
            end_date=TODAY + timedelta(days=16),
            capacity=5,
        )
        late = service.create_session(
            db,
            officer,
            course_id=course.id,
            start_date=TODAY + timedelta(days=400),
            end_date=TODAY + timedelta(days=404),
            capacity=5,
        )
        return {**people, "session": first.id, "clash": clash.id, "late": late.id, "good": good.id}
