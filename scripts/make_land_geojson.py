"""One-off: derive the maritime region's land polygons and Yemen's mainland coast from
Natural Earth (public domain), as shipped by the npm package ``world-atlas`` (TopoJSON).

    python scripts/make_land_geojson.py [node_modules/world-atlas]

Writes ``src/rasid/maritime/data/land.geojson``: the 1:10m land polygons clipped to
lat 5–25 N, lon 30–60 E and lightly simplified (Douglas–Peucker, 0.002°), and refreshes
the geometry of the ``yemen-territorial-sea`` feature of ``zones.geojson``: Yemen's
mainland coast (the arcs of Yemen that no other country shares) offset 12 nm seaward.
That buffer is approximate (mainland only; islands and median lines not drawn).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "rasid" / "maritime" / "data"
BBOX = (30.0, 5.0, 60.0, 25.0)  # lon0, lat0, lon1, lat1
SIMPLIFY_DEG = 0.0005
TS_NM = 12.0

Point = tuple[float, float]  # (lon, lat)


def decode_arcs(topo: dict[str, Any]) -> list[list[Point]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs: list[list[Point]] = []
    for arc in topo["arcs"]:
        x = y = 0
        pts: list[Point] = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs


def ring_of(indexes: list[int], arcs: list[list[Point]]) -> list[Point]:
    ring: list[Point] = []
    for i in indexes:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring.extend(pts if not ring else pts[1:])
    return ring


def clip(ring: list[Point], box: tuple[float, float, float, float]) -> list[Point]:
    """Sutherland–Hodgman clip of a closed ring to a rectangle."""
    x0, y0, x1, y1 = box
    edges = (
        (lambda p: p[0] >= x0, lambda a, b: _cut_x(a, b, x0)),
        (lambda p: p[0] <= x1, lambda a, b: _cut_x(a, b, x1)),
        (lambda p: p[1] >= y0, lambda a, b: _cut_y(a, b, y0)),
        (lambda p: p[1] <= y1, lambda a, b: _cut_y(a, b, y1)),
    )
    out = ring[:-1] if ring and ring[0] == ring[-1] else ring[:]
    for inside, cut in edges:
        if not out:
            break
        src, out = out, []
        prev = src[-1]
        for cur in src:
            if inside(cur):
                if not inside(prev):
                    out.append(cut(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cut(prev, cur))
            prev = cur
    return out


def _cut_x(a: Point, b: Point, x: float) -> Point:
    f = (x - a[0]) / (b[0] - a[0])
    return (x, a[1] + f * (b[1] - a[1]))


def _cut_y(a: Point, b: Point, y: float) -> Point:
    f = (y - a[1]) / (b[1] - a[1])
    return (a[0] + f * (b[0] - a[0]), y)


def simplify(pts: list[Point], tol: float) -> list[Point]:
    """Douglas–Peucker (iterative)."""
    if len(pts) < 3:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        (ax, ay), (bx, by) = pts[i], pts[j]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, idx = -1.0, -1
        for k in range(i + 1, j):
            px, py = pts[k]
            if norm == 0:
                d = math.hypot(px - ax, py - ay)
            else:
                d = abs(dy * (px - ax) - dx * (py - ay)) / norm
            if d > best:
                best, idx = d, k
        if best > tol:
            keep[idx] = True
            stack.append((i, idx))
            stack.append((idx, j))
    return [p for p, k in zip(pts, keep, strict=True) if k]


def land(world: Path) -> dict[str, Any]:
    topo = json.loads((world / "land-10m.json").read_text())
    arcs = decode_arcs(topo)
    polys: list[list[list[list[float]]]] = []
    for geom in topo["objects"]["land"]["geometries"]:
        parts = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        for part in parts:
            rings = []
            for k, idx in enumerate(part):
                ring = ring_of(idx, arcs)
                xs = [p[0] for p in ring]
                ys = [p[1] for p in ring]
                if max(xs) < BBOX[0] or min(xs) > BBOX[2] or max(ys) < BBOX[1] or min(ys) > BBOX[3]:
                    if k == 0:
                        break
                    continue
                clipped = clip(ring, BBOX)
                if len(clipped) < 3:
                    if k == 0:
                        break
                    continue
                clipped.append(clipped[0])
                simple = simplify(clipped, SIMPLIFY_DEG)
                if len(simple) < 4:
                    if k == 0:
                        break
                    continue
                rings.append([[round(x, 4), round(y, 4)] for x, y in simple])
            if rings:
                polys.append(rings)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "source": "Natural Earth 1:10m land (public domain), via world-atlas 2.0; "
                    "clipped to lat 5-25 N, lon 30-60 E, simplified 0.002 deg",
                },
                "geometry": {"type": "MultiPolygon", "coordinates": polys},
            }
        ],
    }


def yemen_coast(world: Path) -> list[Point]:
    topo = json.loads((world / "countries-10m.json").read_text())
    arcs = decode_arcs(topo)
    uses: dict[int, int] = {}
    yemen: dict[str, Any] | None = None
    for geom in topo["objects"]["countries"]["geometries"]:
        if geom["properties"].get("name") == "Yemen":
            yemen = geom
        parts = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        for part in parts:
            for ring in part:
                for i in ring:
                    a = i if i >= 0 else ~i
                    uses[a] = uses.get(a, 0) + 1
    assert yemen is not None
    parts = yemen["arcs"] if yemen["type"] == "MultiPolygon" else [yemen["arcs"]]
    mainland = max(parts, key=lambda p: len(ring_of(p[0], arcs)))
    ring_idx = mainland[0]
    # rotate so that the ring starts right after a shared (border) arc
    shared = [uses[i if i >= 0 else ~i] > 1 for i in ring_idx]
    start = next(k for k in range(len(ring_idx)) if shared[k - 1] and not shared[k])
    order = ring_idx[start:] + ring_idx[:start]
    coast: list[Point] = []
    for i in order:
        if uses[i if i >= 0 else ~i] > 1:
            break
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        coast.extend(pts if not coast else pts[1:])
    return coast


def _km(a: Point, b: Point) -> float:
    mid = math.radians((a[1] + b[1]) / 2)
    return math.hypot((b[0] - a[0]) * 111.32 * math.cos(mid), (b[1] - a[1]) * 110.57)


def territorial_sea(coast: list[Point]) -> list[list[float]]:
    """Coast + its 12-nm seaward offset as one ring (approximate buffer)."""
    d_km = TS_NM * 1.852
    # resample the coast every ~3 km
    pts = [coast[0]]
    for p in coast[1:]:
        if _km(pts[-1], p) >= 3.0:
            pts.append(p)
    pts.append(coast[-1])
    # which side is the sea: Yemen's ring orientation (signed area of the closed ring)
    area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(pts, pts[1:] + pts[:1], strict=True))
    side = 1.0 if area > 0 else -1.0  # land on the left (CCW): the sea is on the right
    out: list[Point] = []
    n = len(pts)
    for k in range(n):
        a = pts[max(0, k - 3)]
        b = pts[min(n - 1, k + 3)]
        lat = pts[k][1]
        kx = 111.32 * math.cos(math.radians(lat))
        dx, dy = (b[0] - a[0]) * kx, (b[1] - a[1]) * 110.57
        norm = math.hypot(dx, dy) or 1.0
        nx, ny = side * dy / norm, -side * dx / norm  # right-hand normal when side=1
        out.append((pts[k][0] + nx * d_km / kx, lat + ny * d_km / 110.57))
    # drop offset points that came closer than 12 nm to the coast (concave corners)
    kept = [q for q in out if min(_km(q, p) for p in pts) >= d_km * 0.97]
    ring = pts + kept[::-1] + [pts[0]]
    ring = simplify(ring, 0.003)
    return [[round(x, 4), round(y, 4)] for x, y in ring]


def main() -> None:
    world = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "node_modules" / "world-atlas"
    out = DATA / "land.geojson"
    out.write_text(json.dumps(land(world), separators=(",", ":")) + "\n", encoding="utf-8")
    print(out, out.stat().st_size, "bytes")
    zones_path = DATA / "zones.geojson"
    if zones_path.exists():
        zones = json.loads(zones_path.read_text(encoding="utf-8"))
        ring = territorial_sea(yemen_coast(world))
        for feat in zones["features"]:
            if feat["properties"]["id"] == "yemen-territorial-sea":
                feat["geometry"] = {"type": "Polygon", "coordinates": [ring]}
        zones_path.write_text(
            json.dumps(zones, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        print(zones_path, len(ring), "points in the territorial sea ring")


if __name__ == "__main__":
    main()
