"""API shapes of maritime alerts."""

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
