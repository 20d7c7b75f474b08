"""The traffic picture over the API: vessels, one vessel with its identity history, tracks as
GeoJSON; who may not read it; bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.settings import Settings
from rasid.identity import service as identity
from rasid.maritime import service, simulate
from rasid.maritime.models import Vessel
from tests.conftest import World


def token(factory: sessionmaker[Session], world: World, username: str) -> dict[str, str]:
    with factory.begin() as db:
        plaintext = identity.create_token(db, world.actor("admin"), username).plaintext
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def picture(
    world: World, factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> int:
    """A simulated day ingested by the watch officer; returns a vessel's MMSI with a track."""
    out = tmp_path / "day.nmea"
    simulate.write(out, "red-sea-day", 6, seed=5, rate=0.1, vessels=5)
    with factory.begin() as db:
        service.ingest(db, world.actor("watch"), [out], settings.data_dir)
    with factory() as db:
        vessel = db.scalars(
            select(Vessel).where(Vessel.lat.is_not(None)).order_by(Vessel.mmsi)
        ).first()
        assert vessel is not None
        return vessel.mmsi


def test_vessels_one_vessel_and_its_track_as_geojson(
    world: World, factory: sessionmaker[Session], client: TestClient, picture: int
) -> None:
    auth = token(factory, world, "analyst")  # another community organisation than the watch
    listed = client.get("/api/v1/maritime/vessels", headers=auth)
    assert listed.status_code == 200
    rows = listed.json()
    assert picture in {r["mmsi"] for r in rows}
    assert int(listed.headers["X-Total-Count"]) >= len(rows) > 0
    assert all(r["lat"] is not None and r["fix_at"] for r in rows)
    # a box around the Gulf of Aden only
    boxed = client.get(
        "/api/v1/maritime/vessels", params={"bbox": "43.0,10.0,52.0,15.0"}, headers=auth
    ).json()
    assert all(43.0 <= r["lon"] <= 52.0 and 10.0 <= r["lat"] <= 15.0 for r in boxed)
    one = client.get(f"/api/v1/maritime/vessels/{picture}", headers=auth).json()
    assert one["mmsi"] == picture and isinstance(one["history"], list)
    track = client.get(f"/api/v1/maritime/vessels/{picture}/track", headers=auth)
    assert track.status_code == 200
    assert track.headers["content-type"].startswith("application/geo+json")
    body = track.json()
    assert body["type"] == "FeatureCollection"
    line = [f for f in body["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in body["features"] if f["geometry"]["type"] == "Point"]
    assert len(line) == 1 and len(points) == line[0]["properties"]["fixes"] >= 2
    times = [p["properties"]["time"] for p in points]
    assert times == sorted(times) and all(t.endswith("Z") for t in times)
    assert body["properties"]["end"] >= times[-1]
    # an explicit window that ends before the first fix has no fix
    early = client.get(
        f"/api/v1/maritime/vessels/{picture}/track",
        params={"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"},
        headers=auth,
    ).json()
    assert early["features"] == []
    with factory() as db:
        reads = db.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "maritime_track", AuditEntry.username == "analyst"
            )
        ).all()
        assert [r.object_id for r in reads] == [str(picture), str(picture)]


def test_who_may_not_read_the_picture(
    world: World, factory: sessionmaker[Session], client: TestClient, picture: int
) -> None:
    observer = token(factory, world, "observer")  # outside the community: no GREEN
    for path in (
        "/api/v1/maritime/vessels",
        f"/api/v1/maritime/vessels/{picture}",
        f"/api/v1/maritime/vessels/{picture}/track",
    ):
        refused = client.get(path, headers=observer)
        assert refused.status_code == 403, path
        assert "TLP:GREEN" in refused.json()["error"]["message"]
        assert client.get(path).status_code == 401


def test_bad_vessel_requests_name_the_field(
    world: World, factory: sessionmaker[Session], client: TestClient, picture: int
) -> None:
    auth = token(factory, world, "watch")
    base = f"/api/v1/maritime/vessels/{picture}/track"
    for params, field in (
        ({"start": "2026-01-15T00:00:00"}, "start"),  # no time zone
        ({"start": "2026-01-16T00:00:00Z", "end": "2026-01-15T00:00:00Z"}, "start"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
    ):
        bad = client.get(base, params=params, headers=auth)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == field, bad.text
    bad = client.get("/api/v1/maritime/vessels", params={"bbox": "1,2,3"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "bbox"
    missing = client.get("/api/v1/maritime/vessels/999999999", headers=auth)
    assert missing.status_code == 404
