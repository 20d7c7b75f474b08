"""Maritime zones (war-risk area, traffic separation scheme, transit corridor, territorial
sea, ports and anchorages, users' zones) and the land mask, for the detectors.

Pure Python, no database. Zones come from GeoJSON (``data/zones.geojson`` ships the
defaults; ``data/SOURCES.md`` says where each comes from and which are approximate).
Point-in-polygon is a crossing-number test behind a 0.05° grid: each grid cell is found
once to lie wholly inside, wholly outside or across a zone's edge, and only points in
cells an edge crosses are tested, against that cell's edges alone (parity of the edges
crossed on the way to a cell corner whose side is known). A fix in open water therefore
costs one dictionary look-up.

:meth:`Zones.on_land` answers from Natural Earth's 1:10m land (``data/land.geojson``,
lat 5–25 N, lon 30–60 E): a point is on land when it lies inside a land polygon *and*
more than :data:`COAST_TOLERANCE_KM` from its coastline, so harbour berths, anchorages
and the generalised coast of a small-scale map do not read as land.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasid.core.errors import ValidationFailed

DATA_DIR = Path(__file__).resolve().parent / "data"
ZONE_KINDS = ("war_risk", "tss", "corridor", "territorial_sea", "port", "anchorage", "user")
PORT_KINDS = frozenset({"port", "anchorage"})
CELL_DEG = 0.05
_CELLS_PER_DEG = 20  # 1 / CELL_DEG
COAST_TOLERANCE_KM = 1.0
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON_EQ = 111.32

Ring = tuple[tuple[float, float], ...]  # (lon, lat) positions, closed
Edge = tuple[float, float, float, float]  # lon1, lat1, lon2, lat2

OUTSIDE, INSIDE, MIXED = 0, 1, 2


def cell_of(lat: float, lon: float) -> int:
    """The 0.05° grid cell of a position (an int key)."""
    return int((lat + 90.0) * _CELLS_PER_DEG) * 100_000 + int((lon + 180.0) * _CELLS_PER_DEG)


def _cell_origin(cell: int) -> tuple[float, float]:
    """(lon0, lat0): the south-west corner of a cell."""
    ky, kx = divmod(cell, 100_000)
    return kx / _CELLS_PER_DEG - 180.0, ky / _CELLS_PER_DEG - 90.0


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    kx = KM_PER_DEG_LON_EQ * math.cos(math.radians((lat1 + lat2) * 0.5))
    return math.hypot((lon2 - lon1) * kx, (lat2 - lat1) * KM_PER_DEG_LAT)


def _crosses(ax: float, ay: float, bx: float, by: float, e: Edge) -> bool:
    """Whether segment a–b properly crosses edge e (half-open at e's end points)."""
    cx, cy, dx, dy = e
    d1 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
    d2 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
    if (d1 > 0) == (d2 > 0):
        return False
    d3 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    d4 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
    return (d3 > 0) != (d4 > 0)


class PolygonIndex:
    """Fast point-in-polygon for a set of polygons (rings of (lon, lat); holes by parity).

    ``margin_deg`` widens each edge's footprint in the grid, so that every edge within
    that distance of a cell is listed with the cell (used for distances to the coast).
    """

    def __init__(self, rings: list[Ring], margin_deg: float = 0.0) -> None:
        self.rings = rings
        self.margin = margin_deg
        self.edges: list[Edge] = []
        self._ring_boxes: list[tuple[float, float, list[Edge]]] = []  # lat0, lat1, edges
        for ring in rings:
            edges = [
                (ring[i][0], ring[i][1], ring[i + 1][0], ring[i + 1][1])
                for i in range(len(ring) - 1)
            ]
            self.edges.extend(edges)
            lats = [p[1] for p in ring]
            self._ring_boxes.append((min(lats), max(lats), edges))
        lons = [p[0] for r in rings for p in r] or [0.0]
        lats = [p[1] for r in rings for p in r] or [0.0]
        self.bbox = (min(lons), min(lats), max(lons), max(lats))
        self._buckets: dict[int, list[Edge]] | None = None
        self._status: dict[int, int] = {}
        self._corner: dict[tuple[int, int], bool] = {}

    def _build(self) -> dict[int, list[Edge]]:
        buckets: dict[int, list[Edge]] = {}
        m = self.margin
        for e in self.edges:
            x0, x1 = min(e[0], e[2]) - m, max(e[0], e[2]) + m
            y0, y1 = min(e[1], e[3]) - m, max(e[1], e[3]) + m
            kx0, kx1 = int((x0 + 180.0) * _CELLS_PER_DEG), int((x1 + 180.0) * _CELLS_PER_DEG)
            ky0, ky1 = int((y0 + 90.0) * _CELLS_PER_DEG), int((y1 + 90.0) * _CELLS_PER_DEG)
            for ky in range(ky0, ky1 + 1):
                for kx in range(kx0, kx1 + 1):
                    buckets.setdefault(ky * 100_000 + kx, []).append(e)
        self._buckets = buckets
        return buckets

    def cell_edges(self, cell: int) -> list[Edge]:
        buckets = self._buckets if self._buckets is not None else self._build()
        return buckets.get(cell, [])

    def ray_contains(self, lon: float, lat: float) -> bool:
        """Crossing-number test against every edge (the slow, exact path)."""
        inside = False
        for y0, y1, edges in self._ring_boxes:
            if lat < y0 or lat > y1:
                continue
            for x1, y1_, x2, y2 in edges:
                if (y1_ > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1_) / (y2 - y1_) + x1:
                    inside = not inside
        return inside

    def cell_status(self, cell: int) -> int:
        st = self._status.get(cell)
        if st is None:
            if self.cell_edges(cell):
                st = MIXED
            else:
                lon0, lat0 = _cell_origin(cell)
                st = (
                    INSIDE
                    if self.ray_contains(lon0 + CELL_DEG / 2, lat0 + CELL_DEG / 2)
                    else OUTSIDE
                )
            self._status[cell] = st
        return st

    def _corner_inside(self, cell: int) -> bool:
        ky, kx = divmod(cell, 100_000)
        key = (ky, kx)
        v = self._corner.get(key)
        if v is None:
            lon0, lat0 = _cell_origin(cell)
            v = self._corner[key] = self.ray_contains(lon0, lat0)
        return v

    def contains(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if lon < x0 or lon > x1 or lat < y0 or lat > y1:
            return False
        cell = cell_of(lat, lon)
        st = self.cell_status(cell)
        if st != MIXED:
            return st == INSIDE
        return self._local(cell, lon, lat)

    def _local(self, cell: int, lon: float, lat: float) -> bool:
        """Side of a point in a cell that edges cross: parity of the edges crossed on the
        segment to the cell's south-west corner, whose side is known."""
        lon0, lat0 = _cell_origin(cell)
        inside = self._corner_inside(cell)
        for e in self.cell_edges(cell):
            if _crosses(lon, lat, lon0, lat0, e):
                inside = not inside
        return inside

    def near_edge_km(self, lon: float, lat: float, km: float) -> bool:
        """Whether an edge lies within ``km`` (only edges listed with the point's cell, so
        ``km`` must not exceed the index's margin)."""
        kx = KM_PER_DEG_LON_EQ * math.cos(math.radians(lat))
        ky = KM_PER_DEG_LAT
        lim2 = km * km
        for x1, y1, x2, y2 in self.cell_edges(cell_of(lat, lon)):
            ax, ay = (x1 - lon) * kx, (y1 - lat) * ky
            bx, by = (x2 - lon) * kx, (y2 - lat) * ky
            dx, dy = bx - ax, by - ay
            d2 = dx * dx + dy * dy
            t = 0.0 if d2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / d2))
            px, py = ax + t * dx, ay + t * dy
            if px * px + py * py <= lim2:
                return True
        return False


