"""Maritime alerts: store the detectors' events, list and read them, and run their workflow.

Storing (:func:`store`) is idempotent: an alert is identified by its event's stable
:attr:`~rasid.maritime.events.AlertEvent.key` within its owner organisation, so replaying a
file or a feed adds nothing twice. The owner is the organisation of the actor who ingested
(or ``owner_org_id`` for a pipeline running as the system account, which has none). The
marking defaults to **TLP:GREEN** — traffic pictures are shared with the whole community —
and is an argument of :func:`store` (``marking=``) for a watch that wants TLP:AMBER or
TLP:AMBER+STRICT; TLP:RED is refused (an alert has no named recipients).

Every read goes through :mod:`rasid.access.service`. Workflow::

    new → acknowledged → escalated | dismissed
    new → escalated | dismissed

``escalated`` and ``dismissed`` are final (a further change is a 409 conflict); dismissing
needs a reason. Changes need the ``write`` permission and the owner organisation, and each
is audited with before and after.

Escalation (:func:`escalate`) creates, through the registry service, an incident
(title, English and Arabic narrative, date and time of the alert's start in Asia/Aden time,
coordinates, the alert's marking) with the vessels involved — found by MMSI among the
registry records the user may see, or created — and optionally, through the intel service,
a draft report linked to that incident with the MMSIs as observables. It all happens in one
savepoint: if any part fails, nothing of it is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, normalise_marking
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.dates import to_local
from rasid.core.db import savepoint, utcnow
from rasid.core.errors import Conflict, Forbidden, ValidationFailed
from rasid.maritime.events import ALERT_TYPES, SEVERITIES, AlertEvent
from rasid.maritime.models import ALERT_STATUSES, MaritimeAlert, Vessel

OBJECT_TYPE = "maritime_alert"
STORE_CHUNK = 500
STORABLE_MARKINGS = (CLEAR, GREEN, AMBER, AMBER_STRICT)
DEFAULT_LIMIT = 1000

#: status → the statuses it may move to; escalated and dismissed are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged", "escalated", "dismissed"}),
    "acknowledged": frozenset({"escalated", "dismissed"}),
    "escalated": frozenset(),
    "dismissed": frozenset(),
}

#: (English, Arabic) name of each alert type, for incident titles and narratives.
TYPE_LABELS: dict[str, tuple[str, str]] = {
    "ais_gap": ("AIS gap", "انقطاع بث نظام التعريف الآلي"),
    "encounter": ("Encounter at sea", "التقاء سفينتين في البحر"),
    "loitering": ("Loitering", "تسكّع في البحر"),
    "spoofing": ("Position spoofing", "تزييف الموقع"),
    "identity": ("Identity anomaly", "خلل في هوية السفينة"),
    "zone_entry": ("Zone entry", "دخول منطقة مراقبة"),
    "fast_approach": ("Fast approach by a small craft", "اقتراب سريع لزورق صغير"),
}
SEVERITY_AR = {"low": "منخفضة", "medium": "متوسطة", "high": "عالية", "critical": "حرجة"}

#: Grade of an escalation's draft report until an analyst assesses it: C3, "fairly
#: reliable, possibly true" — AIS is a good sensor but its messages can be spoofed.
DRAFT_RELIABILITY = "C"
DRAFT_CREDIBILITY = 3


# --- helpers ---------------------------------------------------------------------------------


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "Your roles do not allow this action (%(permission)s).", permission=permission
        )


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def iso_z(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a ``Z``: ``2026-01-15T03:00:00Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _chunks(events: Iterable[AlertEvent], size: int) -> Iterator[list[AlertEvent]]:
    chunk: list[AlertEvent] = []
    for event in events:
        chunk.append(event)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_event(event: AlertEvent) -> None:
    if event.type not in ALERT_TYPES:
        raise ValidationFailed(
            "Unknown alert type %(value)s; one of: %(types)s.",
            field="type",
            value=event.type,
            types=", ".join(ALERT_TYPES),
        )
    if event.severity not in SEVERITIES:
        raise ValidationFailed(
            "Unknown severity: %(value)s.", field="severity", value=event.severity
        )
    if not (-90 <= event.lat <= 90 and -180 <= event.lon <= 180):
        raise ValidationFailed(
            "Impossible alert position %(lat)s, %(lon)s.", field="lat", lat=event.lat, lon=event.lon
        )
    if event.end < event.start:
        raise ValidationFailed("An alert cannot end before it starts.", field="end")


def _row(event: AlertEvent, owner: int, marking: str, run_id: int | None) -> dict[str, Any]:
    return {
        "key": event.key,
        "type": event.type,
        "subtype": event.subtype,
        "mmsi": event.mmsi,
        "other_mmsi": event.other_mmsi,
        "start": _utc(event.start),
        "end": _utc(event.end),
        "lat": event.lat,
        "lon": event.lon,
        "severity": event.severity,
        "zone": event.zone,
        "parameters": json.dumps(event.parameters, ensure_ascii=False, default=str),
        "measures": json.dumps(event.measures, ensure_ascii=False, default=str),
        "evidence": json.dumps([f.as_dict() for f in event.evidence], ensure_ascii=False),
        "status": "new",
        "status_reason": "",
        "run_id": run_id,
        "owner_org_id": owner,
        "marking": marking,
        "created_at": utcnow(),
    }


def _stored_snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": row["key"],
        "type": row["type"],
        "subtype": row["subtype"],
        "mmsi": row["mmsi"],
        "other_mmsi": row["other_mmsi"],
        "start": iso_z(row["start"]),
        "end": iso_z(row["end"]),
        "severity": row["severity"],
        "zone": row["zone"],
        "status": row["status"],
        "marking": row["marking"],
        "owner_org_id": row["owner_org_id"],
        "run_id": row["run_id"],
    }


def workflow_snapshot(alert: MaritimeAlert) -> dict[str, Any]:
    """What the workflow changes, for the audit log's before/after."""
    return {
        "status": alert.status,
        "status_reason": alert.status_reason,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": iso_z(alert.acknowledged_at),
        "decided_by": alert.decided_by,
        "decided_at": iso_z(alert.decided_at),
        "incident_id": alert.incident_id,
        "report_id": alert.report_id,
    }


