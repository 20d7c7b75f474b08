"""The traffic picture: vessels with their latest fix, identity history and tracks.

AIS is broadcast in the clear, but what our receivers heard, put together, is the
community's traffic picture: it is read as **TLP:GREEN** data (organisations of the
community with the ``read`` permission; the observer mission outside it sees nothing),
checked through :func:`rasid.access.service.may_read_marking` on every path. Track reads
of one vessel are audited (who looked at which vessel's movements, and over which period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import GREEN
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.errors import Forbidden, NotFound, ValidationFailed
from rasid.maritime import positions
from rasid.maritime.models import IngestRun, Quarantine, Vessel, VesselIdentity

PICTURE_MARKING = GREEN
MAX_TRACK_DAYS = 31
DEFAULT_TRACK_HOURS = 24
MAX_VESSELS = 5000


def require_picture(actor: Actor) -> None:
    """Refuse whoever may not read the traffic picture (read permission + TLP:GREEN)."""
    if not actor.can("read"):
        raise Forbidden("Your roles do not allow this action (%(permission)s).", permission="read")
    if not access.may_read_marking(actor, PICTURE_MARKING):
        raise Forbidden(
            "The traffic picture is TLP:GREEN: it is shared with the community's organisations "
            "only."
        )


@dataclass(frozen=True)
class BBox:
    """A box in degrees: west, south, east, north."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        parts = text.split(",")
        try:
            west, south, east, north = (float(p) for p in parts)
        except ValueError:
            raise ValidationFailed(
                "bbox must be four numbers: west,south,east,north (degrees).", field="bbox"
            ) from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValidationFailed(
                "bbox must be four numbers: west,south,east,north (degrees).", field="bbox"
            )
        return cls(west, south, east, north)


def list_vessels(
    db: Session,
    actor: Actor,
    *,
    bbox: BBox | None = None,
    since: datetime | None = None,
    limit: int = MAX_VESSELS,
) -> list[Vessel]:
    """Vessels with a known position, most recently heard first."""
    require_picture(actor)
    stmt = select(Vessel).where(Vessel.lat.is_not(None), Vessel.lon.is_not(None))
    if bbox is not None:
        stmt = stmt.where(
            Vessel.lon.between(bbox.west, bbox.east), Vessel.lat.between(bbox.south, bbox.north)
        )
    if since is not None:
        stmt = stmt.where(Vessel.fix_at >= _aware(since, "since"))
    stmt = stmt.order_by(Vessel.fix_at.desc(), Vessel.mmsi).limit(max(1, min(limit, MAX_VESSELS)))
    return list(db.scalars(stmt))


def count_vessels(db: Session, actor: Actor) -> int:
    require_picture(actor)
    return int(db.scalar(select(func.count()).select_from(Vessel)) or 0)


def get_vessel(db: Session, actor: Actor, mmsi: int) -> Vessel:
    require_picture(actor)
    vessel = db.scalar(select(Vessel).where(Vessel.mmsi == mmsi))
    if vessel is None:
        raise NotFound("No vessel with MMSI %(mmsi)s.", mmsi=mmsi)
    return vessel


def identity_history(db: Session, actor: Actor, mmsi: int) -> list[VesselIdentity]:
    """The vessel's identity changes (and first values), oldest first."""
    vessel = get_vessel(db, actor, mmsi)
    return list(
        db.scalars(
            select(VesselIdentity)
            .where(VesselIdentity.vessel_id == vessel.id)
            .order_by(VesselIdentity.observed_at, VesselIdentity.id)
        )
    )


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValidationFailed(
            "%(name)s needs a time zone (e.g. 2026-01-15T00:00:00Z).", field=name, name=name
        )
    return value.astimezone(UTC)


def track_window(start: datetime | None, end: datetime | None, last_fix: datetime | None) -> tuple[datetime, datetime]:  # fmt: skip
    """The period asked for: both ends given, or the 24 h before ``end`` (default: the last
    fix); at most :data:`MAX_TRACK_DAYS` days."""
    stop = _aware(end, "end") if end is not None else (last_fix or datetime.now(UTC))
    begin = (
        _aware(start, "start") if start is not None else stop - timedelta(hours=DEFAULT_TRACK_HOURS)
    )
    if begin > stop:
        raise ValidationFailed("start is after end.", field="start")
    if stop - begin > timedelta(days=MAX_TRACK_DAYS):
        raise ValidationFailed(
            "A track covers at most %(days)s days.", field="end", days=MAX_TRACK_DAYS
        )
    return begin, stop


