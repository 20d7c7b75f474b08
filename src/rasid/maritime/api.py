"""JSON routes of the traffic picture (vessels, tracks as GeoJSON) and of maritime alerts:
the queue, one alert with its evidence, the workflow."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from rasid.identity import service as identity
from rasid.maritime import alerts, vessels
from rasid.maritime.models import MaritimeAlert, Vessel
from rasid.maritime.schemas import (
    AlertOut,
    AlertSummaryOut,
    DismissIn,
    EscalateIn,
    EvidenceFixOut,
    IdentityChangeOut,
    VesselDetailOut,
    VesselOut,
)
from rasid.registry import service as registry
from rasid.web.deps import DB, ApiActor, settings_of

router = APIRouter(prefix="/api/v1/maritime", tags=["maritime"])


def summary_out(alert: MaritimeAlert) -> AlertSummaryOut:
    return AlertSummaryOut(
        id=alert.id,
        type=alert.type,
        subtype=alert.subtype,
        mmsi=alert.mmsi,
        other_mmsi=alert.other_mmsi,
        start=alert.start,
        end=alert.end,
        lat=alert.lat,
        lon=alert.lon,
        severity=alert.severity,
        zone=alert.zone,
        status=alert.status,
    )


def alert_out(db: Session, alert: MaritimeAlert) -> AlertOut:
    slugs = registry.owner_slugs(db, {alert.owner_org_id})
    user_ids = {u for u in (alert.acknowledged_by, alert.decided_by) if u is not None}
    names = {u.id: u.username for u in identity.list_users_by_id(db, user_ids)} if user_ids else {}
    return AlertOut(
        **summary_out(alert).model_dump(),
        key=alert.key,
        marking=alert.marking,
        owner_org=slugs.get(alert.owner_org_id, ""),
        parameters=alerts.parameters_of(alert),
        measures=alerts.measures_of(alert),
        evidence=[EvidenceFixOut.model_validate(f) for f in alerts.evidence_of(alert)],
        status_reason=alert.status_reason,
        acknowledged_by=names.get(alert.acknowledged_by or 0, ""),
        acknowledged_at=alert.acknowledged_at,
        decided_by=names.get(alert.decided_by or 0, ""),
        decided_at=alert.decided_at,
        incident_id=alert.incident_id,
        report_id=alert.report_id,
        run_id=alert.run_id,
        created_at=alert.created_at,
    )


@router.get("/alerts", response_model=list[AlertSummaryOut])
def list_alerts(
    db: DB,
    actor: ApiActor,
    response: Response,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
    mmsi: int | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[AlertSummaryOut]:
    """Visible alerts, newest first; ``since``/``until`` (ISO 8601 with a zone) bound the start.

    ``X-Total-Count`` is the number of visible alerts matching the filters."""
    rows = alerts.list_alerts(
        db,
        actor,
        type=type or None,
        since=since,
        until=until,
        status=status or None,
        mmsi=mmsi,
        limit=max(1, min(limit, 5000)),
        offset=max(0, offset),
    )
    total = alerts.count_alerts(
        db, actor, type=type or None, since=since, until=until, status=status or None, mmsi=mmsi
    )
    response.headers["X-Total-Count"] = str(total)
    return [summary_out(a) for a in rows]


@router.get("/alerts/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: int, db: DB, actor: ApiActor) -> AlertOut:
    return alert_out(db, alerts.get_alert(db, actor, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge_alert(alert_id: int, db: DB, actor: ApiActor) -> AlertOut:
    return alert_out(db, alerts.acknowledge(db, actor, alert_id))


@router.post("/alerts/{alert_id}/dismiss", response_model=AlertOut)
def dismiss_alert(alert_id: int, body: DismissIn, db: DB, actor: ApiActor) -> AlertOut:
    return alert_out(db, alerts.dismiss(db, actor, alert_id, body.reason))


@router.post("/alerts/{alert_id}/escalate", response_model=AlertOut)
def escalate_alert(
    alert_id: int, db: DB, actor: ApiActor, body: EscalateIn | None = None
) -> AlertOut:
    draft = body.draft_report if body is not None else False
    return alert_out(db, alerts.escalate(db, actor, alert_id, draft_report=draft))


def vessel_out(vessel: Vessel) -> VesselOut:
    return VesselOut.model_validate(vessel, from_attributes=True)


@router.get("/vessels", response_model=list[VesselOut])
def list_vessels(
    db: DB,
    actor: ApiActor,
    response: Response,
    bbox: str | None = None,
    since: datetime | None = None,
    limit: int = vessels.MAX_VESSELS,
) -> list[VesselOut]:
    """Vessels with their latest fix, most recently heard first (the live map's layer).

    ``bbox`` = ``west,south,east,north`` in degrees; ``since`` (ISO 8601 with a zone): heard
    at or after. ``X-Total-Count`` is the number of vessels known. TLP:GREEN data."""
    box = vessels.BBox.parse(bbox) if bbox else None
    rows = vessels.list_vessels(db, actor, bbox=box, since=since, limit=limit)
    response.headers["X-Total-Count"] = str(vessels.count_vessels(db, actor))
    return [vessel_out(v) for v in rows]


@router.get("/vessels/{mmsi}", response_model=VesselDetailOut)
def get_vessel(mmsi: int, db: DB, actor: ApiActor) -> VesselDetailOut:
    vessel = vessels.get_vessel(db, actor, mmsi)
    history = vessels.identity_history(db, actor, mmsi)
    return VesselDetailOut(
        **vessel_out(vessel).model_dump(),
        length_m=vessel.length_m,
        beam_m=vessel.beam_m,
        draught_m=vessel.draught_m,
        destination=vessel.destination,
        identity_at=vessel.identity_at,
        first_seen=vessel.first_seen,
        history=[IdentityChangeOut.model_validate(h, from_attributes=True) for h in history],
    )


@router.get(
    "/vessels/{mmsi}/track",
    response_class=JSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def vessel_track(
    mmsi: int,
    request: Request,
    db: DB,
    actor: ApiActor,
    start: datetime | None = None,
    end: datetime | None = None,
) -> JSONResponse:
    """The vessel's track as GeoJSON: a LineString and one Point per fix (time, SOG, COG).

    ``start``/``end`` are ISO 8601 with a zone; by default the 24 h before the last fix; at
    most 31 days. Audited (who read which vessel's movements)."""
    data = vessels.track_geojson(db, actor, settings_of(request).data_dir, mmsi, start, end)
    return JSONResponse(data, media_type="application/geo+json")
