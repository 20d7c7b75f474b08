"""JSON routes of the registry: entities, incidents, links, versions, search."""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from rasid.core.actor import Actor
from rasid.registry import merge as merge_service
from rasid.registry import search as search_service
from rasid.registry import service
from rasid.registry.models import Entity, Incident, Link
from rasid.registry.schemas import (
    EntityIn,
    EntityOut,
    IdentifierOut,
    IncidentIn,
    IncidentOut,
    InvolvementOut,
    LinkIn,
    LinkOut,
    NameOut,
    SearchOut,
    SearchResultOut,
    SourceOut,
    VersionOut,
)
from rasid.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["registry"])

_DETAIL_FIELDS = {
    "person": (
        "given_name",
        "father_name",
        "grandfather_name",
        "family_name",
        "kunya",
        "birth_date",
        "birth_date_precision",
        "birth_place",
        "nationality",
    ),
    "group": ("group_kind",),
    "vehicle": ("make", "model", "colour"),
    "vessel": ("flag", "vessel_type"),
    "place": ("gazetteer_kind", "gazetteer_id", "governorate_code", "lat", "lon"),
}


def entity_out(db: Session, entity: Entity, warnings: list[str] | None = None) -> EntityOut:
    owner = service.owner_slugs(db, {entity.owner_org_id}).get(entity.owner_org_id, "")
    details: dict[str, object] = {}
    for field in _DETAIL_FIELDS.get(entity.kind, ()):
        value = getattr(entity, field)
        details[field] = value.isoformat() if isinstance(value, date) else value
    details["notes"] = entity.notes
    return EntityOut(
        id=entity.id,
        kind=entity.kind,
        label=entity.label,
        label_ar=entity.label_ar,
        label_latin=entity.label_latin,
        marking=entity.marking,
        owner_org=owner,
        version=entity.version,
        names=[NameOut(name=n.name, script=n.script, name_type=n.name_type) for n in entity.names],
        identifiers=[IdentifierOut(kind=i.kind, value=i.value) for i in entity.identifiers],
        details=details,
        updated_at=entity.updated_at,
        warnings=warnings or [],
    )


def incident_out(
    db: Session, actor: Actor, incident: Incident, warnings: list[str] | None = None
) -> IncidentOut:
    owner = service.owner_slugs(db, {incident.owner_org_id}).get(incident.owner_org_id, "")
    return IncidentOut(
        id=incident.id,
        ref=incident.ref,
        title=incident.title,
        event_date=incident.event_date,
        date_precision=incident.date_precision,
        event_time=incident.event_time,
        event_type=incident.event_type,
        sub_event_type=incident.sub_event_type,
        attack_type=incident.attack_type,
        target_type=incident.target_type,
        weapon_type=incident.weapon_type,
        governorate_code=incident.governorate_code,
        district_id=incident.district_id,
        location_name=incident.location_name,
        lat=incident.lat,
        lon=incident.lon,
        geo_precision=incident.geo_precision,
        fatalities=incident.fatalities,
        injured=incident.injured,
        narrative_ar=incident.narrative_ar,
        narrative_en=incident.narrative_en,
        marking=incident.marking,
        owner_org=owner,
        version=incident.version,
        sources=[
            SourceOut(
                id=s.id,
                description=s.description,
                reliability=s.reliability,
                credibility=s.credibility,
                grade=f"{s.reliability}{s.credibility}",
                attachment_name=s.attachment_name,
            )
            for s in incident.sources
        ],
        involvements=[
            InvolvementOut(entity_id=e.id, kind=e.kind, label=e.label, role=i.role)
            for i, e in service.visible_involvements(db, actor, incident)
        ],
        warnings=warnings or [],
    )


def link_out(link: Link) -> LinkOut:
    return LinkOut(
        id=link.id,
        source_id=link.source_id,
        target_id=link.target_id,
        link_type=link.link_type,
        start_date=link.start_date,
        end_date=link.end_date,
        evidence=link.evidence,
        grade=f"{link.reliability}{link.credibility}",
        marking=link.marking,
    )


@router.get("/search", response_model=SearchOut)
def search(
    db: DB,
    actor: ApiActor,
    q: str,
    type: str | None = None,
    governorate: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    marking: str | None = None,
    limit: int = 20,
) -> SearchOut:
    flt = search_service.SearchFilter(
        type=type or None,
        governorate_code=governorate or None,
        date_from=date_from,
        date_to=date_to,
        marking=marking or None,
    )
    hits = search_service.search(db, actor, q, flt, limit=max(1, min(limit, 100)))
    return SearchOut(
        query=q,
        results=[
            SearchResultOut(
                id=h.id,
                type=h.type,
                names=h.names,
                score=h.score,
                reason=h.reason,
                label=h.label,
                marking=h.marking,
            )
            for h in hits
        ],
    )