def track_geojson(
    db: Session,
    actor: Actor,
    data_dir: Path,
    mmsi: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """A vessel's track as a GeoJSON FeatureCollection: one LineString of the whole period
    (when there are two fixes or more) and one Point per fix with its time, SOG and COG."""
    vessel = get_vessel(db, actor, mmsi)
    begin, stop = track_window(start, end, vessel.fix_at)
    rows = positions.track(data_dir, mmsi, begin, stop)
    features: list[dict[str, Any]] = []
    coords = [[round(r["lon"], 6), round(r["lat"], 6)] for r in rows]
    if len(coords) >= 2:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {"mmsi": mmsi, "kind": "track", "fixes": len(coords)},
            }
        )
    for r, xy in zip(rows, coords, strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": xy},
                "properties": {
                    "mmsi": mmsi,
                    "kind": "fix",
                    "time": r["time"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
                    "sog": r["sog"],
                    "cog": r["cog"],
                    "heading": r["heading"],
                    "msg_type": r["msg_type"],
                },
            }
        )
    audit.record(
        db,
        actor,
        "read",
        object_type="maritime_track",
        object_id=mmsi,
        detail={"start": begin.isoformat(), "end": stop.isoformat(), "fixes": len(rows)},
    )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "mmsi": mmsi,
            "name": vessel.name,
            "start": begin.isoformat().replace("+00:00", "Z"),
            "end": stop.isoformat().replace("+00:00", "Z"),
            "marking": PICTURE_MARKING,
        },
    }


# --- feeds and quarantine (the same reader rule: the watch's operational data) ----------------


def list_runs(db: Session, actor: Actor, *, limit: int = 50) -> list[IngestRun]:
    """The latest ingest runs (files and live-feed batches), newest first."""
    require_picture(actor)
    return list(
        db.scalars(
            select(IngestRun)
            .order_by(IngestRun.started_at.desc(), IngestRun.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class FeedStatus:
    """One source's totals over its runs (a live feed's batches, or a file's ingests)."""

    source: str
    runs: int
    received: int
    decoded: int
    quarantined: int
    positions: int
    last_at: datetime | None


def feed_status(db: Session, actor: Actor, *, limit: int = 50) -> list[FeedStatus]:
    require_picture(actor)
    rows = db.execute(
        select(
            IngestRun.source,
            func.count(),
            func.coalesce(func.sum(IngestRun.received), 0),
            func.coalesce(func.sum(IngestRun.decoded), 0),
            func.coalesce(func.sum(IngestRun.quarantined), 0),
            func.coalesce(func.sum(IngestRun.positions), 0),
            func.max(IngestRun.finished_at),
        )
        .group_by(IngestRun.source)
        .order_by(func.max(IngestRun.finished_at).desc())
        .limit(limit)
    ).all()
    return [
        FeedStatus(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), r[6])
        for r in rows
    ]


def quarantine_counts(db: Session, actor: Actor) -> dict[str, int]:
    require_picture(actor)
    rows = db.execute(
        select(Quarantine.reason, func.count())
        .group_by(Quarantine.reason)
        .order_by(Quarantine.reason)
    ).all()
    return {str(reason): int(n) for reason, n in rows}


def list_quarantine(
    db: Session,
    actor: Actor,
    *,
    reason: str | None = None,
    source: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Quarantine], int]:
    """Quarantined lines (newest first) and how many match."""
    require_picture(actor)
    where = []
    if reason:
        where.append(Quarantine.reason == reason)
    if source:
        where.append(Quarantine.source == source)
    total = int(db.scalar(select(func.count()).select_from(Quarantine).where(*where)) or 0)
    rows = db.scalars(
        select(Quarantine)
        .where(*where)
        .order_by(Quarantine.id.desc())
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    )
    return list(rows), total


# --- how the map shows a vessel -----------------------------------------------------------------

CATEGORIES = (
    "cargo",
    "tanker",
    "passenger",
    "fishing",
    "high_speed",
    "service",
    "military",
    "leisure",
    "small_craft",
    "unknown",
)
STALE_AFTER = timedelta(minutes=30)


def category(vessel: Vessel) -> str:
    """The map's vessel category from the AIS ship type (ITU-R M.1371 Table 53)."""
    t = vessel.ship_type or 0
    if 70 <= t <= 79:
        return "cargo"
    if 80 <= t <= 89:
        return "tanker"
    if 60 <= t <= 69:
        return "passenger"
    if t == 30:
        return "fishing"
    if 40 <= t <= 49:
        return "high_speed"
    if t in (31, 32, 33, 34, 50, 51, 52, 53, 54, 55, 58, 59):
        return "service"
    if t == 35:
        return "military"
    if t in (36, 37):
        return "leisure"
    if vessel.ais_class == "B":
        return "small_craft"
    return "unknown"


def state(vessel: Vessel, newest: datetime | None) -> str:
    """``underway``, ``stopped`` (< 0.5 kn) or ``stale`` (silent 30 min before the newest fix
    of the picture: the picture's own clock, so a replayed day reads as it was)."""
    if vessel.fix_at is None or (newest is not None and newest - vessel.fix_at > STALE_AFTER):
        return "stale"
    if vessel.sog is not None and vessel.sog < 0.5:
        return "stopped"
    return "underway"
