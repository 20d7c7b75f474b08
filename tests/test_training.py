"""Training: the vetting gate on every path, capacity, overlaps, computed expiry, flags after
a changed decision, and the CLI interfaces checked from outside."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.core.settings import Settings
from rasid.training import service
from rasid.training.models import Enrolment
from tests.conftest import World

TODAY = date.today()


def test_the_gate_refuses_with_the_reason_and_enrols_the_vetted(
    world: World, factory: sessionmaker[Session], plan: dict[str, int]
) -> None:
    officer = world.actor("analyst")
    cases = [
        ("badr", "session", Forbidden, "Unit 2 is denied"),  # a denied unit blocks its members
        ("noor", "session", Forbidden, "no approved vetting"),  # never vetted
        ("ali", "late", Forbidden, "no approved vetting covering"),  # expires before the end
    ]
    for person, session, error, says in cases:
        with factory.begin() as db, pytest.raises(error) as refused:
            service.enrol(db, officer, plan[session], plan[person])
        assert says in refused.value.message, refused.value.message
    with factory.begin() as db:
        service.enrol(db, officer, plan["session"], plan["ali"])
        service.enrol(db, officer, plan["session"], plan["salem"])
    with factory.begin() as db, pytest.raises(Conflict, match="already enrolled"):
        service.enrol(db, officer, plan["session"], plan["ali"])
    with factory.begin() as db, pytest.raises(Conflict, match="same time"):
        service.enrol(db, officer, plan["clash"], plan["ali"])
    with factory() as db:
        rows = {r.session.id: r.enrolled for r in service.list_sessions(db, officer)}
        assert rows[plan["session"]] == 2
        assert len(db.scalars(select(Enrolment)).all()) == 2  # nothing half-saved


def test_capacity_expiry_and_flags_after_a_changed_decision(
    world: World, factory: sessionmaker[Session], plan: dict[str, int]
) -> None:
    officer = world.actor("analyst")
    with factory.begin() as db:
        for key in ("ali", "salem"):
            service.enrol(db, officer, plan["session"], plan[key])
        nid = service.create_person(
            db,
            officer,
            name_ar="هاني",
            name_latin="Hani",
            national_id="NID-h",
            unit_id=plan["good"],
        ).id
        service.record_vetting(
            db,
            officer,
            ref="P-h",
            person_id=nid,
            status="approved",
            requested_on=TODAY - timedelta(days=40),
            decided_on=TODAY - timedelta(days=30),
        )
    with factory.begin() as db, pytest.raises(Conflict, match="full"):
        service.enrol(db, officer, plan["session"], nid)
    with factory() as db:
        person = service.list_personnel(db, officer)[0]
        status, until = service.person_vetting(db, person, TODAY)
        assert status == "approved" and until is not None
        assert service.person_vetting(db, person, until + timedelta(days=1))[0] == "expired"
    # the unit is suspended after enrolment: both trainees are flagged, and stay refused
    with factory.begin() as db:
        service.record_vetting(
            db,
            officer,
            ref="U-1",
            unit_id=plan["good"],
            status="suspended",
            requested_on=TODAY - timedelta(days=40),
            decided_on=TODAY,
        )
    with factory() as db:
        flagged = service.flagged_enrolments(db, officer)
        assert len(flagged) == 2 and all("U-1 is now suspended" in e.flag_reason for e in flagged)
        enrolment_id = flagged[0].id
    with factory.begin() as db, pytest.raises(Forbidden, match="suspended"):
        service.set_status(db, officer, enrolment_id, "attended")
    with factory() as db:
        flags = db.scalars(select(AuditEntry).where(AuditEntry.action == "flag")).all()
        assert len(flags) == 2


def test_bad_vetting_input_and_who_must_not_see(
    world: World, factory: sessionmaker[Session], plan: dict[str, int]
) -> None:
    officer = world.actor("analyst")
    with factory.begin() as db:
        with pytest.raises(ValidationFailed) as typed:
            service.record_vetting(
                db, officer, ref="X", person_id=plan["ali"], status="expired", requested_on=TODAY
            )
        assert typed.value.field == "status"  # expiry is computed, never typed
        with pytest.raises(ValidationFailed) as undated:
            service.record_vetting(
                db, officer, ref="X", person_id=plan["ali"], status="approved", requested_on=TODAY
            )
        assert undated.value.field == "decided_on"
        with pytest.raises(Conflict):
            service.create_person(
                db, officer, name_ar="x", national_id="NID-ali", unit_id=plan["good"]
            )
    with factory() as db:
        # TLP:AMBER of moi-ct: the partner and the coast guard see no personnel or sessions
        for who in ("partner", "watch", "observer"):
            assert service.list_personnel(db, world.actor(who)) == []
            assert service.list_sessions(db, world.actor(who)) == []
    with factory.begin() as db, pytest.raises(NotFound):
        service.enrol(db, world.actor("watch"), plan["session"], plan["ali"])


def test_cli_interfaces(world: World, cli_env: Settings, plan: dict[str, int]) -> None:
    runner = CliRunner()
    sessions = json.loads(
        runner.invoke(app, ["training", "sessions", "list", "--json", "--as", "analyst"]).stdout
    )
    first = next(s for s in sessions if s["id"] == plan["session"])
    assert set(first) == {"id", "course", "start", "end", "capacity", "enrolled"}
    assert (first["course"], first["capacity"], first["enrolled"]) == (
        "Maritime incident investigation",
        2,
        0,
    )
    people = json.loads(
        runner.invoke(app, ["training", "personnel", "list", "--json", "--as", "analyst"]).stdout
    )
    badr = next(p for p in people if p["id"] == plan["badr"])
    assert set(badr) == {
        "id",
        "name_ar",
        "name_latin",
        "unit",
        "vetting_status",
        "vetting_valid_until",
    }
    assert (badr["unit"], badr["vetting_status"]) == ("Unit 2", "approved")
    refused = runner.invoke(
        app, ["training", "enrol", str(plan["session"]), str(plan["badr"]), "--as", "analyst"]
    )
    assert refused.exit_code == 1
    assert len(refused.stderr.strip().splitlines()) == 1 and "Unit 2" in refused.stderr
    ok = runner.invoke(
        app, ["training", "enrol", str(plan["session"]), str(plan["ali"]), "--as", "analyst"]
    )
    assert ok.exit_code == 0, ok.stderr
    again = json.loads(
        runner.invoke(app, ["training", "sessions", "list", "--json", "--as", "analyst"]).stdout
    )
    assert next(s for s in again if s["id"] == plan["session"])["enrolled"] == 1


def test_api_enrol_refusal_names_the_reason_and_is_audited(
    world: World, factory: sessionmaker[Session], plan: dict[str, int], client: object
) -> None:
    from fastapi.testclient import TestClient

    from rasid.identity import service as identity

    assert isinstance(client, TestClient)
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), "analyst").plaintext
    auth = {"Authorization": f"Bearer {token}"}
    refused = client.post(
        "/api/v1/training/enrolments",
        json={"session_id": plan["session"], "person_id": plan["noor"]},
        headers=auth,
    )
    assert (
        refused.status_code == 403 and "no approved vetting" in refused.json()["error"]["message"]
    )
    made = client.post(
        "/api/v1/training/enrolments",
        json={"session_id": plan["session"], "person_id": plan["ali"]},
        headers=auth,
    )
    assert made.status_code == 201 and made.json()["status"] == "enrolled"
    invited = client.post(
        f"/api/v1/training/enrolments/{made.json()['id']}/status",
        json={"status": "invited"},
        headers=auth,
    )
    assert invited.status_code == 200 and invited.json()["status"] == "invited"
    listed = client.get("/api/v1/training/sessions", headers=auth).json()
    assert next(s for s in listed if s["id"] == plan["session"])["enrolled"] == 1
    with factory.begin() as db:
        partner = identity.create_token(db, world.actor("admin"), "partner").plaintext
    assert (
        client.get(
            "/api/v1/training/personnel", headers={"Authorization": f"Bearer {partner}"}
        ).json()
        == []
    )
    with factory() as db:
        refusals = db.scalars(
            select(AuditEntry).where(
                AuditEntry.outcome == "refused", AuditEntry.username == "analyst"
            )
        ).all()
        assert any("training/enrolments" in (r.detail or "") for r in refusals)
    hidden = client.post(
        "/api/v1/training/enrolments",
        json={"session_id": plan["session"], "person_id": plan["ali"]},
        headers={"Authorization": f"Bearer {partner}"},
    )
    assert hidden.status_code == 404
    with factory() as db:
        by_partner = db.scalars(
            select(AuditEntry).where(
                AuditEntry.outcome == "refused", AuditEntry.username == "partner"
            )
        ).all()
        assert len(by_partner) == 1  # audited once, not again by the unit of work


def test_attendance_results_certificate_and_public_verification(
    world: World, factory: sessionmaker[Session], plan: dict[str, int], client: object
) -> None:

    from fastapi.testclient import TestClient

    from rasid.training import certificates

    assert isinstance(client, TestClient)
    officer = world.actor("analyst")
    with factory.begin() as db:
        eid = service.enrol(db, officer, plan["session"], plan["ali"]).id
        other = service.enrol(db, officer, plan["session"], plan["salem"]).id
    with factory.begin() as db:
        session_start = TODAY + timedelta(days=10)
        with pytest.raises(ValidationFailed) as outside:
            certificates.record_attendance(db, officer, eid, TODAY, True)
        assert outside.value.field == "day"
        with pytest.raises(ValidationFailed) as absent:
            certificates.record_result(db, officer, other, 50, True)  # never attended
        assert absent.value.field == "attendance"
        certificates.record_attendance(db, officer, eid, session_start, True)
        done = certificates.record_result(db, officer, eid, 87.5, True)
        code = done.certificate_code
        assert done.status == "completed" and code and len(code) == 12
        assert done.certificate_valid_until is not None  # 24 months after the end
    with factory.begin() as db, pytest.raises(Conflict):
        certificates.record_result(db, officer, eid, 90, True)
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200 and 'data-valid="yes"' in page.text
    assert "Maritime incident investigation" in page.text and "علي" in page.text
    assert "NID-ali" not in page.text and "Unit 1" not in page.text  # nothing else exposed
    assert client.get("/verify/AAAAAAAAAAAA").status_code == 404
    with factory() as db:
        verifications = db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "training_certificate")
        ).all()
        assert sorted(v.outcome for v in verifications) == ["not_found", "ok"]
    with factory.begin() as db:
        pdf = certificates.certificate_pdf(db, officer, eid, "https://rasid.example")
        assert pdf.startswith(b"%PDF")
        with pytest.raises(ValidationFailed):
            certificates.certificate_pdf(db, officer, other, "https://rasid.example")
    # a suspension after enrolment stops attendance being recorded
    with factory.begin() as db:
        service.record_vetting(
            db,
            officer,
            ref="P-salem",
            person_id=plan["salem"],
            status="suspended",
            requested_on=TODAY - timedelta(days=40),
            decided_on=TODAY,
        )
    with factory.begin() as db, pytest.raises(Forbidden):
        certificates.record_attendance(db, officer, other, TODAY + timedelta(days=11), True)


def test_due_lists_trained_counts_and_roster(
    world: World,
    factory: sessionmaker[Session],
    plan: dict[str, int],
    cli_env: Settings,
    tmp_path: object,
) -> None:
    from pathlib import Path as _Path

    from rasid.training import certificates, reports

    officer = world.actor("analyst")
    with factory.begin() as db:
        eid = service.enrol(db, officer, plan["session"], plan["ali"]).id
        service.enrol(db, officer, plan["session"], plan["salem"])
        certificates.record_attendance(db, officer, eid, TODAY + timedelta(days=10), True)
        certificates.record_result(db, officer, eid, 90, True)
    with factory() as db:
        soon = reports.due(db, officer, days=60)
        assert soon["certificates_expiring"] == []  # valid for 24 months
        later = reports.due(db, officer, days=800)
        assert [c["person_id"] for c in later["certificates_expiring"]] == [plan["ali"]]
        assert [c["person_id"] for c in later["refreshers_due"]] == [plan["ali"]]
        # every approval (decided 30 days ago, 12 months) falls within a year
        expiring = {
            v.get("person_id") or v.get("unit")
            for v in reports.due(db, officer, days=365)["vetting_expiring"]
        }
        assert {plan["ali"], plan["salem"], plan["badr"], "Unit 1"} <= expiring
        assert "Unit 2" not in expiring  # denied, not an approval
        counts = reports.trained(db, officer)
        assert counts["course"] == {"Maritime incident investigation": 1} and counts["unit"] == {
            "Unit 1": 1
        }
        assert reports.due(db, world.actor("partner"), days=800)["certificates_expiring"] == []
    out = _Path(str(tmp_path)) / "roster.csv"
    result = CliRunner().invoke(
        app, ["training", "roster", str(plan["session"]), "--out", str(out), "--as", "analyst"]
    )
    assert result.exit_code == 0, result.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 3 and lines[0].startswith("session_id,course")
    assert "NID-" not in out.read_text(encoding="utf-8-sig")  # no national IDs for the partner
    due = json.loads(
        CliRunner()
        .invoke(app, ["training", "due", "--days", "800", "--json", "--as", "analyst"])
        .stdout
    )
    assert set(due) == {"certificates_expiring", "refreshers_due", "vetting_expiring"}
