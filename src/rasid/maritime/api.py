"""JSON routes of maritime alerts: the queue, one alert with its evidence, the workflow."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from rasid.identity import service as identity
from rasid.maritime import alerts
from rasid.maritime.models import MaritimeAlert
from rasid.maritime.schemas import (
    AlertOut,
    AlertSummaryOut,
    DismissIn,
    EscalateIn,
    EvidenceFixOut,
)
from rasid.registry import service as registry
from rasid.web.deps import DB, ApiActor

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