@dataclass(frozen=True)
class Zone:
    """One zone: a polygon (or multipolygon), or a point with a radius (ports)."""

    id: str
    name_en: str
    name_ar: str
    kind: str
    watched: bool
    approximate: bool
    source: str
    rings: tuple[Ring, ...] = ()
    center: tuple[float, float] | None = None  # (lat, lon) of a point zone
    radius_km: float = 0.0

    @property
    def is_point(self) -> bool:
        return self.center is not None

    def distance_km(self, lat: float, lon: float) -> float:
        """Distance from a point zone's edge (0 inside it); inf for polygons."""
        if self.center is None:
            return math.inf
        return max(0.0, _km(lat, lon, self.center[0], self.center[1]) - self.radius_km)

    def as_feature(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "id": self.id,
            "name_en": self.name_en,
            "name_ar": self.name_ar,
            "kind": self.kind,
            "watched": self.watched,
            "approximate": self.approximate,
            "source": self.source,
        }
        if self.center is not None:
            props["radius_km"] = self.radius_km
            geometry: dict[str, Any] = {
                "type": "Point",
                "coordinates": [self.center[1], self.center[0]],
            }
        else:
            geometry = {
                "type": "MultiPolygon",
                "coordinates": [[[list(p) for p in ring]] for ring in self.rings],
            }
        return {"type": "Feature", "properties": props, "geometry": geometry}


