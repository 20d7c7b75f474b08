"""STIX 2.1 export of intel reports: strict validation, TLP 2.0 ids, grading, CLI."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stix2validator import ValidationOptions, validate_instance
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app as cli_app
from rasid.core.errors import NotFound
from rasid.core.settings import Settings
from rasid.intel import service, stix
from rasid.intel.schemas import ObservableIn, ReportIn, ReportLinkIn
from rasid.registry import service as registry
from rasid.registry.schemas import (
    EntityIn,
    IdentifierIn,
    IncidentIn,
    InvolvementIn,
    LinkIn,
    NameIn,
)
from tests.conftest import World

BODY_AR = "رصد قارب يحمل أسلحة قبالة ساحل المكلا، ويُعتقد أنه تابع لشبكة تهريب."

EVERY_KIND = [
    ObservableIn(kind="phone", value="00967 777 123 456"),
    ObservableIn(kind="email", value="Smuggler@Example.COM"),
    ObservableIn(kind="mmsi", value="473 123 456"),
    ObservableIn(kind="imo", value="IMO 9074729"),
    ObservableIn(kind="plate", value="12345 - أ"),
    ObservableIn(kind="iban", value="GB82 WEST 1234 5698 7654 32"),
    ObservableIn(kind="crypto", value="0x52908400098527886E0F7030069857D2E4169EE7"),
    ObservableIn(kind="ip", value="192.0.2.7"),
    ObservableIn(kind="ip", value="2001:db8::1"),
    ObservableIn(kind="domain", value="example.com"),
    ObservableIn(kind="url", value="https://example.com/a?b=1"),
    ObservableIn(
        kind="sha256", value="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    ),
    ObservableIn(kind="sha1", value="da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ObservableIn(kind="md5", value="d41d8cd98f00b204e9800998ecf8427e"),
]


def _entity(db: Session, world: World, data: EntityIn, username: str = "analyst") -> int:
    return registry.create_entity(db, world.actor(username), data)[0].id


def linked_records(factory: sessionmaker[Session], world: World) -> dict[str, int]:
    """A person, a group, a vessel, a place, an incident, a link and a RED person."""
    with factory.begin() as db:
        ids = {
            "person": _entity(
                db,
                world,
                EntityIn(
                    kind="person",
                    marking="TLP:GREEN",
                    names=[
                        NameIn(name="سالم باعوضة", name_type="as_written"),
                        NameIn(name="Salem Bawazir", name_type="latin"),
                    ],
                    identifiers=[IdentifierIn(kind="phone", value="777123456")],
                ),
            ),
            "group": _entity(db, world, EntityIn(kind="group", names=[NameIn(name="شبكة المكلا")])),
            "vessel": _entity(
                db,
                world,
                EntityIn(kind="vessel", names=[NameIn(name="Al Amal")], flag="YE"),
            ),
            "place": _entity(
                db,
                world,
                EntityIn(
                    kind="place",
                    marking="TLP:CLEAR",
                    names=[NameIn(name="سوق الطلح"), NameIn(name="Souq al-Talh")],
                    lat=16.94,
                    lon=43.76,
                ),
            ),
            "secret": _entity(
                db,
                world,
                EntityIn(kind="person", marking="TLP:RED", names=[NameIn(name="قاسم الريمي")]),
            ),
        }
        actor = world.actor("analyst")
        ids["incident"] = registry.create_incident(
            db,
            actor,
            IncidentIn(
                title="تهريب أسلحة عبر ميناء المكلا",
                event_date=date(2024, 3, 2),
                marking="TLP:GREEN",
                narrative_ar="ضبطت شحنة أسلحة",
                involvements=[
                    InvolvementIn(entity_id=ids["person"], role="suspect"),
                    InvolvementIn(entity_id=ids["secret"], role="suspect"),
                ],
            ),
        )[0].id
        registry.create_link(
            db,
            actor,
            LinkIn(
                source_id=ids["person"],
                target_id=ids["group"],
                link_type="member_of",
                marking="TLP:GREEN",
                reliability="B",
                credibility=2,
            ),
        )
        registry.create_link(
            db,
            actor,
            LinkIn(
                source_id=ids["secret"],
                target_id=ids["group"],
                link_type="member_of",
                marking="TLP:RED",
            ),
        )
    return ids


def make_report(
    factory: sessionmaker[Session], world: World, ids: dict[str, int], **extra: Any
) -> int:
    links = [
        ReportLinkIn(object_type="registry_entity", object_id=ids[k])
        for k in ("person", "group", "vessel", "place", "secret")
    ] + [ReportLinkIn(object_type="registry_incident", object_id=ids["incident"])]
    data: dict[str, Any] = {
        "title": "قارب تهريب أسلحة — المكلا",
        "summary": "Arms smuggling skiff sighted off Mukalla.",
        "body_ar": BODY_AR,
        "body_en": "Skiff seen at dawn.",
        "reliability": "B",
        "credibility": 2,
        "marking": "TLP:AMBER",
        "links": links,
        "observables": EVERY_KIND,
    }
    data.update(extra)
    with factory.begin() as db:
        return service.create_report(db, world.actor("analyst"), ReportIn.model_validate(data)).id


def export(factory: sessionmaker[Session], world: World, rid: int, user: str) -> dict[str, Any]:
    with factory.begin() as db:
        return stix.report_bundle(db, world.actor(user), rid)


def by_type(bundle: dict[str, Any], stix_type: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == stix_type]


def assert_strictly_valid(bundle: dict[str, Any]) -> None:
    results = validate_instance(bundle, ValidationOptions(version="2.1", strict=True))
    problems = [str(e) for e in results.errors] + [str(w) for w in results.warnings]
    assert results.is_valid and not problems, problems


@pytest.mark.parametrize(
    "marking", ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
)
def test_bundle_passes_strict_validation_with_tlp2_markings(
    world: World, factory: sessionmaker[Session], marking: str
) -> None:
    ids = linked_records(factory, world)
    rid = make_report(factory, world, ids, marking=marking)
    bundle = export(factory, world, rid, "analyst")
    assert_strictly_valid(bundle)

    (report,) = by_type(bundle, "report")
    expected = stix.TLP2_MARKINGS[marking][0]
    assert report["object_marking_refs"] == [expected]
    definitions = {o["id"]: o for o in by_type(bundle, "marking-definition")}
    assert definitions[expected]["name"] == marking
    level = definitions[expected]["extensions"][stix.TLP2_EXTENSION_ID]["tlp_2_0"]
    assert level == marking.removeprefix("TLP:").lower()
    # every marking referenced is defined in the bundle
    used = {m for o in bundle["objects"] for m in o.get("object_marking_refs", [])}
    assert used <= set(definitions)
    # every object_ref points into the bundle
    present = {o["id"] for o in bundle["objects"]}
    assert set(report["object_refs"]) <= present


def test_official_tlp2_ids_and_confidence_scale() -> None:
    assert {m: ref for m, (ref, _) in stix.TLP2_MARKINGS.items()} == {
        "TLP:CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "TLP:GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "TLP:AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "TLP:AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "TLP:RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
    # STIX 2.1 Appendix A, Admiralty Credibility
    table = {c: stix.confidence_for("admiralty", c) for c in range(1, 7)}
    assert table == {1: 90, 2: 70, 3: 50, 4: 30, 5: 10, 6: None}
    assert stix.confidence_for("europol", 1) is None


def test_content_grading_arabic_observables_and_stable_ids(
    world: World, factory: sessionmaker[Session]
) -> None:
    ids = linked_records(factory, world)
    rid = make_report(factory, world, ids)
    first = export(factory, world, rid, "analyst")
    second = export(factory, world, rid, "analyst")
    assert first == second  # same ids, same timestamps

    (report,) = by_type(first, "report")
    assert report["name"] == "قارب تهريب أسلحة — المكلا"
    assert BODY_AR in report["description"] and "Skiff seen at dawn." in report["description"]
    assert (report["confidence"], report["x_rasid_admiralty"]) == (70, "B2")
    assert report["x_rasid_grading_scheme"] == "admiralty"
    assert stix.RASID_EXTENSION_ID in report["extensions"]

    (org,) = [o for o in by_type(first, "identity") if o["id"] == report["created_by_ref"]]
    assert (org["identity_class"], org["name"]) == ("organization", "CT Unit")
    assert org["x_rasid_name_ar"] == "وحدة مكافحة الإرهاب"

    custom = {o["kind"] for o in report["x_rasid_observables"]}
    assert custom == {"phone", "mmsi", "imo", "plate", "iban", "crypto"}
    assert {"kind": "plate", "value": "12345 - أ", "normalised": "12345أ"} in report[
        "x_rasid_observables"
    ]
    assert {o["value"] for o in by_type(first, "ipv4-addr")} == {"192.0.2.7"}
    assert {o["value"] for o in by_type(first, "ipv6-addr")} == {"2001:db8::1"}
    assert {o["value"] for o in by_type(first, "domain-name")} == {"example.com"}
    assert {o["value"] for o in by_type(first, "email-addr")} == {"smuggler@example.com"}
    assert len(by_type(first, "url")) == 1
    hashes = {k for f in by_type(first, "file") for k in f["hashes"]}
    assert hashes == {"SHA-256", "SHA-1", "MD5"}

    people = [o for o in by_type(first, "identity") if o.get("identity_class") == "individual"]
    assert len(people) == 2  # the analyst is a recipient of the RED person
    salem = next(p for p in people if p["name"] == "Salem Bawazir")
    assert {"name": "سالم باعوضة", "script": "ar", "name_type": "as_written"} in salem[
        "x_rasid_names"
    ]
    assert len(by_type(first, "threat-actor")) == 1
    (vessel,) = by_type(first, "infrastructure")
    assert vessel["x_rasid_kind"] == "vessel"
    (place,) = by_type(first, "location")
    assert (place["country"], place["latitude"], place["longitude"]) == ("YE", 16.94, 43.76)
    (incident,) = by_type(first, "incident")
    assert incident["name"] == "تهريب أسلحة عبر ميناء المكلا"
    rels = by_type(first, "relationship")
    assert {r.get("x_rasid_link_type") or r.get("x_rasid_role") for r in rels} == {
        "member_of",
        "suspect",
    }
    assert len(rels) == 4
    for obj in first["objects"]:
        assert {k for k in obj if k.startswith("x_")} <= set(stix.RASID_PROPERTIES)

    # the ids follow the records, not the export
    assert salem["id"] == stix.stix_id("identity", "entity", ids["person"])
    assert report["id"] == stix.stix_id("report", "intel_report", rid)


def test_reader_gets_only_what_they_may_see_and_export_is_audited(
    world: World, factory: sessionmaker[Session]
) -> None:
    ids = linked_records(factory, world)
    rid = make_report(factory, world, ids)
    bundle = export(factory, world, rid, "analyst2")
    assert_strictly_valid(bundle)
    hidden = stix.stix_id("identity", "entity", ids["secret"])
    assert hidden not in json.dumps(bundle)
    assert "قاسم الريمي" not in json.dumps(bundle, ensure_ascii=False)
    # relationships only between what the reader sees: person–group and person–incident
    assert len(by_type(bundle, "relationship")) == 2
    # a TLP:RED link's marking does not appear
    red = stix.TLP2_MARKINGS["TLP:RED"][0]
    assert red not in {o["id"] for o in by_type(bundle, "marking-definition")}

    with factory() as db, pytest.raises(NotFound):
        stix.report_bundle(db, world.actor("partner"), rid)  # a draft of another org
    with factory() as db:
        actions = db.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "intel_report", AuditEntry.object_id == str(rid)
            )
        ).all()
    assert list(actions).count("export") == 1


def test_cli_list_and_export(
    world: World, factory: sessionmaker[Session], cli_env: Settings
) -> None:
    ids = linked_records(factory, world)
    rid = make_report(factory, world, ids, marking="TLP:RED")
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["intel", "reports", "list", "--as", "analyst", "--json"])
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "id": rid,
            "title": "قارب تهريب أسلحة — المكلا",
            "marking": "TLP:RED",
            "owner_org": "moi-ct",
            "status": "draft",
        }
    ]
    out = runner.invoke(cli_app, ["intel", "export-stix", str(rid), "--as", "analyst"])
    assert out.exit_code == 0, out.stderr
    assert BODY_AR in out.stdout  # Arabic printed as Arabic, not \u escapes
    bundle = json.loads(out.stdout)
    assert bundle["type"] == "bundle"
    (report,) = by_type(bundle, "report")
    assert report["object_marking_refs"] == [stix.TLP2_MARKINGS["TLP:RED"][0]]

    refused = runner.invoke(cli_app, ["intel", "export-stix", str(rid), "--as", "analyst2"])
    assert refused.exit_code != 0
    assert "No intel_report with id" in refused.stderr


def test_europol_grade_and_report_without_links(
    world: World, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        rid = service.create_report(
            db,
            world.actor("analyst"),
            ReportIn(
                title="بلاغ",
                body_ar="نص البلاغ",
                grading_scheme="europol",
                reliability="X",
                credibility=4,
            ),
        ).id
    bundle = export(factory, world, rid, "analyst")
    assert_strictly_valid(bundle)
    (report,) = by_type(bundle, "report")
    assert "confidence" not in report
    assert (report["x_rasid_admiralty"], report["x_rasid_grading_scheme"]) == ("X4", "europol")
    assert report["object_refs"] == [report["created_by_ref"]]
    declared = set(stix.RASID_PROPERTIES)
    for obj in bundle["objects"]:
        assert {k for k in obj if k.startswith("x_")} <= declared
