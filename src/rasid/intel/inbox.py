"""The inbox's unread state: which released reports a user has not opened yet.

A report counts in a user's inbox when another organisation released it to the user's
organisation and the user may read it (the marking rule). Opening it (the report page or
``GET /api/v1/intel/reports/{id}``) records a :class:`ReportRead` the first time; later opens
change nothing. Read receipts are the user's own state, not a change of the report, so they
are not audited (the reads themselves are, where the marking asks for it).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.core.actor import Actor
from rasid.core.db import savepoint, utcnow
from rasid.intel.models import Report, ReportRead, ReportRelease


def _received(actor: Actor) -> ColumnElement[bool]:
    """Released to the actor's organisation by another one, and readable by the actor."""
    return and_(
        Report.status == "released",
        Report.owner_org_id != actor.org_id,
        exists().where(ReportRelease.report_id == Report.id, ReportRelease.org_id == actor.org_id),
        access.visible_filter(actor, Report),
    )


def _not_read(actor: Actor) -> ColumnElement[bool]:
    return ~exists().where(ReportRead.report_id == Report.id, ReportRead.user_id == actor.user_id)


def _has_inbox(actor: Actor) -> bool:
    return actor.user_id is not None and actor.org_id is not None


def mark_read(db: Session, actor: Actor, report: Report) -> bool:
    """Record that the actor opened the report; True only on the first open."""
    if actor.user_id is None:
        return False
    seen = db.scalar(
        select(ReportRead.id).where(
            ReportRead.report_id == report.id, ReportRead.user_id == actor.user_id
        )
    )
    if seen is not None:
        return False
    try:
        with savepoint(db):  # two tabs opening the report at once: one receipt wins
            db.add(ReportRead(report_id=report.id, user_id=actor.user_id, read_at=utcnow()))
    except IntegrityError:
        return False
    return True


def unread_count(db: Session, actor: Actor) -> int:
    """Reports released to the actor's organisation that the actor has not opened."""
    if not _has_inbox(actor):
        return 0
    stmt = select(func.count()).select_from(Report).where(_received(actor), _not_read(actor))
    return int(db.scalar(stmt) or 0)


def unread_ids(db: Session, actor: Actor, report_ids: Iterable[int]) -> set[int]:
    """Which of these reports the actor has not opened yet."""
    ids = set(report_ids)
    if not ids or actor.user_id is None:
        return set()
    read = set(
        db.scalars(
            select(ReportRead.report_id).where(
                ReportRead.user_id == actor.user_id, ReportRead.report_id.in_(ids)
            )
        )
    )
    return ids - read


def mark_all_read(db: Session, actor: Actor) -> int:
    """Mark every unread report of the actor's inbox as read; returns how many."""
    if not _has_inbox(actor):
        return 0
    ids = list(db.scalars(select(Report.id).where(_received(actor), _not_read(actor))))
    now = utcnow()
    for report_id in ids:
        db.add(ReportRead(report_id=report_id, user_id=actor.user_id, read_at=now))
    db.flush()
    return len(ids)
