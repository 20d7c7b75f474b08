"""Registry tables: entities (persons, groups, vehicles, vessels, places), incidents, links.

Entities share one table with a ``kind`` column and the detail columns of each kind (most
are empty for any one row); their names, identifiers and search terms are child rows.
Incidents, entities and links are protected rows (owner organisation, TLP marking,
releasability) and every change leaves a version snapshot.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rasid.access.models import Protected
from rasid.core.db import Base, UTCDateTime, utcnow

ENTITY_KINDS: tuple[str, ...] = ("person", "group", "vehicle", "vessel", "place")


class Entity(Protected, Base):
    __tablename__ = "registry_entity"
    __access_type__ = "registry_entity"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str] = mapped_column(String(300), default="")  # best display name
    label_ar: Mapped[str] = mapped_column(String(300), default="")
    label_latin: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # person
    given_name: Mapped[str] = mapped_column(String(100), default="")
    father_name: Mapped[str] = mapped_column(String(100), default="")
    grandfather_name: Mapped[str] = mapped_column(String(100), default="")
    family_name: Mapped[str] = mapped_column(String(100), default="")
    kunya: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    birth_date_precision: Mapped[str | None] = mapped_column(String(8), nullable=True)  # day | year
    birth_place: Mapped[str] = mapped_column(String(200), default="")
    nationality: Mapped[str] = mapped_column(String(2), default="")
    # group
    group_kind: Mapped[str] = mapped_column(String(32), default="")
    # vehicle
    make: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    colour: Mapped[str] = mapped_column(String(50), default="")
    # vessel
    flag: Mapped[str] = mapped_column(String(2), default="")
    vessel_type: Mapped[str] = mapped_column(String(100), default="")
    # place
    gazetteer_kind: Mapped[str] = mapped_column(String(16), default="")
    gazetteer_id: Mapped[str] = mapped_column(String(64), default="")
    governorate_code: Mapped[str] = mapped_column(String(8), default="", index=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    # bookkeeping
    version: Mapped[int] = mapped_column(Integer, default=1)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_entity.id"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)

    names: Mapped[list[EntityName]] = relationship(
        back_populates="entity", cascade="all, delete-orphan", order_by="EntityName.id"
    )
    identifiers: Mapped[list[EntityIdentifier]] = relationship(
        back_populates="entity", cascade="all, delete-orphan", order_by="EntityIdentifier.id"
    )


class EntityName(Base):
    """One name of an entity, in either script. ``name_type``: as_written, latin, alias, kunya."""

    __tablename__ = "registry_entity_name"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("registry_entity.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    script: Mapped[str] = mapped_column(String(8))  # ar | latin
    name_type: Mapped[str] = mapped_column(String(16), default="alias")

    entity: Mapped[Entity] = relationship(back_populates="names")


class EntityIdentifier(Base):
    __tablename__ = "registry_entity_identifier"
    __table_args__ = (Index("ix_registry_identifier_lookup", "kind", "normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("registry_entity.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(100))
    normalised: Mapped[str] = mapped_column(String(100))

    entity: Mapped[Entity] = relationship(back_populates="identifiers")


class SearchTerm(Base):
    """Name-index terms (see ``registry.names.index_terms``) for entities and incidents."""

    __tablename__ = "registry_search_term"
    __table_args__ = (
        Index("ix_registry_search_term", "term", "object_type", "object_id"),
        # object_id first: a plain "object_type = ?" must never look usable for a term search
        Index("ix_registry_search_term_object", "object_id", "object_type"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(16))  # entity | incident
    object_id: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(80))


class Incident(Protected, Base):
    __tablename__ = "registry_incident"
    __access_type__ = "registry_incident"
    __table_args__ = (Index("ix_registry_incident_date", "event_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), default="", index=True)
    title: Mapped[str] = mapped_column(String(300))
    event_date: Mapped[date] = mapped_column(Date)
    date_precision: Mapped[str] = mapped_column(String(8), default="day")  # day | month | year
    event_time: Mapped[str] = mapped_column(String(5), default="")  # HH:MM, local, when known
    event_type: Mapped[str] = mapped_column(String(60), default="")
    sub_event_type: Mapped[str] = mapped_column(String(80), default="")
    attack_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    weapon_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    governorate_code: Mapped[str] = mapped_column(String(8), default="", index=True)
    district_id: Mapped[str] = mapped_column(String(64), default="")
    location_name: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    geo_precision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fatalities: Mapped[int] = mapped_column(Integer, default=0)
    injured: Mapped[int] = mapped_column(Integer, default=0)
    narrative_ar: Mapped[str] = mapped_column(Text, default="")
    narrative_en: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)

    sources: Mapped[list[IncidentSource]] = relationship(
        cascade="all, delete-orphan", order_by="IncidentSource.id"
    )
    involvements: Mapped[list[Involvement]] = relationship(
        cascade="all, delete-orphan", order_by="Involvement.id"
    )


class IncidentSource(Base):
    __tablename__ = "registry_incident_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("registry_incident.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(String(500))
    reliability: Mapped[str] = mapped_column(String(1))  # Admiralty A-F
    credibility: Mapped[int] = mapped_column(Integer)  # Admiralty 1-6
    attachment_name: Mapped[str] = mapped_column(String(200), default="")
    attachment_path: Mapped[str] = mapped_column(String(300), default="")
    attachment_type: Mapped[str] = mapped_column(String(100), default="")


class Involvement(Base):
    __tablename__ = "registry_involvement"
    __table_args__ = (UniqueConstraint("incident_id", "entity_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("registry_incident.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[int] = mapped_column(ForeignKey("registry_entity.id"), index=True)
    role: Mapped[str] = mapped_column(String(24))


class Link(Protected, Base):
    """A typed, directed link between two entities (source → target)."""

    __tablename__ = "registry_link"
    __access_type__ = "registry_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("registry_entity.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("registry_entity.id"), index=True)
    link_type: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    evidence: Mapped[str] = mapped_column(Text, default="")
    reliability: Mapped[str] = mapped_column(String(1), default="F")
    credibility: Mapped[int] = mapped_column(Integer, default=6)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Version(Base):
    """A snapshot of a record after each change: who, when, what it looked like."""

    __tablename__ = "registry_version"
    __table_args__ = (UniqueConstraint("object_type", "object_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[str] = mapped_column(Text)


class Merge(Base):
    """One merge of a duplicate into a survivor, with what moved so it can be undone."""

    __tablename__ = "registry_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("registry_entity.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("registry_entity.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    moved: Mapped[str] = mapped_column(Text)  # JSON: ids of names, identifiers, links, involvements
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undone_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DuplicateCandidate(Base):
    __tablename__ = "registry_duplicate"
    __table_args__ = (UniqueConstraint("entity_a", "entity_b"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_a: Mapped[int] = mapped_column(ForeignKey("registry_entity.id"), index=True)
    entity_b: Mapped[int] = mapped_column(ForeignKey("registry_entity.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | dismissed | merged
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
