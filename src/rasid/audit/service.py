"""Writing, reading and verifying the audit log. The only code that touches its tables."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from rasid.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Forbidden

REDACTED = "[redacted]"
_SECRET_MARKERS = ("password", "secret", "token", "hash", "otp", "mfa_code", "csrf")

# Fields covered by an entry's hash, in a fixed order.
HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "at",
    "user_id",
    "username",
    "org_id",
    "via",
    "session_id",
    "token_id",
    "address",
    "request_id",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "before",
    "after",
    "detail",
)


@lru_cache(maxsize=4096)
def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


def redact(value: Any) -> Any:
    """Copy ``value`` with every secret-looking key's value replaced."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            skey = str(key)
            if _is_secret(skey):
                out[skey] = REDACTED if item is not None else None
            else:
                out[skey] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _dump(value: Any) -> str | None:
    return None if value is None else canonical_json(redact(value))


def entry_payload(entry: AuditEntry) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(entry, name) for name in HASHED_FIELDS}
    data["at"] = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    return data


def compute_hash(prev_hash: str, entry: AuditEntry) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_json(entry_payload(entry)).encode("utf-8"))
    return digest.hexdigest()


def _bump_head(db: Session, count: int) -> Any:
    """Reserve ``count`` sequence numbers; returns (last_seq, last_hash) after the bump.

    The update takes the write lock (SQLite) or the row lock (PostgreSQL) that serialises
    appenders across processes.
    """
    bump = (
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq + count)
        .returning(AuditHead.last_seq, AuditHead.last_hash)
        .execution_options(synchronize_session=False)
    )
    row = db.execute(bump).one_or_none()
    if row is None:  # the migration creates the head; recreate it only on an empty log
        if db.scalar(select(func.count()).select_from(AuditEntry)):
            raise RuntimeError(
                "audit_head row is missing while entries exist; run `rasid audit verify`"
            )
        db.add(AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH))
        db.flush()
        row = db.execute(bump).one()
    return row


