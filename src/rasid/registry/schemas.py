"""API shapes of the registry (also the input of its service)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

EntityKind = Literal["person", "group", "vehicle", "vessel", "place"]


class MarkingIn(BaseModel):
    marking: str = Field(
        "TLP:AMBER", description="TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT or TLP:RED"
    )
    releasable_to: list[str] = Field(
        default_factory=list, description="organisation slugs (TLP:AMBER)"
    )
    recipients: list[str] = Field(default_factory=list, description="usernames (TLP:RED)")


class NameIn(BaseModel):
    name: str
    name_type: Literal["as_written", "latin", "alias", "kunya"] = "alias"


class IdentifierIn(BaseModel):
    kind: str = Field(
        description="national_id, passport, phone, email, plate, mmsi, imo, call_sign"
    )
    value: str


class EntityIn(MarkingIn):
    kind: EntityKind
    names: list[NameIn] = Field(default_factory=list, description="every name, in any script")
    identifiers: list[IdentifierIn] = Field(default_factory=list)
    notes: str = ""
    # person
    given_name: str = ""
    father_name: str = ""
    grandfather_name: str = ""
    family_name: str = ""
    kunya: str = ""
    birth_date: date | None = None
    birth_date_precision: Literal["day", "year"] | None = None
    birth_place: str = ""
    nationality: str = ""
    # group
    group_kind: str = ""
    # vehicle
    make: str = ""
    model: str = ""
    colour: str = ""
    # vessel
    flag: str = ""
    vessel_type: str = ""
    # place
    gazetteer_kind: str = ""
    gazetteer_id: str = ""
    governorate_code: str = ""
    lat: float | None = None
    lon: float | None = None


class SourceIn(BaseModel):
    description: str
    reliability: str = Field(description="Admiralty source reliability A-F")
    credibility: int = Field(description="Admiralty information credibility 1-6")


class InvolvementIn(BaseModel):
    entity_id: int
    role: str


class IncidentIn(MarkingIn):
    title: str
    event_date: date
    date_precision: Literal["day", "month", "year"] = "day"
    event_time: str = ""
    event_type: str = ""
    sub_event_type: str = ""
    attack_type: int | None = None
    target_type: int | None = None
    weapon_type: int | None = None
    governorate_code: str = ""
    district_id: str = ""
    location_name: str = ""
    lat: float | None = None
    lon: float | None = None
    geo_precision: int | None = None
    fatalities: int = 0
    injured: int = 0
    narrative_ar: str = ""
    narrative_en: str = ""
    ref: str = ""
    sources: list[SourceIn] = Field(default_factory=list)
    involvements: list[InvolvementIn] = Field(default_factory=list)


class LinkIn(MarkingIn):
    source_id: int
    target_id: int
    link_type: str
    start_date: date | None = None
    end_date: date | None = None
    evidence: str = ""
    reliability: str = "F"
    credibility: int = 6


class NameOut(BaseModel):
    name: str
    script: str
    name_type: str


class IdentifierOut(BaseModel):
    kind: str
    value: str


class EntityOut(BaseModel):
    id: int
    kind: str
    label: str
    label_ar: str
    label_latin: str
    marking: str
    owner_org: str
    version: int
    names: list[NameOut]
    identifiers: list[IdentifierOut]
    details: dict[str, object]
    updated_at: datetime
    warnings: list[str] = Field(default_factory=list)


class SourceOut(SourceIn):
    id: int
    grade: str
    attachment_name: str = ""


class InvolvementOut(BaseModel):
    entity_id: int
    kind: str
    label: str
    role: str


class IncidentOut(BaseModel):
    id: int
    ref: str
    title: str
    event_date: date
    date_precision: str
    event_time: str
    event_type: str
    sub_event_type: str
    attack_type: int | None
    target_type: int | None
    weapon_type: int | None
    governorate_code: str
    district_id: str
    location_name: str
    lat: float | None
    lon: float | None
    geo_precision: int | None
    fatalities: int
    injured: int
    narrative_ar: str
    narrative_en: str
    marking: str
    owner_org: str
    version: int
    sources: list[SourceOut]
    involvements: list[InvolvementOut]
    warnings: list[str] = Field(default_factory=list)


class LinkOut(BaseModel):
    id: int
    source_id: int
    target_id: int
    link_type: str
    start_date: date | None
    end_date: date | None
    evidence: str
    grade: str
    marking: str


class VersionOut(BaseModel):
    version: int
    action: str
    at: datetime
    username: str
    data: dict[str, object]


class SearchResultOut(BaseModel):
    id: int
    type: str
    names: list[str]
    score: float
    reason: str
    label: str
    marking: str


class SearchOut(BaseModel):
    query: str
    results: list[SearchResultOut]
