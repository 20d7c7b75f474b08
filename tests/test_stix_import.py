"""STIX 2.1 import: round trip of our own bundles, foreign bundles, idempotence, bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.cli import app as cli_app
from rasid.core.errors import ValidationFailed
from rasid.core.settings import Settings
from rasid.intel import service, stix_import
from rasid.intel.models import Report, StixOrigin
from rasid.registry import service as registry
from rasid.registry.models import Entity
from tests.conftest import World
from tests.test_intel_stix import BODY_AR, export, linked_records, make_report

TLP1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"


def run_import(
    factory: sessionmaker[Session], world: World, user: str, bundle: dict[str, Any]
) -> stix_import.Result:
    with factory.begin() as db:
        return stix_import.import_bundle(db, world.actor(user), bundle)


def counts(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as db:
        return (
            db.scalar(select(func.count()).select_from(Report)) or 0,
            db.scalar(select(func.count()).select_from(Entity)) or 0,
            db.scalar(select(func.count()).select_from(StixOrigin)) or 0,
        )


def test_own_bundle_round_trips_into_another_organisation(
    world: World, factory: sessionmaker[Session]
) -> None:
    ids = linked_records(factory, world)
    rid = make_report(factory, world, ids)
    bundle = export(factory, world, rid, "analyst")

    result = run_import(factory, world, "partner", bundle)
    assert result.refused == 0 and result.errors == []
    # the author's bundle: group, vessel, place, the RED person (the author is its recipient),
    # incident, two member_of links, the report; the GREEN person's phone matches the record
    # the partner already sees, so it is linked, not duplicated; organisations, markings, the
    # extension, SCOs and involvements (no registry counterpart) are skipped
    assert (result.created, result.matched) == (8, 1)
    assert result.created + result.matched + result.skipped == result.received
    assert result.received == len(bundle["objects"])
    (new_id,) = result.report_ids
    partner = world.actor("partner")
    with factory() as db:
        original = service.get_report(db, world.actor("analyst"), rid)
        copy_ = service.get_report(db, partner, new_id)
        assert copy_.owner_org_id == partner.org_id and copy_.status == "draft"
        assert (copy_.title, copy_.summary, copy_.body_ar, copy_.body_en) == (
            original.title,
            original.summary,
            BODY_AR,
            "Skiff seen at dawn.",
        )
        assert copy_.body_ar == BODY_AR  # Arabic stays Arabic
        assert (copy_.reliability, copy_.credibility, copy_.marking) == ("B", 2, "TLP:AMBER")
        assert {(o.kind, o.normalised) for o in copy_.observables} == {
            (o.kind, o.normalised) for o in original.observables
        }
        linked = service.visible_links(db, partner, copy_)
        assert len(linked) == 6  # person, group, vessel, place, RED person, incident
        people = [
            registry.get_entity(db, partner, lk.object_id)
            for lk in linked
            if lk.object_type == "registry_entity"
        ]
        person = next(e for e in people if e.kind == "person")
        assert {n.name for n in person.names} >= {"سالم باعوضة", "Salem Bawazir"}
        assert [i.value for i in person.identifiers] == ["777123456"]
        origin = db.scalar(select(StixOrigin).where(StixOrigin.object_type == "intel_report"))
        assert origin is not None and origin.origin_org == "CT Unit"
        # the analyst's organisation does not see the partner's draft copy
        with pytest.raises(Exception, match="No intel_report"):
            service.get_report(db, world.actor("analyst"), new_id)

    # the same bundle again changes nothing
    before = counts(factory)
    again = run_import(factory, world, "partner", bundle)
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == 9
    assert counts(factory) == before

    # a newer version of the report updates it and keeps both versions
    newer = copy.deepcopy(bundle)
    report_obj = next(o for o in newer["objects"] if o["type"] == "report")
    report_obj["modified"] = "2099-01-01T00:00:00.000Z"
    report_obj["name"] = "عنوان معدل"
    third = run_import(factory, world, "partner", newer)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 8)
    with factory() as db:
        assert service.get_report(db, partner, new_id).title == "عنوان معدل"
        assert [v.action for v in service.versions(db, partner, new_id)] == ["import", "import"]
    # an older version does not overwrite the newer one
    run_import(factory, world, "partner", bundle)
    with factory() as db:
        assert service.get_report(db, partner, new_id).title == "عنوان معدل"


def foreign_bundle() -> dict[str, Any]:
    """A bundle as another tool writes it: TLP 1.0 marking, indicators, confidence."""
    return {
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
                "created": "2024-01-01T00:00:00.000Z",
                "modified": "2024-01-01T00:00:00.000Z",
                "name": "Partner CERT",
                "identity_class": "organization",
            },
            {
                "type": "threat-actor",
                "spec_version": "2.1",
                "id": "threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "created": "2024-01-02T00:00:00.000Z",
                "modified": "2024-01-02T00:00:00.000Z",
                "name": "Red Sea Network",
                "aliases": ["شبكة البحر الأحمر"],
                "object_marking_refs": [TLP1_AMBER],
            },
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",
                "created": "2024-01-02T00:00:00.000Z",
                "modified": "2024-01-02T00:00:00.000Z",
                "pattern": "[domain-name:value = 'smuggle.example']",
                "pattern_type": "stix",
                "valid_from": "2024-01-02T00:00:00Z",
            },
            {
                "type": "report",
                "spec_version": "2.1",
                "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
                "created": "2024-01-03T00:00:00.000Z",
                "modified": "2024-01-03T00:00:00.000Z",
                "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
                "name": "Network resupply",
                "description": "رصدت الشبكة تعيد التموين.\n\nThe network is resupplying.",
                "published": "2024-01-03T00:00:00Z",
                "confidence": 70,
                "object_refs": [
                    "threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                    "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",
                ],
                "object_marking_refs": [TLP1_AMBER],
            },
        ],
    }


def test_foreign_bundle(world: World, factory: sessionmaker[Session]) -> None:
    result = run_import(factory, world, "analyst", foreign_bundle())
    assert (result.created, result.skipped, result.refused) == (2, 2, 0)
    analyst = world.actor("analyst")
    with factory() as db:
        report = service.get_report(db, analyst, result.report_ids[0])
        assert report.body_ar == "رصدت الشبكة تعيد التموين."
        assert report.body_en == "The network is resupplying."
        assert (report.reliability, report.credibility, report.marking) == ("F", 2, "TLP:AMBER")
        assert [(o.kind, o.normalised) for o in report.observables] == [
            ("domain", "smuggle.example")
        ]
        (link,) = service.visible_links(db, analyst, report)
        group = registry.get_entity(db, analyst, link.object_id)
        assert group.kind == "group"
        assert {n.name for n in group.names} == {"Red Sea Network", "شبكة البحر الأحمر"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda b: b.update(type="report"), "type", "not a STIX bundle"),
        (
            lambda b: b["objects"][1].update(id="threat-actor--nope"),
            "objects.1.id",
            "valid STIX id",
        ),
        (
            lambda b: b["objects"][1].update(modified="yesterday"),
            "objects.1.modified",
            "not a STIX timestamp",
        ),
        (
            lambda b: b["objects"][3].update(
                object_marking_refs=["marking-definition--00000000-0000-4000-8000-000000000000"]
            ),
            "objects.3.object_marking_refs",
            "unknown marking definition",
        ),
        (
            lambda b: b["objects"][3]["object_refs"].append(
                "identity--11111111-1111-4111-8111-111111111111"
            ),
            "objects.3.object_refs",
            "neither in the bundle nor imported before",
        ),
    ],
)
def test_bad_bundles_are_refused_whole(
    world: World, factory: sessionmaker[Session], change: Any, field: str, message: str
) -> None:
    bundle = foreign_bundle()
    change(bundle)
    before = counts(factory)
    with pytest.raises(ValidationFailed, match=message) as info:
        run_import(factory, world, "analyst", bundle)
    assert info.value.field == field
    assert counts(factory) == before


def test_cli_import_stix(world: World, cli_env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(foreign_bundle(), ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(cli_app, ["intel", "import-stix", str(path), "--as", "analyst", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["created"] == 2
    second = runner.invoke(
        cli_app, ["intel", "import-stix", str(path), "--as", "analyst", "--json"]
    )
    assert json.loads(second.output)["unchanged"] == 2
    path.write_text("{not json", encoding="utf-8")
    bad = runner.invoke(cli_app, ["intel", "import-stix", str(path), "--as", "analyst"])
    assert bad.exit_code != 0
    assert "line 1" in bad.output and "bundle.json" in bad.output
