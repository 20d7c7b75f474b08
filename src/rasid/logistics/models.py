"""Logistics: the equipment catalogue, serialised items, hand-overs with their custody chain,
end-use checks with per-serial results, and deficiencies.

Custody events are append-only (the database refuses updates and deletes, as for the audit
log): each item's chain of custody is complete and immutable. Custodian units are the
training context's units (read, never written, here).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rasid.access.models import Protected
from rasid.core.db import Base, UTCDateTime, utcnow

ITEM_STATUSES: tuple[str, ...] = ("held", "missing", "destroyed", "transferred")
CHECK_RESULTS: tuple[str, ...] = ("present", "missing", "damaged", "destroyed", "transferred")
CHECK_KINDS: tuple[str, ...] = ("initial", "routine", "enhanced")


class EquipmentType(Protected, Base):
    __tablename__ = "logistics_equipment_type"
    __access_type__ = "logistics_equipment_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(60), default="")
    part_number: Mapped[str] = mapped_column(String(60), default="")  # NSN or part number
    enhanced: Mapped[bool] = mapped_column(Boolean, default=False)  # enhanced end-use monitoring


class Item(Protected, Base):
    __tablename__ = "logistics_item"
    __access_type__ = "logistics_item"
    __table_args__ = (
        UniqueConstraint("type_id", "serial"),
        CheckConstraint("status IN ('held', 'missing', 'destroyed', 'transferred')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("logistics_equipment_type.id"), index=True)
    serial: Mapped[str] = mapped_column(String(80), index=True)
    donor: Mapped[str] = mapped_column(String(200), default="")
    case_ref: Mapped[str] = mapped_column(String(80), default="")
    condition: Mapped[str] = mapped_column(String(40), default="new")
    status: Mapped[str] = mapped_column(String(12), default="held")
    custodian_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_unit.id"), nullable=True, index=True
    )
    site: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Handover(Protected, Base):
    """A transfer and acceptance record: issued by one side, accepted by the other."""

    __tablename__ = "logistics_handover"
    __access_type__ = "logistics_handover"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'accepted')", name="status"),
        UniqueConstraint("owner_org_id", "ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(60))
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("training_unit.id"), nullable=True)
    from_donor: Mapped[str] = mapped_column(String(200), default="")
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("training_unit.id"))
    status: Mapped[str] = mapped_column(String(10), default="issued")
    issued_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HandoverItem(Base):
    __tablename__ = "logistics_handover_item"
    __table_args__ = (UniqueConstraint("handover_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_handover.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("logistics_item.id"), index=True)


class CustodyEvent(Base):
    """One link of an item's custody chain (append-only)."""

    __tablename__ = "logistics_custody_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("logistics_item.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # registered | handover | check | status
    from_unit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_unit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    handover_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    check_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(String(300), default="")
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EndUseCheck(Protected, Base):
    __tablename__ = "logistics_check"
    __access_type__ = "logistics_check"
    __table_args__ = (
        CheckConstraint("kind IN ('initial', 'routine', 'enhanced')", name="kind"),
        CheckConstraint("status IN ('scheduled', 'done')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("training_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    scheduled_for: Mapped[date] = mapped_column(Date, index=True)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class CheckLine(Base):
    __tablename__ = "logistics_check_line"
    __table_args__ = (
        UniqueConstraint("check_id", "item_id"),
        CheckConstraint(
            "result IN ('present', 'missing', 'damaged', 'destroyed', 'transferred')",
            name="result",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_check.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("logistics_item.id"), index=True)
    result: Mapped[str] = mapped_column(String(12))
    checked_on: Mapped[date] = mapped_column(Date, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class Deficiency(Protected, Base):
    __tablename__ = "logistics_deficiency"
    __access_type__ = "logistics_deficiency"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int | None] = mapped_column(
        ForeignKey("logistics_check.id"), nullable=True, index=True
    )
    item_id: Mapped[int | None] = mapped_column(ForeignKey("logistics_item.id"), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)


REQUEST_STATUSES: tuple[str, ...] = (
    "new",
    "triaged",
    "in_progress",
    "waiting",
    "resolved",
    "closed",
)
REQUEST_PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")


class SupportRequest(Protected, Base):
    """A technical or logistical support request from a unit."""

    __tablename__ = "logistics_request"
    __access_type__ = "logistics_request"
    __table_args__ = (
        CheckConstraint("category IN ('technical', 'logistical')", name="category"),
        CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name="priority"),
        CheckConstraint(
            "status IN ('new', 'triaged', 'in_progress', 'waiting', 'resolved', 'closed')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(12))
    unit_id: Mapped[int] = mapped_column(ForeignKey("training_unit.id"), index=True)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SupportRequestItem(Base):
    __tablename__ = "logistics_request_item"
    __table_args__ = (UniqueConstraint("request_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_request.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("logistics_item.id"))


class SupportComment(Base):
    __tablename__ = "logistics_request_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_request.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckPhoto(Base):
    """A photo taken at a check visit, of one serial. The bytes live under the data directory
    (the attachments store, by SHA-256), not here; read through the check (the protected
    record)."""

    __tablename__ = "logistics_check_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_check.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("logistics_item.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))  # the original file name
    path: Mapped[str] = mapped_column(String(300))  # stored name, in the attachments store
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
