"""MISP export of intel reports: events pymisp loads, feed directories, refusals, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPEvent
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app as cli_app
from rasid.core.errors import Forbidden, NotFound
from rasid.core.settings import Settings
from rasid.intel import misp, service
from tests.conftest import World
from tests.test_intel import BODY_AR, add_liaison, agreement, new_report, report_in
from tests.test_intel_stix import EVERY_KIND

BODY_EN = "An arms smuggling skiff was sighted off Mukalla."


def load_event(event: dict[str, Any]) -> MISPEvent:
    loaded = MISPEvent()
    loaded.load(json.dumps(event, ensure_ascii=False))
    return loaded


def export(factory: sessionmaker[Session], world: World, rid: int, user: str) -> dict[str, Any]:
    with factory.begin() as db:
        return misp.report_event(db, world.actor(user), rid)


def released(factory: sessionmaker[Session], world: World, marking: str, title: str) -> int:
    rid = new_report(factory, world, report_in(marking, title=title))
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    return rid


def test_event_loads_in_pymisp_with_tags_attributes_and_arabic(
    world: World, factory: sessionmaker[Session]
) -> None:
    rid = new_report(
        factory, world, report_in("TLP:AMBER", body_en=BODY_EN, observables=EVERY_KIND)
    )
    event = export(factory, world, rid, "analyst")
    assert export(factory, world, rid, "analyst")["Event"]["uuid"] == event["Event"]["uuid"]
    loaded = load_event(event)
    assert loaded.uuid == misp.event_uuid(rid)
    assert loaded.info == "قارب تهريب أسلحة — المكلا"
    assert int(loaded.distribution) == 1
    assert int(loaded.analysis) == 1  # a draft
    assert loaded.published is False
    assert [t.name for t in loaded.tags] == [
        "tlp:amber",
        'admiralty-scale:source-reliability="b"',
        'admiralty-scale:information-credibility="2"',
    ]
    by_type: dict[str, list[Any]] = {}
    for attr in loaded.attributes:
        by_type.setdefault(attr.type, []).append(attr)
    assert len(by_type["phone-number"]) == 1
    assert by_type["email-src"][0].value == "smuggler@example.com"
    assert {a.value for a in by_type["ip-dst"]} == {"192.0.2.7", "2001:db8::1"}
    assert by_type["ip-dst"][0].to_ids is True
    assert by_type["phone-number"][0].to_ids is False
    assert by_type["domain"][0].value == "example.com"
    assert by_type["url"][0].value == "https://example.com/a?b=1"
    assert by_type["md5"][0].value == "d41d8cd98f00b204e9800998ecf8427e"
    assert by_type["sha1"][0].category == "Payload delivery"
    assert by_type["sha256"][0].to_ids is True
    assert by_type["iban"][0].value == "GB82WEST12345698765432"
    texts = {a.comment: a.value for a in by_type["text"]}
    assert texts["report body (Arabic)"] == BODY_AR
    assert texts["report body (English)"] == BODY_EN
    assert texts["grade (admiralty scheme)"] == "B2"
    assert texts["cryptocurrency address"] == "0x52908400098527886e0f7030069857d2e4169ee7"
    assert {"MMSI (vessel)", "IMO number (vessel)", "vehicle plate"} <= set(texts)
    assert loaded.Orgc.name == "CT Unit"
    assert BODY_AR in json.dumps(event, ensure_ascii=False)
    with factory() as db:
        details = db.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.action == "export", AuditEntry.object_id == str(rid)
            )
        ).all()
    assert len(details) == 2
    assert all(json.loads(d or "{}")["format"] == "misp" for d in details)


@pytest.mark.parametrize(
    ("marking", "tag", "distribution"),
    [
        ("TLP:CLEAR", "tlp:clear", 3),
        ("TLP:GREEN", "tlp:green", 2),
        ("TLP:AMBER+STRICT", "tlp:amber+strict", 0),
        ("TLP:RED", "tlp:red", 0),
    ],
)
def test_marking_gives_tag_and_distribution(
    world: World, factory: sessionmaker[Session], marking: str, tag: str, distribution: int
) -> None:
    rid = new_report(factory, world, report_in(marking))
    loaded = load_event(export(factory, world, rid, "analyst"))
    assert loaded.tags[0].name == tag
    assert int(loaded.distribution) == distribution


def test_europol_grade_has_no_admiralty_tags(world: World, factory: sessionmaker[Session]) -> None:
    rid = new_report(
        factory,
        world,
        report_in("TLP:GREEN", grading_scheme="europol", reliability="X", credibility=4),
    )
    loaded = load_event(export(factory, world, rid, "analyst"))
    assert [t.name for t in loaded.tags] == ["tlp:green"]
    grade = [a for a in loaded.attributes if a.comment == "grade (europol scheme)"]
    assert grade[0].value == "X4"


def test_reader_who_may_not_see_gets_not_found(
    world: World, factory: sessionmaker[Session]
) -> None:
    rid = new_report(factory, world, report_in("TLP:AMBER"))
    with factory() as db, pytest.raises(NotFound):
        misp.report_event(db, world.actor("partner"), rid)


def test_feed_directory_agrees_with_pymisp(
    world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    add_liaison(factory)
    agreement(factory, world, markings=("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"))
    ids = [
        released(factory, world, "TLP:CLEAR", "تقرير عام"),
        released(factory, world, "TLP:GREEN", "تقرير أخضر"),
        released(factory, world, "TLP:AMBER", "تقرير كهرماني"),
    ]
    new_report(factory, world, report_in("TLP:RED", title="سري"))  # never in a feed
    new_report(factory, world, report_in("TLP:GREEN", title="مسودة"))  # not released
    with factory.begin() as db:
        partner = world.actor("partner")
        assert misp.feed_report_ids(db, partner) == ids
        assert misp.feed_report_ids(db, world.actor("analyst")) == ids
        manifest = misp.feed_directory(db, partner, ids, tmp_path / "feed")
    feed = tmp_path / "feed"
    assert json.loads((feed / "manifest.json").read_text(encoding="utf-8")) == manifest
    assert set(manifest) == {misp.event_uuid(i) for i in ids}
    expected_hashes: list[str] = []
    for uid, entry in manifest.items():
        loaded = MISPEvent()
        loaded.load_file(str(feed / f"{uid}.json"))
        assert loaded.uuid == uid
        assert loaded.published is True
        pymisp_entry = loaded.manifest[uid]
        assert pymisp_entry["info"] == entry["info"]
        assert pymisp_entry["date"] == entry["date"]
        assert str(pymisp_entry["timestamp"]) == entry["timestamp"]
        assert [t["name"] for t in pymisp_entry["Tag"]] == [t["name"] for t in entry["Tag"]]
        assert pymisp_entry["Orgc"]["name"] == entry["Orgc"]["name"]
        expected_hashes += [f"{h},{uid}" for h in loaded.attributes_hashes("md5")]
    lines = (feed / "hashes.csv").read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted(expected_hashes)
    assert "تقرير كهرماني" in (feed / f"{misp.event_uuid(ids[2])}.json").read_text("utf-8")


def test_feed_refuses_red_and_amber_strict(
    world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    for marking in ("TLP:RED", "TLP:AMBER+STRICT"):
        rid = new_report(factory, world, report_in(marking))
        with factory() as db, pytest.raises(Forbidden, match="never leaves this server"):
            misp.feed_directory(db, world.actor("analyst"), [rid], tmp_path / "feed")
    assert not (tmp_path / "feed").exists()


def test_cli_export_misp_and_feed(
    world: World, factory: sessionmaker[Session], cli_env: Settings, tmp_path: Path
) -> None:
    add_liaison(factory)
    agreement(factory, world)
    rid = released(factory, world, "TLP:GREEN", "قارب تهريب أسلحة — المكلا")
    red = new_report(factory, world, report_in("TLP:RED"))
    runner = CliRunner()
    out = runner.invoke(cli_app, ["intel", "export-misp", str(rid), "--as", "analyst"])
    assert out.exit_code == 0, out.stderr
    assert BODY_AR in out.stdout  # Arabic printed as Arabic
    assert load_event(json.loads(out.stdout)).tags[0].name == "tlp:green"

    refused = runner.invoke(cli_app, ["intel", "export-misp", str(red), "--as", "observer"])
    assert refused.exit_code != 0
    assert "No intel_report with id" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    feed = tmp_path / "feed"
    done = runner.invoke(
        cli_app, ["intel", "export-misp-feed", "--out", str(feed), "--as", "partner"]
    )
    assert done.exit_code == 0, done.stderr
    assert set(json.loads((feed / "manifest.json").read_text("utf-8"))) == {misp.event_uuid(rid)}

    no = runner.invoke(
        cli_app,
        ["intel", "export-misp-feed", "--out", str(tmp_path / "x"), "--report", str(red)],
    )
    assert no.exit_code != 0
    assert "never leaves this server" in no.stderr
