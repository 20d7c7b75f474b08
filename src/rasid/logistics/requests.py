"""Technical and logistical support requests: a board by status, due dates by priority,
comments, linked items, and the list of overdue requests.

Workflow (anything else is refused with the allowed moves)::

    new → triaged | closed
    triaged → in_progress | waiting | closed
    in_progress ⇄ waiting → resolved → closed (or back to in_progress)
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import AMBER
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, ValidationFailed
from rasid.logistics.models import (
    REQUEST_PRIORITIES,
    REQUEST_STATUSES,
    Item,
    SupportComment,
    SupportRequest,
    SupportRequestItem,
)
from rasid.logistics.service import _owner, _require, _unit

DUE_DAYS = {"urgent": 2, "high": 7, "normal": 14, "low": 30}
MOVES: dict[str, tuple[str, ...]] = {
    "new": ("triaged", "closed"),
    "triaged": ("in_progress", "waiting", "closed"),
    "in_progress": ("waiting", "resolved"),
    "waiting": ("in_progress", "resolved"),
    "resolved": ("closed", "in_progress"),
    "closed": (),
}
OPEN = ("new", "triaged", "in_progress", "waiting")


def create(
    db: Session,
    actor: Actor,
    *,
    category: str,
    unit_id: int,
    title: str,
    priority: str = "normal",
    description: str = "",
    item_ids: list[int] | None = None,
    today: date | None = None,
) -> SupportRequest:
    _require(actor, "write")
    if category not in ("technical", "logistical"):
        raise ValidationFailed("The category is technical or logistical.", field="category")
    if priority not in REQUEST_PRIORITIES:
        raise ValidationFailed("The priority is one of: %(values)s.", field="priority",
                               values=", ".join(REQUEST_PRIORITIES))  # fmt: skip
    if not title.strip():
        raise ValidationFailed("This field is required.", field="title")
    unit = _unit(db, actor, unit_id)
    items = [access.get_visible(db, actor, Item, i, audit_read=False) for i in (item_ids or [])]
    start = today or date.today()
    request = SupportRequest(
        category=category, unit_id=unit.id, priority=priority, title=title.strip()[:200],
        description=description.strip(), status="new",
        due_date=start + timedelta(days=DUE_DAYS[priority]), created_by=actor.user_id,
        owner_org_id=_owner(actor), marking=AMBER,
    )  # fmt: skip
    db.add(request)
    db.flush()
    db.add_all([SupportRequestItem(request_id=request.id, item_id=i.id) for i in items])
    db.flush()
    audit.record_change(db, actor, "create", "logistics_request", request.id, None,
                        {"category": category, "priority": priority, "title": request.title,
                         "unit_id": unit.id, "items": [i.serial for i in items]})  # fmt: skip
    return request


def move(db: Session, actor: Actor, request_id: int, status: str) -> SupportRequest:
    _require(actor, "write")
    request: SupportRequest = access.get_visible(
        db, actor, SupportRequest, request_id, audit_read=False
    )
    if status not in REQUEST_STATUSES:
        raise ValidationFailed("The status is one of: %(statuses)s.", field="status",
                               statuses=", ".join(REQUEST_STATUSES))  # fmt: skip
    allowed = MOVES[request.status]
    if status not in allowed:
        raise Conflict("A %(current)s request moves to %(allowed)s, not %(status)s.",
                       field="status", current=request.status,
                       allowed=", ".join(allowed) or "nothing", status=status)  # fmt: skip
    before = {"status": request.status}
    request.status, request.updated_at = status, utcnow()
    db.flush()
    audit.record_change(db, actor, "update", "logistics_request", request.id, before,
                        {"status": status})  # fmt: skip
    return request


def comment(db: Session, actor: Actor, request_id: int, body: str) -> SupportComment:
    _require(actor, "write")
    request: SupportRequest = access.get_visible(
        db, actor, SupportRequest, request_id, audit_read=False
    )
    if not body.strip():
        raise ValidationFailed("This field is required.", field="body")
    row = SupportComment(request_id=request.id, body=body.strip(), user_id=actor.user_id,
                         username=actor.username)  # fmt: skip
    db.add(row)
    db.flush()
    audit.record_change(db, actor, "create", "logistics_request_comment", row.id, None,
                        {"request_id": request.id, "body": row.body})  # fmt: skip
    return row


def board(db: Session, actor: Actor) -> dict[str, list[SupportRequest]]:
    """Every visible request by status (the board's columns), most urgent due first."""
    _require(actor, "read")
    out: dict[str, list[SupportRequest]] = {s: [] for s in REQUEST_STATUSES}
    for r in db.scalars(
        access.visible(actor, SupportRequest).order_by(SupportRequest.due_date, SupportRequest.id)
    ):
        out[r.status].append(r)
    return out


def overdue(db: Session, actor: Actor, today: date | None = None) -> list[SupportRequest]:
    _require(actor, "read")
    day = today or date.today()
    return list(
        db.scalars(
            access.visible(actor, SupportRequest)
            .where(SupportRequest.status.in_(OPEN), SupportRequest.due_date < day)
            .order_by(SupportRequest.due_date)
        )
    )


def comments(db: Session, actor: Actor, request_id: int) -> list[SupportComment]:
    request: SupportRequest = access.get_visible(db, actor, SupportRequest, request_id)
    return list(
        db.scalars(
            select(SupportComment)
            .where(SupportComment.request_id == request.id)
            .order_by(SupportComment.id)
        )
    )


def get(db: Session, actor: Actor, request_id: int) -> SupportRequest:
    """One request (an audited read; 404 whether missing or hidden)."""
    _require(actor, "read")
    request: SupportRequest = access.get_visible(db, actor, SupportRequest, request_id)
    return request


def items(db: Session, actor: Actor, request_id: int) -> list[Item]:
    """The items a visible request is about, by serial."""
    request: SupportRequest = access.get_visible(
        db, actor, SupportRequest, request_id, audit_read=False
    )
    return list(
        db.scalars(
            access.visible(actor, Item)
            .join(SupportRequestItem, SupportRequestItem.item_id == Item.id)
            .where(SupportRequestItem.request_id == request.id)
            .order_by(Item.serial)
        )
    )


def items_by_serials(db: Session, actor: Actor, serials: list[str]) -> list[Item]:
    """The visible items with these serials (a request's linked items), each serial named
    when unknown."""
    wanted = [s.strip().upper() for s in serials if s.strip()]
    found = {
        i.serial: i for i in db.scalars(access.visible(actor, Item).where(Item.serial.in_(wanted)))
    }
    for i, serial in enumerate(wanted):
        if serial not in found:
            raise ValidationFailed("No item with the serial %(serial)s.", field=f"items.{i}",
                                   serial=serial)  # fmt: skip
    return [found[s] for s in wanted]
