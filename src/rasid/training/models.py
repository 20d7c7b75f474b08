"""Training: units, personnel, vetting cases, courses, sessions and enrolments.

Every row is protected (owner organisation + TLP marking, read through ``access/``).
A vetting case's expiry is computed from its decision date and validity, never typed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rasid.access.models import Protected
from rasid.core.db import Base, UTCDateTime, utcnow

UNIT_LEVELS: tuple[str, ...] = ("ministry", "directorate", "unit")
VETTING_STATUSES: tuple[str, ...] = (
    "pending",
    "approved",
    "denied",
    "suspended",
    "expired",
    "cancelled",
)
ENROLMENT_STATUSES: tuple[str, ...] = ("enrolled", "invited", "attended", "completed", "withdrawn")


class TrainingUnit(Protected, Base):
    """A unit of the ministry's hierarchy (ministry → directorate → unit)."""

    __tablename__ = "training_unit"
    __access_type__ = "training_unit"
    __table_args__ = (
        CheckConstraint("level IN ('ministry', 'directorate', 'unit')", name="level"),
        UniqueConstraint("owner_org_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(12), default="unit")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_unit.id"), nullable=True, index=True
    )
    governorate_code: Mapped[str] = mapped_column(String(8), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrainingPerson(Protected, Base):
    """One member of the ministry's personnel."""

    __tablename__ = "training_person"
    __access_type__ = "training_person"
    __table_args__ = (UniqueConstraint("owner_org_id", "national_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_latin: Mapped[str] = mapped_column(String(200), default="")
    rank: Mapped[str] = mapped_column(String(60), default="")
    national_id: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("training_unit.id"), index=True)
    governorate_code: Mapped[str] = mapped_column(String(8), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VettingCase(Protected, Base):
    """A human-rights vetting case of one person or one unit."""

    __tablename__ = "training_vetting"
    __access_type__ = "training_vetting"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'denied', 'suspended', 'expired', 'cancelled')",
            name="status",
        ),
        CheckConstraint("(person_id IS NULL) <> (unit_id IS NULL)", name="one_subject"),
        UniqueConstraint("owner_org_id", "ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(60))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_person.id"), nullable=True, index=True
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_unit.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(12), default="pending")
    requested_on: Mapped[date] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_months: Mapped[int] = mapped_column(Integer, default=12)
    # computed from the decision by the service (never typed), kept for the due lists
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Course(Protected, Base):
    __tablename__ = "training_course"
    __access_type__ = "training_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    title_ar: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str] = mapped_column(String(100), default="")
    duration_days: Mapped[int] = mapped_column(Integer, default=1)
    prerequisites: Mapped[str] = mapped_column(Text, default="")
    certificate_valid_months: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TrainingSession(Protected, Base):
    __tablename__ = "training_session"
    __access_type__ = "training_session"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200), default="")
    instructors: Mapped[str] = mapped_column(String(300), default="")
    funding_partner: Mapped[str] = mapped_column(String(200), default="")
    funding_authority: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), default="ar")


class Enrolment(Protected, Base):
    __tablename__ = "training_enrolment"
    __access_type__ = "training_enrolment"
    __table_args__ = (
        UniqueConstraint("session_id", "person_id"),
        Index("ix_training_enrolment_person", "person_id", "status"),
        CheckConstraint(
            "status IN ('enrolled', 'invited', 'attended', 'completed', 'withdrawn')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("training_person.id"))
    status: Mapped[str] = mapped_column(String(12), default="enrolled")
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_reason: Mapped[str] = mapped_column(String(300), default="")
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    completed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    certificate_code: Mapped[str | None] = mapped_column(String(20), nullable=True, unique=True)
    certificate_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    certificate_valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attendance(Base):
    """One day of one trainee's attendance (part of the enrolment, read through it)."""

    __tablename__ = "training_attendance"
    __table_args__ = (UniqueConstraint("enrolment_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("training_enrolment.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
