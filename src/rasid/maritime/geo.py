"""Small-scale navigation geometry (pure functions, degrees, nautical miles, knots).

Distances over a few hundred miles use the local flat-earth (equirectangular)
approximation the simulator and the detectors share: latitude degrees are 60 nm,
longitude degrees 60 nm × cos(mid-latitude). Its error is below 0.5 % for the
distances the detectors compare (metres to tens of miles) at these latitudes.
:func:`haversine_km` is the great-circle distance for longer legs.
"""

from __future__ import annotations

import math

NM_PER_DEG = 60.0
KM_PER_NM = 1.852
EARTH_RADIUS_KM = 6371.0088

Point = tuple[float, float]  # (lat, lon)


def dist_nm(a: Point, b: Point) -> float:
    """Distance a→b in nautical miles (equirectangular)."""
    mid = math.radians((a[0] + b[0]) / 2)
    dy = (b[0] - a[0]) * NM_PER_DEG
    dx = (b[1] - a[1]) * NM_PER_DEG * math.cos(mid)
    return math.hypot(dx, dy)


def dist_nm_ll(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """:func:`dist_nm` without tuples (for hot loops)."""
    dy = (lat2 - lat1) * NM_PER_DEG
    dx = (lon2 - lon1) * NM_PER_DEG * math.cos(math.radians((lat1 + lat2) * 0.5))
    return math.hypot(dx, dy)


def course(a: Point, b: Point) -> float:
    """Initial course a→b in degrees true (0–360)."""
    mid = math.radians((a[0] + b[0]) / 2)
    dy = b[0] - a[0]
    dx = (b[1] - a[1]) * math.cos(mid)
    return (math.degrees(math.atan2(dx, dy)) + 360.0) % 360.0


def offset(p: Point, bearing: float, nm: float) -> Point:
    """The point ``nm`` nautical miles from ``p`` on ``bearing`` (degrees true)."""
    rad = math.radians(bearing)
    lat = p[0] + nm * math.cos(rad) / NM_PER_DEG
    lon = p[1] + nm * math.sin(rad) / (NM_PER_DEG * math.cos(math.radians(p[0])))
    return lat, lon


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres."""
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def velocity(sog: float, cog: float) -> tuple[float, float]:
    """(east, north) components in knots of a speed over ground on a course."""
    rad = math.radians(cog)
    return sog * math.sin(rad), sog * math.cos(rad)


def cpa(
    a: Point, va: tuple[float, float], b: Point, vb: tuple[float, float]
) -> tuple[float, float, float]:
    """Closest point of approach of b relative to a, both on constant velocity.

    ``va``/``vb`` are (east, north) knots. Returns (CPA nm, TCPA hours, relative speed
    knots); TCPA is negative when the two are already opening, and 0 with CPA the
    present range when they keep station.
    """
    lat = (a[0] + b[0]) * 0.5
    rx = (b[1] - a[1]) * NM_PER_DEG * math.cos(math.radians(lat))
    ry = (b[0] - a[0]) * NM_PER_DEG
    vx, vy = vb[0] - va[0], vb[1] - va[1]
    v2 = vx * vx + vy * vy
    if v2 < 1e-9:
        return math.hypot(rx, ry), 0.0, 0.0
    t = -(rx * vx + ry * vy) / v2
    cx, cy = rx + vx * t, ry + vy * t
    return math.hypot(cx, cy), t, math.sqrt(v2)
