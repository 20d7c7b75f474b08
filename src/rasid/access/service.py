"""The one place that decides who may see what.

:func:`visible_filter` turns the acting user into a SQL condition over any
:class:`~rasid.access.models.Protected` model. Lists, counts, searches, maps,
exports and single-record reads all build on it, so a count can never reveal a
row its user could not open.

| marking          | visible to                                                      |
| ---------------- | --------------------------------------------------------------- |
| TLP:CLEAR        | every account                                                   |
| TLP:GREEN        | every account whose organisation is in the sharing community   |
| TLP:AMBER        | the owner organisation and the organisations it is released to  |
| TLP:AMBER+STRICT | the owner organisation only                                     |
| TLP:RED          | the named individual recipients only                            |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, exists, false, func, insert, or_, select, true
from sqlalchemy.orm import Session

from rasid.access.markings import (
    AMBER,
    AMBER_STRICT,
    AUDITED_READ_MARKINGS,
    CLEAR,
    GREEN,
    RED,
    RELEASABLE_MARKINGS,
    normalise_marking,
)
from rasid.access.models import AccessGrant, Protected
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.errors import NotFound, ValidationFailed

P = TypeVar("P", bound=Protected)


#: ``Actor.via`` of an organisation reading as a whole, with no person: what a federation
#: push sends to a partner server. It sees what the organisation sees, and no TLP:RED
#: (RED goes to named people only).
ORG_READER = "org"


def visible_filter(actor: Actor, model: type[Protected]) -> ColumnElement[bool]:
    """SQL condition: rows of ``model`` that ``actor`` may see."""
    if actor.is_system:
        return true()
    marking = model.marking
    if actor.org_id is None or (actor.user_id is None and actor.via != ORG_READER):
        return false()
    object_type = model.__access_type__
    row_id = model.id
    released_to_my_org = exists().where(
        AccessGrant.object_type == object_type,
        AccessGrant.object_id == row_id,
        AccessGrant.org_id == actor.org_id,
    )
    named_recipient = exists().where(
        AccessGrant.object_type == object_type,
        AccessGrant.object_id == row_id,
        AccessGrant.user_id == actor.user_id,
    )
    clauses: list[ColumnElement[bool]] = [marking == CLEAR]
    if actor.org_in_community:
        clauses.append(marking == GREEN)
    clauses.append(
        and_(marking == AMBER, or_(model.owner_org_id == actor.org_id, released_to_my_org))
    )
    clauses.append(and_(marking == AMBER_STRICT, model.owner_org_id == actor.org_id))
    clauses.append(and_(marking == RED, named_recipient))
    return or_(*clauses)


def may_read_marking(actor: Actor, marking: str) -> bool:
    """Whether ``actor`` may read data classified as a whole under ``marking`` (no owner, no
    grants: e.g. the AIS traffic picture). The rule of :func:`visible_filter` for such data:
    CLEAR for any organisation, GREEN for the community, nothing stricter."""
    if actor.is_system:
        return True
    if actor.org_id is None or (actor.user_id is None and actor.via != ORG_READER):
        return False
    value = normalise_marking(marking)
    return value == CLEAR or (value == GREEN and actor.org_in_community)


def visible(actor: Actor, model: type[P]) -> Any:
    """``select(model)`` restricted to what ``actor`` may see."""
    return select(model).where(visible_filter(actor, model))


def count_visible(db: Session, actor: Actor, model: type[Protected], *where: Any) -> int:
    stmt = select(func.count()).select_from(model).where(visible_filter(actor, model), *where)
    return int(db.scalar(stmt) or 0)


def can_see(db: Session, actor: Actor, model: type[Protected], row_id: int) -> bool:
    stmt = select(model.id).where(model.id == row_id, visible_filter(actor, model))
    return db.scalar(stmt) is not None


def get_visible(
    db: Session, actor: Actor, model: type[P], row_id: int, *, audit_read: bool = True
) -> P:
    """Fetch one row for ``actor`` or raise 404 — whether it is missing or hidden.

    A hidden row raises the same error as a missing one (existence is itself secret)
    but the refusal is always audited. A visible AMBER, AMBER+STRICT or RED row is audited
    as a read unless ``audit_read`` is off (a lookup on the way to another audited act).
    """
    row: P | None = db.scalar(visible(actor, model).where(model.id == row_id))
    object_type = model.__access_type__
    if row is None:
        error = NotFound("No %(type)s with id %(id)s.", type=object_type, id=row_id)
        if db.get(model, row_id) is not None:
            error.audit = {
                "action": "access.refused",
                "object_type": object_type,
                "object_id": row_id,
                "outcome": "refused",
            }
        raise error
    if audit_read and row.marking in AUDITED_READ_MARKINGS:
        audit.record(
            db,
            actor,
            "read",
            object_type=object_type,
            object_id=row_id,
            detail={"marking": row.marking},
        )
    return row


def grants_for(db: Session, model: type[Protected], row_id: int) -> tuple[list[int], list[int]]:
    """(releasable-to organisation ids, named recipient user ids) of one row."""
    rows = db.execute(
        select(AccessGrant.org_id, AccessGrant.user_id).where(
            AccessGrant.object_type == model.__access_type__, AccessGrant.object_id == row_id
        )
    ).all()
    orgs = sorted(r[0] for r in rows if r[0] is not None)
    users = sorted(r[1] for r in rows if r[1] is not None)
    return orgs, users


def validate_marking(marking: str, releasable_to: Sequence[int], recipients: Sequence[int]) -> str:
    value = normalise_marking(marking)
    if releasable_to and value not in RELEASABLE_MARKINGS:
        raise ValidationFailed(
            "Only TLP:AMBER records can be released to other organisations; "
            "this record is %(marking)s.",
            field="releasable_to",
            marking=value,
        )
    if value == RED and not recipients:
        raise ValidationFailed(
            "A TLP:RED record needs at least one named recipient.", field="recipients"
        )
    if recipients and value != RED:
        raise ValidationFailed(
            "Named recipients apply to TLP:RED records only.", field="recipients"
        )
    return value


def grant_rows(
    row: Protected, *, releasable_to: Iterable[int] = (), recipients: Iterable[int] = ()
) -> list[dict[str, Any]]:
    """The ``access_grant`` rows of one record, for a bulk insert by the owning context."""
    object_type = type(row).__access_type__
    rows: list[dict[str, Any]] = [
        {"object_type": object_type, "object_id": row.id, "org_id": org_id, "user_id": None}
        for org_id in sorted(set(releasable_to))
        if org_id != row.owner_org_id
    ]
    rows += [
        {"object_type": object_type, "object_id": row.id, "org_id": None, "user_id": user_id}
        for user_id in sorted(set(recipients))
    ]
    return rows


def set_grants(
    db: Session,
    row: Protected,
    *,
    releasable_to: Iterable[int] = (),
    recipients: Iterable[int] = (),
    fresh: bool = False,
) -> None:
    """Replace a row's releasable-to organisations and named recipients.

    Called by the owning context's service inside its own unit of work, after it has
    validated the marking with :func:`validate_marking`. ``fresh``: the row was inserted in
    this unit of work and has no grants yet (nothing to delete).
    """
    object_type = type(row).__access_type__
    if not fresh:
        db.execute(
            delete(AccessGrant).where(
                AccessGrant.object_type == object_type, AccessGrant.object_id == row.id
            )
        )
    add_grants(db, grant_rows(row, releasable_to=releasable_to, recipients=recipients))


def add_grants(db: Session, rows: list[dict[str, Any]]) -> None:
    """Insert grant rows built by :func:`grant_rows` (records inserted in this unit of work)."""
    if rows:  # a core insert: the grants are read back by queries, never through the session
        db.execute(insert(AccessGrant), rows)
