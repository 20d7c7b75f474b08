"""API shapes of intel (also the input of its service)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from rasid.registry.schemas import MarkingIn

ObservableKind = Literal[
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
]


class ObservableIn(BaseModel):
    kind: ObservableKind
    value: str


class ReportLinkIn(BaseModel):
    object_type: Literal["registry_entity", "registry_incident"]
    object_id: int


class ReportIn(MarkingIn):
    title: str
    summary: str = ""
    body_ar: str = ""
    body_en: str = ""
    grading_scheme: Literal["admiralty", "europol"] = "admiralty"
    reliability: str = Field(description="Admiralty A-F, or Europol A-D or X")
    credibility: int = Field(description="Admiralty 1-6, or Europol 1-4")
    links: list[ReportLinkIn] = Field(default_factory=list)
    observables: list[ObservableIn] = Field(default_factory=list)


class ReleaseIn(BaseModel):
    to: list[str] = Field(description="organisation slugs")


class ObservableOut(BaseModel):
    kind: str
    value: str
    normalised: str


class ReportLinkOut(BaseModel):
    object_type: str
    object_id: int


class ReportOut(BaseModel):
    id: int
    title: str
    summary: str
    body_ar: str
    body_en: str
    grading_scheme: str
    grade: str
    reliability: str
    credibility: int
    status: str
    marking: str
    owner_org: str
    author: str
    approved_by: str
    approved_at: datetime | None
    released_at: datetime | None
    released_to: list[str]
    version: int
    updated_at: datetime
    links: list[ReportLinkOut]
    observables: list[ObservableOut]


class ReportVersionOut(BaseModel):
    version: int
    action: str
    at: datetime
    username: str
    data: dict[str, object]


class AgreementIn(BaseModel):
    partner_org: str = Field(description="organisation slug of the receiving organisation")
    from_org: str | None = Field(None, description="sharing organisation (default: your own)")
    partner_server: str = ""
    markings: list[str]
    record_types: list[str]
    valid_from: date | None = None
    valid_to: date | None = None
    note: str = ""


class AgreementOut(BaseModel):
    id: int
    from_org: str
    partner_org: str
    partner_server: str
    markings: list[str]
    record_types: list[str]
    valid_from: date | None
    valid_to: date | None
    active: bool
    note: str


class RFIIn(BaseModel):
    to_org: str = Field(description="slug of the organisation asked")
    question: str
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    due_date: date | None = None
    marking: str = Field("TLP:AMBER", description="TLP:CLEAR, TLP:GREEN or TLP:AMBER")
    assignee: str | None = Field(None, description="username in the organisation asked")


class RFIAnswerIn(BaseModel):
    answer: str
    report_ids: list[int] = Field(default_factory=list)


class RFIAssignIn(BaseModel):
    assignee: str


class RFIStatusIn(BaseModel):
    status: Literal["closed", "cancelled"]


class RFIOut(BaseModel):
    id: int
    from_org: str
    to_org: str
    question: str
    priority: str
    due_date: date | None
    overdue: bool
    assignee: str
    status: str
    marking: str
    answer: str
    answered_at: datetime | None
    report_ids: list[int]
    created_at: datetime