# --- GeoJSON reading --------------------------------------------------------------------------


def _fail(index: int, where: str, problem: str) -> ValidationFailed:
    return ValidationFailed(
        "Zone GeoJSON, feature %(index)s, %(where)s: %(problem)s",
        field=f"features[{index}].{where}",
        index=index,
        where=where,
        problem=problem,
    )


def _position(value: Any, index: int, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    ):
        raise _fail(index, where, "a position must be [longitude, latitude] numbers")
    lon, lat = float(value[0]), float(value[1])
    if not -180.0 <= lon <= 180.0 or not -90.0 <= lat <= 90.0:
        raise _fail(index, where, f"position {lon}, {lat} is outside longitude ±180, latitude ±90")
    return lon, lat


def _ring(value: Any, index: int, where: str) -> Ring:
    if not isinstance(value, list) or len(value) < 4:
        raise _fail(index, where, "a linear ring needs at least 4 positions")
    ring = tuple(_position(p, index, f"{where}[{k}]") for k, p in enumerate(value))
    if ring[0] != ring[-1]:
        raise _fail(index, where, "a linear ring must end at its first position")
    return ring


def _rings(geometry: Any, index: int) -> tuple[Ring, ...]:
    gtype = geometry.get("type")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise _fail(index, "geometry.coordinates", "missing or empty")
    polygons = [coords] if gtype == "Polygon" else coords
    rings: list[Ring] = []
    for p, polygon in enumerate(polygons):
        base = "geometry.coordinates" + (f"[{p}]" if gtype == "MultiPolygon" else "")
        if not isinstance(polygon, list) or not polygon:
            raise _fail(index, base, "a polygon must be a list of linear rings")
        for r, ring in enumerate(polygon):
            rings.append(_ring(ring, index, f"{base}[{r}]"))
    return tuple(rings)


def _text(props: dict[str, Any], key: str, index: int, required: bool, default: str = "") -> str:
    value = props.get(key)
    if value is None or value == "":
        if required:
            raise _fail(index, f"properties.{key}", "required")
        return default
    if not isinstance(value, str):
        raise _fail(index, f"properties.{key}", "must be a string")
    return value.strip()


def _flag(props: dict[str, Any], key: str, index: int, default: bool) -> bool:
    value = props.get(key, default)
    if not isinstance(value, bool):
        raise _fail(index, f"properties.{key}", "must be true or false")
    return value


