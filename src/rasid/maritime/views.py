"""Maritime pages: the live map, the alert queue, one alert with its evidence on a map, a
vessel's page, feeds and the quarantine browser.

Every read and change goes through :mod:`rasid.maritime.vessels` and
:mod:`rasid.maritime.alerts`, so the access rules and the audit trail are the API's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from rasid.core import i18n
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.maritime import advisories, alerts, live, nmea, userzones, vessels
from rasid.maritime.events import ALERT_TYPES
from rasid.maritime.models import ALERT_STATUSES, MaritimeAlert, Vessel
from rasid.web.deps import DB, PageActor, _audit_refusal
from rasid.web.templating import environment, labeller, render

router = APIRouter(include_in_schema=False)

TYPE_LABELS = {
    "ais_gap": i18n.N_("AIS gap"),
    "encounter": i18n.N_("Encounter at sea"),
    "loitering": i18n.N_("Loitering"),
    "spoofing": i18n.N_("Position spoofing"),
    "identity": i18n.N_("Identity anomaly"),
    "zone_entry": i18n.N_("Zone entry"),
    "fast_approach": i18n.N_("Fast approach"),
}
STATUS_LABELS = {
    "new": i18n.N_("New"),
    "acknowledged": i18n.N_("Acknowledged"),
    "escalated": i18n.N_("Escalated"),
    "dismissed": i18n.N_("Dismissed"),
}
SEVERITY_LABELS = {
    "low": i18n.N_("Low"),
    "medium": i18n.N_("Medium"),
    "high": i18n.N_("High"),
    "critical": i18n.N_("Critical"),
}
CATEGORY_LABELS = {
    "cargo": i18n.N_("Cargo"),
    "tanker": i18n.N_("Tanker"),
    "passenger": i18n.N_("Passenger"),
    "fishing": i18n.N_("Fishing"),
    "high_speed": i18n.N_("High-speed craft"),
    "service": i18n.N_("Tug, pilot, SAR, law enforcement"),
    "military": i18n.N_("Military"),
    "leisure": i18n.N_("Sailing and pleasure"),
    "small_craft": i18n.N_("Small craft (class B)"),
    "unknown": i18n.N_("Unidentified"),
}
VESSEL_STATE_LABELS = {
    "underway": i18n.N_("Under way"),
    "stopped": i18n.N_("Stopped"),
    "stale": i18n.N_("Not heard for 30 min"),
}
FIELD_LABELS = {
    "name": i18n.N_("Name"),
    "call_sign": i18n.N_("Call sign"),
    "flag": i18n.N_("Flag"),
    "imo": i18n.N_("IMO"),
    "ship_type": i18n.N_("Ship type"),
}
QUEUE_LIMIT = 500


_env = environment()
_env.globals["alert_type_label"] = labeller(TYPE_LABELS)
_env.globals["alert_status_label"] = labeller(STATUS_LABELS)
_env.globals["severity_label"] = labeller(SEVERITY_LABELS)
_env.globals["vessel_category_label"] = labeller(CATEGORY_LABELS)
_env.globals["vessel_state_label"] = labeller(VESSEL_STATE_LABELS)
_env.globals["identity_field_label"] = labeller(FIELD_LABELS)
_env.globals["advisory_status_label"] = labeller(
    {"draft": i18n.N_("Draft"), "issued": i18n.N_("Issued")}
)
_env.globals["feed_status_label"] = labeller(
    {"running": i18n.N_("Running"), "stopped": i18n.N_("Stopped")}
)


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _vessel_feature(v: Vessel, newest: datetime | None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [v.lon, v.lat]},
        "properties": {
            "kind": "vessel",
            "mmsi": v.mmsi,
            "title": v.name or str(v.mmsi),
            "category": vessels.category(v),
            "category_label": i18n.gettext(CATEGORY_LABELS[vessels.category(v)]),
            "state": vessels.state(v, newest),
            "sog": v.sog,
            "cog": v.cog,
            "flag": v.flag,
            "date": _iso(v.fix_at),
            "marking": vessels.PICTURE_MARKING,
            "url": f"/maritime/vessels/{v.mmsi}",
            "track_url": f"/api/v1/maritime/vessels/{v.mmsi}/track",
        },
    }


def _alert_feature(a: MaritimeAlert) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [a.lon, a.lat]},
        "properties": {
            "kind": "alert",
            "id": a.id,
            "title": i18n.gettext(TYPE_LABELS.get(a.type, a.type)),
            "type": a.type,
            "severity": a.severity,
            "status": a.status,
            "mmsi": a.mmsi,
            "date": _iso(a.start),
            "marking": a.marking,
            "url": f"/maritime/alerts/{a.id}",
        },
    }


# --- the live map ---------------------------------------------------------------------------


@router.get("/maritime")
def maritime_home() -> RedirectResponse:
    return _redirect("/maritime/map")


@router.get("/maritime/map")
def live_map_page(request: Request, db: DB, actor: PageActor) -> Response:
    vessels.require_picture(actor)
    open_alerts = alerts.list_alerts(db, actor, status="new", limit=20)
    return render(
        request,
        "maritime/map.html",
        {
            "vessel_count": vessels.count_vessels(db, actor),
            "open_alerts": open_alerts,
            "new_count": alerts.count_alerts(db, actor, status="new"),
            "categories": vessels.CATEGORIES,
        },
    )


@router.get("/maritime/picture.geojson")
def picture_geojson(db: DB, actor: PageActor) -> JSONResponse:
    """The live map's data: vessels (latest fix) and the alerts still open."""
    rows = vessels.list_vessels(db, actor)
    newest = max((v.fix_at for v in rows if v.fix_at is not None), default=None)
    features = [_vessel_feature(v, newest) for v in rows]
    features += [
        _alert_feature(a)
        for status in ("new", "acknowledged")
        for a in alerts.list_alerts(db, actor, status=status, limit=200)
    ]
    return JSONResponse(
        {"type": "FeatureCollection", "features": features, "properties": {"newest": _iso(newest)}},
        media_type="application/geo+json",
    )


