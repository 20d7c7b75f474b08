"""Logistics service: equipment, hand-overs signed by both sides, end-use checks, and the
quarterly accountability figures.

Refused with a clear message, nothing half-saved: a serial that already exists, a hand-over
of an item that is missing, destroyed or not held by the issuing side, a check result for a
serial the checked unit does not hold. Every custody change appends to the item's custody
chain (append-only in the database). Reads go through ``access/``; changes are audited.

The read functions at the end (``list_*``, ``get_*``, ``unit_items``, ``check_lines``…) are
what the pages and the API both call. Opening one record (:func:`get_item`,
:func:`get_handover`, :func:`get_check`) is an audited read; the lists and the parts of a
record (its items, lines, custody chain) are not, as in the other contexts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import AMBER
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, ValidationFailed
from rasid.logistics.models import (
    CHECK_KINDS,
    CHECK_RESULTS,
    ITEM_STATUSES,
    CheckLine,
    CustodyEvent,
    Deficiency,
    EndUseCheck,
    EquipmentType,
    Handover,
    HandoverItem,
    Item,
)
from rasid.training.models import TrainingUnit

DEFICIENCY_DAYS = 30
INITIAL_CHECK_DAYS = 30  # the initial inventory after a delivery is due within this
ENHANCED_INTERVAL = timedelta(days=365)  # enhanced items: a serial inventory every year
VERIFIED_WINDOW = timedelta(days=365)


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "Your roles do not allow this action (%(permission)s).", permission=permission
        )


def _owner(actor: Actor) -> int:
    if actor.org_id is None:
        raise ValidationFailed(
            "Records must belong to an organisation: use --as USERNAME.", field="owner_org"
        )
    return actor.org_id


def _unit(db: Session, actor: Actor, unit_id: int) -> TrainingUnit:
    unit: TrainingUnit = access.get_visible(db, actor, TrainingUnit, unit_id, audit_read=False)
    return unit


def _event(db: Session, actor: Actor, item: Item, kind: str, **values: Any) -> None:
    db.add(CustodyEvent(item_id=item.id, kind=kind, user_id=actor.user_id, at=utcnow(), **values))


def add_type(
    db: Session,
    actor: Actor,
    *,
    name_ar: str,
    name_en: str = "",
    category: str = "",
    part_number: str = "",
    enhanced: bool = False,
) -> EquipmentType:
    _require(actor, "write")
    if not name_ar.strip():
        raise ValidationFailed("This field is required.", field="name_ar")
    row = EquipmentType(
        name_ar=name_ar.strip(), name_en=name_en.strip(), category=category.strip(),
        part_number=part_number.strip(), enhanced=enhanced, owner_org_id=_owner(actor),
        marking=AMBER,
    )  # fmt: skip
    db.add(row)
    db.flush()
    audit.record_change(db, actor, "create", "logistics_equipment_type", row.id, None,
                        {"name_ar": row.name_ar, "enhanced": enhanced})  # fmt: skip
    return row


def add_items(
    db: Session,
    actor: Actor,
    type_id: int,
    serials: Iterable[str],
    *,
    donor: str = "",
    case_ref: str = "",
    site: str = "",
) -> list[Item]:
    """Register delivered serials (held by the donor until handed over); all or none."""
    _require(actor, "write")
    kind: EquipmentType = access.get_visible(db, actor, EquipmentType, type_id, audit_read=False)
    clean = [s.strip().upper() for s in serials if s.strip()]
    if not clean:
        raise ValidationFailed("No serial number given.", field="serials")
    for name, value, limit in (("donor", donor, 200), ("case_ref", case_ref, 80),
                               ("site", site, 200)):  # fmt: skip
        if len(value.strip()) > limit:
            raise ValidationFailed("At most %(limit)s characters.", field=name, limit=limit)
    seen: set[str] = set()
    for i, serial in enumerate(clean):
        if len(serial) > 80:
            raise ValidationFailed("At most %(limit)s characters.", field=f"serials.{i}",
                                   limit=80)  # fmt: skip
        if serial in seen:
            raise ValidationFailed("Serial %(serial)s is listed twice.", field=f"serials.{i}",
                                   serial=serial)  # fmt: skip
        seen.add(serial)
    existing = set(
        db.scalars(select(Item.serial).where(Item.type_id == kind.id, Item.serial.in_(clean)))
    )
    if existing:
        first = sorted(existing)[0]
        raise Conflict("Serial %(serial)s of this equipment exists already.", field="serials",
                       serial=first)  # fmt: skip
    items = [
        Item(type_id=kind.id, serial=s, donor=donor.strip(), case_ref=case_ref.strip(),
             site=site.strip(), status="held", owner_org_id=_owner(actor), marking=AMBER)
        for s in clean
    ]  # fmt: skip
    db.add_all(items)
    db.flush()
    for item in items:
        _event(db, actor, item, "registered", detail=f"delivered by {item.donor}"[:300])
    with audit.batched(db):
        for item in items:
            audit.record_change(db, actor, "create", "logistics_item", item.id, None,
                                {"serial": item.serial, "type_id": kind.id})  # fmt: skip
    return items


def _items_by_serial(db: Session, actor: Actor, serials: list[str]) -> dict[str, Item]:
    wanted = [s.strip().upper() for s in serials if s.strip()]
    found = {
        i.serial: i for i in db.scalars(access.visible(actor, Item).where(Item.serial.in_(wanted)))
    }
    for i, serial in enumerate(wanted):
        if serial not in found:
            raise ValidationFailed("No item with the serial %(serial)s.", field=f"serials.{i}",
                                   serial=serial)  # fmt: skip
    return {s: found[s] for s in wanted}


def issue_handover(
    db: Session,
    actor: Actor,
    *,
    ref: str,
    to_unit_id: int,
    serials: list[str],
    from_unit_id: int | None = None,
    from_donor: str = "",
) -> Handover:
    """The issuing side signs: the items must be held, by ``from_unit_id`` (or undelivered)."""
    _require(actor, "write")
    owner = _owner(actor)
    to_unit = _unit(db, actor, to_unit_id)
    if from_unit_id is not None:
        _unit(db, actor, from_unit_id)
    items = _items_by_serial(db, actor, serials)
    for serial, item in items.items():
        if item.status != "held":
            raise Conflict("Refused: item %(serial)s is %(status)s and cannot be handed over.",
                           field="serials", serial=serial, status=item.status)  # fmt: skip
        if item.custodian_unit_id != from_unit_id:
            raise Conflict("Refused: item %(serial)s is not held by the issuing side.",
                           field="serials", serial=serial)  # fmt: skip
    if db.scalar(select(Handover.id).where(Handover.owner_org_id == owner, Handover.ref == ref)):
        raise Conflict("A hand-over %(ref)s exists already.", field="ref", ref=ref)
    handover = Handover(ref=ref.strip(), from_unit_id=from_unit_id, from_donor=from_donor.strip(),
                        to_unit_id=to_unit.id, status="issued", issued_by=actor.user_id,
                        owner_org_id=owner, marking=AMBER)  # fmt: skip
    db.add(handover)
    db.flush()
    db.add_all([HandoverItem(handover_id=handover.id, item_id=i.id) for i in items.values()])
    db.flush()
    audit.record_change(db, actor, "create", "logistics_handover", handover.id, None,
                        {"ref": handover.ref, "to_unit_id": to_unit.id,
                         "serials": list(items)})  # fmt: skip
    return handover


def accept_handover(db: Session, actor: Actor, handover_id: int) -> Handover:
    """The receiving side signs (someone other than the issuer): custody moves."""
    _require(actor, "write")
    handover: Handover = access.get_visible(db, actor, Handover, handover_id, audit_read=False)
    if handover.status != "issued":
        raise Conflict("Hand-over %(ref)s is accepted already.", ref=handover.ref)
    if actor.user_id is not None and actor.user_id == handover.issued_by:
        raise Forbidden("The receiving side signs the acceptance, not the issuer.")
    items = list(
        db.scalars(
            select(Item)
            .join(HandoverItem, HandoverItem.item_id == Item.id)
            .where(HandoverItem.handover_id == handover.id)
        )
    )
    for item in items:
        if item.status != "held" or item.custodian_unit_id != handover.from_unit_id:
            raise Conflict("Refused: item %(serial)s changed since the hand-over was issued.",
                           field="serials", serial=item.serial)  # fmt: skip
    for item in items:
        _event(db, actor, item, "handover", from_unit_id=item.custodian_unit_id,
               to_unit_id=handover.to_unit_id, handover_id=handover.id)  # fmt: skip
        item.custodian_unit_id = handover.to_unit_id
    handover.status, handover.accepted_by, handover.accepted_at = (
        "accepted",
        actor.user_id,
        utcnow(),
    )
    db.flush()
    audit.record_change(db, actor, "accept", "logistics_handover", handover.id,
                        {"status": "issued"}, {"status": "accepted"})  # fmt: skip
    if handover.from_unit_id is None and _open_check(db, handover.to_unit_id, "initial") is None:
        # A delivery: the initial inventory of the receiving unit is due within 30 days.
        _schedule(db, actor, handover.to_unit_id, "initial",
                  date.today() + timedelta(days=INITIAL_CHECK_DAYS), handover.owner_org_id,
                  reason=f"delivery {handover.ref}")  # fmt: skip
    return handover


def _schedule(db: Session, actor: Actor, unit_id: int, kind: str, day: date, owner: int,
              reason: str) -> EndUseCheck:  # fmt: skip
    check = EndUseCheck(unit_id=unit_id, kind=kind, scheduled_for=day, status="scheduled",
                        owner_org_id=owner, marking=AMBER)  # fmt: skip
    db.add(check)
    db.flush()
    audit.record_change(db, actor, "create", "logistics_check", check.id, None,
                        {"unit_id": unit_id, "kind": kind, "scheduled_for": day.isoformat(),
                         "scheduled_because": reason})  # fmt: skip
    return check


def schedule_check(
    db: Session, actor: Actor, *, unit_id: int, kind: str, scheduled_for: date
) -> EndUseCheck:
    """Schedule a check of a unit; a unit has at most one open check of each kind, so asking
    again for a kind already scheduled moves that check to the new date (audited)."""
    _require(actor, "write")
    if kind not in CHECK_KINDS:
        raise ValidationFailed("The kind is one of: %(kinds)s.", field="kind",
                               kinds=", ".join(CHECK_KINDS))  # fmt: skip
    unit = _unit(db, actor, unit_id)
    open_check = _open_check(db, unit.id, kind)
    if open_check is not None:
        if open_check.scheduled_for != scheduled_for:
            before = {"scheduled_for": open_check.scheduled_for.isoformat()}
            open_check.scheduled_for = scheduled_for
            db.flush()
            audit.record_change(db, actor, "update", "logistics_check", open_check.id, before,
                                {"scheduled_for": scheduled_for.isoformat()})  # fmt: skip
        return open_check
    check = EndUseCheck(unit_id=unit.id, kind=kind, scheduled_for=scheduled_for,
                        status="scheduled", owner_org_id=_owner(actor), marking=AMBER)  # fmt: skip
    db.add(check)
    db.flush()
    audit.record_change(db, actor, "create", "logistics_check", check.id, None,
                        {"unit_id": unit.id, "kind": kind,
                         "scheduled_for": scheduled_for.isoformat()})  # fmt: skip
    return check


def _open_check(db: Session, unit_id: int, kind: str) -> EndUseCheck | None:
    return db.scalar(
        select(EndUseCheck)
        .where(
            EndUseCheck.unit_id == unit_id,
            EndUseCheck.kind == kind,
            EndUseCheck.status == "scheduled",
        )
        .order_by(EndUseCheck.scheduled_for)
        .limit(1)
    )


def _holds_enhanced(db: Session, unit_id: int) -> bool:
    return (
        db.scalar(
            select(Item.id)
            .join(EquipmentType, EquipmentType.id == Item.type_id)
            .where(
                Item.custodian_unit_id == unit_id,
                Item.status.in_(("held", "missing")),
                EquipmentType.enhanced.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def record_check(
    db: Session,
    actor: Actor,
    check_id: int,
    results: dict[str, tuple[str, str]],
    done_on: date,
) -> EndUseCheck:
    """Per-serial results of a check visit (serial → (result, notes)); all or none. Missing,
    damaged and destroyed items open a deficiency due in 30 days."""
    _require(actor, "write")
    check: EndUseCheck = access.get_visible(db, actor, EndUseCheck, check_id, audit_read=False)
    if check.status == "done":
        raise Conflict("This check is recorded already.", field="status")
    if not results:
        raise ValidationFailed("No serial checked.", field="results")
    items = _items_by_serial(db, actor, list(results))
    for i, (serial, (result, _notes)) in enumerate(results.items()):
        if result not in CHECK_RESULTS:
            raise ValidationFailed("Serial %(serial)s: the result is one of %(results)s.",
                                   field=f"results.{i}", serial=serial,
                                   results=", ".join(CHECK_RESULTS))  # fmt: skip
        item = items[serial.strip().upper()]
        if item.custodian_unit_id != check.unit_id or item.status in ("destroyed", "transferred"):
            raise ValidationFailed("Serial %(serial)s is not held by the checked unit.",
                                   field=f"results.{i}", serial=serial)  # fmt: skip
    for serial, (result, notes) in results.items():
        item = items[serial.strip().upper()]
        db.add(CheckLine(check_id=check.id, item_id=item.id, result=result, checked_on=done_on,
                         notes=notes.strip()))  # fmt: skip
        new_status = {
            "missing": "missing",
            "destroyed": "destroyed",
            "transferred": "transferred",
        }.get(result, "held")
        if new_status != item.status:
            _event(db, actor, item, "check", check_id=check.id,
                   detail=f"{item.status} → {new_status}")  # fmt: skip
            item.status = new_status
        if result in ("missing", "damaged", "destroyed"):
            db.add(Deficiency(check_id=check.id, item_id=item.id,
                              description=f"{item.serial}: {result}. {notes.strip()}".strip(),
                              due_date=done_on + timedelta(days=DEFICIENCY_DAYS),
                              owner_org_id=check.owner_org_id, marking=check.marking))  # fmt: skip
        if result == "damaged":
            item.condition = "damaged"
    check.status, check.done_on = "done", done_on
    db.flush()
    audit.record_change(db, actor, "update", "logistics_check", check.id,
                        {"status": "scheduled"},
                        {"status": "done", "done_on": done_on.isoformat(),
                         "results": {s: r for s, (r, _) in results.items()}})  # fmt: skip
    if _holds_enhanced(db, check.unit_id) and _open_check(db, check.unit_id, "enhanced") is None:
        # Enhanced end-use monitoring: a serial inventory every year.
        _schedule(db, actor, check.unit_id, "enhanced", done_on + ENHANCED_INTERVAL,
                  check.owner_org_id, reason=f"annual inventory after check {check.id}")  # fmt: skip
    return check


@dataclass(frozen=True)
class Accountability:
    serials_total: int
    serials_verified_12m: int
    missing: int
    open_deficiencies: int
    overdue_checks: int

    def as_dict(self) -> dict[str, int]:
        return {
            "serials_total": self.serials_total,
            "serials_verified_12m": self.serials_verified_12m,
            "missing": self.missing,
            "open_deficiencies": self.open_deficiencies,
            "overdue_checks": self.overdue_checks,
        }


def accountability(db: Session, actor: Actor, on: date | None = None) -> Accountability:
    """The accountability report's figures over the items the actor may see: serials still
    accountable (not destroyed or transferred out), those seen present or damaged at a check
    in the last 12 months, missing ones, open deficiencies, checks past their date."""
    _require(actor, "read")
    today = on or date.today()
    items = access.visible(actor, Item).where(Item.status.in_(("held", "missing"))).subquery()
    total = db.scalar(select(func.count()).select_from(items)) or 0
    missing = (
        db.scalar(select(func.count()).select_from(items).where(items.c.status == "missing")) or 0
    )
    verified = (
        db.scalar(
            select(func.count(func.distinct(CheckLine.item_id))).where(
                CheckLine.item_id.in_(select(items.c.id)),
                CheckLine.result.in_(("present", "damaged")),
                CheckLine.checked_on >= today - VERIFIED_WINDOW,
            )
        )
        or 0
    )
    open_deficiencies = access.count_visible(db, actor, Deficiency, Deficiency.closed_on.is_(None))
    overdue = access.count_visible(
        db, actor, EndUseCheck, EndUseCheck.status == "scheduled", EndUseCheck.scheduled_for < today
    )
    return Accountability(int(total), int(verified), int(missing), open_deficiencies, overdue)


def custody_chain(db: Session, actor: Actor, item_id: int) -> list[CustodyEvent]:
    item: Item = access.get_visible(db, actor, Item, item_id, audit_read=False)
    return list(
        db.scalars(
            select(CustodyEvent).where(CustodyEvent.item_id == item.id).order_by(CustodyEvent.id)
        )
    )


# --- reads for the pages and the API -------------------------------------------------------------

CHECK_STATUSES: tuple[str, ...] = ("scheduled", "done")
ACCOUNTABLE_STATUSES: tuple[str, ...] = ("held", "missing")


def list_types(db: Session, actor: Actor) -> list[EquipmentType]:
    """The equipment types the actor may see, by English (else Arabic) name."""
    _require(actor, "read")
    return list(
        db.scalars(
            access.visible(actor, EquipmentType).order_by(
                EquipmentType.name_en, EquipmentType.name_ar, EquipmentType.id
            )
        )
    )


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def list_items(
    db: Session,
    actor: Actor,
    *,
    unit_id: int | None = None,
    status: str | None = None,
    serial_prefix: str | None = None,
    limit: int = 500,
) -> list[Item]:
    """Visible items by serial, filtered by custodian unit, status and serial prefix."""
    _require(actor, "read")
    stmt = access.visible(actor, Item)
    if unit_id is not None:
        stmt = stmt.where(Item.custodian_unit_id == unit_id)
    if status:
        if status not in ITEM_STATUSES:
            raise ValidationFailed("The status is one of: %(statuses)s.", field="status",
                                   statuses=", ".join(ITEM_STATUSES))  # fmt: skip
        stmt = stmt.where(Item.status == status)
    prefix = (serial_prefix or "").strip().upper()
    if prefix:
        stmt = stmt.where(Item.serial.like(_like_prefix(prefix), escape="\\"))
    return list(db.scalars(stmt.order_by(Item.serial, Item.id).limit(max(1, min(limit, 5000)))))


def get_item(db: Session, actor: Actor, item_id: int) -> Item:
    """One item (an audited read; 404 whether missing or hidden)."""
    _require(actor, "read")
    item: Item = access.get_visible(db, actor, Item, item_id)
    return item


def unit_items(db: Session, actor: Actor, unit_id: int) -> list[Item]:
    """The items a unit holds (held or missing, the unit their custodian): the serials a
    check of that unit expects."""
    _require(actor, "read")
    unit = _unit(db, actor, unit_id)
    return list(
        db.scalars(
            access.visible(actor, Item)
            .where(Item.custodian_unit_id == unit.id, Item.status.in_(ACCOUNTABLE_STATUSES))
            .order_by(Item.serial, Item.id)
        )
    )


def list_handovers(db: Session, actor: Actor) -> list[Handover]:
    """Visible hand-overs, the newest first."""
    _require(actor, "read")
    return list(
        db.scalars(
            access.visible(actor, Handover).order_by(Handover.issued_at.desc(), Handover.id.desc())
        )
    )


def get_handover(db: Session, actor: Actor, handover_id: int) -> Handover:
    """One hand-over (an audited read)."""
    _require(actor, "read")
    handover: Handover = access.get_visible(db, actor, Handover, handover_id)
    return handover


def handover_items(db: Session, actor: Actor, handover_id: int) -> list[Item]:
    """The items of a visible hand-over, by serial."""
    _require(actor, "read")
    handover: Handover = access.get_visible(db, actor, Handover, handover_id, audit_read=False)
    return list(
        db.scalars(
            access.visible(actor, Item)
            .join(HandoverItem, HandoverItem.item_id == Item.id)
            .where(HandoverItem.handover_id == handover.id)
            .order_by(Item.serial, Item.id)
        )
    )


def list_checks(db: Session, actor: Actor, *, status: str | None = None) -> list[EndUseCheck]:
    """Visible end-use checks by scheduled date, optionally only ``scheduled`` or ``done``."""
    _require(actor, "read")
    stmt = access.visible(actor, EndUseCheck)
    if status:
        if status not in CHECK_STATUSES:
            raise ValidationFailed("The status is one of: %(statuses)s.", field="status",
                                   statuses=", ".join(CHECK_STATUSES))  # fmt: skip
        stmt = stmt.where(EndUseCheck.status == status)
    return list(db.scalars(stmt.order_by(EndUseCheck.scheduled_for, EndUseCheck.id)))


def get_check(db: Session, actor: Actor, check_id: int) -> EndUseCheck:
    """One end-use check (an audited read)."""
    _require(actor, "read")
    check: EndUseCheck = access.get_visible(db, actor, EndUseCheck, check_id)
    return check


def overdue_checks(db: Session, actor: Actor, on: date | None = None) -> list[EndUseCheck]:
    """Scheduled checks past their date (on ``on``, default today), the oldest first."""
    _require(actor, "read")
    day = on or date.today()
    return list(
        db.scalars(
            access.visible(actor, EndUseCheck)
            .where(EndUseCheck.status == "scheduled", EndUseCheck.scheduled_for < day)
            .order_by(EndUseCheck.scheduled_for, EndUseCheck.id)
        )
    )


@dataclass(frozen=True)
class CheckLineRow:
    line: CheckLine
    item: Item


def check_lines(db: Session, actor: Actor, check_id: int) -> list[CheckLineRow]:
    """The per-serial results recorded at a visible check, by serial."""
    _require(actor, "read")
    check: EndUseCheck = access.get_visible(db, actor, EndUseCheck, check_id, audit_read=False)
    rows = db.execute(
        select(CheckLine, Item)
        .join(Item, Item.id == CheckLine.item_id)
        .where(CheckLine.check_id == check.id)
        .order_by(Item.serial, CheckLine.id)
    ).all()
    return [CheckLineRow(line, item) for line, item in rows]


def list_deficiencies(db: Session, actor: Actor, *, open_only: bool = False) -> list[Deficiency]:
    """Visible deficiencies: open ones first, by due date."""
    _require(actor, "read")
    stmt = access.visible(actor, Deficiency)
    if open_only:
        stmt = stmt.where(Deficiency.closed_on.is_(None))
    return list(
        db.scalars(
            stmt.order_by(Deficiency.closed_on.is_not(None), Deficiency.due_date, Deficiency.id)
        )
    )


def deficiency_opened_on(db: Session, deficiency: Deficiency) -> date:
    """The day a deficiency was found: its check's date (else 30 days before it is due)."""
    if deficiency.check_id is not None:
        check = db.get(EndUseCheck, deficiency.check_id)
        if check is not None and check.done_on is not None:
            return check.done_on
    return deficiency.due_date - timedelta(days=DEFICIENCY_DAYS)


