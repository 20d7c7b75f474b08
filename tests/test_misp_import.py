"""MISP import: events and feeds into draft reports, idempotent by event uuid, all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.cli import app as cli_app
from rasid.core.errors import Forbidden, ValidationFailed
from rasid.core.settings import Settings
from rasid.intel import misp_import, service
from rasid.intel.models import Report, StixOrigin
from tests.conftest import World
from tests.test_intel import BODY_AR, add_liaison, agreement, new_report, report_in
from tests.test_intel_stix import EVERY_KIND

BODY_EN = "An arms smuggling skiff was sighted off Mukalla."
UUID = "5f1c0c8e-2a57-4e0c-9b8a-1d2e3f4a5b6c"


def _event(**extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "uuid": UUID,
        "info": "قارب مشبوه — الحديدة",
        "timestamp": "1700000000",
        "Tag": [{"name": "tlp:white"}],
        "Attribute": [
            {"type": "ip-dst", "value": "192.0.2.9"},
            {"type": "hostname", "value": "c2.example.net"},
            {"type": "domain|ip", "value": "example.org|198.51.100.4"},
            {"type": "filename|sha1", "value": "a.exe|da39a3ee5e6b4b0d3255bfef95601890afd80709"},
            {"type": "email", "value": "boss@example.com"},
            {"type": "comment", "value": "شوهد القارب قرب الميناء فجراً."},
            {"type": "text", "value": "Seen near the port at dawn."},
            {"type": "mutex", "value": "Global\\evil"},
            {"type": "ip-src", "value": "not-an-ip"},
        ],
        "Object": [
            {"name": "person", "Attribute": [{"type": "phone-number", "value": "777123456"}]}
        ],
    }
    event.update(extra)
    return {"Event": event}


def _report(factory: sessionmaker[Session], world: World, rid: int, user: str) -> Report:
    with factory() as db:
        report = service.get_report(db, world.actor(user), rid, audit_read=False)
        _ = report.observables
        return report


def _observables(report: Report) -> set[tuple[str, str]]:
    return {(o.kind, o.normalised) for o in report.observables}


def _import(
    factory: sessionmaker[Session],
    world: World,
    docs: list[tuple[str, Any]],
    user: str = "partner",
    recipients: list[str] | None = None,
) -> misp_import.ImportResult:
    with factory.begin() as db:
        return misp_import.import_documents(db, world.actor(user), docs, recipients)


def _count_reports(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return int(db.scalar(select(func.count()).select_from(Report)) or 0)


def test_event_becomes_a_draft_with_observables_and_unsupported_listed(
    world: World, factory: sessionmaker[Session]
) -> None:
    result = _import(factory, world, [("event.json", _event())])
    assert (result.count("created"), result.count("unchanged")) == (1, 0)
    rid = result.events[0].report_id
    assert rid is not None
    report = _report(factory, world, rid, "partner")
    assert (report.title, report.status, report.marking) == (
        "قارب مشبوه — الحديدة",
        "draft",
        "TLP:CLEAR",
    )
    assert (report.reliability, report.credibility) == ("F", 6)  # no admiralty tags
    assert report.body_ar == "شوهد القارب قرب الميناء فجراً."
    assert report.body_en == "Seen near the port at dawn."
    assert _observables(report) == {
        ("ip", "192.0.2.9"),
        ("domain", "c2.example.net"),
        ("domain", "example.org"),
        ("ip", "198.51.100.4"),
        ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("email", "boss@example.com"),
        ("phone", "+967777123456"),
    }
    skipped = {(s.type, s.value): s.reason for s in result.skipped_attributes}
    assert skipped[("mutex", "Global\\evil")] == "unsupported type"
    assert "Not an IP address" in skipped[("ip-src", "not-an-ip")]
    with factory() as db:
        origin = db.scalars(select(StixOrigin)).one()
        partner_org = world.actor("partner").org_id
        assert (origin.stix_id, origin.stix_modified, origin.source, origin.owner_org_id) == (
            f"misp-event--{UUID}",
            "1700000000",
            "misp",
            partner_org,
        )
    # the importing organisation owns it; others do not see a draft
    assert report.owner_org_id == partner_org


def test_reimport_is_idempotent_and_newer_updates_a_draft_only(
    world: World, factory: sessionmaker[Session]
) -> None:
    first = _import(factory, world, [("e.json", _event())])
    rid = first.events[0].report_id
    assert rid is not None
    again = _import(factory, world, [("e.json", _event())])
    assert again.as_dict()["unchanged"] == 1 and again.events[0].report_id == rid
    assert _report(factory, world, rid, "partner").version == 1
    older = _import(factory, world, [("e.json", _event(timestamp="1600000000", info="x"))])
    assert older.count("unchanged") == 1
    newer = _import(factory, world, [("e.json", _event(timestamp="1700000100", info="عنوان جديد"))])
    assert newer.count("updated") == 1
    report = _report(factory, world, rid, "partner")
    assert (report.title, report.version, report.status) == ("عنوان جديد", 2, "draft")
    # another organisation importing the same event gets its own report
    other = _import(factory, world, [("e.json", _event())], user="analyst")
    assert other.count("created") == 1 and other.events[0].report_id != rid
    # once approved, a newer event is skipped, with the reason
    add_liaison(factory)
    theirs = other.events[0].report_id
    assert theirs is not None
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), theirs)
    skipped = _import(factory, world, [("e.json", _event(timestamp="1800000000"))], "analyst")
    assert skipped.count("skipped") == 1 and "approved" in skipped.events[0].reason
    assert _count_reports(factory) == 2


@pytest.mark.parametrize(
    ("doc", "field", "message"),
    [
        ({"event": {}}, "Event", "e.json: the field Event is missing or empty."),
        (_event(info=" "), "Event.info", "the field Event.info is missing"),
        (_event(uuid="nope"), "Event.uuid", "nope is not a uuid"),
        (_event(timestamp=None), "Event.timestamp", "Event.timestamp is missing"),
        (
            _event(Tag=[{"name": "tlp:ex:chr"}]),
            "Event.Tag",
            "unknown TLP tag tlp:ex:chr",
        ),
        (
            _event(Tag=[{"name": 'admiralty-scale:source-reliability="z"'}]),
            "Event.Tag",
            "is not an Admiralty source reliability",
        ),
        (_event(Tag=[{"name": "tlp:red"}]), "recipients", "tagged tlp:red"),
        (
            _event(Attribute=[{"type": "ip-dst"}]),
            "Event.Attribute.0.value",
            "Event.Attribute.0.value is missing",
        ),
        (_event(info="x" * 301 + " "), "title", "longer than 300"),
    ],
)
def test_malformed_events_are_refused_naming_file_and_field(
    world: World, factory: sessionmaker[Session], doc: dict[str, Any], field: str, message: str
) -> None:
    if field == "title":  # a title of 300 characters or fewer is cut, never refused
        result = _import(factory, world, [("e.json", doc)])
        rid = result.events[0].report_id
        assert rid is not None and len(_report(factory, world, rid, "partner").title) == 300
        return
    good = ("good.json", _event(uuid="0b5a1f7e-1111-4222-8333-444455556666"))
    with pytest.raises(ValidationFailed) as refused:
        _import(factory, world, [good, ("e.json", doc)])
    assert refused.value.field == field
    assert message in refused.value.message
    assert "e.json" in refused.value.message
    assert _count_reports(factory) == 0  # the good event before it was not written either


def test_red_needs_recipients_and_grade_tags_are_read(
    world: World, factory: sessionmaker[Session]
) -> None:
    doc = _event(
        Tag=[
            {"name": "tlp:amber"},
            {"name": "tlp:red"},
            {"name": 'admiralty-scale:source-reliability="b"'},
            {"name": 'admiralty-scale:information-credibility="3"'},
        ]
    )
    result = _import(factory, world, [("e.json", doc)], recipients=["partner"])
    rid = result.events[0].report_id
    assert rid is not None
    report = _report(factory, world, rid, "partner")
    assert (report.marking, report.reliability, report.credibility) == ("TLP:RED", "B", 3)


def test_feed_directory_errors(
    world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    with factory.begin() as db, pytest.raises(ValidationFailed, match=r"manifest\.json does not"):
        misp_import.import_path(db, world.actor("partner"), feed)
    (feed / "manifest.json").write_text(json.dumps({UUID: {}}), encoding="utf-8")
    with factory.begin() as db, pytest.raises(ValidationFailed, match=rf"{UUID}\.json does not"):
        misp_import.import_path(db, world.actor("partner"), feed)
    (feed / f"{UUID}.json").write_text('{"Event": {"uuid": ', encoding="utf-8")
    with factory.begin() as db, pytest.raises(ValidationFailed, match="is not valid JSON"):
        misp_import.import_path(db, world.actor("partner"), feed)
    (feed / f"{UUID}.json").write_text(json.dumps(_event(), ensure_ascii=False), "utf-8")
    with factory.begin() as db:
        result = misp_import.import_path(db, world.actor("partner"), feed)
    assert result.count("created") == 1
    with factory.begin() as db, pytest.raises(Forbidden, match="write"):
        misp_import.import_path(db, world.actor("auditor"), feed)


def _same(a: Report, b: Report) -> None:
    assert (a.title, a.summary, a.body_ar, a.body_en, a.marking) == (
        b.title,
        b.summary,
        b.body_ar,
        b.body_en,
        b.marking,
    )
    assert (a.grading_scheme, a.reliability, a.credibility) == (
        b.grading_scheme,
        b.reliability,
        b.credibility,
    )
    assert _observables(a) == _observables(b)


def test_round_trip_of_our_export_and_feed(
    world: World, factory: sessionmaker[Session], cli_env: Settings, tmp_path: Path
) -> None:
    add_liaison(factory)
    agreement(factory, world)
    rid = new_report(
        factory,
        world,
        report_in("TLP:GREEN", body_en=BODY_EN, observables=EVERY_KIND),
    )
    europol = new_report(
        factory,
        world,
        report_in(
            "TLP:GREEN",
            title="Europol graded",
            grading_scheme="europol",
            reliability="X",
            credibility=4,
        ),
    )
    with factory.begin() as db:
        for r in (rid, europol):
            service.approve_report(db, world.actor("liaison"), r)
            service.release_report(db, world.actor("liaison"), r, ["partner"])
    runner = CliRunner()
    out = runner.invoke(cli_app, ["intel", "export-misp", str(rid), "--as", "analyst"])
    assert out.exit_code == 0, out.stderr
    event_file = tmp_path / "event.json"
    event_file.write_text(out.stdout, encoding="utf-8")
    done = runner.invoke(
        cli_app, ["intel", "import-misp", str(event_file), "--as", "partner", "--json"]
    )
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["created"], result["skipped_attributes"]) == (1, [])
    copy = result["events"][0]["report_id"]
    original = _report(factory, world, rid, "analyst")
    imported = _report(factory, world, copy, "partner")
    _same(imported, original)
    assert imported.owner_org_id != original.owner_org_id and imported.status == "draft"
    assert imported.body_ar == BODY_AR

    feed = tmp_path / "feed"
    written = runner.invoke(
        cli_app, ["intel", "export-misp-feed", "--out", str(feed), "--as", "analyst"]
    )
    assert written.exit_code == 0, written.stderr
    text = runner.invoke(cli_app, ["intel", "import-misp", str(feed), "--as", "partner"])
    assert text.exit_code == 0, text.stderr
    # the event imported from the file is the same uuid and timestamp: unchanged
    assert "2 events: 1 created, 0 updated, 1 unchanged, 0 skipped" in text.stdout
    assert "0 attributes not imported" in text.stdout
    with factory() as db:
        copies = db.scalars(select(Report).where(Report.title == "Europol graded")).all()
        assert sorted(r.owner_org_id for r in copies) == sorted(
            {world.actor("analyst").org_id or 0, world.actor("partner").org_id or 0}
        )
    ours = next(r for r in copies if r.id != europol)
    _same(_report(factory, world, ours.id, "partner"), _report(factory, world, europol, "analyst"))
    again = runner.invoke(cli_app, ["intel", "import-misp", str(feed), "--as", "partner"])
    assert "2 events: 0 created, 0 updated, 2 unchanged, 0 skipped" in again.stdout

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_event(Tag=[{"name": "tlp:purple"}])), encoding="utf-8")
    refused = runner.invoke(cli_app, ["intel", "import-misp", str(bad), "--as", "partner"])
    assert refused.exit_code != 0
    assert "bad.json: unknown TLP tag tlp:purple" in refused.stderr
    assert "(field: Event.Tag)" in refused.stderr
