"""Correlation: what else, among what the reader may see, shares a report's values.

Computed at read time with SQL, nothing stored. For a report the reader may open:

* each observable's ``(kind, normalised)`` value links to the other reports the reader may
  see with the same observable, to the registry entities the reader may see with the same
  identifier (phone, email, MMSI, IMO and plate are registry identifier kinds too), to the
  incidents the reader may see that involve those entities, and to the reports that link
  those entities or incidents;
* each registry record the report links (and the reader may see) links to the other
  reports the reader may see that link the same record, and an entity to the incidents
  the reader may see that involve it.

A value found in more than :func:`max_occurrences` reports and records in total (counted
over everything, hidden rows included) is "too common": it is named as such and lists
nothing. Only the fact is reported, never the count, so it says nothing about what is
hidden beyond "many".
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.core.actor import Actor
from rasid.intel import service
from rasid.intel.models import Observable, Report, ReportLink
from rasid.registry.models import Entity, EntityIdentifier, Incident, Involvement

ENV_MAX = "RASID_CORRELATION_MAX"
DEFAULT_MAX = 100
# observable kinds that are also registry identifier kinds (normalised the same way)
IDENTIFIER_KINDS: dict[str, str] = {
    "phone": "phone",
    "email": "email",
    "mmsi": "mmsi",
    "imo": "imo",
    "plate": "plate",
}


class CorrelatedReport(BaseModel):
    id: int
    title: str
    marking: str


class CorrelatedEntity(BaseModel):
    id: int
    label: str
    kind: str


class CorrelatedIncident(BaseModel):
    id: int
    title: str


class Correlation(BaseModel):
    value: str
    kind: str = Field(description="an observable kind, or registry_entity / registry_incident")
    too_common: bool = False
    reports: list[CorrelatedReport] = Field(default_factory=list)
    entities: list[CorrelatedEntity] = Field(default_factory=list)
    incidents: list[CorrelatedIncident] = Field(default_factory=list)


def max_occurrences() -> int:
    """The threshold above which a value stops correlating (``RASID_CORRELATION_MAX``)."""
    raw = os.environ.get(ENV_MAX, "").strip()
    try:
        value = int(raw) if raw else DEFAULT_MAX
    except ValueError:
        return DEFAULT_MAX
    return max(value, 0)


def _count(db: Session, stmt: Select[Any], cap: int) -> int:
    """How many distinct rows ``stmt`` selects, counting no further than ``cap``."""
    sub = stmt.distinct().limit(cap).subquery()
    return int(db.scalar(select(func.count()).select_from(sub)) or 0)


def _visible_reports(
    db: Session, actor: Actor, anchor_id: int, *where: ColumnElement[bool]
) -> list[CorrelatedReport]:
    rows = db.execute(
        select(Report.id, Report.title, Report.marking)
        .where(Report.id != anchor_id, service._report_visibility(actor), *where)
        .order_by(Report.id)
    ).all()
    return [CorrelatedReport(id=r[0], title=r[1], marking=r[2]) for r in rows]


def _reports_linking(
    db: Session, actor: Actor, anchor_id: int, object_type: str, ids: list[int]
) -> list[CorrelatedReport]:
    if not ids:
        return []
    linked = select(ReportLink.report_id).where(
        ReportLink.object_type == object_type, ReportLink.object_id.in_(ids)
    )
    return _visible_reports(db, actor, anchor_id, Report.id.in_(linked))


def _incidents_involving(
    db: Session, actor: Actor, entity_ids: list[int]
) -> list[CorrelatedIncident]:
    if not entity_ids:
        return []
    involved = select(Involvement.incident_id).where(Involvement.entity_id.in_(entity_ids))
    rows = db.execute(
        select(Incident.id, Incident.title)
        .where(Incident.id.in_(involved), access.visible_filter(actor, Incident))
        .order_by(Incident.id)
    ).all()
    return [CorrelatedIncident(id=r[0], title=r[1]) for r in rows]


def _merge(*lists: list[CorrelatedReport]) -> list[CorrelatedReport]:
    seen: dict[int, CorrelatedReport] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item.id, item)
    return [seen[k] for k in sorted(seen)]


def _observable_correlation(
    db: Session, actor: Actor, report: Report, kind: str, normalised: str, limit: int
) -> Correlation | None:
    same_obs = (Observable.kind == kind, Observable.normalised == normalised)
    other_reports = select(Observable.report_id).where(*same_obs, Observable.report_id != report.id)
    id_kind = IDENTIFIER_KINDS.get(kind)
    holders = None
    if id_kind is not None:
        holders = (
            select(EntityIdentifier.entity_id)
            .join(Entity, Entity.id == EntityIdentifier.entity_id)
            .where(
                EntityIdentifier.kind == id_kind,
                EntityIdentifier.normalised == normalised,
                Entity.merged_into_id.is_(None),
            )
        )
    # counted over everything; counting stops once the threshold is passed
    total = _count(db, other_reports, limit + 1)
    if holders is not None and total <= limit:
        total += _count(db, holders, limit + 1 - total)
    if total > limit:
        return Correlation(value=normalised, kind=kind, too_common=True)
    reports = _visible_reports(db, actor, report.id, Report.id.in_(other_reports))
    entities: list[CorrelatedEntity] = []
    if holders is not None:
        rows = db.execute(
            select(Entity.id, Entity.label, Entity.kind)
            .where(Entity.id.in_(holders), access.visible_filter(actor, Entity))
            .order_by(Entity.id)
        ).all()
        entities = [CorrelatedEntity(id=r[0], label=r[1], kind=r[2]) for r in rows]
    entity_ids = [e.id for e in entities]
    incidents = _incidents_involving(db, actor, entity_ids)
    reports = _merge(
        reports,
        _reports_linking(db, actor, report.id, "registry_entity", entity_ids),
        _reports_linking(db, actor, report.id, "registry_incident", [i.id for i in incidents]),
    )
    if not (reports or entities or incidents):
        return None
    return Correlation(
        value=normalised, kind=kind, reports=reports, entities=entities, incidents=incidents
    )


def _link_correlation(
    db: Session, actor: Actor, report: Report, link: ReportLink, limit: int
) -> Correlation | None:
    object_type, object_id = link.object_type, link.object_id
    if object_type == "registry_entity":
        label = db.scalar(select(Entity.label).where(Entity.id == object_id)) or ""
    else:
        label = db.scalar(select(Incident.title).where(Incident.id == object_id)) or ""
    value = label or f"#{object_id}"
    others = select(ReportLink.report_id).where(
        ReportLink.object_type == object_type,
        ReportLink.object_id == object_id,
        ReportLink.report_id != report.id,
    )
    if _count(db, others, limit + 1) > limit:
        return Correlation(value=value, kind=object_type, too_common=True)
    reports = _visible_reports(db, actor, report.id, Report.id.in_(others))
    incidents: list[CorrelatedIncident] = []
    if object_type == "registry_entity":
        incidents = _incidents_involving(db, actor, [object_id])
    if not (reports or incidents):
        return None
    return Correlation(value=value, kind=object_type, reports=reports, incidents=incidents)


def correlations_for(db: Session, actor: Actor, report: Report) -> list[Correlation]:
    """Correlations of ``report``, which the caller has already checked ``actor`` may see."""
    limit = max_occurrences()
    out: list[Correlation] = []
    for obs in report.observables:
        found = _observable_correlation(db, actor, report, obs.kind, obs.normalised, limit)
        if found is not None:
            out.append(found)
    for link in service.visible_links(db, actor, report):
        found_link = _link_correlation(db, actor, report, link, limit)
        if found_link is not None:
            out.append(found_link)
    return out


def correlations(db: Session, actor: Actor, report_id: int) -> list[Correlation]:
    """Correlations of a report the actor may see (404 if missing or hidden)."""
    report = service.get_report(db, actor, report_id, audit_read=False)
    return correlations_for(db, actor, report)
