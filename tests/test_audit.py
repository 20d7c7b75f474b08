"""The hash-chained audit log: what it records, and `audit verify` catching tampering."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit import service as audit
from rasid.audit.models import AuditEntry
from rasid.core.actor import Actor, system_actor
from rasid.identity import service as identity
from tests.conftest import World


def _entries(factory: sessionmaker[Session]) -> list[AuditEntry]:
    with factory() as db:
        return list(db.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all())


def _append(factory: sessionmaker[Session], actor: Actor, n: int) -> None:
    with factory.begin() as db:
        for i in range(n):
            audit.record(
                db,
                actor,
                "update",
                object_type="thing",
                object_id=i,
                before={"v": i},
                after={"v": i + 1, "password": "hunter2hunter2"},
            )


def test_entries_record_who_what_when_and_redact_secrets(
    world: World, factory: sessionmaker[Session]
) -> None:
    actor = world.actor("analyst")
    _append(factory, actor, 1)
    last = _entries(factory)[-1]
    assert (
        last.username == "analyst" and last.user_id == actor.user_id and last.org_id == actor.org_id
    )
    assert last.via == "cli" and last.request_id == actor.request_id and last.address == "local"
    assert last.at.tzinfo is not None
    assert json.loads(last.before or "{}") == {"v": 0}
    assert json.loads(last.after or "{}") == {"v": 1, "password": "[redacted]"}
    assert "hunter2" not in (last.after or "")


def test_user_and_org_creation_are_audited_with_after_data(
    world: World, factory: sessionmaker[Session]
) -> None:
    entries = _entries(factory)
    creates = [(e.object_type, e.action, e.username) for e in entries if e.action == "create"]
    assert ("organisation", "create", "system") in creates
    user_rows = [e for e in entries if e.object_type == "user" and e.action == "create"]
    assert len(user_rows) == 7
    after = json.loads(user_rows[0].after or "{}")
    assert after["username"] == "admin" and after["roles"] == ["admin"]
    assert "password_hash" not in after  # never part of a snapshot


def test_chain_links_every_entry(world: World, factory: sessionmaker[Session]) -> None:
    entries = _entries(factory)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    with factory() as db:
        result = audit.verify_chain(db)
    assert result.ok and result.checked == len(entries)


def test_a_batch_writes_one_entry_per_change_on_the_same_chain(
    world: World, factory: sessionmaker[Session]
) -> None:
    actor = world.actor("analyst")
    start = len(_entries(factory))
    with factory.begin() as db, audit.batched(db):
        for i in range(3):
            audit.record(db, actor, "update", object_type="thing", object_id=i, after={"v": i})
        assert audit.batch_mark(db) == 3
        with audit.batched(db):  # a nested block joins the outer batch
            audit.record(db, actor, "update", object_type="thing", object_id=3)
        mark = audit.batch_mark(db)
        audit.record(db, actor, "update", object_type="thing", object_id=99)
        audit.batch_discard(db, mark)  # the work behind this entry was rolled back
    _append(factory, actor, 1)  # one-by-one appends go on after the batch
    entries = _entries(factory)[start:]
    assert [e.object_id for e in entries] == ["0", "1", "2", "3", "0"]
    assert [e.seq for e in entries] == list(range(start + 1, start + 6))
    assert all(e.username == "analyst" for e in entries)
    with factory() as db:
        assert audit.verify_chain(db).ok


def test_a_batch_that_fails_writes_nothing(world: World, factory: sessionmaker[Session]) -> None:
    before = len(_entries(factory))
    with pytest.raises(ValueError), factory.begin() as db, audit.batched(db):
        audit.record(db, world.actor("analyst"), "update", object_type="thing", object_id=1)
        raise ValueError("the import failed half-way")
    assert len(_entries(factory)) == before
    _append(factory, world.actor("analyst"), 1)
    with factory() as db:
        assert audit.verify_chain(db).ok


def test_audit_table_refuses_update_and_delete(
    world: World, factory: sessionmaker[Session]
) -> None:
    with pytest.raises(DatabaseError), factory.begin() as db:
        db.execute(text("UPDATE audit_entry SET username = 'nobody' WHERE seq = 1"))
    with pytest.raises(DatabaseError), factory.begin() as db:
        db.execute(text("DELETE FROM audit_entry WHERE seq = 1"))


def _tamper(engine: Engine, *statements: str) -> None:
    """Edit the log the way someone with database-owner rights could: triggers off."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(text(statement))


def _verify(factory: sessionmaker[Session]) -> audit.VerifyResult:
    with factory() as db:
        return audit.verify_chain(db, batch=3)  # small batches: the walk crosses batch borders


def test_verify_catches_an_altered_row(
    world: World, factory: sessionmaker[Session], engine: Engine
) -> None:
    _append(factory, system_actor(), 5)
    _tamper(engine, "UPDATE audit_entry SET username = 'someone-else' WHERE seq = 4")
    result = _verify(factory)
    assert not result.ok and result.bad_seq == 4 and "altered" in (result.problem or "")


def test_verify_catches_a_deleted_row(
    world: World, factory: sessionmaker[Session], engine: Engine
) -> None:
    _append(factory, system_actor(), 5)
    _tamper(engine, "DELETE FROM audit_entry WHERE seq = 6")
    result = _verify(factory)
    assert not result.ok and result.bad_seq == 7 and "deleted" in (result.problem or "")


def test_verify_catches_reordered_rows(
    world: World, factory: sessionmaker[Session], engine: Engine
) -> None:
    _append(factory, system_actor(), 5)
    # Swap the sequence numbers of two entries, as a reordering would.
    _tamper(
        engine,
        "UPDATE audit_entry SET seq = -1 WHERE seq = 3",
        "UPDATE audit_entry SET seq = 3 WHERE seq = 4",
        "UPDATE audit_entry SET seq = 4 WHERE seq = -1",
    )
    result = _verify(factory)
    assert not result.ok and result.bad_seq in (3, 4)


def test_verify_catches_a_deleted_tail(
    world: World, factory: sessionmaker[Session], engine: Engine
) -> None:
    _append(factory, system_actor(), 3)
    last = _entries(factory)[-1].seq
    _tamper(engine, f"DELETE FROM audit_entry WHERE seq = {last}")
    result = _verify(factory)
    assert not result.ok and "end" in (result.problem or "")


def test_refusals_are_listed_for_auditors_only(
    world: World, factory: sessionmaker[Session]
) -> None:
    from rasid.core.errors import Forbidden

    with factory() as db, pytest.raises(Forbidden):
        audit.list_entries(db, world.actor("analyst"), audit.AuditFilter())
    with factory.begin() as db:
        rows, total = audit.list_entries(
            db, world.actor("auditor"), audit.AuditFilter(object_type="user")
        )
        assert total == 7 and all(r.object_type == "user" for r in rows)
    # The auditor's read is itself in the log.
    assert _entries(factory)[-1].action == "audit.read"


def test_identity_change_writes_before_and_after(
    world: World, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        identity.update_user(db, world.actor("admin"), "watch", roles=["maritime", "analyst"])
    last = _entries(factory)[-1]
    assert last.action == "update" and last.username == "admin"
    assert json.loads(last.before or "{}")["roles"] == ["maritime"]
    assert json.loads(last.after or "{}")["roles"] == ["analyst", "maritime"]
