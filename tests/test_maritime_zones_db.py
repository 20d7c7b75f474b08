"""Users' zones: GeoJSON import (all or none, errors naming the feature), drawn on the map
page, used by the detectors of later ingests, removed by their organisation only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.cli import app
from rasid.core.errors import Forbidden, ValidationFailed
from rasid.core.settings import Settings
from rasid.maritime import service, userzones
from tests.conftest import World, login, page_csrf

BOX = [[44.0, 12.5], [44.4, 12.5], [44.4, 12.8], [44.0, 12.8], [44.0, 12.5]]


def feature(zone_id: str, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"id": zone_id, "name_en": "Watch box", "name_ar": "منطقة مراقبة", **props},
        "geometry": {"type": "Polygon", "coordinates": [BOX]},
    }


def test_import_is_all_or_none_and_the_detectors_use_the_zones(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    watch = world.actor("watch")
    bad = {"type": "FeatureCollection", "features": [feature("box-1"), {"type": "Feature"}]}
    with factory.begin() as db, pytest.raises(ValidationFailed) as refused:
        userzones.import_geojson(db, watch, bad)
    assert "feature 1" in refused.value.message
    clash = {"type": "FeatureCollection", "features": [feature("box-1"), feature("aden")]}
    with factory.begin() as db, pytest.raises(ValidationFailed) as taken:
        userzones.import_geojson(db, watch, clash)
    assert taken.value.field == "features.1.properties.id"
    with factory() as db:
        assert userzones.list_zones(db, watch) == []  # nothing half-written
    with factory.begin() as db:
        userzones.import_geojson(
            db, watch, {"type": "FeatureCollection", "features": [feature("box-1")]}
        )
    with factory.begin() as db:
        ingest = service.Ingest(db, watch, settings.data_dir)
        zone = ingest.engine.zones.by_id["box-1"]
        assert zone.watched and zone.kind == "user"
        assert "box-1" in [z.id for z in ingest.engine.zones.watched_at(12.6, 44.2)]
    with factory.begin() as db, pytest.raises(Forbidden):
        userzones.delete_zone(db, world.actor("analyst"), "box-1")  # not their organisation
    with factory.begin() as db:
        userzones.delete_zone(db, watch, "box-1")
    with factory() as db:
        assert "box-1" not in userzones.zones_for(db).by_id


def test_zone_drawn_on_the_page(world: World, client: TestClient) -> None:
    login(client, "watch")
    page = client.get("/maritime/zones")
    assert page.status_code == 200 and 'data-draw="#f-drawn"' in page.text
    csrf = page_csrf(client, "/maritime/zones")
    two = client.post(
        "/maritime/zones",
        data={
            "csrf_token": csrf,
            "zone_id": "skiff-box",
            "name_en": "Skiff box",
            "drawn": "[[44,12],[44.2,12]]",
        },
    )
    assert two.status_code == 422 and 'id="form-error"' in two.text
    made = client.post(
        "/maritime/zones",
        data={
            "csrf_token": csrf,
            "zone_id": "Skiff-Box",
            "name_en": "Skiff box",
            "name_ar": "منطقة الزوارق",
            "drawn": json.dumps(BOX[:4]),
        },
        follow_redirects=True,
    )
    assert made.status_code == 200 and 'data-id="skiff-box"' in made.text
    zones = client.get("/maritime/zones.geojson").json()
    assert "skiff-box" in {f["properties"]["id"] for f in zones["features"]}
    login(client, "observer")
    assert client.get("/maritime/zones").status_code == 403


def test_cli_zones_import_and_list(world: World, cli_env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature("box-2")]}))
    runner = CliRunner()
    added = runner.invoke(app, ["maritime", "zones", "import", str(path), "--as", "watch"])
    assert added.exit_code == 0, added.stderr
    rows = json.loads(
        runner.invoke(app, ["maritime", "zones", "list", "--json", "--as", "watch"]).stdout
    )
    assert {"id": "box-2", "added": True}.items() <= next(
        r for r in rows if r["id"] == "box-2"
    ).items()
    assert any(r["id"] == "bab-el-mandeb" and not r["added"] for r in rows)
    path.write_text("{not json")
    broken = runner.invoke(app, ["maritime", "zones", "import", str(path), "--as", "watch"])
    assert broken.exit_code == 1 and "zones.geojson" in broken.stderr
