"""Intel reports, releases under sharing agreements and RFIs, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.actor import system_actor
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.identity import service as identity
from rasid.intel import service
from rasid.intel.models import RFI
from rasid.intel.schemas import (
    AgreementIn,
    ObservableIn,
    ReportIn,
    ReportLinkIn,
    RFIAnswerIn,
    RFIIn,
)
from rasid.registry import service as registry
from rasid.registry.schemas import EntityIn, NameIn
from tests.conftest import PASSWORD, World

BODY_AR = "رصد قارب يحمل أسلحة قبالة ساحل المكلا، ويُعتقد أنه تابع لشبكة تهريب."


def add_liaison(factory: sessionmaker[Session], username: str = "liaison") -> None:
    with factory.begin() as db:
        identity.create_user(
            db,
            system_actor(),
            username=username,
            org_slug="moi-ct",
            roles=["liaison"],
            password=PASSWORD,
        )


def report_in(marking: str = "TLP:AMBER", **extra: object) -> ReportIn:
    data: dict[str, object] = {
        "title": "قارب تهريب أسلحة — المكلا",
        "summary": "Arms smuggling skiff sighted off Mukalla.",
        "body_ar": BODY_AR,
        "reliability": "B",
        "credibility": 2,
        "marking": marking,
    }
    data.update(extra)
    return ReportIn.model_validate(data)


def new_report(
    factory: sessionmaker[Session], world: World, data: ReportIn, username: str = "analyst"
) -> int:
    with factory.begin() as db:
        return service.create_report(db, world.actor(username), data).id


def agreement(
    factory: sessionmaker[Session],
    world: World,
    partner: str = "partner",
    markings: tuple[str, ...] = ("TLP:AMBER", "TLP:GREEN"),
    record_types: tuple[str, ...] = ("report",),
) -> int:
    with factory.begin() as db:
        return service.create_agreement(
            db,
            world.actor("admin"),
            AgreementIn(
                partner_org=partner, markings=list(markings), record_types=list(record_types)
            ),
        ).id


def audit_actions(factory: sessionmaker[Session], object_type: str, object_id: int) -> list[str]:
    with factory() as db:
        rows = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.seq)
        ).all()
        return [f"{r.action}:{r.outcome}" for r in rows if r.action != "read"]


def test_report_lifecycle_approval_release_and_versions(
    world: World, factory: sessionmaker[Session]
) -> None:
    add_liaison(factory)
    rid = new_report(factory, world, report_in())
    with factory() as db:
        report = service.get_report(db, world.actor("analyst"), rid)
        assert (report.body_ar, report.status, report.version) == (BODY_AR, "draft", 1)
        # the partner sees nothing of a draft
        with pytest.raises(NotFound):
            service.get_report(db, world.actor("partner"), rid)

    # approval: not by the author, not by a non-liaison, not by another org's liaison
    add_liaison(factory, "author-liaison")
    own = new_report(factory, world, report_in(), username="author-liaison")
    with factory.begin() as db:
        with pytest.raises(Forbidden, match="other than its author"):
            service.approve_report(db, world.actor("author-liaison"), own)
        with pytest.raises(Forbidden, match="liaison officer"):
            service.approve_report(db, world.actor("analyst2"), rid)
        with pytest.raises(NotFound):
            service.approve_report(db, world.actor("partner"), rid)
        # release before approval is refused
        with pytest.raises(Conflict, match="approved"):
            service.release_report(db, world.actor("liaison"), rid, ["partner"])
    with factory.begin() as db:
        approved = service.approve_report(db, world.actor("liaison"), rid)
        assert approved.status == "approved"
    # editing an approved report sends it back to draft
    with factory.begin() as db:
        edited = service.update_report(
            db, world.actor("analyst"), rid, report_in(body_en="Skiff seen at dawn.")
        )
        assert (edited.status, edited.approved_by) == ("draft", None)
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
        with pytest.raises(Conflict, match="Only a draft"):
            service.approve_report(db, world.actor("liaison"), rid)

    # release without an agreement: refused, naming the marking and the organisation
    with factory.begin() as db, pytest.raises(Forbidden) as refused:
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    assert "TLP:AMBER" in refused.value.message
    assert "partner" in refused.value.message
    assert refused.value.field == "to"
    # an analyst may not release at all
    agreement(factory, world)
    with factory.begin() as db, pytest.raises(Forbidden, match="release"):
        service.release_report(db, world.actor("analyst"), rid, ["partner"])
    with factory() as db, pytest.raises(NotFound):
        service.get_report(db, world.actor("partner"), rid)
    with factory.begin() as db:
        released = service.release_report(db, world.actor("liaison"), rid, ["partner"])
        assert released.status == "released"
    with factory() as db:
        seen = service.get_report(db, world.actor("partner"), rid)
        assert seen.body_ar == BODY_AR
        ids = [
            r.id
            for r in service.list_reports(db, world.actor("partner"), service.ReportFilter())[0]
        ]
        assert ids == [rid]
        # the coast guard (same server, no release) and the observer do not see it
        for other in ("watch", "observer"):
            with pytest.raises(NotFound):
                service.get_report(db, world.actor(other), rid)
        history = service.versions(db, world.actor("analyst"), rid)
        assert [v.action for v in history] == ["release", "approve", "update", "approve", "create"]
        assert [v.version for v in history] == [5, 4, 3, 2, 1]
        with pytest.raises(Forbidden):
            service.versions(db, world.actor("partner"), rid)
    # a revision withdraws the report from the partner until a liaison officer approves it
    with factory.begin() as db:
        revised = service.update_report(
            db, world.actor("analyst"), rid, report_in(title="Revised title")
        )
        assert revised.status == "draft"
    with factory() as db, pytest.raises(NotFound):
        service.get_report(db, world.actor("partner"), rid)
    with factory.begin() as db:
        again = service.approve_report(db, world.actor("liaison"), rid)
        assert again.status == "released"
        assert list(service.org_slugs(db, set(service.released_org_ids(db, rid))).values()) == [
            "partner"
        ]
    with factory() as db:
        assert service.get_report(db, world.actor("partner"), rid).title == "Revised title"
    assert audit_actions(factory, "intel_report", rid) == [
        "create:ok",
        "approve:ok",
        "update:ok",
        "approve:ok",
        "release:ok",
        "update:ok",
        "approve:ok",
    ]


@pytest.mark.parametrize("marking", ["TLP:RED", "TLP:AMBER+STRICT"])
def test_red_and_amber_strict_are_never_released(
    world: World, factory: sessionmaker[Session], marking: str
) -> None:
    add_liaison(factory)
    extra = {"recipients": ["liaison"]} if marking == "TLP:RED" else {}
    rid = new_report(factory, world, report_in(marking, **extra))
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
    with factory.begin() as db, pytest.raises(ValidationFailed, match="never flows"):
        service.create_agreement(
            db,
            world.actor("admin"),
            AgreementIn(partner_org="partner", markings=[marking], record_types=["report"]),
        )
    agreement(factory, world)
    with factory.begin() as db, pytest.raises(Forbidden, match="never released") as refused:
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    assert marking in refused.value.message


def test_green_release_needs_an_agreement_and_expired_ones_do_not_count(
    world: World, factory: sessionmaker[Session]
) -> None:
    add_liaison(factory)
    rid = new_report(factory, world, report_in("TLP:GREEN"))
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
        service.create_agreement(
            db,
            world.actor("admin"),
            AgreementIn(
                partner_org="partner",
                markings=["green"],
                record_types=["report"],
                valid_to=date.today() - timedelta(days=30),
            ),
        )
        # an agreement for incidents only does not cover reports
        service.create_agreement(
            db,
            world.actor("admin"),
            AgreementIn(partner_org="partner", markings=["green"], record_types=["incident"]),
        )
    with factory.begin() as db, pytest.raises(Forbidden, match="TLP:GREEN reports to partner"):
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    aid = agreement(factory, world, markings=("TLP:GREEN",))
    with factory.begin() as db:
        service.deactivate_agreement(db, world.actor("admin"), aid)
    with factory.begin() as db, pytest.raises(Forbidden, match="No active sharing agreement"):
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    agreement(factory, world, markings=("TLP:GREEN",))
    with factory.begin() as db:
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    with factory() as db:
        assert service.get_report(db, world.actor("partner"), rid).status == "released"


def test_observables_are_validated_and_normalised(
    world: World, factory: sessionmaker[Session]
) -> None:
    good = [
        ObservableIn(kind="phone", value="٧٧٧ ١٢٣ ٤٥٦"),
        ObservableIn(kind="phone", value="00967 777 123 456"),  # the same number
        ObservableIn(kind="email", value="Smuggler@Example.COM"),
        ObservableIn(kind="mmsi", value="473 123 456"),
        ObservableIn(kind="imo", value="IMO 9074729"),
        ObservableIn(kind="iban", value="GB82 WEST 1234 5698 7654 32"),
        ObservableIn(kind="ip", value="2001:0db8:0000:0000:0000:0000:0000:0001"),
        ObservableIn(kind="domain", value="Example.COM."),
        ObservableIn(kind="url", value="HTTPS://Example.com/a?b=1"),
        ObservableIn(
            kind="sha256", value="E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        ),
        ObservableIn(kind="md5", value="d41d8cd98f00b204e9800998ecf8427e"),
        ObservableIn(kind="crypto", value="0x52908400098527886E0F7030069857D2E4169EE7"),
    ]
    rid = new_report(factory, world, report_in(observables=good))
    with factory() as db:
        found = {
            (o.kind, o.normalised)
            for o in service.get_report(db, world.actor("analyst"), rid).observables
        }
    assert ("phone", "+967777123456") in found
    assert len([k for k, _ in found if k == "phone"]) == 1
    assert ("email", "smuggler@example.com") in found
    assert ("iban", "GB82WEST12345698765432") in found
    assert ("ip", "2001:db8::1") in found
    assert ("domain", "example.com") in found
    assert ("url", "https://example.com/a?b=1") in found
    assert ("crypto", "0x52908400098527886e0f7030069857d2e4169ee7") in found
    bad = [
        ObservableIn(kind="iban", value="GB83 WEST 1234 5698 7654 32"),
        ObservableIn(kind="ip", value="300.1.1.1"),
        ObservableIn(kind="sha256", value="abc123"),
        ObservableIn(kind="md5", value="z" * 32),
        ObservableIn(kind="domain", value="not a domain"),
        ObservableIn(kind="url", value="javascript:alert(1)"),
        ObservableIn(kind="mmsi", value="12345"),
        ObservableIn(kind="crypto", value="hello"),
    ]
    for item in bad:
        data = report_in(observables=[good[0], item])
        with factory.begin() as db, pytest.raises(ValidationFailed) as error:
            service.create_report(db, world.actor("analyst"), data)
        assert error.value.field == "observables.1.value", item


def test_grading_schemes(world: World, factory: sessionmaker[Session]) -> None:
    europol = new_report(
        factory, world, report_in(grading_scheme="europol", reliability="x", credibility=4)
    )
    with factory() as db:
        report = service.get_report(db, world.actor("analyst"), europol)
        assert (report.grading_scheme, report.reliability, report.credibility) == (
            "europol",
            "X",
            4,
        )
    for scheme, rel, cred, field in [
        ("admiralty", "G", 2, "reliability"),
        ("admiralty", "A", 7, "credibility"),
        ("europol", "E", 1, "reliability"),
        ("europol", "A", 5, "credibility"),
    ]:
        with factory.begin() as db, pytest.raises(ValidationFailed) as error:
            service.create_report(
                db,
                world.actor("analyst"),
                report_in(grading_scheme=scheme, reliability=rel, credibility=cred),
            )
        assert error.value.field == field


def test_links_to_registry_records_follow_the_reader(
    world: World, factory: sessionmaker[Session]
) -> None:
    add_liaison(factory)
    with factory.begin() as db:
        shared, _ = registry.create_entity(
            db,
            world.actor("analyst"),
            EntityIn(kind="person", marking="TLP:GREEN", names=[NameIn(name="سالم باعوضة")]),
        )
        secret, _ = registry.create_entity(
            db,
            world.actor("analyst"),
            EntityIn(kind="group", marking="TLP:AMBER", names=[NameIn(name="شبكة المكلا")]),
        )
        guard, _ = registry.create_entity(
            db,
            world.actor("watch"),
            EntityIn(kind="vessel", marking="TLP:AMBER", names=[NameIn(name="Al Amal")]),
        )
        ids = (shared.id, secret.id, guard.id)
    links = [ReportLinkIn(object_type="registry_entity", object_id=i) for i in ids[:2]]
    # a record the author cannot see cannot be linked
    with factory.begin() as db, pytest.raises(ValidationFailed) as error:
        service.create_report(
            db,
            world.actor("analyst"),
            report_in(
                links=[*links, ReportLinkIn(object_type="registry_entity", object_id=ids[2])]
            ),
        )
    assert error.value.field == "links.2.object_id"
    rid = new_report(factory, world, report_in(links=links))
    agreement(factory, world)
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    with factory() as db:
        mine = service.get_report(db, world.actor("analyst"), rid)
        assert {lk.object_id for lk in service.visible_links(db, world.actor("analyst"), mine)} == {
            ids[0],
            ids[1],
        }
        theirs = service.get_report(db, world.actor("partner"), rid)
        assert [
            lk.object_id for lk in service.visible_links(db, world.actor("partner"), theirs)
        ] == [ids[0]]


def test_rfis_between_partner_and_moi_ct(world: World, factory: sessionmaker[Session]) -> None:
    add_liaison(factory)
    due = date.today() + timedelta(days=3)
    with factory.begin() as db:
        rfi = service.create_rfi(
            db,
            world.actor("partner"),
            RFIIn(
                to_org="moi-ct",
                question="ما المعروف عن القارب الذي رُصد قبالة المكلا؟",
                priority="high",
                due_date=due,
                assignee="analyst",
            ),
        )
        fid = rfi.id
        with pytest.raises(ValidationFailed) as error:
            service.create_rfi(
                db,
                world.actor("partner"),
                RFIIn(to_org="moi-ct", question="?", assignee="watch"),
            )
        assert error.value.field == "assignee"
    with factory() as db:
        for username in ("partner", "analyst", "liaison"):
            assert service.get_rfi(db, world.actor(username), fid).question
        for username in ("watch", "observer"):
            with pytest.raises(NotFound):
                service.get_rfi(db, world.actor(username), fid)
            assert service.list_rfis(db, world.actor(username)) == ([], 0)
    # the RFI becomes overdue: visible in the overdue list of both parties only
    with factory.begin() as db:
        row = db.get(RFI, fid)
        assert row is not None
        row.due_date = date.today() - timedelta(days=1)
    with factory() as db:
        assert [r.id for r in service.overdue(db, world.actor("partner"))] == [fid]
        assert [r.id for r in service.overdue(db, world.actor("analyst"))] == [fid]
        assert service.overdue(db, world.actor("watch")) == []
    # the answer links reports: only ones the answerer may see; the asker sees released ones
    rid = new_report(factory, world, report_in())
    hidden = new_report(factory, world, report_in(), username="watch")
    with factory.begin() as db:
        with pytest.raises(ValidationFailed) as error:
            service.answer_rfi(
                db, world.actor("analyst"), fid, RFIAnswerIn(answer="x", report_ids=[rid, hidden])
            )
        assert error.value.field == "report_ids.1"
        with pytest.raises(Forbidden):
            service.answer_rfi(db, world.actor("partner"), fid, RFIAnswerIn(answer="x"))
    with factory.begin() as db:
        answered = service.answer_rfi(
            db, world.actor("analyst"), fid, RFIAnswerIn(answer="انظر التقرير.", report_ids=[rid])
        )
        assert answered.status == "answered"
    with factory() as db:
        assert service.overdue(db, world.actor("partner")) == []
        row = service.get_rfi(db, world.actor("partner"), fid)
        assert service.visible_answer_reports(db, world.actor("partner"), row) == []
        assert service.visible_answer_reports(db, world.actor("analyst"), row) == [rid]
    agreement(factory, world)
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    with factory.begin() as db:
        row = service.get_rfi(db, world.actor("partner"), fid)
        assert service.visible_answer_reports(db, world.actor("partner"), row) == [rid]
        with pytest.raises(Forbidden):
            service.set_rfi_status(db, world.actor("analyst"), fid, "closed")
        assert service.set_rfi_status(db, world.actor("partner"), fid, "closed").status == "closed"
    assert audit_actions(factory, "intel_rfi", fid) == [
        "create:ok",
        "answer:ok",
        "closed:ok",
    ]


def test_agreements_are_admin_only(world: World, factory: sessionmaker[Session]) -> None:
    data = AgreementIn(partner_org="partner", markings=["TLP:AMBER"], record_types=["report"])
    for username in ("analyst", "partner", "auditor"):
        with factory.begin() as db, pytest.raises(Forbidden):
            service.create_agreement(db, world.actor(username), data)
    aid = agreement(factory, world)
    with factory.begin() as db:
        with pytest.raises(Forbidden):
            service.deactivate_agreement(db, world.actor("analyst"), aid)
        with pytest.raises(Forbidden):
            service.create_agreement(
                db,
                world.actor("admin"),
                AgreementIn(
                    from_org="partner",
                    partner_org="moi-ct",
                    markings=["TLP:AMBER"],
                    record_types=["report"],
                ),
            )
        with pytest.raises(ValidationFailed) as error:
            service.create_agreement(
                db,
                world.actor("admin"),
                AgreementIn(partner_org="partner", markings=["amber"], record_types=["cars"]),
            )
        assert error.value.field == "record_types"
    with factory() as db:
        assert [a.id for a in service.list_agreements(db, world.actor("partner"))] == [aid]
        assert service.list_agreements(db, world.actor("watch")) == []
    with factory.begin() as db:
        assert not service.deactivate_agreement(db, world.actor("admin"), aid).active
    assert audit_actions(factory, "intel_agreement", aid) == ["create:ok", "deactivate:ok"]


def test_intel_api(world: World, factory: sessionmaker[Session], client: TestClient) -> None:
    add_liaison(factory)
    with factory.begin() as db:
        tokens = {
            u: identity.create_token(db, world.actor("admin"), u).plaintext
            for u in ("analyst", "liaison", "partner", "admin", "watch")
        }
    auth = {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}
    made = client.post(
        "/api/v1/intel/reports",
        headers=auth["analyst"],
        json={
            "title": "تهريب",
            "body_ar": BODY_AR,
            "reliability": "B",
            "credibility": 2,
            "observables": [
                {"kind": "phone", "value": "777123456"},
                {"kind": "ip", "value": "10.0.0.999"},
            ],
        },
    )
    assert made.status_code == 422
    assert made.json()["error"]["field"] == "observables.1.value"
    made = client.post(
        "/api/v1/intel/reports",
        headers=auth["analyst"],
        json={
            "title": "تهريب",
            "body_ar": BODY_AR,
            "reliability": "B",
            "credibility": 2,
            "observables": [{"kind": "phone", "value": "777123456"}],
        },
    )
    assert made.status_code == 201, made.text
    body = made.json()
    rid = body["id"]
    assert (body["grade"], body["status"], body["author"]) == ("B2", "draft", "analyst")
    assert body["observables"][0]["normalised"] == "+967777123456"
    same = client.post(f"/api/v1/intel/reports/{rid}/approve", headers=auth["analyst"])
    assert same.status_code == 403
    assert (
        client.post(f"/api/v1/intel/reports/{rid}/approve", headers=auth["liaison"]).json()[
            "status"
        ]
        == "approved"
    )
    refused = client.post(
        f"/api/v1/intel/reports/{rid}/release", headers=auth["liaison"], json={"to": ["partner"]}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "No active sharing agreement lets moi-ct release TLP:AMBER reports to partner."
    )
    assert client.get(f"/api/v1/intel/reports/{rid}", headers=auth["partner"]).status_code == 404
    denied = client.post(
        "/api/v1/intel/agreements",
        headers=auth["analyst"],
        json={"partner_org": "partner", "markings": ["TLP:AMBER"], "record_types": ["report"]},
    )
    assert denied.status_code == 403
    created = client.post(
        "/api/v1/intel/agreements",
        headers=auth["admin"],
        json={"partner_org": "partner", "markings": ["TLP:AMBER"], "record_types": ["report"]},
    )
    assert created.status_code == 201, created.text
    released = client.post(
        f"/api/v1/intel/reports/{rid}/release", headers=auth["liaison"], json={"to": ["partner"]}
    )
    assert released.status_code == 200, released.text
    assert released.json()["released_to"] == ["partner"]
    seen = client.get(f"/api/v1/intel/reports/{rid}", headers=auth["partner"])
    assert seen.status_code == 200 and seen.json()["body_ar"] == BODY_AR
    assert client.get(f"/api/v1/intel/reports/{rid}", headers=auth["watch"]).status_code == 404
    versions = client.get(f"/api/v1/intel/reports/{rid}/versions", headers=auth["analyst"]).json()
    assert [v["action"] for v in versions] == ["release", "approve", "create"]
    assert audit_actions(factory, "intel_report", rid) == [
        "create:ok",
        "approve:refused",
        "approve:ok",
        "release:refused",
        "access.refused:refused",  # the partner asked before the release
        "release:ok",
        "access.refused:refused",  # the coast guard was never given it
    ]
    rfi = client.post(
        "/api/v1/intel/rfis",
        headers=auth["partner"],
        json={
            "to_org": "moi-ct",
            "question": "Who owns the skiff?",
            "due_date": str(date.today() + timedelta(days=3)),
        },
    )
    assert rfi.status_code == 201, rfi.text
    fid = rfi.json()["id"]
    assert client.get(f"/api/v1/intel/rfis/{fid}", headers=auth["watch"]).status_code == 404
    answered = client.post(
        f"/api/v1/intel/rfis/{fid}/answer",
        headers=auth["analyst"],
        json={"answer": "See the report.", "report_ids": [rid]},
    )
    assert answered.json()["status"] == "answered"
    theirs = client.get("/api/v1/intel/rfis", headers=auth["partner"]).json()
    assert [(r["id"], r["report_ids"]) for r in theirs] == [(fid, [rid])]
    assert client.get("/api/v1/intel/rfis/overdue", headers=auth["partner"]).json() == []
    agreements = client.get("/api/v1/intel/agreements", headers=auth["partner"]).json()
    assert [(a["from_org"], a["partner_org"]) for a in agreements] == [("moi-ct", "partner")]