def zone_from_feature(feature: Any, index: int) -> Zone:
    """One GeoJSON Feature as a :class:`Zone` (errors name the feature index and field)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _fail(index, "type", 'must be a GeoJSON object of type "Feature"')
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise _fail(index, "properties", "must be an object")
    zone_id = _text(props, "id", index, required=False) or str(feature.get("id") or "")
    if not zone_id:
        raise _fail(index, "properties.id", "required")
    name_en = _text(props, "name_en", index, required=True)
    name_ar = _text(props, "name_ar", index, required=False, default=name_en)
    kind = _text(props, "kind", index, required=False, default="user")
    if kind not in ZONE_KINDS:
        raise _fail(index, "properties.kind", f"{kind!r} is not one of {', '.join(ZONE_KINDS)}")
    watched = _flag(props, "watched", index, default=kind == "user")
    approximate = _flag(props, "approximate", index, default=False)
    source = _text(props, "source", index, required=False)
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise _fail(index, "geometry", "must be an object")
    gtype = geometry.get("type")
    if gtype == "Point":
        lon, lat = _position(geometry.get("coordinates"), index, "geometry.coordinates")
        radius = props.get("radius_km")
        if (
            not isinstance(radius, int | float)
            or isinstance(radius, bool)
            or not 0 < float(radius) <= 100
        ):
            raise _fail(
                index, "properties.radius_km", "a Point zone needs a radius in km (0 < r ≤ 100)"
            )
        return Zone(
            zone_id, name_en, name_ar, kind, watched, approximate, source,
            center=(lat, lon), radius_km=float(radius),
        )  # fmt: skip
    if gtype not in ("Polygon", "MultiPolygon"):
        raise _fail(index, "geometry.type", f"{gtype!r}: expected Polygon, MultiPolygon or Point")
    return Zone(
        zone_id, name_en, name_ar, kind, watched, approximate, source, rings=_rings(geometry, index)
    )


# --- the zone set -----------------------------------------------------------------------------


class Zones:
    """A set of zones with fast look-ups, plus the land mask."""

    def __init__(self, zones: list[Zone], land: PolygonIndex | None = None) -> None:
        seen: set[str] = set()
        for z in zones:
            if z.id in seen:
                raise ValidationFailed("Duplicate zone id %(id)s", field="id", id=z.id)
            seen.add(z.id)
        self.zones = list(zones)
        self.by_id = {z.id: z for z in zones}
        self.ports = [z for z in zones if z.kind in PORT_KINDS and z.is_point]
        self.land = land
        self._poly: list[tuple[Zone, PolygonIndex]] = [
            (z, PolygonIndex(list(z.rings))) for z in zones if z.rings
        ]
        self._points = [z for z in zones if z.is_point]
        self._cells: dict[int, list[tuple[Zone, PolygonIndex | None, int]]] = {}
        self._port_cells: dict[tuple[int, float], list[Zone]] = {}
        self._watched: dict[int, tuple[bool, tuple[Zone, ...]]] = {}  # cell → (mixed, zones)

    # -- construction

    @classmethod
    def from_geojson(cls, obj: Any, land: PolygonIndex | None = None) -> Zones:
        """Zones from a GeoJSON FeatureCollection (or one Feature); raises
        :class:`ValidationFailed` naming the feature index and field at fault."""
        if isinstance(obj, dict) and obj.get("type") == "Feature":
            features: Any = [obj]
        elif isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
            features = obj.get("features")
            if not isinstance(features, list):
                raise ValidationFailed("Zone GeoJSON: features must be a list", field="features")
        else:
            raise ValidationFailed(
                'Zone GeoJSON must be a "FeatureCollection" or a "Feature"', field="type"
            )
        zones = [zone_from_feature(f, i) for i, f in enumerate(features)]
        ids: dict[str, int] = {}
        for i, z in enumerate(zones):
            if z.id in ids:
                raise _fail(i, "properties.id", f"{z.id!r} repeats feature {ids[z.id]}")
            ids[z.id] = i
        return cls(zones, land)

    @classmethod
    def load_default(cls) -> Zones:
        """The shipped zones (``data/zones.geojson``) and land (``data/land.geojson``)."""
        return _default()

    def with_zones(self, extra: list[Zone]) -> Zones:
        """These zones plus ``extra`` (users' zones), sharing the land mask."""
        return Zones([*self.zones, *extra], self.land)

    def as_geojson(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": [z.as_feature() for z in self.zones]}

    # -- look-ups

    def _cell_zones(self, cell: int) -> list[tuple[Zone, PolygonIndex | None, int]]:
        out: list[tuple[Zone, PolygonIndex | None, int]] = []
        lon0, lat0 = _cell_origin(cell)
        lon1, lat1 = lon0 + CELL_DEG, lat0 + CELL_DEG
        for z, idx in self._poly:
            x0, y0, x1, y1 = idx.bbox
            if x1 < lon0 or x0 > lon1 or y1 < lat0 or y0 > lat1:
                continue
            st = idx.cell_status(cell)
            if st != OUTSIDE:
                out.append((z, idx, st))
        for z in self._points:
            assert z.center is not None
            clat = min(max(z.center[0], lat0), lat1)
            clon = min(max(z.center[1], lon0), lon1)
            if _km(clat, clon, z.center[0], z.center[1]) <= z.radius_km:
                out.append((z, None, MIXED))
        self._cells[cell] = out
        return out

    def zones_at(self, lat: float, lon: float) -> list[Zone]:
        """Every zone containing the point (point zones: within their radius)."""
        cell = cell_of(lat, lon)
        entries = self._cells.get(cell)
        if entries is None:
            entries = self._cell_zones(cell)
        if not entries:
            return []
        out: list[Zone] = []
        for z, idx, st in entries:
            if st == INSIDE:
                out.append(z)
            elif idx is not None:
                if idx._local(cell, lon, lat):
                    out.append(z)
            elif z.distance_km(lat, lon) <= 0.0:
                out.append(z)
        return out

    def watched_at(self, lat: float, lon: float) -> list[Zone]:
        return [z for z in self.zones_at(lat, lon) if z.watched]

    def _watched_cell(self, cell: int) -> tuple[bool, tuple[Zone, ...]]:
        entries = self._cells.get(cell)
        if entries is None:
            entries = self._cell_zones(cell)
        watched = [(z, st) for z, _idx, st in entries if z.watched]
        mixed = any(st == MIXED for _z, st in watched)
        out = (mixed, tuple(z for z, _st in watched))
        self._watched[cell] = out
        return out

    def cell_mixed(self, cell: int) -> bool:
        """Whether a watched zone's edge crosses the cell (membership varies inside it)."""
        got = self._watched.get(cell)
        return (got or self._watched_cell(cell))[0]

    def watched_in(self, cell: int, lat: float, lon: float) -> tuple[Zone, ...]:
        """The watched zones containing a point of ``cell``; the same tuple object for
        every point of a cell that no watched zone's edge crosses."""
        got = self._watched.get(cell)
        mixed, zones = got or self._watched_cell(cell)
        if not mixed:
            return zones
        return tuple(z for z in self.zones_at(lat, lon) if z.watched)

    def near_port(self, lat: float, lon: float, km: float) -> Zone | None:
        """The nearest port or anchorage whose edge is within ``km`` of the point."""
        key = (cell_of(lat, lon), km)
        candidates = self._port_cells.get(key)
        if candidates is None:
            lon0, lat0 = _cell_origin(key[0])
            cands: list[Zone] = []
            for z in self.ports:
                assert z.center is not None
                clat = min(max(z.center[0], lat0), lat0 + CELL_DEG)
                clon = min(max(z.center[1], lon0), lon0 + CELL_DEG)
                if _km(clat, clon, z.center[0], z.center[1]) <= z.radius_km + km:
                    cands.append(z)
            candidates = self._port_cells[key] = cands
        best: Zone | None = None
        best_d = math.inf
        for z in candidates:
            d = z.distance_km(lat, lon)
            if d <= km and d < best_d:
                best, best_d = z, d
        return best

    def on_land(self, lat: float, lon: float) -> bool:
        """Inside a land polygon and more than :data:`COAST_TOLERANCE_KM` from the coast."""
        land = self.land
        if land is None:
            return False
        x0, y0, x1, y1 = land.bbox
        if lon < x0 or lon > x1 or lat < y0 or lat > y1:
            return False
        cell = cell_of(lat, lon)
        st = land.cell_status(cell)
        if st != MIXED:
            return st == INSIDE
        if land.near_edge_km(lon, lat, COAST_TOLERANCE_KM):
            return False
        return land._local(cell, lon, lat)


def load_land(path: Path | None = None) -> PolygonIndex:
    """The land mask (polygons of ``land.geojson``), indexed with a margin of 0.012°
    (over 1 km of longitude up to 25° N) so that the coast within
    :data:`COAST_TOLERANCE_KM` of a point is listed with its cell."""
    obj = json.loads((path or DATA_DIR / "land.geojson").read_text(encoding="utf-8"))
    rings: list[Ring] = []
    for i, feature in enumerate(obj.get("features", [])):
        geometry = feature.get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        rings.extend(_rings(geometry, i))
    return PolygonIndex(rings, margin_deg=0.012)


_DEFAULT: Zones | None = None


def _default() -> Zones:
    global _DEFAULT
    if _DEFAULT is None:
        obj = json.loads((DATA_DIR / "zones.geojson").read_text(encoding="utf-8"))
        _DEFAULT = Zones.from_geojson(obj, land=load_land())
    return _DEFAULT
