"""Logistics service: equipment, hand-overs signed by both sides, end-use checks, and the
quarterly accountability figures.

Refused with a clear message, nothing half-saved: a serial that already exists, a hand-over
of an item that is missing, destroyed or not held by the issuing side, a check result for a
serial the checked unit does not hold. Every custody change appends to the item's custody
chain (append-only in the database). Reads go through ``access/``; changes are audited.
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
    seen: set[str] = set()
    for i, serial in enumerate(clean):
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
    return handover


def schedule_check(
    db: Session, actor: Actor, *, unit_id: int, kind: str, scheduled_for: date
) -> EndUseCheck:
    _require(actor, "write")
    if kind not in CHECK_KINDS:
        raise ValidationFailed("The kind is one of: %(kinds)s.", field="kind",
                               kinds=", ".join(CHECK_KINDS))  # fmt: skip
    unit = _unit(db, actor, unit_id)
    check = EndUseCheck(unit_id=unit.id, kind=kind, scheduled_for=scheduled_for,
                        status="scheduled", owner_org_id=_owner(actor), marking=AMBER)  # fmt: skip
    db.add(check)
    db.flush()
    audit.record_change(db, actor, "create", "logistics_check", check.id, None,
                        {"unit_id": unit.id, "kind": kind,
                         "scheduled_for": scheduled_for.isoformat()})  # fmt: skip
    return check


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
