"""The training API: a session with its enrolments, attendance and results through the
vetting gate (a suspension stops both, the refusal named and audited once), the certificate
(code, PDF, public verification), due lists, trained figures, the roster, personnel found
across scripts, vetting decisions, and what another organisation must not see."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.identity import service as identity
from rasid.training import certificates, service
from rasid.training.models import TrainingSession
from tests.conftest import World

TODAY = date.today()
API = "/api/v1/training"


def _auth(world: World, factory: sessionmaker[Session], username: str) -> dict[str, str]:
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), username).plaintext
    return {"Authorization": f"Bearer {token}"}


def _error(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def _refusals(factory: sessionmaker[Session], username: str) -> Counter[str]:
    """The refusals audited for a user, counted by request path."""
    with factory() as db:
        rows = db.scalars(
            select(AuditEntry).where(
                AuditEntry.outcome == "refused", AuditEntry.username == username
            )
        ).all()
        return Counter(str(json.loads(r.detail or "{}").get("path")) for r in rows)


def _start(factory: sessionmaker[Session], session_id: int) -> date:
    with factory() as db:
        session = db.get(TrainingSession, session_id)
        assert session is not None
        return session.start_date


def test_attendance_results_certificate_and_reports(
    world: World, factory: sessionmaker[Session], plan: dict[str, int], client: TestClient
) -> None:
    officer = _auth(world, factory, "analyst")
    sid = plan["session"]
    start = _start(factory, sid)
    ids = {}
    for key in ("ali", "salem"):
        made = client.post(
            f"{API}/enrolments", json={"session_id": sid, "person_id": plan[key]}, headers=officer
        )
        assert made.status_code == 201, made.text
        ids[key] = made.json()["id"]
    detail = client.get(f"{API}/sessions/{sid}", headers=officer)
    assert detail.status_code == 200
    body = detail.json()
    assert (body["capacity"], body["enrolled"], body["venue"]) == (2, 2, "عدن")
    assert [(e["name_latin"], e["unit"], e["vetting_status"]) for e in body["enrolments"]] == [
        ("Ali", "Unit 1", "approved"),
        ("Salem", "Unit 1", "approved"),
    ]
    present = client.post(
        f"{API}/enrolments/{ids['ali']}/attendance",
        json={"day": start.isoformat(), "present": True},
        headers=officer,
    )
    assert present.status_code == 200 and present.json()["status"] == "attended"

    # ali's vetting is suspended after enrolment: the gate refuses his attendance
    suspended = client.post(
        f"{API}/vetting",
        json={"ref": "P-ali", "status": "suspended", "requested_on": TODAY.isoformat(),
              "decided_on": TODAY.isoformat(), "person_id": plan["ali"]},
        headers=officer,
    )  # fmt: skip
    assert suspended.status_code == 200, suspended.text
    assert (suspended.json()["status"], suspended.json()["valid_until"]) == ("suspended", None)
    flagged = client.get(f"{API}/sessions/{sid}", headers=officer).json()["enrolments"][0]
    assert flagged["flagged"] and flagged["flag_reason"] == "vetting P-ali is now suspended"
    path = f"{API}/enrolments/{ids['ali']}/attendance"
    refused = client.post(
        path, json={"day": (start + timedelta(days=1)).isoformat()}, headers=officer
    )
    assert refused.status_code == 403
    assert _error(refused)["message"].startswith("Refused: Ali has no approved vetting covering")
    assert "(vetting P-ali: suspended)" in _error(refused)["message"]
    assert _refusals(factory, "analyst")[path] == 1  # audited once
    with factory() as db:  # rolled back: no second day recorded
        assert service.session_enrolments(db, world.actor("analyst"), sid)[0].days_present == 1
    no_result = client.post(
        f"{API}/enrolments/{ids['ali']}/result", json={"passed": True}, headers=officer
    )
    assert no_result.status_code == 403 and "P-ali: suspended" in _error(no_result)["message"]

    # salem attends and passes: the certificate
    assert (
        client.post(
            f"{API}/enrolments/{ids['salem']}/attendance",
            json={"day": start.isoformat()},
            headers=officer,
        ).status_code
        == 200
    )
    result = client.post(
        f"{API}/enrolments/{ids['salem']}/result",
        json={"score": 91.5, "passed": True},
        headers=officer,
    )
    assert result.status_code == 200, result.text
    out = result.json()
    code = out["certificate_code"]
    assert len(code) == 12 and set(code) <= set(certificates.CODE_ALPHABET)
    end = start + timedelta(days=4)
    until = service.add_months(end, 24) - timedelta(days=1)
    assert (out["status"], out["score"], out["passed"]) == ("completed", 91.5, True)
    assert out["certificate_valid_until"] == until.isoformat()
    assert out["verify_url"] == f"http://testserver/verify/{code}"
    verified = client.get(f"/verify/{code}")
    assert verified.status_code == 200 and "سالم" in verified.text
    again = client.post(
        f"{API}/enrolments/{ids['salem']}/result", json={"passed": True}, headers=officer
    )
    assert again.status_code == 409  # (certificates.record_result's message: see the report)
    assert _error(again)["message"].startswith("A certificate was issued already")
    pdf = client.get(f"{API}/enrolments/{ids['salem']}/certificate.pdf", headers=officer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    none = client.get(f"{API}/enrolments/{ids['ali']}/certificate.pdf", headers=officer)
    assert none.status_code == 422

    # the roster, due lists and trained figures
    xlsx = client.get(f"{API}/sessions/{sid}/roster", params={"format": "xlsx"}, headers=officer)
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    csv = client.get(f"{API}/sessions/{sid}/roster", headers=officer)
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbfsession_id,")
    assert "Salem" in csv.text and "NID-" not in csv.text
    assert (
        client.get(
            f"{API}/sessions/{sid}/roster", params={"format": "pdf"}, headers=officer
        ).status_code
        == 422
    )
    with factory() as db:
        exports = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "export", AuditEntry.object_type == "training_session"
            )
        ).all()
        assert [json.loads(e.detail or "{}")["format"] for e in exports] == ["xlsx", "csv"]
    due = client.get(f"{API}/due", params={"days": 1000}, headers=officer)
    assert due.status_code == 200
    lists = due.json()
    assert [(c["name_ar"], c["valid_until"]) for c in lists["certificates_expiring"]] == [
        ("سالم", until.isoformat())
    ]
    assert lists["refreshers_due"] == lists["certificates_expiring"]
    assert {"U-1", "P-salem"} <= {v["ref"] for v in lists["vetting_expiring"]}
    assert client.get(f"{API}/due", params={"days": -1}, headers=officer).status_code == 422
    trained = client.get(f"{API}/trained", headers=officer).json()
    assert trained["course"] == {"Maritime incident investigation": 1}
    assert trained["unit"] == {"Unit 1": 1} and trained["year"] == {str(end.year): 1}


def test_personnel_search_and_vetting(
    world: World, factory: sessionmaker[Session], plan: dict[str, int], client: TestClient
) -> None:
    officer = _auth(world, factory, "analyst")
    with factory.begin() as db:
        mohammed = service.create_person(
            db, world.actor("analyst"), name_ar="محمد", national_id="NID-m", unit_id=plan["good"]
        ).id
    found = client.get(f"{API}/personnel", params={"q": "Mohammed"}, headers=officer).json()
    assert [p["id"] for p in found] == [mohammed] and found[0]["name_latin"] == ""
    assert found[0]["vetting_status"] == "none" and found[0]["score"] >= 0.5
    by_id = client.get(f"{API}/personnel", params={"q": "NID-ali"}, headers=officer).json()
    assert [(p["id"], p["score"]) for p in by_id] == [(plan["ali"], 1.0)]
    listed = client.get(f"{API}/personnel", headers=officer).json()
    assert len(listed) == 5 and listed[0]["score"] is None
    made = client.post(
        f"{API}/vetting",
        json={"ref": "P-m", "status": "approved", "requested_on": (TODAY - timedelta(days=3))
              .isoformat(), "decided_on": TODAY.isoformat(), "valid_months": 6,
              "person_id": mohammed, "notes": " clean "},
        headers=officer,
    )  # fmt: skip
    assert made.status_code == 200, made.text
    case = made.json()
    assert (case["ref"], case["status"], case["notes"], case["unit_id"]) == (
        "P-m", "approved", "clean", None,
    )  # fmt: skip
    assert case["valid_until"] == (service.add_months(TODAY, 6) - timedelta(days=1)).isoformat()
    again = client.get(f"{API}/personnel", params={"q": "محمد"}, headers=officer).json()
    assert again[0]["id"] == mohammed and again[0]["vetting_status"] == "approved"
    both = client.post(
        f"{API}/vetting",
        json={"ref": "X-1", "status": "pending", "requested_on": TODAY.isoformat(),
              "person_id": mohammed, "unit_id": plan["good"]},
        headers=officer,
    )  # fmt: skip
    assert both.status_code == 422 and _error(both)["field"] == "subject"
    undated = client.post(
        f"{API}/vetting",
        json={"ref": "U-9", "status": "denied", "requested_on": TODAY.isoformat(),
              "unit_id": plan["good"]},
        headers=officer,
    )  # fmt: skip
    assert undated.status_code == 422 and _error(undated)["field"] == "decided_on"


def test_partner_sees_nothing_and_each_refusal_is_audited_once(
    world: World, factory: sessionmaker[Session], plan: dict[str, int], client: TestClient
) -> None:
    officer = world.actor("analyst")
    sid = plan["session"]
    start = _start(factory, sid)
    with factory.begin() as db:
        eid = service.enrol(db, officer, sid, plan["salem"]).id
        certificates.record_attendance(db, officer, eid, start)
        certificates.record_result(db, officer, eid, 80, True)
    partner = _auth(world, factory, "partner")
    day = {"day": start.isoformat()}
    refused = [
        ("GET", f"{API}/sessions/{sid}", None),
        ("GET", f"{API}/sessions/{sid}/roster", None),
        ("GET", f"{API}/enrolments/{eid}/certificate.pdf", None),
        ("POST", f"{API}/enrolments/{eid}/attendance", day),
        ("POST", f"{API}/enrolments/{eid}/result", {"passed": False}),
        ("POST", f"{API}/enrolments/{eid}/status", {"status": "withdrawn"}),
    ]
    for method, path, body in refused:
        response = client.request(method, path, json=body, headers=partner)
        assert response.status_code == 404, (path, response.text)
    xlsx = client.get(f"{API}/sessions/{sid}/roster", params={"format": "xlsx"}, headers=partner)
    assert xlsx.status_code == 404
    vetting = client.post(
        f"{API}/vetting",
        json={"ref": "P-x", "status": "denied", "requested_on": TODAY.isoformat(),
              "decided_on": TODAY.isoformat(), "person_id": plan["salem"]},
        headers=partner,
    )  # fmt: skip
    assert vetting.status_code == 404
    counted = _refusals(factory, "partner")
    assert counted == Counter(
        {path: 1 for _m, path, _b in refused}
        | {f"{API}/sessions/{sid}/roster": 2, f"{API}/vetting": 1}
    )
    for q in ("Salem", "سالم", "NID-salem"):
        assert client.get(f"{API}/personnel", params={"q": q}, headers=partner).json() == []
    assert client.get(f"{API}/personnel", headers=partner).json() == []
    assert client.get(f"{API}/due", params={"days": 1000}, headers=partner).json() == {
        "certificates_expiring": [],
        "refreshers_due": [],
        "vetting_expiring": [],
    }
    assert client.get(f"{API}/trained", headers=partner).json() == {
        "unit": {},
        "governorate": {},
        "course": {},
        "year": {},
    }
    assert client.get(f"{API}/sessions", headers=partner).json() == []
    with factory() as db:  # nothing changed
        [row] = service.session_enrolments(db, officer, sid)
        assert (row.enrolment.status, row.days_present) == ("completed", 1)
    assert client.get(f"{API}/sessions/{sid}").status_code == 401


def test_openapi_documents_the_training_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for method, path in (
        ("get", "/sessions"), ("get", "/sessions/{session_id}"),
        ("get", "/sessions/{session_id}/roster"), ("get", "/personnel"), ("post", "/vetting"),
        ("post", "/enrolments"), ("post", "/enrolments/{enrolment_id}/status"),
        ("post", "/enrolments/{enrolment_id}/attendance"),
        ("post", "/enrolments/{enrolment_id}/result"),
        ("get", "/enrolments/{enrolment_id}/certificate.pdf"), ("get", "/due"),
        ("get", "/trained"),
    ):  # fmt: skip
        assert method in paths.get(API + path, {}), path
    schemas = spec["components"]["schemas"]
    for name in ("SessionDetailOut", "SessionEnrolmentOut", "AttendanceIn", "ResultOut",
                 "DueOut", "TrainedOut", "VettingIn", "VettingOut"):  # fmt: skip
        assert name in schemas, name
    roster = paths[API + "/sessions/{session_id}/roster"]["get"]
    assert set(roster["responses"]["200"]["content"]) >= {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    [fmt] = [p for p in roster["parameters"] if p["name"] == "format"]
    assert fmt["schema"]["enum"] == ["csv", "xlsx"]
    pdf = paths[API + "/enrolments/{enrolment_id}/certificate.pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
