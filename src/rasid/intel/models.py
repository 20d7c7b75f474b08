"""Intel tables: reports (with links, observables, versions and releases), RFIs, agreements.

Reports and RFIs are protected rows (owner organisation, TLP marking, releasability). A
report's release to another organisation is recorded in :class:`ReportRelease`; a sharing
agreement says which markings and record types may flow from one organisation to another.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rasid.access.models import Protected
from rasid.core.db import Base, UTCDateTime, utcnow

REPORT_STATUSES: tuple[str, ...] = ("draft", "approved", "released")
GRADING_SCHEMES: tuple[str, ...] = ("admiralty", "europol")
OBSERVABLE_KINDS: tuple[str, ...] = (
    "phone",
    "email",
    "mmsi",
    "imo",
    "plate",
    "iban",
    "crypto",
    "ip",
    "domain",
    "url",
    "sha256",
    "sha1",
    "md5",
)
LINK_TYPES: tuple[str, ...] = ("registry_entity", "registry_incident")
RFI_PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
RFI_STATUSES: tuple[str, ...] = ("open", "answered", "closed", "cancelled")
RECORD_TYPES: tuple[str, ...] = ("report", "rfi", "incident", "entity", "link")


class Report(Protected, Base):
    __tablename__ = "intel_report"
    __access_type__ = "intel_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_ar: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    grading_scheme: Mapped[str] = mapped_column(String(12), default="admiralty")
    reliability: Mapped[str] = mapped_column(String(1))
    credibility: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)

    links: Mapped[list[ReportLink]] = relationship(
        cascade="all, delete-orphan", order_by="ReportLink.id"
    )
    observables: Mapped[list[Observable]] = relationship(
        cascade="all, delete-orphan", order_by="Observable.id"
    )


class ReportLink(Base):
    """A report's link to a registry record (an entity or an incident)."""

    __tablename__ = "intel_report_link"
    __table_args__ = (
        UniqueConstraint("report_id", "object_type", "object_id"),
        Index("ix_intel_report_link_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("intel_report.id", ondelete="CASCADE"), index=True
    )
    object_type: Mapped[str] = mapped_column(String(24))  # registry_entity | registry_incident
    object_id: Mapped[int] = mapped_column(Integer)


class Observable(Base):
    """A typed indicator in a report: phone, email, MMSI, IMO, plate, IBAN, IP, hash …"""

    __tablename__ = "intel_observable"
    __table_args__ = (Index("ix_intel_observable_lookup", "kind", "normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("intel_report.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(500))
    normalised: Mapped[str] = mapped_column(String(500))


class ReportVersion(Base):
    """A snapshot of a report after each change: who, when, what it looked like."""

    __tablename__ = "intel_report_version"
    __table_args__ = (UniqueConstraint("report_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("intel_report.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[str] = mapped_column(Text)


class ReportRelease(Base):
    """One release of a report to an organisation, under a sharing agreement."""

    __tablename__ = "intel_report_release"
    __table_args__ = (UniqueConstraint("report_id", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("intel_report.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("intel_agreement.id"))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SharingAgreement(Base):
    """What may flow from ``owner_org_id`` to ``partner_org_id``: markings and record types."""

    __tablename__ = "intel_agreement"
    __table_args__ = (Index("ix_intel_agreement_pair", "owner_org_id", "partner_org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    partner_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    partner_server: Mapped[str] = mapped_column(String(200), default="")  # "" = this server
    markings: Mapped[str] = mapped_column(String(200))  # comma-separated TLP values
    record_types: Mapped[str] = mapped_column(String(200))  # comma-separated
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deactivated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RFI(Protected, Base):
    """A request for information from the owner (requesting) organisation to another."""

    __tablename__ = "intel_rfi"
    __access_type__ = "intel_rfi"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    answer_reports: Mapped[list[RFIAnswerReport]] = relationship(
        cascade="all, delete-orphan", order_by="RFIAnswerReport.id"
    )


class RFIAnswerReport(Base):
    __tablename__ = "intel_rfi_report"
    __table_args__ = (UniqueConstraint("rfi_id", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rfi_id: Mapped[int] = mapped_column(ForeignKey("intel_rfi.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("intel_report.id"), index=True)


class ReportAttachment(Base):
    """A file attached to a report; the bytes live under the data directory, not here."""

    __tablename__ = "intel_report_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("intel_report.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ReportRead(Base):
    """When a user first opened a report (the inbox's unread state)."""

    __tablename__ = "intel_report_read"
    __table_args__ = (UniqueConstraint("report_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("intel_report.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StixOrigin(Base):
    """Where an imported record came from: its STIX id and version at the source.

    One row per (owner organisation, STIX id): importing the same id again updates the record
    only when ``stix_modified`` is newer, which makes imports idempotent.
    """

    __tablename__ = "intel_stix_origin"
    __table_args__ = (
        UniqueConstraint("owner_org_id", "stix_id"),
        Index("ix_intel_stix_origin_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    stix_id: Mapped[str] = mapped_column(String(120))
    stix_modified: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(24))  # intel_report | registry_*
    object_id: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))  # "file", "taxii", "peer:<name>"
    origin_server: Mapped[str] = mapped_column(String(300), default="")
    origin_org: Mapped[str] = mapped_column(String(300), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Peer(Base):
    """Another TAXII server this one pulls from and pushes to.

    Everything pulled from a peer is owned here by ``local_org_id`` (the organisation that
    stands for the peer's agencies on this server) and released to ``receiving_org_id``
    under this server's own agreements. The token lives in a 0600 file under the data
    directory, not in the database.
    """

    __tablename__ = "intel_peer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(300))
    api_root: Mapped[str] = mapped_column(String(300), default="")
    collection: Mapped[str] = mapped_column(String(200))
    push_collection: Mapped[str] = mapped_column(String(200), default="")
    username: Mapped[str] = mapped_column(String(150), default="")
    local_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    receiving_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    interval_minutes: Mapped[int] = mapped_column(Integer, default=0)  # 0 = manual only
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor: Mapped[str] = mapped_column(String(40), default="")  # last complete added_after
    push_cursor: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SyncRun(Base):
    """One pull or push with a peer: when, how it ended, what it counted."""

    __tablename__ = "intel_sync_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("intel_peer.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # pull | push
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="running")  # running|ok|error
    received: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    cursor_before: Mapped[str] = mapped_column(String(40), default="")
    cursor_after: Mapped[str] = mapped_column(String(40), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TaxiiStatus(Base):
    """The status resource of one TAXII POST of objects."""

    __tablename__ = "intel_taxii_status"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    collection: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|complete
    request_timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    success_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[str] = mapped_column(Text, default="{}")  # successes/failures JSON
