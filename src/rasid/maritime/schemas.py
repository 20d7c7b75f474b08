"""API shapes of the traffic picture (vessels) and of maritime alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AlertSummaryOut(BaseModel):
    """One row of the alert queue (``GET /api/v1/maritime/alerts``)."""

    id: int
    type: str
    subtype: str
    mmsi: int
    other_mmsi: int | None
    start: datetime
    end: datetime
    lat: float
    lon: float
    severity: str
    zone: str | None
    status: str


class EvidenceFixOut(BaseModel):
    time: float = Field(description="UNIX seconds")
    mmsi: int
    lat: float
    lon: float
    sog: float | None = None
    cog: float | None = None


class AlertOut(AlertSummaryOut):
    """One alert with its evidence, the parameters that fired and its workflow."""

    key: str
    marking: str
    owner_org: str
    parameters: dict[str, Any]
    measures: dict[str, Any]
    evidence: list[EvidenceFixOut]
    status_reason: str
    acknowledged_by: str
    acknowledged_at: datetime | None
    decided_by: str
    decided_at: datetime | None
    incident_id: int | None
    report_id: int | None
    run_id: int | None
    created_at: datetime


class DismissIn(BaseModel):
    reason: str = Field(description="why the alert is not a threat (required)")


class EscalateIn(BaseModel):
    draft_report: bool = Field(False, description="also draft an intel report")


class VesselOut(BaseModel):
    """A vessel as the live map shows it: identity and latest fix."""

    mmsi: int
    mmsi_kind: str
    ais_class: str
    name: str
    call_sign: str
    imo: int | None
    ship_type: int | None
    flag: str
    lat: float | None
    lon: float | None
    sog: float | None
    cog: float | None
    heading: int | None
    nav_status: int | None
    fix_at: datetime | None


class IdentityChangeOut(BaseModel):
    observed_at: datetime | None
    field: str
    old_value: str
    new_value: str
    lat: float | None
    lon: float | None


class VesselDetailOut(VesselOut):
    """One vessel: identity, dimensions, destination and its identity history."""

    length_m: int | None
    beam_m: int | None
    draught_m: float | None
    destination: str
    identity_at: datetime | None
    first_seen: datetime
    history: list[IdentityChangeOut]
