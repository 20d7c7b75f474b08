"""The migrations create exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from rasid.core.migrate import current_revision, head_revision
from rasid.core.models_index import Base


def test_database_is_at_the_newest_revision(engine: Engine, database_url: str) -> None:
    assert current_revision(engine) == head_revision(database_url)


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [
            d
            for d in compare_metadata(context, Base.metadata)
            # the access tests' own table is not part of the product schema
            if "test_dossier" not in repr(d)
        ]
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_every_context_table_exists(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {
        "organisation",
        "app_user",
        "user_role",
        "web_session",
        "api_token",
        "login_throttle",
        "access_grant",
        "audit_entry",
        "audit_head",
    } <= tables
