"""Maritime pages: live map data, alert queue and workflow, alert evidence, vessel page,
feeds and quarantine; Arabic and English; who must not see them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from rasid.core.settings import Settings
from rasid.maritime import service, simulate
from tests.conftest import World, login, page_csrf

RTL = '<html lang="ar" dir="rtl">'


@pytest.fixture
def watch_day(
    world: World, factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> service.Summary:
    """The coast guard's watch ingests a simulated day with every anomaly and two bad lines."""
    out = tmp_path / "day.nmea"
    simulate.write(out, "red-sea-day", 20, seed=7, rate=0.25, vessels=8)
    with out.open("ab") as f:
        f.write(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B\n\x00\x01garbage\n")
    with factory.begin() as db:
        return service.ingest(db, world.actor("watch"), [out], settings.data_dir)


def test_live_map_and_its_data(client: TestClient, watch_day: service.Summary) -> None:
    login(client, "watch")
    page = client.get("/maritime/map")
    assert page.status_code == 200 and RTL in page.text
    assert 'id="live-map"' in page.text and "js/maritime.js" in page.text
    assert client.get("/maritime", follow_redirects=False).headers["location"] == "/maritime/map"
    data = client.get("/maritime/picture.geojson").json()
    kinds = [f["properties"]["kind"] for f in data["features"]]
    assert kinds.count("vessel") == watch_day.vessels
    assert kinds.count("alert") == watch_day.alerts > 0
    for f in data["features"]:
        props = f["properties"]
        assert props["url"].startswith("/maritime/")
        if props["kind"] == "vessel":
            assert props["state"] in ("underway", "stopped", "stale") and props["category"]
    zones = client.get("/maritime/zones.geojson").json()
    assert {"bab-el-mandeb", "aden"} <= {f["properties"]["id"] for f in zones["features"]}


def test_alert_queue_evidence_and_workflow(client: TestClient, watch_day: service.Summary) -> None:
    login(client, "watch")
    queue = client.get("/maritime/alerts")
    assert queue.status_code == 200
    ids = re.findall(r'class="alert-row status-new" data-id="(\d+)"', queue.text)
    assert len(ids) == watch_day.alerts
    fast = client.get("/maritime/alerts", params={"type": "fast_approach"}).text
    (fast_id,) = re.findall(r'data-id="(\d+)" data-type="fast_approach"', fast)
    page = client.get(f"/maritime/alerts/{fast_id}")
    assert page.status_code == 200 and 'id="evidence-map"' in page.text
    evidence = json.loads(re.search(r'id="evidence-json">(.*?)</script>', page.text).group(1))  # type: ignore[union-attr]
    fixes = [f for f in evidence["features"] if f["properties"]["kind"] == "fix"]
    assert len({f["properties"]["mmsi"] for f in fixes}) == 2  # both craft
    assert "cpa_nm" in page.text
    csrf = page_csrf(client, f"/maritime/alerts/{fast_id}")
    empty = client.post(
        f"/maritime/alerts/{fast_id}/dismiss", data={"csrf_token": csrf, "reason": " "}
    )
    assert empty.status_code == 422 and 'id="form-error"' in empty.text
    acked = client.post(
        f"/maritime/alerts/{fast_id}/acknowledge", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert acked.status_code == 200 and 'id="alert-acknowledge"' not in acked.text
    escalated = client.post(
        f"/maritime/alerts/{fast_id}/escalate",
        data={"csrf_token": csrf, "draft_report": "1"},
        follow_redirects=True,
    )
    assert escalated.status_code == 200 and 'id="alert-incident"' in escalated.text
    again = client.post(f"/maritime/alerts/{fast_id}/acknowledge", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_vessel_page_and_quarantine_browser(client: TestClient, watch_day: service.Summary) -> None:
    login(client, "watch")
    data = client.get("/maritime/picture.geojson").json()
    mmsi = next(
        f["properties"]["mmsi"] for f in data["features"] if f["properties"]["kind"] == "vessel"
    )
    page = client.get(f"/maritime/vessels/{mmsi}")
    assert page.status_code == 200 and f"MMSI {mmsi}" in page.text
    assert f'data-track-url="/api/v1/maritime/vessels/{mmsi}/track"' in page.text
    assert client.get("/maritime/vessels/999999999").status_code == 404
    quarantine = client.get("/maritime/quarantine")
    assert quarantine.status_code == 200
    assert "bad_checksum" in quarantine.text and "binary_garbage" in quarantine.text
    only = client.get("/maritime/quarantine", params={"reason": "bad_checksum"}).text
    assert only.count('class="reason-bad_checksum"') == 1 and 'class="reason-binary' not in only
    assert "day.nmea" in only


def test_maritime_pages_in_english(client: TestClient, watch_day: service.Summary) -> None:
    login(client, "watch")
    client.post(
        "/language",
        data={"csrf_token": page_csrf(client, "/"), "language": "en", "next": "/maritime/map"},
    )
    for path in ("/maritime/map", "/maritime/alerts", "/maritime/quarantine"):
        page = client.get(path)
        assert page.status_code == 200 and '<html lang="en" dir="ltr">' in page.text, path
    assert "Live map" in client.get("/maritime/map").text
    assert "Fast approach" in client.get("/maritime/alerts").text


def test_who_must_not_see_the_maritime_pages(
    client: TestClient, watch_day: service.Summary
) -> None:
    login(client, "watch")
    alert_id = re.findall(r'data-id="(\d+)"', client.get("/maritime/alerts").text)[0]
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    login(client, "observer")  # outside the community: the GREEN picture and alerts are hidden
    for path in ("/maritime/map", "/maritime/picture.geojson", "/maritime/quarantine"):
        assert client.get(path).status_code == 403, path
    assert 'data-id="' not in client.get("/maritime/alerts").text
    assert client.get(f"/maritime/alerts/{alert_id}").status_code == 404