@router.get("/entities", response_model=list[EntityOut])
def list_entities(
    db: DB,
    actor: ApiActor,
    response: Response,
    kind: str | None = None,
    governorate: str | None = None,
    marking: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[EntityOut]:
    rows, total = service.list_entities(
        db,
        actor,
        service.EntityFilter(kind, governorate, marking),
        limit=max(1, min(limit, 500)),
        offset=max(0, offset),
    )
    response.headers["X-Total-Count"] = str(total)
    return [entity_out(db, e) for e in rows]


@router.post("/entities", response_model=EntityOut, status_code=201)
def create_entity(body: EntityIn, db: DB, actor: ApiActor) -> EntityOut:
    entity, warnings = service.create_entity(db, actor, body)
    return entity_out(db, entity, warnings)


@router.get("/entities/{entity_id}", response_model=EntityOut)
def get_entity(entity_id: int, db: DB, actor: ApiActor) -> EntityOut:
    return entity_out(db, service.get_entity(db, actor, entity_id))


@router.put("/entities/{entity_id}", response_model=EntityOut)
def update_entity(
    entity_id: int, body: EntityIn, db: DB, actor: ApiActor, version: int | None = None
) -> EntityOut:
    entity, warnings = service.update_entity(db, actor, entity_id, body, expected_version=version)
    return entity_out(db, entity, warnings)


def _versions(db: Session, actor: Actor, object_type: str, object_id: int) -> list[VersionOut]:
    return [
        VersionOut(
            version=v.version,
            action=v.action,
            at=v.at,
            username=v.username,
            data=json.loads(v.data),
        )
        for v in service.versions(db, actor, object_type, object_id)
    ]


@router.get("/entities/{entity_id}/versions", response_model=list[VersionOut])
def entity_versions(entity_id: int, db: DB, actor: ApiActor) -> list[VersionOut]:
    return _versions(db, actor, "entity", entity_id)


@router.get("/entities/{entity_id}/links", response_model=list[LinkOut])
def entity_links(entity_id: int, db: DB, actor: ApiActor) -> list[LinkOut]:
    entity = service.get_entity(db, actor, entity_id, audit_read=False)
    return [link_out(lk) for lk in service.links_of(db, actor, {entity.id})]


@router.get("/entities/{entity_id}/incidents", response_model=list[IncidentOut])
def entity_incidents(entity_id: int, db: DB, actor: ApiActor) -> list[IncidentOut]:
    entity = service.get_entity(db, actor, entity_id, audit_read=False)
    return [
        incident_out(db, actor, inc)
        for inc, _role in service.incidents_of_entity(db, actor, entity.id)
    ]


@router.post("/links", response_model=LinkOut, status_code=201)
def create_link(body: LinkIn, db: DB, actor: ApiActor) -> LinkOut:
    return link_out(service.create_link(db, actor, body))


@router.delete("/links/{link_id}", status_code=204)
def delete_link(link_id: int, db: DB, actor: ApiActor) -> Response:
    service.delete_link(db, actor, link_id)
    return Response(status_code=204)


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(
    db: DB,
    actor: ApiActor,
    response: Response,
    governorate: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    event_type: str | None = None,
    marking: str | None = None,
    entity: int | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[IncidentOut]:
    flt = service.IncidentFilter(
        governorate or None,
        date_from,
        date_to,
        event_type or None,
        marking or None,
        entity,
        q or None,
    )
    rows, total = service.list_incidents(
        db, actor, flt, limit=max(1, min(limit, 500)), offset=max(0, offset)
    )
    response.headers["X-Total-Count"] = str(total)
    return [incident_out(db, actor, i) for i in rows]


@router.post("/incidents", response_model=IncidentOut, status_code=201)
def create_incident(body: IncidentIn, db: DB, actor: ApiActor) -> IncidentOut:
    incident, warnings = service.create_incident(db, actor, body)
    return incident_out(db, actor, incident, warnings)


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: int, db: DB, actor: ApiActor) -> IncidentOut:
    return incident_out(db, actor, service.get_incident(db, actor, incident_id))


@router.put("/incidents/{incident_id}", response_model=IncidentOut)
def update_incident(
    incident_id: int, body: IncidentIn, db: DB, actor: ApiActor, version: int | None = None
) -> IncidentOut:
    incident, warnings = service.update_incident(
        db, actor, incident_id, body, expected_version=version
    )
    return incident_out(db, actor, incident, warnings)


@router.get("/incidents/{incident_id}/versions", response_model=list[VersionOut])
def incident_versions(incident_id: int, db: DB, actor: ApiActor) -> list[VersionOut]:
    return _versions(db, actor, "incident", incident_id)


# --- map, chart, duplicates and merges ------------------------------------------------------------


def incidents_geojson(incidents: list[Incident]) -> dict[str, object]:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [inc.lon, inc.lat]},
            "properties": {
                "id": inc.id,
                "ref": inc.ref,
                "title": inc.title,
                "date": inc.event_date.isoformat(),
                "type": inc.event_type,
                "marking": inc.marking,
                "fatalities": inc.fatalities,
                "url": f"/registry/incidents/{inc.id}",
            },
        }
        for inc in incidents
        if inc.lat is not None and inc.lon is not None
    ]
    return {"type": "FeatureCollection", "features": features}


