"""Zones users add (a GeoJSON file, or a polygon drawn on the map) beside the shipped ones.

The GeoJSON is checked whole before anything is stored (errors name the feature index and
field, see :func:`rasid.maritime.zones.zone_from_feature`); an id that repeats, or that a
shipped or stored zone already has, refuses the whole file. The detectors of every later
ingest and live-feed batch use :func:`zones_for` (shipped + users' zones). Reads follow
the traffic picture's rule; adding and removing need ``write``, and only the organisation
that added a zone removes it. Audited.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.errors import Forbidden, NotFound, ValidationFailed
from rasid.maritime import vessels
from rasid.maritime.models import MaritimeZone
from rasid.maritime.zones import Zone, Zones, zone_from_feature


def _require_write(actor: Actor) -> None:
    if not actor.can("write"):
        raise Forbidden("Your roles do not allow this action (%(permission)s).", permission="write")
    if actor.org_id is None:
        raise ValidationFailed(
            "Zones must belong to an organisation: use --as USERNAME.", field="owner_org"
        )


def stored_zones(db: Session) -> list[Zone]:
    """Every user zone, for the detectors (no reader: the pipeline's own configuration)."""
    return [
        zone_from_feature(json.loads(row.feature), i)
        for i, row in enumerate(db.scalars(select(MaritimeZone).order_by(MaritimeZone.id)))
    ]


def zones_for(db: Session) -> Zones:
    """The shipped zones and land mask, plus the users' zones."""
    extra = stored_zones(db)
    base = Zones.load_default()
    return base.with_zones(extra) if extra else base


def list_zones(db: Session, actor: Actor) -> list[MaritimeZone]:
    vessels.require_picture(actor)
    return list(db.scalars(select(MaritimeZone).order_by(MaritimeZone.zone_id)))


def import_geojson(db: Session, actor: Actor, obj: Any) -> list[MaritimeZone]:
    """Add every zone of a GeoJSON FeatureCollection (or Feature): all or none."""
    _require_write(actor)
    parsed = Zones.from_geojson(obj)  # checks every feature and repeated ids
    features = [obj] if obj.get("type") == "Feature" else list(obj["features"])
    taken = {z.id for z in Zones.load_default().zones} | set(
        db.scalars(select(MaritimeZone.zone_id))
    )
    rows: list[MaritimeZone] = []
    for i, (zone, feature) in enumerate(zip(parsed.zones, features, strict=True)):
        if zone.id in taken:
            raise ValidationFailed(
                "Zone GeoJSON, feature %(index)s, %(where)s: %(problem)s",
                field=f"features.{i}.properties.id",
                index=i,
                where="properties.id",
                problem=f"a zone {zone.id!r} exists already",
            )
        if len(zone.id) > 60:
            raise ValidationFailed(
                "Zone GeoJSON, feature %(index)s, %(where)s: %(problem)s",
                field=f"features.{i}.properties.id",
                index=i,
                where="properties.id",
                problem="at most 60 characters",
            )
        rows.append(
            MaritimeZone(
                zone_id=zone.id,
                name_en=zone.name_en[:200],
                name_ar=zone.name_ar[:200],
                kind=zone.kind,
                watched=zone.watched,
                feature=json.dumps(feature, ensure_ascii=False),
                owner_org_id=actor.org_id,
                created_by=actor.user_id,
            )
        )
    db.add_all(rows)
    db.flush()
    for row in rows:
        audit.record_change(
            db,
            actor,
            "create",
            "maritime_zone",
            row.id,
            None,
            {
                "zone_id": row.zone_id,
                "name_en": row.name_en,
                "kind": row.kind,
                "watched": row.watched,
            },
        )
    return rows


def drawn_feature(zone_id: str, name_en: str, name_ar: str, ring: Any) -> dict[str, Any]:
    """A Feature from a polygon drawn on the map (``ring``: [[lon, lat], …], closed or not)."""
    if not isinstance(ring, list) or len(ring) < 3:
        raise ValidationFailed("Draw at least three points on the map.", field="geometry")
    points = [list(p) for p in ring]
    if points[0] != points[-1]:
        points.append(points[0])
    return {
        "type": "Feature",
        "properties": {
            "id": zone_id.strip().lower(),
            "name_en": name_en.strip(),
            "name_ar": name_ar.strip() or name_en.strip(),
            "kind": "user",
            "watched": True,
        },
        "geometry": {"type": "Polygon", "coordinates": [points]},
    }


def delete_zone(db: Session, actor: Actor, zone_id: str) -> None:
    _require_write(actor)
    row = db.scalar(select(MaritimeZone).where(MaritimeZone.zone_id == zone_id))
    if row is None:
        raise NotFound("No %(type)s with id %(id)s.", type="maritime_zone", id=zone_id)
    if row.owner_org_id != actor.org_id:
        raise Forbidden("Only the organisation that added a zone may remove it.")
    before = {"zone_id": row.zone_id, "name_en": row.name_en, "kind": row.kind}
    db.delete(row)
    db.flush()
    audit.record_change(db, actor, "delete", "maritime_zone", row.id, before, None)