def _deficiency_snap(d: Deficiency) -> dict[str, Any]:
    return {"corrective_action": d.corrective_action,
            "closed_on": d.closed_on.isoformat() if d.closed_on else None}  # fmt: skip


def update_deficiency(
    db: Session,
    actor: Actor,
    deficiency_id: int,
    *,
    corrective_action: str | None = None,
    closed_on: date | None = None,
) -> Deficiency:
    """Record the corrective action and/or close a deficiency (closing needs a corrective
    action and a date neither before the deficiency was found nor in the future). A closed
    deficiency is not changed again."""
    _require(actor, "write")
    row: Deficiency = access.get_visible(db, actor, Deficiency, deficiency_id, audit_read=False)
    if row.closed_on is not None:
        raise Conflict("This deficiency is closed already.", field="closed_on")
    action = row.corrective_action if corrective_action is None else corrective_action.strip()
    if closed_on is not None:
        if not action:
            raise ValidationFailed("A deficiency is closed with its corrective action.",
                                   field="corrective_action")  # fmt: skip
        opened = deficiency_opened_on(db, row)
        if closed_on < opened:
            raise ValidationFailed("The closing date is before the deficiency was found "
                                   "(%(opened)s).", field="closed_on",
                                   opened=opened.isoformat())  # fmt: skip
        if closed_on > date.today():
            raise ValidationFailed("The date is in the future.", field="closed_on")
    if action == row.corrective_action and closed_on is None:
        return row  # nothing changes
    before = _deficiency_snap(row)
    row.corrective_action = action
    if closed_on is not None:
        row.closed_on = closed_on
    db.flush()
    audit.record_change(db, actor, "update", "logistics_deficiency", row.id, before,
                        _deficiency_snap(row))  # fmt: skip
    return row