@router.get("/maritime/zones.geojson")
def zones_geojson(db: DB, actor: PageActor) -> JSONResponse:
    vessels.require_picture(actor)
    return JSONResponse(userzones.zones_for(db).as_geojson(), media_type="application/geo+json")


# --- alerts -----------------------------------------------------------------------------------


@router.get("/maritime/alerts")
def alert_queue_page(
    request: Request, db: DB, actor: PageActor, type: str = "", status: str = ""
) -> Response:
    filters = {
        "type": type if type in ALERT_TYPES else "",
        "status": status if status in ALERT_STATUSES else "",
    }
    rows = alerts.list_alerts(
        db, actor, type=filters["type"] or None, status=filters["status"] or None, limit=QUEUE_LIMIT
    )
    total = alerts.count_alerts(
        db, actor, type=filters["type"] or None, status=filters["status"] or None
    )
    return render(
        request,
        "maritime/alerts.html",
        {
            "alerts": rows,
            "total": total,
            "filters": filters,
            "types": ALERT_TYPES,
            "statuses": ALERT_STATUSES,
        },
    )


def _alert_context(db: DB, actor: Any, alert: MaritimeAlert) -> dict[str, Any]:
    evidence = alerts.evidence_of(alert)
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [f["lon"], f["lat"]]},
            "properties": {
                "kind": "fix",
                "mmsi": f["mmsi"],
                "title": str(f["mmsi"]),
                "date": datetime.fromtimestamp(float(f["time"]), UTC).isoformat(),
                "sog": f.get("sog"),
                "cog": f.get("cog"),
                "marking": alert.marking,
            },
        }
        for f in evidence
    ]
    features.append(_alert_feature(alert))
    return {
        "alert": alert,
        "parameters": alerts.parameters_of(alert),
        "measures": alerts.measures_of(alert),
        "evidence": evidence,
        "evidence_json": json.dumps({"type": "FeatureCollection", "features": features}),
        "can_write": actor.can("write") and actor.org_id == alert.owner_org_id,
    }


@router.get("/maritime/alerts/{alert_id}")
def alert_page(request: Request, alert_id: int, db: DB, actor: PageActor) -> Response:
    alert = alerts.get_alert(db, actor, alert_id)
    return render(request, "maritime/alert.html", _alert_context(db, actor, alert))