@router.get("/incidents.geojson")
def incidents_map(
    db: DB,
    actor: ApiActor,
    governorate: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    event_type: str | None = None,
    marking: str | None = None,
    entity: int | None = None,
    q: str | None = None,
    limit: int = 2000,
) -> dict[str, object]:
    """Visible incidents as GeoJSON points (for the map and the timeline)."""
    flt = service.IncidentFilter(
        governorate or None,
        date_from,
        date_to,
        event_type or None,
        marking or None,
        entity,
        q or None,
    )
    rows, _ = service.list_incidents(db, actor, flt, limit=max(1, min(limit, 5000)))
    return incidents_geojson(rows)


@router.get("/graph/{entity_id}")
def graph(entity_id: int, db: DB, actor: ApiActor) -> dict[str, object]:
    """An entity and its visible neighbours, for the link chart (expands one hop at a time)."""
    from rasid.registry import taxonomy

    entities, links = service.neighbourhood(db, actor, entity_id)
    language = actor.language
    return {
        "nodes": [
            {
                "id": f"e{e.id}",
                "label": e.label,
                "kind": e.kind,
                "marking": e.marking,
                "url": f"/registry/entities/{e.id}",
            }
            for e in entities
        ],
        "edges": [
            {
                "id": f"l{lk.id}",
                "source": f"e{lk.source_id}",
                "target": f"e{lk.target_id}",
                "label": taxonomy.label("link_type", lk.link_type, language),
                "marking": lk.marking,
            }
            for lk in links
        ],
    }


class MergeIn(BaseModel):
    survivor_id: int
    duplicate_id: int


class MergeOut(BaseModel):
    id: int
    survivor_id: int
    merged_id: int
    undone: bool


class CandidateOut(BaseModel):
    id: int
    label: str
    names: list[str]
    score: float
    reason: str


class PairOut(BaseModel):
    id: int
    score: float
    reason: str
    a: int
    b: int
    a_label: str
    b_label: str


@router.post("/entities/duplicates", response_model=list[CandidateOut])
def likely_duplicates(body: EntityIn, db: DB, actor: ApiActor) -> list[CandidateOut]:
    """Records the caller can see that the one about to be saved probably duplicates."""
    return [
        CandidateOut(id=c.id, label=c.label, names=c.names, score=c.score, reason=c.reason)
        for c in merge_service.likely_duplicates(db, actor, body)
    ]


@router.get("/duplicates", response_model=list[PairOut])
def duplicate_queue(db: DB, actor: ApiActor) -> list[PairOut]:
    return [
        PairOut(
            id=p.candidate.id,
            score=p.candidate.score,
            reason=p.candidate.reason,
            a=p.a.id,
            b=p.b.id,
            a_label=p.a.label,
            b_label=p.b.label,
        )
        for p in merge_service.review_queue(db, actor)
    ]


@router.post("/duplicates/scan")
def duplicate_scan(db: DB, actor: ApiActor, kind: str | None = None) -> dict[str, int]:
    return {"added": merge_service.scan(db, actor, kind=kind)}


@router.post("/merges", response_model=MergeOut, status_code=201)
def do_merge(body: MergeIn, db: DB, actor: ApiActor) -> MergeOut:
    record = merge_service.merge(db, actor, body.survivor_id, body.duplicate_id)
    return MergeOut(
        id=record.id, survivor_id=record.survivor_id, merged_id=record.merged_id, undone=False
    )


@router.post("/merges/{merge_id}/undo", response_model=MergeOut)
def undo_merge(merge_id: int, db: DB, actor: ApiActor) -> MergeOut:
    record = merge_service.undo(db, actor, merge_id)
    return MergeOut(
        id=record.id, survivor_id=record.survivor_id, merged_id=record.merged_id, undone=True
    )


class PlaceOut(BaseModel):
    kind: str
    id: str
    name_ar: str
    name_en: str
    governorate_code: str
    score: float


@router.get("/gazetteer", response_model=list[PlaceOut])
def gazetteer_search(
    actor: ApiActor, q: str, kind: str | None = None, limit: int = 10
) -> list[PlaceOut]:
    """Governorates, districts, uzlahs and villages by Arabic or English name, spelling variants included."""
    from rasid.registry import gazetteer

    kinds = {kind} if kind else None
    return [
        PlaceOut(
            kind=m.kind,
            id=m.id,
            name_ar=m.name_ar,
            name_en=m.name_en,
            governorate_code=m.governorate_code,
            score=m.score,
        )
        for m in gazetteer.search_places(q, limit=max(1, min(limit, 50)), kinds=kinds)
    ]
