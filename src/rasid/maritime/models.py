"""Maritime tables: vessels (identity and latest fix), identity history, quarantine, ingest
runs, alerts.

Positions themselves are not here: they go to daily Parquet partitions
(:mod:`rasid.maritime.positions`); the database keeps the latest fix per vessel.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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


class Vessel(Base):
    """One AIS station (MMSI): what it says about itself and where it was last seen."""

    __tablename__ = "maritime_vessel"

    id: Mapped[int] = mapped_column(primary_key=True)
    mmsi: Mapped[int] = mapped_column(BigInteger, unique=True)
    mmsi_kind: Mapped[str] = mapped_column(String(20), default="ship")
    ais_class: Mapped[str] = mapped_column(String(1), default="")  # A | B | ''
    name: Mapped[str] = mapped_column(String(40), default="")
    call_sign: Mapped[str] = mapped_column(String(10), default="")
    imo: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ship_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    length_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    beam_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    draught_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    destination: Mapped[str] = mapped_column(String(40), default="")
    flag: Mapped[str] = mapped_column(String(2), default="")  # from the MID; '' if none
    identity_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    sog: Mapped[float | None] = mapped_column(Float, nullable=True)
    cog: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading: Mapped[int | None] = mapped_column(Integer, nullable=True)
    nav_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VesselIdentity(Base):
    """A change of name, call sign, flag, IMO or ship type, with when it was first reported."""

    __tablename__ = "maritime_vessel_identity"
    __table_args__ = (Index("ix_maritime_vessel_identity_vessel_at", "vessel_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vessel_id: Mapped[int] = mapped_column(ForeignKey("maritime_vessel.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    field: Mapped[str] = mapped_column(String(16))  # name | call_sign | flag | imo | ship_type
    old_value: Mapped[str] = mapped_column(String(60), default="")
    new_value: Mapped[str] = mapped_column(String(60), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)  # where, if known
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("maritime_ingest_run.id", ondelete="SET NULL"), nullable=True
    )


class IngestRun(Base):
    """One ingest of one source (a file or a feed session) and what it counted."""

    __tablename__ = "maritime_ingest_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    source_sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    decoded: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    ignored: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    positions: Mapped[int] = mapped_column(Integer, default=0)
    vessels: Mapped[int] = mapped_column(Integer, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[str] = mapped_column(Text, default="{}")  # JSON {reason: count}
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Quarantine(Base):
    """A line that did not become a message, with the reason (see ``nmea.REASONS``)."""

    __tablename__ = "maritime_quarantine"
    __table_args__ = (Index("ix_maritime_quarantine_sha_line", "source_sha256", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("maritime_ingest_run.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source: Mapped[str] = mapped_column(String(500))
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    line_no: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(24), index=True)
    detail: Mapped[str] = mapped_column(String(200), default="")
    raw: Mapped[str] = mapped_column(Text)  # the line, cut to 400 characters
    message_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


ALERT_STATUSES: tuple[str, ...] = ("new", "acknowledged", "escalated", "dismissed")


class MaritimeAlert(Protected, Base):
    """One stored detector event (:class:`rasid.maritime.events.AlertEvent`) and its workflow.

    ``key`` is the event's stable key: unique per owner organisation, so storing the same
    event twice adds nothing. ``parameters``, ``measures`` and ``evidence`` are JSON text
    (evidence: a list of ``EvidenceFix.as_dict()``). ``incident_id`` and ``report_id`` name
    the registry incident and intel draft made on escalation (other contexts' rows, by id).
    """

    __tablename__ = "maritime_alert"
    __access_type__ = "maritime_alert"
    __table_args__ = (
        UniqueConstraint("owner_org_id", "key", name="uq_maritime_alert_owner_key"),
        Index("ix_maritime_alert_type_start", "type", "start"),
        CheckConstraint(
            "status IN ('new', 'acknowledged', 'escalated', 'dismissed')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    type: Mapped[str] = mapped_column(String(20))
    subtype: Mapped[str] = mapped_column(String(40), default="")
    mmsi: Mapped[int] = mapped_column(BigInteger, index=True)
    other_mmsi: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    zone: Mapped[str | None] = mapped_column(String(100), nullable=True)
    parameters: Mapped[str] = mapped_column(Text, default="{}")
    measures: Mapped[str] = mapped_column(Text, default="{}")
    evidence: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    acknowledged_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    report_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("maritime_ingest_run.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MaritimeFeed(Base):
    """A live AIS feed the server's feed runner keeps connected (``rasid maritime feeds``),
    and what it last reported."""

    __tablename__ = "maritime_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    url: Mapped[str] = mapped_column(String(200))  # tcp://host:port or udp://[host]:port
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default="stopped")
    connects: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    decoded: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    last_line_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


ADVISORY_STATUSES: tuple[str, ...] = ("draft", "issued")


class MaritimeAdvisory(Protected, Base):
    """A navigation security advisory in the UKMTO/JMIC manner, drafted from an incident:
    position as distance and bearing from a named port, what happened, advice to mariners,
    in Arabic and English; no vessel named. Drafts stay in the owner organisation."""

    __tablename__ = "maritime_advisory"
    __access_type__ = "maritime_advisory"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'issued')", name="status"),
        UniqueConstraint("ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(8), default="draft")
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    port_id: Mapped[str] = mapped_column(String(60))
    distance_nm: Mapped[float] = mapped_column(Float)
    bearing_deg: Mapped[float] = mapped_column(Float)  # from the port to the position
    title_ar: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    what_ar: Mapped[str] = mapped_column(Text, default="")
    what_en: Mapped[str] = mapped_column(Text, default="")
    advice_ar: Mapped[str] = mapped_column(Text, default="")
    advice_en: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MaritimeZone(Base):
    """A zone a user added (GeoJSON import or drawn on the map), beside the shipped ones.

    Stored as its GeoJSON Feature; the detectors of every later ingest and feed batch watch
    it. Part of the traffic picture (read like it); changed by its organisation only."""

    __tablename__ = "maritime_zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="user")
    watched: Mapped[bool] = mapped_column(Boolean, default=True)
    feature: Mapped[str] = mapped_column(Text)  # the GeoJSON Feature as imported (JSON)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