@router.post("/maritime/alerts/{alert_id}/{action}")
async def alert_action(
    request: Request, alert_id: int, action: str, db: DB, actor: PageActor
) -> Response:
    form = await request.form()
    try:
        if action == "acknowledge":
            alerts.acknowledge(db, actor, alert_id)
        elif action == "dismiss":
            alerts.dismiss(db, actor, alert_id, str(form.get("reason") or ""))
        elif action == "escalate":
            alerts.escalate(db, actor, alert_id, draft_report=form.get("draft_report") == "1")
        else:
            raise NotFound("No such page.")
    except (ValidationFailed, Conflict, Forbidden) as exc:
        db.rollback()
        if exc.audit:
            _audit_refusal(request, request.app.state.session_factory, exc)
        alert = alerts.get_alert(db, actor, alert_id)
        ctx = _alert_context(db, actor, alert)
        ctx.update({"error_exc": exc, "error_field": exc.field, "reason": form.get("reason", "")})
        status = 409 if isinstance(exc, Conflict) else 403 if isinstance(exc, Forbidden) else 422
        return render(request, "maritime/alert.html", ctx, status_code=status)
    return _redirect(f"/maritime/alerts/{alert_id}")


# --- vessels ----------------------------------------------------------------------------------


@router.get("/maritime/vessels/{mmsi}")
def vessel_page(request: Request, mmsi: int, db: DB, actor: PageActor) -> Response:
    vessel = vessels.get_vessel(db, actor, mmsi)
    return render(
        request,
        "maritime/vessel.html",
        {
            "vessel": vessel,
            "category": vessels.category(vessel),
            "history": vessels.identity_history(db, actor, mmsi),
            "alerts": alerts.list_alerts(db, actor, mmsi=mmsi, limit=100),
        },
    )


# --- feeds and quarantine ---------------------------------------------------------------------