# --- the quarterly accountability report -------------------------------------------------------


@dataclass(frozen=True)
class MissingItem:
    item_id: int
    serial: str
    type_id: int
    type_name: str
    unit_id: int | None
    unit_name: str


@dataclass(frozen=True)
class OpenDeficiency:
    deficiency_id: int
    description: str
    due_date: date
    overdue: bool


@dataclass(frozen=True)
class CheckSummary:
    check_id: int
    unit_id: int
    unit_name: str
    kind: str
    scheduled_for: date
    done_on: date | None


@dataclass(frozen=True)
class AccountabilityReport:
    """The quarter's accountability: figures, lists and the share of serials verified, as
    of ``as_of`` — the quarter's last day, or today while the quarter is not over."""

    year: int
    quarter: int
    start: date
    end: date
    as_of: date
    figures: Accountability
    share_verified: float
    missing_items: list[MissingItem]
    open_deficiencies: list[OpenDeficiency]
    overdue_checks: list[CheckSummary]
    checks_done: list[CheckSummary]


def quarter_dates(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter (refused naming ``year`` / ``quarter``)."""
    if not 1 <= quarter <= 4:
        raise ValidationFailed("The quarter is 1, 2, 3 or 4.", field="quarter")
    if not 1900 <= year <= 9998:
        raise ValidationFailed("The year is not valid.", field="year")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end - timedelta(days=1)


def _name(row: EquipmentType | TrainingUnit | None) -> str:
    return (row.name_en or row.name_ar) if row is not None else ""


def _visible_units(db: Session, actor: Actor, ids: Iterable[int | None]) -> dict[int, TrainingUnit]:
    wanted = sorted({i for i in ids if i is not None})
    out: dict[int, TrainingUnit] = {}
    for start in range(0, len(wanted), 500):
        for unit in db.scalars(
            access.visible(actor, TrainingUnit).where(
                TrainingUnit.id.in_(wanted[start : start + 500])
            )
        ):
            out[unit.id] = unit
    return out


def _summaries(db: Session, actor: Actor, checks: list[EndUseCheck]) -> list[CheckSummary]:
    units = _visible_units(db, actor, (c.unit_id for c in checks))
    return [
        CheckSummary(c.id, c.unit_id, _name(units.get(c.unit_id)), c.kind, c.scheduled_for,
                     c.done_on)
        for c in checks
    ]  # fmt: skip


def accountability_report(
    db: Session, actor: Actor, year: int, quarter: int, *, today: date | None = None
) -> AccountabilityReport:
    """The quarterly accountability report over what the actor may see: the
    :func:`accountability` figures as of the quarter's last day (today while it runs), the
    share of accountable serials verified in the last 12 months, the missing items, the open
    deficiencies (overdue or not), the checks overdue and the checks done in the quarter."""
    _require(actor, "read")
    start, end = quarter_dates(year, quarter)
    as_of = min(end, today or date.today())
    figures = accountability(db, actor, on=as_of)
    share = figures.serials_verified_12m / figures.serials_total if figures.serials_total else 0.0
    missing = list(
        db.scalars(
            access.visible(actor, Item).where(Item.status == "missing").order_by(Item.serial)
        )
    )
    types = {
        t.id: t
        for t in db.scalars(
            access.visible(actor, EquipmentType).where(
                EquipmentType.id.in_({i.type_id for i in missing})
            )
        )
    }
    units = _visible_units(db, actor, (i.custodian_unit_id for i in missing))
    missing_items = [
        MissingItem(i.id, i.serial, i.type_id, _name(types.get(i.type_id)), i.custodian_unit_id,
                    _name(units.get(i.custodian_unit_id or 0)))
        for i in missing
    ]  # fmt: skip
    open_deficiencies = [
        OpenDeficiency(d.id, d.description, d.due_date, d.due_date < as_of)
        for d in list_deficiencies(db, actor, open_only=True)
    ]
    done = list(
        db.scalars(
            access.visible(actor, EndUseCheck)
            .where(
                EndUseCheck.status == "done",
                EndUseCheck.done_on >= start,
                EndUseCheck.done_on <= end,
            )
            .order_by(EndUseCheck.done_on, EndUseCheck.id)
        )
    )
    return AccountabilityReport(
        year=year, quarter=quarter, start=start, end=end, as_of=as_of, figures=figures,
        share_verified=share, missing_items=missing_items, open_deficiencies=open_deficiencies,
        overdue_checks=_summaries(db, actor, overdue_checks(db, actor, on=as_of)),
        checks_done=_summaries(db, actor, done),
    )  # fmt: skip