# --- store -----------------------------------------------------------------------------------


def _insert_new(db: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert ``rows`` in one statement, skipping any key the owner got meanwhile (another
    worker storing the same events); return {key: id} of the rows inserted."""
    dialect = db.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql_insert(MaritimeAlert).on_conflict_do_nothing(
            constraint="uq_maritime_alert_owner_key"
        )
    elif dialect == "sqlite":
        stmt = sqlite_insert(MaritimeAlert).on_conflict_do_nothing(
            index_elements=["owner_org_id", "key"]
        )
    else:
        stmt = insert(MaritimeAlert)
    result = db.execute(stmt.returning(MaritimeAlert.id, MaritimeAlert.key), rows)
    return {str(k): int(i) for i, k in result.all()}


def store(
    db: Session,
    actor: Actor,
    events: Iterable[AlertEvent],
    run_id: int | None = None,
    marking: str = GREEN,
    *,
    owner_org_id: int | None = None,
) -> int:
    """Store detector events as alerts of the actor's organisation; return how many are new.

    Events whose key the owner already holds (stored before, or earlier in ``events``) are
    skipped. Existing keys are looked up and new rows inserted in chunks of
    :data:`STORE_CHUNK`; each new alert gets its own audit entry, written in one batch.
    """
    _require(actor, "write")
    owner = owner_org_id if owner_org_id is not None else actor.org_id
    if owner is None:
        raise ValidationFailed(
            "Alerts must belong to an organisation: use --as USERNAME.", field="owner_org"
        )
    if owner_org_id is not None and not actor.is_system and owner_org_id != actor.org_id:
        raise Forbidden("Alerts can only be stored for your own organisation.")
    value = normalise_marking(marking)
    if value not in STORABLE_MARKINGS:
        raise ValidationFailed(
            "Alerts are marked TLP:CLEAR, TLP:GREEN, TLP:AMBER or TLP:AMBER+STRICT, not "
            "%(marking)s.",
            field="marking",
            marking=value,
        )
    added = 0
    seen: set[str] = set()
    with audit.batched(db):
        for chunk in _chunks(events, STORE_CHUNK):
            fresh: dict[str, AlertEvent] = {}
            for event in chunk:
                key = event.key
                if key in seen or key in fresh:
                    continue
                _check_event(event)
                fresh[key] = event
            if not fresh:
                continue
            existing = set(
                db.scalars(
                    select(MaritimeAlert.key).where(
                        MaritimeAlert.owner_org_id == owner, MaritimeAlert.key.in_(list(fresh))
                    )
                )
            )
            seen.update(fresh)
            rows = [_row(e, owner, value, run_id) for k, e in fresh.items() if k not in existing]
            if not rows:
                continue
            by_key = _insert_new(db, rows)
            for row in rows:
                if row["key"] not in by_key:
                    continue  # stored by a concurrent ingest a moment ago
                audit.record_change(
                    db,
                    actor,
                    "create",
                    OBJECT_TYPE,
                    by_key[row["key"]],
                    None,
                    _stored_snapshot(row),
                )
            added += len(by_key)
    return added


# --- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertFilter:
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    mmsi: int | None = None


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            "%(name)s needs a time zone, e.g. 2026-01-15T00:00:00Z.", field=name, name=name
        )
    return value


def _conditions(flt: AlertFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.type is not None:
        if flt.type not in ALERT_TYPES:
            raise ValidationFailed(
                "Unknown alert type %(value)s; one of: %(types)s.",
                field="type",
                value=flt.type,
                types=", ".join(ALERT_TYPES),
            )
        where.append(MaritimeAlert.type == flt.type)
    if flt.status is not None:
        if flt.status not in ALERT_STATUSES:
            raise ValidationFailed(
                "Unknown alert status %(value)s; one of: %(statuses)s.",
                field="status",
                value=flt.status,
                statuses=", ".join(ALERT_STATUSES),
            )
        where.append(MaritimeAlert.status == flt.status)
    since = _aware(flt.since, "since")
    until = _aware(flt.until, "until")
    if since is not None and until is not None and until < since:
        raise ValidationFailed("until is before since.", field="until")
    if since is not None:
        where.append(MaritimeAlert.start >= since)
    if until is not None:
        where.append(MaritimeAlert.start <= until)
    if flt.mmsi is not None:
        where.append(or_(MaritimeAlert.mmsi == flt.mmsi, MaritimeAlert.other_mmsi == flt.mmsi))
    return where


def list_alerts(
    db: Session,
    actor: Actor,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
    mmsi: int | None = None,
    limit: int | None = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[MaritimeAlert]:
    """Visible alerts, newest start first; ``since``/``until`` bound the start (inclusive).

    ``mmsi`` matches either vessel of an alert; ``limit=None`` returns them all.
    """
    _require(actor, "read")
    where = _conditions(AlertFilter(type, since, until, status, mmsi))
    stmt = (
        access.visible(actor, MaritimeAlert)
        .where(*where)
        .order_by(MaritimeAlert.start.desc(), MaritimeAlert.id.desc())
        .offset(max(0, offset))
    )
    if limit is not None:
        stmt = stmt.limit(max(1, limit))
    return list(db.scalars(stmt))


def count_alerts(
    db: Session,
    actor: Actor,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
    mmsi: int | None = None,
) -> int:
    """How many alerts match, among those the actor may see."""
    _require(actor, "read")
    where = _conditions(AlertFilter(type, since, until, status, mmsi))
    return access.count_visible(db, actor, MaritimeAlert, *where)


def get_alert(
    db: Session, actor: Actor, alert_id: int, *, audit_read: bool = True
) -> MaritimeAlert:
    """One visible alert, or 404 whether it is missing or hidden."""
    _require(actor, "read")
    return access.get_visible(db, actor, MaritimeAlert, alert_id, audit_read=audit_read)


def evidence_of(alert: MaritimeAlert) -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = json.loads(alert.evidence or "[]")
    return value


def parameters_of(alert: MaritimeAlert) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(alert.parameters or "{}")
    return value


def measures_of(alert: MaritimeAlert) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(alert.measures or "{}")
    return value


# --- workflow --------------------------------------------------------------------------------


def _refused(error: Forbidden | Conflict | ValidationFailed, action: str, alert_id: int) -> Any:
    error.audit = {
        "action": action,
        "object_type": OBJECT_TYPE,
        "object_id": alert_id,
        "outcome": "refused",
    }
    return error


def _for_change(db: Session, actor: Actor, alert_id: int, target: str) -> MaritimeAlert:
    _require(actor, "write")
    alert = get_alert(db, actor, alert_id, audit_read=False)
    action = {"acknowledged": "acknowledge", "escalated": "escalate", "dismissed": "dismiss"}[
        target
    ]
    if not actor.is_system and actor.org_id != alert.owner_org_id:
        raise _refused(
            Forbidden("Only the owner organisation can work this alert."), action, alert.id
        )
    if target not in TRANSITIONS.get(alert.status, frozenset()):
        raise _refused(
            Conflict(
                "This alert is %(status)s; it cannot be %(target)s.",
                field="status",
                status=alert.status,
                target=target,
            ),
            action,
            alert.id,
        )
    return alert


def acknowledge(db: Session, actor: Actor, alert_id: int) -> MaritimeAlert:
    """A watch officer has seen the alert and is working it."""
    alert = _for_change(db, actor, alert_id, "acknowledged")
    before = workflow_snapshot(alert)
    alert.status = "acknowledged"
    alert.acknowledged_by = actor.user_id
    alert.acknowledged_at = utcnow()
    db.flush()
    audit.record_change(
        db, actor, "acknowledge", OBJECT_TYPE, alert.id, before, workflow_snapshot(alert)
    )
    return alert


def dismiss(db: Session, actor: Actor, alert_id: int, reason: str) -> MaritimeAlert:
    """Close the alert as not a threat; the reason is required."""
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationFailed("Give the reason for dismissing the alert.", field="reason")
    if len(text) > 2000:
        raise ValidationFailed("The reason is longer than 2,000 characters.", field="reason")
    alert = _for_change(db, actor, alert_id, "dismissed")
    before = workflow_snapshot(alert)
    alert.status = "dismissed"
    alert.status_reason = text
    alert.decided_by = actor.user_id
    alert.decided_at = utcnow()
    db.flush()
    audit.record_change(
        db, actor, "dismiss", OBJECT_TYPE, alert.id, before, workflow_snapshot(alert)
    )
    return alert


def _mmsi_text(mmsi: int) -> str | None:
    """The 9-digit form the registry keeps, or None for an MMSI that is not 9 digits."""
    if 0 <= mmsi <= 999_999_999:
        return f"{mmsi:09d}"
    return None


def _vessel_entity(db: Session, actor: Actor, mmsi: int, marking: str) -> int | None:
    """The registry vessel holding this MMSI that the user may see, or a new one."""
    from rasid.registry import service as registry
    from rasid.registry.schemas import EntityIn, IdentifierIn, NameIn

    text = _mmsi_text(mmsi)
    if text is None:
        return None  # not an MMSI the registry can hold; the narrative still names it
    known = db.scalar(select(Vessel).where(Vessel.mmsi == mmsi))
    name = (known.name.strip() if known else "") or f"MMSI {text}"
    flag = known.flag if known and len(known.flag) == 2 and known.flag.isalpha() else ""
    data = EntityIn(
        kind="vessel",
        names=[NameIn(name=name, name_type="as_written")],
        identifiers=[IdentifierIn(kind="mmsi", value=text)],
        flag=flag,
        marking=marking,
        notes=f"Created by Rasid's maritime watch from AIS (MMSI {text}).",
    )
    found = registry.find_by_identifiers(db, actor, data)
    if found is not None:
        return found
    entity, _warnings = registry.create_entity(db, actor, data)
    return entity.id


def _describe(alert: MaritimeAlert) -> tuple[str, str, str]:
    """(title, English narrative, Arabic narrative) of an incident made from ``alert``."""
    label_en, label_ar = TYPE_LABELS.get(alert.type, (alert.type, alert.type))
    vessels = f"MMSI {alert.mmsi}" + (
        f" and MMSI {alert.other_mmsi}" if alert.other_mmsi is not None else ""
    )
    title = f"{label_en}: {vessels}" + (f" ({alert.zone})" if alert.zone else "")
    kind = alert.type + (f"/{alert.subtype}" if alert.subtype else "")
    start, end = iso_z(alert.start), iso_z(alert.end)
    measures = parameters = ""
    if alert.measures and alert.measures != "{}":
        measures = (
            " Measured: " + ", ".join(f"{k} {v}" for k, v in measures_of(alert).items()) + "."
        )
    if alert.parameters and alert.parameters != "{}":
        parameters = (
            " Detector parameters: "
            + ", ".join(f"{k} {v}" for k, v in parameters_of(alert).items())
            + "."
        )
    en = (
        f"Maritime alert {alert.id} ({kind}, severity {alert.severity}) raised by Rasid's AIS "
        f"watch: {vessels}, from {start} to {end}, at {alert.lat:.5f}, {alert.lon:.5f}"
        + (f" in {alert.zone}" if alert.zone else "")
        + f".{measures}{parameters}"
    )
    vessels_ar = f"السفينة ذات رقم MMSI {alert.mmsi}" + (
        f" والسفينة ذات رقم MMSI {alert.other_mmsi}" if alert.other_mmsi is not None else ""
    )
    ar = (
        f"تنبيه بحري رقم {alert.id} ({label_ar}، درجة الخطورة: "
        f"{SEVERITY_AR.get(alert.severity, alert.severity)}) رصدته مراقبة نظام التعريف الآلي "
        f"(AIS) في راصد: {vessels_ar}، من {start} إلى {end} بالتوقيت العالمي، عند الإحداثيات "
        f"{alert.lat:.5f}، {alert.lon:.5f}"
        + (f" في منطقة {alert.zone}" if alert.zone else "")
        + "."
    )
    return title[:300], en, ar


def _roles(alert: MaritimeAlert) -> tuple[str, str]:
    """Involvement roles of (mmsi, other_mmsi): the small craft closing on a merchant ship
    is the suspect and the ship its target; both vessels of an encounter are suspects."""
    if alert.type == "fast_approach":
        return "suspect", "target"
    return "suspect", "suspect"


def escalate(db: Session, actor: Actor, alert_id: int, draft_report: bool = False) -> MaritimeAlert:
    """Turn the alert into a registry incident (and, if asked, an intel draft report).

    All of it — vessel records, incident, report, the alert's new status and the audit
    entries — is written in one savepoint: any failure leaves nothing behind.
    """
    from rasid.intel import service as intel
    from rasid.intel.schemas import ObservableIn, ReportIn, ReportLinkIn
    from rasid.registry import service as registry
    from rasid.registry.schemas import IncidentIn, InvolvementIn

    with savepoint(db):
        alert = _for_change(db, actor, alert_id, "escalated")
        before = workflow_snapshot(alert)
        role, other_role = _roles(alert)
        involvements: list[InvolvementIn] = []
        for mmsi, r in ((alert.mmsi, role), (alert.other_mmsi, other_role)):
            if mmsi is None:
                continue
            entity_id = _vessel_entity(db, actor, mmsi, alert.marking)
            if entity_id is not None:
                involvements.append(InvolvementIn(entity_id=entity_id, role=r))
        title, narrative_en, narrative_ar = _describe(alert)
        local = to_local(alert.start)
        incident, _warnings = registry.create_incident(
            db,
            actor,
            IncidentIn(
                title=title,
                event_date=local.date(),
                event_time=local.strftime("%H:%M"),
                location_name=alert.zone or "",
                lat=alert.lat,
                lon=alert.lon,
                geo_precision=1,
                narrative_en=narrative_en,
                narrative_ar=narrative_ar,
                marking=alert.marking,
                involvements=involvements,
            ),
        )
        alert.incident_id = incident.id
        if draft_report:
            observables = [
                ObservableIn(kind="mmsi", value=text)
                for text in (_mmsi_text(m) for m in (alert.mmsi, alert.other_mmsi) if m is not None)
                if text is not None
            ]
            report = intel.create_report(
                db,
                actor,
                ReportIn(
                    title=title,
                    summary=f"Draft from maritime alert {alert.id}; incident {incident.ref}.",
                    body_en=narrative_en,
                    body_ar=narrative_ar,
                    reliability=DRAFT_RELIABILITY,
                    credibility=DRAFT_CREDIBILITY,
                    marking=alert.marking,
                    links=[ReportLinkIn(object_type="registry_incident", object_id=incident.id)],
                    observables=observables,
                ),
            )
            alert.report_id = report.id
        alert.status = "escalated"
        alert.decided_by = actor.user_id
        alert.decided_at = utcnow()
        db.flush()
        audit.record_change(
            db, actor, "escalate", OBJECT_TYPE, alert.id, before, workflow_snapshot(alert)
        )
    return alert