def record(
    db: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
    outcome: str = "ok",
    username: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (so it commits or rolls back with it).

    The head row is updated first: that takes the write lock (SQLite) or the row lock
    (PostgreSQL) which serialises appenders across processes. Inside :func:`batched` the
    entry is only built here (time, actor, before/after) and chained and written with the
    rest of the batch when it ends.
    """
    pending: list[AuditEntry] | None = db.info.get(_BATCH_KEY)
    if pending is not None:
        entry = _entry(actor, action, object_type, object_id, before, after, detail, outcome)
        if username is not None:
            entry.username = username
        pending.append(entry)
        return entry
    row = _bump_head(db, 1)
    seq, prev_hash = int(row[0]), str(row[1])
    # The ORM identity map may hold a stale head; forget it.
    head = db.get(AuditHead, 1)
    if head is not None:
        db.expire(head)
    entry = _entry(actor, action, object_type, object_id, before, after, detail, outcome)
    if username is not None:
        entry.username = username
    entry.seq = seq
    entry.prev_hash = prev_hash
    entry.hash = compute_hash(prev_hash, entry)
    db.add(entry)
    db.flush()
    db.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_hash=entry.hash)
        .execution_options(synchronize_session=False)
    )
    return entry


def _entry(
    actor: Actor,
    action: str,
    object_type: str | None,
    object_id: str | int | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    detail: Mapping[str, Any] | None,
    outcome: str,
) -> AuditEntry:
    return AuditEntry(
        seq=0,
        at=utcnow(),
        user_id=actor.user_id,
        username=actor.username,
        org_id=actor.org_id,
        via=actor.via,
        session_id=actor.session_id,
        token_id=actor.token_id,
        address=actor.address,
        request_id=actor.request_id,
        action=action,
        outcome=outcome,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_dump(before),
        after=_dump(after),
        detail=_dump(detail),
        prev_hash="",
        hash="",
    )


_BATCH_KEY = "rasid.audit.batch"


@contextmanager
def batched(db: Session) -> Iterator[None]:
    """Write the entries recorded inside the block together, when it ends without error.

    For bulk jobs (a federation pull, a file import): every change still gets its own entry
    with its own time, actor and before/after, and the chain is the same as if they had been
    appended one by one — but the head is bumped once and the entries are inserted in one
    statement. Nothing is written if the block raises (the caller's transaction rolls back
    with it). Work undone by a savepoint inside the block must drop its entries with
    :func:`batch_mark` / :func:`batch_discard`. Nested blocks join the outer one.
    """
    if db.info.get(_BATCH_KEY) is not None:
        yield
        return
    pending: list[AuditEntry] = []
    db.info[_BATCH_KEY] = pending
    try:
        yield
    finally:
        db.info.pop(_BATCH_KEY, None)
    _write_batch(db, pending)


def batch_mark(db: Session) -> int:
    """How many entries the open batch holds (0 outside a batch)."""
    pending: list[AuditEntry] | None = db.info.get(_BATCH_KEY)
    return 0 if pending is None else len(pending)


def batch_discard(db: Session, mark: int) -> None:
    """Drop the entries recorded since ``mark`` (their work was rolled back)."""
    pending: list[AuditEntry] | None = db.info.get(_BATCH_KEY)
    if pending is not None:
        del pending[mark:]


def _write_batch(db: Session, pending: list[AuditEntry]) -> None:
    if not pending:
        return
    db.flush()
    row = _bump_head(db, len(pending))
    last_seq, prev_hash = int(row[0]), str(row[1])
    seq = last_seq - len(pending)
    rows: list[dict[str, Any]] = []
    for entry in pending:
        seq += 1
        entry.seq = seq
        entry.prev_hash = prev_hash
        entry.hash = prev_hash = compute_hash(prev_hash, entry)
        rows.append({name: getattr(entry, name) for name in _COLUMNS})
    db.execute(insert(AuditEntry), rows)
    db.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_hash=prev_hash)
        .execution_options(synchronize_session=False)
    )
    head = db.get(AuditHead, 1)
    if head is not None:
        db.expire(head)


_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")


def record_change(
    db: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditEntry:
    """A create (before=None), update or delete (after=None) with its before/after data."""
    return record(
        db, actor, action, object_type=object_type, object_id=object_id, before=before, after=after
    )


# --- verification -----------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    problem: str | None = None
    bad_seq: int | None = None
    bad_id: int | None = None


def verify_chain(
    db: Session, *, batch: int = 5000, progress: Callable[[int], None] | None = None
) -> VerifyResult:
    """Walk the whole chain in ``seq`` order and report the first broken entry.

    Catches an altered row (its hash no longer matches its content), a deleted row
    (a gap in ``seq`` or a ``prev_hash`` that no longer links), reordered rows (the
    links break) and a deleted tail (the head names a later entry than the last row).
    """
    head = db.get(AuditHead, 1)
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    last_id = -1
    while True:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            last_id = entry.id
            if entry.seq != expected_seq:
                problem = (
                    f"entry id {entry.id} has sequence {entry.seq}, expected {expected_seq}: "
                    "an entry was deleted or the rows were reordered"
                )
                return VerifyResult(
                    False, checked, head_seq, head_hash, problem, entry.seq, entry.id
                )
            if entry.prev_hash != prev_hash:
                problem = (
                    f"entry {entry.seq} (id {entry.id}) does not link to the entry before it: "
                    "an entry was deleted, inserted or reordered"
                )
                return VerifyResult(
                    False, checked, head_seq, head_hash, problem, entry.seq, entry.id
                )
            if compute_hash(prev_hash, entry) != entry.hash:
                problem = f"entry {entry.seq} (id {entry.id}) was altered: its hash does not match its content"
                return VerifyResult(
                    False, checked, head_seq, head_hash, problem, entry.seq, entry.id
                )
            prev_hash = entry.hash
            expected_seq += 1
            checked += 1
        db.expunge_all()
        if progress is not None:
            progress(len(rows))
    if checked != head_seq or prev_hash != head_hash:
        problem = (
            f"the log ends at entry {checked} but its head records entry {head_seq}: "
            "entries were deleted from the end or the head was altered"
        )
        return VerifyResult(False, checked, head_seq, head_hash, problem, checked + 1, None)
    return VerifyResult(True, checked, head_seq, head_hash)


# --- reading (auditors) ------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    outcome: str | None = None


def require_auditor(actor: Actor) -> None:
    if not (actor.can("audit") or actor.can("administer")):
        raise Forbidden("Only auditors and administrators may read the audit log.")


def _filtered(flt: AuditFilter) -> Any:
    stmt = select(AuditEntry)
    if flt.username:
        stmt = stmt.where(AuditEntry.username == flt.username.strip().lower())
    if flt.action:
        stmt = stmt.where(AuditEntry.action.startswith(flt.action.strip()))
    if flt.object_type:
        stmt = stmt.where(AuditEntry.object_type == flt.object_type.strip())
    if flt.object_id:
        stmt = stmt.where(AuditEntry.object_id == flt.object_id.strip())
    if flt.outcome:
        stmt = stmt.where(AuditEntry.outcome == flt.outcome)
    if flt.since:
        stmt = stmt.where(AuditEntry.at >= flt.since)
    if flt.until:
        stmt = stmt.where(AuditEntry.at < flt.until)
    return stmt


def list_entries(
    db: Session, actor: Actor, flt: AuditFilter, *, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEntry], int]:
    require_auditor(actor)
    stmt = _filtered(flt)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)).all()
    record(
        db,
        actor,
        "audit.read",
        object_type="audit_entry",
        detail={"filter": _filter_dict(flt), "offset": offset, "returned": len(rows)},
    )
    return list(rows), int(total)


def _filter_dict(flt: AuditFilter) -> dict[str, Any]:
    return {k: v for k, v in flt.__dict__.items() if v not in (None, "")}


CSV_COLUMNS: tuple[str, ...] = (
    "seq",
    "at",
    "username",
    "user_id",
    "org_id",
    "via",
    "session_id",
    "token_id",
    "address",
    "request_id",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "before",
    "after",
    "detail",
    "prev_hash",
    "hash",
)


def export_entries(db: Session, actor: Actor, flt: AuditFilter) -> list[AuditEntry]:
    """Every matching entry, oldest first, for export. The export itself is audited."""
    require_auditor(actor)
    rows = list(db.scalars(_filtered(flt).order_by(AuditEntry.seq)).all())
    record(
        db,
        actor,
        "export",
        object_type="audit_entry",
        detail={"format": "csv", "filter": _filter_dict(flt), "rows": len(rows)},
    )
    return rows


def csv_lines(rows: Iterable[AuditEntry]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    for entry in rows:
        buf.seek(0)
        buf.truncate()
        values = entry_payload(entry) | {"prev_hash": entry.prev_hash, "hash": entry.hash}
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
        yield buf.getvalue()


def count_entries(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def count_since(db: Session, since: datetime, action_prefix: str | None = None) -> int:
    stmt = select(func.count()).select_from(AuditEntry).where(AuditEntry.at >= since)
    if action_prefix:
        stmt = stmt.where(AuditEntry.action.startswith(action_prefix))
    return int(db.scalar(stmt) or 0)