@router.get("/maritime/quarantine")
def quarantine_page(
    request: Request, db: DB, actor: PageActor, reason: str = "", page: int = 1
) -> Response:
    chosen = reason if reason in nmea.REASONS else ""
    per_page = 100
    page = max(1, page)
    rows, total = vessels.list_quarantine(
        db, actor, reason=chosen or None, limit=per_page, offset=(page - 1) * per_page
    )
    return render(
        request,
        "maritime/quarantine.html",
        {
            "rows": rows,
            "total": total,
            "reason": chosen,
            "reasons": nmea.REASONS,
            "counts": vessels.quarantine_counts(db, actor),
            "feeds": vessels.feed_status(db, actor),
            "configured": live.list_feeds(db, actor),
            "page": page,
            "pages": max(1, (total + per_page - 1) // per_page),
        },
    )


# --- navigation security advisories -----------------------------------------------------------


@router.get("/maritime/advisories")
def advisories_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(
        request,
        "maritime/advisories.html",
        {
            "advisories": advisories.list_advisories(db, actor),
            "can_write": actor.can("write"),
        },
    )


@router.post("/maritime/advisories")
async def advisory_draft(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    raw = str(form.get("incident_id") or "").strip().lstrip("#")
    try:
        if not raw.isdigit():
            raise ValidationFailed(
                "%(value)s is not a whole number.", field="incident_id", value=raw
            )
        advisory = advisories.draft_from_incident(db, actor, int(raw))
    except (ValidationFailed, Forbidden, NotFound) as exc:
        db.rollback()
        return render(
            request,
            "maritime/advisories.html",
            {
                "advisories": advisories.list_advisories(db, actor),
                "can_write": actor.can("write"),
                "error_exc": exc,
                "error_field": "incident_id",
                "incident_id": raw,
            },
            status_code=404 if isinstance(exc, NotFound) else 422,
        )
    return _redirect(f"/maritime/advisories/{advisory.id}")


def _advisory_context(db: DB, actor: Any, advisory: Any) -> dict[str, Any]:
    return {
        "advisory": advisory,
        "position": advisories.position_of(advisory),
        "text_ar": advisories.as_text(advisory, "ar"),
        "text_en": advisories.as_text(advisory, "en"),
        "can_write": actor.can("write")
        and actor.org_id == advisory.owner_org_id
        and advisory.status == "draft",
        "markings": advisories.ADVISORY_MARKINGS,
    }


@router.get("/maritime/advisories/{advisory_id}")
def advisory_page(request: Request, advisory_id: int, db: DB, actor: PageActor) -> Response:
    advisory = advisories.get_advisory(db, actor, advisory_id)
    return render(request, "maritime/advisory.html", _advisory_context(db, actor, advisory))


@router.post("/maritime/advisories/{advisory_id}/{action}")
async def advisory_action(
    request: Request, advisory_id: int, action: str, db: DB, actor: PageActor
) -> Response:
    form = await request.form()
    try:
        if action == "edit":
            advisories.update(
                db,
                actor,
                advisory_id,
                {k: str(form.get(k) or "") for k in advisories.TEXT_FIELDS if k in form},
            )
        elif action == "issue":
            advisories.issue(db, actor, advisory_id, str(form.get("marking") or "TLP:CLEAR"))
        else:
            raise NotFound("No such page.")
    except (ValidationFailed, Conflict, Forbidden) as exc:
        db.rollback()
        advisory = advisories.get_advisory(db, actor, advisory_id)
        ctx = _advisory_context(db, actor, advisory)
        ctx.update({"error_exc": exc, "error_field": exc.field})
        status = 409 if isinstance(exc, Conflict) else 403 if isinstance(exc, Forbidden) else 422
        return render(request, "maritime/advisory.html", ctx, status_code=status)
    return _redirect(f"/maritime/advisories/{advisory_id}")


@router.get("/maritime/advisories/{advisory_id}/export")
def advisory_export(
    request: Request,
    advisory_id: int,
    db: DB,
    actor: PageActor,
    format: str = "txt",
    lang: str = "en",
) -> Response:
    advisory = advisories.get_advisory(db, actor, advisory_id)
    language = "ar" if lang == "ar" else "en"
    name = f"{advisory.ref}-{language}"
    audit_detail = {"format": format, "lang": language}
    from rasid.audit import service as audit

    audit.record(
        db,
        actor,
        "export",
        object_type="maritime_advisory",
        object_id=advisory.id,
        detail=audit_detail,
    )
    if format == "pdf":
        pdf = advisories.as_pdf(advisory, language)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return Response(
        advisories.as_text(advisory, language),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.txt"'},
    )


# --- users' zones -----------------------------------------------------------------------------


@router.get("/maritime/zones")
def zones_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(
        request,
        "maritime/zones.html",
        {"zones": userzones.list_zones(db, actor), "can_write": actor.can("write"), "form": {}},
    )


@router.post("/maritime/zones")
async def zones_add(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("zone_id", "name_en", "name_ar", "drawn")}
    upload = form.get("file")
    try:
        if isinstance(upload, StarletteUpload) and upload.filename:
            raw = await upload.read()
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValidationFailed(
                    "%(file)s is not a GeoJSON file (%(reason)s).",
                    field="file",
                    file=upload.filename,
                    reason=str(exc)[:120],
                ) from exc
        else:
            try:
                ring = json.loads(values["drawn"] or "[]")
            except json.JSONDecodeError:
                ring = []
            obj = userzones.drawn_feature(
                values["zone_id"], values["name_en"], values["name_ar"], ring
            )
        userzones.import_geojson(db, actor, obj)
    except (ValidationFailed, Forbidden) as exc:
        db.rollback()
        return render(
            request,
            "maritime/zones.html",
            {
                "zones": userzones.list_zones(db, actor),
                "can_write": actor.can("write"),
                "form": values,
                "error_exc": exc,
                "error_field": exc.field,
            },
            status_code=403 if isinstance(exc, Forbidden) else 422,
        )
    return _redirect("/maritime/zones")


@router.post("/maritime/zones/{zone_id}/delete")
def zones_delete(request: Request, zone_id: str, db: DB, actor: PageActor) -> Response:
    userzones.delete_zone(db, actor, zone_id)
    return _redirect("/maritime/zones")
