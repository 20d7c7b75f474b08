"""The logistics API: the whole flow (type, serials, hand-over signed by both sides, a check
that finds an item missing, the deficiency closed), bad input naming the field, the quarterly
report, and what another organisation must not see or change."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.identity import service as identity
from rasid.logistics import requests, service
from rasid.logistics.models import (
    CheckLine,
    CustodyEvent,
    Deficiency,
    EndUseCheck,
    EquipmentType,
    Handover,
    Item,
    SupportComment,
    SupportRequest,
)
from rasid.training import service as training
from tests.conftest import World

TODAY = date.today()
API = "/api/v1/logistics"


@pytest.fixture
def units(world: World, factory: sessionmaker[Session]) -> dict[str, int]:
    officer = world.actor("analyst")
    with factory.begin() as db:
        store = training.create_unit(
            db, officer, code="store", name_ar="المخزن", name_en="Central store"
        )
        aden = training.create_unit(
            db, officer, code="aden", name_ar="قطاع عدن", name_en="Aden Sector"
        )
        return {"store": store.id, "aden": aden.id}


def _auth(world: World, factory: sessionmaker[Session], username: str) -> dict[str, str]:
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), username).plaintext
    return {"Authorization": f"Bearer {token}"}


def _error(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def test_the_whole_flow_through_the_api(
    world: World, factory: sessionmaker[Session], units: dict[str, int], client: TestClient
) -> None:
    officer, receiver = _auth(world, factory, "analyst"), _auth(world, factory, "analyst2")
    kind = client.post(
        f"{API}/types",
        json={"name_ar": "جهاز لاسلكي", "name_en": "VHF radio", "part_number": "5820-01"},
        headers=officer,
    )
    assert kind.status_code == 201, kind.text
    type_id = kind.json()["id"]
    made = client.post(
        f"{API}/items",
        json={"type_id": type_id, "serials": ["r-001", "R-002", "R-003"], "donor": "Embassy"},
        headers=officer,
    )
    assert made.status_code == 201 and [i["serial"] for i in made.json()] == [
        "R-001",
        "R-002",
        "R-003",
    ]
    duplicate = client.post(
        f"{API}/items", json={"type_id": type_id, "serials": ["R-009", "r-002"]}, headers=officer
    )
    assert duplicate.status_code == 409 and "R-002" in _error(duplicate)["message"]
    assert _error(duplicate)["field"] == "serials"
    assert client.get(f"{API}/items", params={"serial": "R-009"}, headers=officer).json() == []

    issued = client.post(
        f"{API}/handovers",
        json={"ref": "HO-1", "to_unit_id": units["aden"], "serials": ["R-001", "R-002", "R-003"],
              "from_donor": "Embassy"},
        headers=officer,
    )  # fmt: skip
    assert issued.status_code == 201 and issued.json()["status"] == "issued"
    hid = issued.json()["id"]
    assert client.post(f"{API}/handovers/{hid}/accept", headers=officer).status_code == 403
    accepted = client.post(f"{API}/handovers/{hid}/accept", headers=receiver)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["serials"] == ["R-001", "R-002", "R-003"]
    assert client.get(f"{API}/handovers/{hid}", headers=officer).json() == accepted.json()
    held = client.get(f"{API}/items", params={"unit_id": units["aden"]}, headers=officer).json()
    assert len(held) == 3 and {i["custodian_unit_id"] for i in held} == {units["aden"]}
    client.post(f"{API}/items", json={"type_id": type_id, "serials": ["R-100"]}, headers=officer)

    scheduled = client.post(
        f"{API}/checks",
        json={"unit_id": units["aden"], "kind": "initial", "scheduled_for": TODAY.isoformat()},
        headers=officer,
    )
    assert scheduled.status_code == 201
    cid = scheduled.json()["id"]
    detail = client.get(f"{API}/checks/{cid}", headers=officer).json()
    assert detail["expected_serials"] == ["R-001", "R-002", "R-003"] and detail["lines"] == []
    for stranger in ("R-100", "R-404"):  # held by the donor still; unknown
        refused = client.post(
            f"{API}/checks/{cid}/results",
            json={"done_on": TODAY.isoformat(),
                  "results": [{"serial": "R-001", "result": "present"},
                              {"serial": stranger, "result": "present"}]},
            headers=officer,
        )  # fmt: skip
        assert refused.status_code == 422 and _error(refused)["field"] == "results.1"
        assert stranger in _error(refused)["message"]
    twice = client.post(
        f"{API}/checks/{cid}/results",
        json={"done_on": TODAY.isoformat(),
              "results": [{"serial": "R-001", "result": "present"},
                          {"serial": "r-001", "result": "missing"}]},
        headers=officer,
    )  # fmt: skip
    assert twice.status_code == 422 and _error(twice)["field"] == "results.1"
    recorded = client.post(
        f"{API}/checks/{cid}/results",
        json={"done_on": TODAY.isoformat(),
              "results": [{"serial": "R-001", "result": "present"},
                          {"serial": "R-002", "result": "missing", "notes": "not in the armoury"},
                          {"serial": "R-003", "result": "present"}]},
        headers=officer,
    )  # fmt: skip
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["status"] == "done"
    assert {(li["serial"], li["result"]) for li in recorded.json()["lines"]} == {
        ("R-001", "present"),
        ("R-002", "missing"),
        ("R-003", "present"),
    }
    assert client.get(f"{API}/accountability", headers=officer).json() == {
        "serials_total": 4,
        "serials_verified_12m": 2,
        "missing": 1,
        "open_deficiencies": 1,
        "overdue_checks": 0,
    }
    assert [c["id"] for c in client.get(f"{API}/checks?status=done", headers=officer).json()] == [
        cid
    ]
    assert client.get(f"{API}/checks?status=late", headers=officer).status_code == 422

    open_ = client.get(f"{API}/deficiencies", params={"open": "true"}, headers=officer).json()
    assert len(open_) == 1 and "R-002" in open_[0]["description"] and not open_[0]["overdue"]
    did = open_[0]["id"]
    no_action = client.patch(
        f"{API}/deficiencies/{did}", json={"closed_on": TODAY.isoformat()}, headers=officer
    )
    assert no_action.status_code == 422 and _error(no_action)["field"] == "corrective_action"
    too_early = client.patch(
        f"{API}/deficiencies/{did}",
        json={"corrective_action": "Found", "closed_on": (TODAY - timedelta(days=1)).isoformat()},
        headers=officer,
    )
    assert too_early.status_code == 422 and _error(too_early)["field"] == "closed_on"
    noted = client.patch(
        f"{API}/deficiencies/{did}",
        json={"corrective_action": "Unit commander's inquiry opened"},
        headers=officer,
    )
    assert noted.status_code == 200 and noted.json()["closed_on"] is None
    closed = client.patch(
        f"{API}/deficiencies/{did}", json={"closed_on": TODAY.isoformat()}, headers=officer
    )
    assert closed.status_code == 200 and closed.json()["closed_on"] == TODAY.isoformat()
    assert closed.json()["corrective_action"] == "Unit commander's inquiry opened"
    again = client.patch(
        f"{API}/deficiencies/{did}", json={"corrective_action": "x"}, headers=officer
    )
    assert again.status_code == 409
    assert client.get(f"{API}/accountability", headers=officer).json()["open_deficiencies"] == 0

    # a missing item cannot be handed over
    missing = client.post(
        f"{API}/handovers",
        json={"ref": "HO-2", "to_unit_id": units["store"], "serials": ["R-002"],
              "from_unit_id": units["aden"]},
        headers=officer,
    )  # fmt: skip
    assert missing.status_code == 409 and "missing" in _error(missing)["message"]
    r002 = next(i for i in held if i["serial"] == "R-002")
    item = client.get(f"{API}/items/{r002['id']}", headers=officer).json()
    assert item["status"] == "missing"
    assert [e["kind"] for e in item["custody"]] == ["registered", "handover", "check"]

    with factory() as db:
        audited = db.scalars(
            select(AuditEntry).where(AuditEntry.object_type.in_(("logistics_item",
                                                                 "logistics_deficiency")))
        ).all()  # fmt: skip
        assert any(e.action == "read" and e.object_id == str(r002["id"]) for e in audited)
        closing = [e for e in audited if e.action == "update" and e.object_id == str(did)]
        assert [(json.loads(e.before or "{}")["closed_on"], json.loads(e.after or "{}")["closed_on"])
                for e in closing] == [(None, None), (None, TODAY.isoformat())]  # fmt: skip

    quarter = (TODAY.month - 1) // 3 + 1
    report = client.get(
        f"{API}/accountability/report",
        params={"year": TODAY.year, "quarter": quarter},
        headers=officer,
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["figures"]["missing"] == 1 and body["share_verified"] == 0.5
    assert body["missing_items"] == [
        {"item_id": r002["id"], "serial": "R-002", "type_id": type_id, "type_name": "VHF radio",
         "unit_id": units["aden"], "unit_name": "Aden Sector"}
    ]  # fmt: skip
    assert [c["check_id"] for c in body["checks_done"]] == [cid]
    assert body["open_deficiencies"] == [] and body["overdue_checks"] == []
    bad = client.get(
        f"{API}/accountability/report", params={"year": TODAY.year, "quarter": 5}, headers=officer
    )
    assert bad.status_code == 422 and _error(bad)["field"] == "quarter"

    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/types", "/items", "/items/{item_id}", "/handovers", "/handovers/{handover_id}",
        "/handovers/{handover_id}/accept",
        "/checks", "/checks/{check_id}", "/checks/{check_id}/results", "/deficiencies",
        "/deficiencies/{deficiency_id}", "/accountability", "/accountability/report",
        "/requests", "/requests/overdue", "/requests/{request_id}/status",
        "/requests/{request_id}/comments",
    ):  # fmt: skip
        assert API + path in paths, path
    assert "ItemDetailOut" in client.get("/openapi.json").json()["components"]["schemas"]


def test_support_requests_through_the_api(
    world: World, factory: sessionmaker[Session], units: dict[str, int], client: TestClient
) -> None:
    officer = _auth(world, factory, "analyst")
    made = client.post(
        f"{API}/requests",
        json={"category": "technical", "unit_id": units["aden"], "title": "Radio dead",
              "priority": "urgent"},
        headers=officer,
    )  # fmt: skip
    assert made.status_code == 201 and made.json()["due_date"] == str(TODAY + timedelta(days=2))
    rid = made.json()["id"]
    bad = client.post(
        f"{API}/requests",
        json={"category": "food", "unit_id": units["aden"], "title": "x"},
        headers=officer,
    )
    assert bad.status_code == 422 and _error(bad)["field"] == "category"
    wrong = client.post(f"{API}/requests/{rid}/status", json={"status": "closed"}, headers=officer)
    assert wrong.status_code == 200  # new → closed is allowed
    reopen = client.post(
        f"{API}/requests/{rid}/status", json={"status": "triaged"}, headers=officer
    )
    assert reopen.status_code == 409 and _error(reopen)["field"] == "status"
    said = client.post(f"{API}/requests/{rid}/comments", json={"body": "Sent"}, headers=officer)
    assert said.status_code == 201 and said.json()["username"] == "analyst"
    board = client.get(f"{API}/requests", headers=officer).json()
    assert [r["id"] for r in board["closed"]] == [rid] and board["new"] == []
    assert client.get(f"{API}/requests/overdue", headers=officer).json() == []


@pytest.fixture
def stock(world: World, factory: sessionmaker[Session], units: dict[str, int]) -> dict[str, int]:
    """moi-ct's equipment: a hand-over issued, a check done (one missing), a request."""
    officer = world.actor("analyst")
    with factory.begin() as db:
        kind = service.add_type(db, officer, name_ar="قارب", name_en="Patrol boat")
        service.add_items(db, officer, kind.id, ["B-1", "B-2"])
        first = service.issue_handover(
            db, officer, ref="HO-1", to_unit_id=units["aden"], serials=["B-1", "B-2"]
        )
        service.accept_handover(db, world.actor("analyst2"), first.id)
        check = service.schedule_check(
            db, officer, unit_id=units["aden"], kind="routine", scheduled_for=TODAY
        )
        service.record_check(
            db, officer, check.id, {"B-1": ("present", ""), "B-2": ("missing", "")}, TODAY
        )
        late = service.schedule_check(
            db,
            officer,
            unit_id=units["aden"],
            kind="enhanced",
            scheduled_for=TODAY - timedelta(days=5),
        )
        service.add_items(db, officer, kind.id, ["B-3"])
        pending = service.issue_handover(
            db, officer, ref="HO-2", to_unit_id=units["store"], serials=["B-3"]
        )
        request = requests.create(
            db, officer, category="logistical", unit_id=units["aden"], title="Fuel",
            today=TODAY - timedelta(days=30),
        )  # fmt: skip
        deficiency = db.scalar(select(Deficiency.id))
        item = db.scalar(select(Item.id).where(Item.serial == "B-1"))
        assert deficiency is not None and item is not None
        return {"type": kind.id, "item": item, "handover": pending.id, "check": late.id,
                "done": check.id, "deficiency": deficiency, "request": request.id,
                **units}  # fmt: skip


TABLES = (EquipmentType, Item, Handover, CustodyEvent, EndUseCheck, CheckLine, Deficiency,
          SupportRequest, SupportComment)  # fmt: skip


def _counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as db:
        return {
            m.__tablename__: int(db.scalar(select(func.count()).select_from(m)) or 0)
            for m in TABLES
        }


def test_another_organisation_sees_nothing_and_changes_nothing(
    world: World, factory: sessionmaker[Session], stock: dict[str, int], client: TestClient
) -> None:
    officer = _auth(world, factory, "analyst")
    figures = client.get(f"{API}/accountability", headers=officer).json()
    assert figures == {"serials_total": 3, "serials_verified_12m": 1, "missing": 1,
                       "open_deficiencies": 1, "overdue_checks": 1}  # fmt: skip
    with factory() as db:  # the quarterly report of the ministry's own officer
        quarter = (TODAY.month - 1) // 3 + 1
        own = service.accountability_report(db, world.actor("analyst"), TODAY.year, quarter)
        assert [m.serial for m in own.missing_items] == ["B-2"]
        assert [c.check_id for c in own.overdue_checks] == [stock["check"]]
        assert [c.check_id for c in own.checks_done] == [stock["done"]]
        assert [d.deficiency_id for d in own.open_deficiencies] == [stock["deficiency"]]
        assert own.share_verified == 1 / 3 and own.as_of == TODAY
        past = service.accountability_report(db, world.actor("analyst"), TODAY.year - 1, 4)
        assert past.as_of == date(TODAY.year - 1, 12, 31) and past.checks_done == []
        assert [c.id for c in service.overdue_checks(db, world.actor("analyst"))] == [
            stock["check"]
        ]
    before = _counts(factory)
    with factory() as db:
        audit_before = int(db.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    for who in ("partner", "observer"):
        auth = _auth(world, factory, who)
        for path in ("/types", "/items", "/handovers", "/checks", "/deficiencies",
                     "/requests/overdue"):  # fmt: skip
            listed = client.get(API + path, headers=auth)
            assert listed.status_code == 200 and listed.json() == [], (who, path)
        assert all(v == [] for v in client.get(f"{API}/requests", headers=auth).json().values())
        assert set(client.get(f"{API}/accountability", headers=auth).json().values()) == {0}
        report = client.get(
            f"{API}/accountability/report",
            params={"year": TODAY.year, "quarter": quarter},
            headers=auth,
        ).json()
        assert set(report["figures"].values()) == {0} and report["share_verified"] == 0
        assert report["missing_items"] == report["checks_done"] == report["overdue_checks"] == []
        for path in (f"/items/{stock['item']}", f"/handovers/{stock['handover']}",
                     f"/checks/{stock['check']}", f"/checks/{stock['done']}"):  # fmt: skip
            assert client.get(API + path, headers=auth).status_code == 404, (who, path)
        assert client.get(f"{API}/items?unit_id={stock['aden']}", headers=auth).json() == []
    partner = _auth(world, factory, "partner")  # a liaison officer: may write, sees nothing
    today = TODAY.isoformat()
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("post", f"/handovers/{stock['handover']}/accept", {}),
        ("post", f"/checks/{stock['check']}/results",
         {"done_on": today, "results": [{"serial": "B-1", "result": "present"}]}),
        ("patch", f"/deficiencies/{stock['deficiency']}",
         {"corrective_action": "x", "closed_on": today}),
        ("post", "/items", {"type_id": stock["type"], "serials": ["X-1"]}),
        ("post", "/handovers", {"ref": "P-1", "to_unit_id": stock["aden"], "serials": ["B-3"]}),
        ("post", "/checks", {"unit_id": stock["aden"], "kind": "routine", "scheduled_for": today}),
        ("post", "/requests", {"category": "technical", "unit_id": stock["aden"], "title": "x"}),
        ("post", f"/requests/{stock['request']}/status", {"status": "triaged"}),
        ("post", f"/requests/{stock['request']}/comments", {"body": "hello"}),
    ]  # fmt: skip
    for method, path, body in writes:
        response = client.request(method.upper(), API + path, json=body, headers=partner)
        assert response.status_code == 404, (path, response.text)
    observer = _auth(world, factory, "observer")  # a viewer may not write at all
    for method, path, body in writes:
        response = client.request(method.upper(), API + path, json=body, headers=observer)
        assert response.status_code == 403, (path, response.text)
    assert _counts(factory) == before  # nothing written
    with factory() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.seq > audit_before)).all()
        strangers = [e for e in entries if e.username in ("partner", "observer")]
        assert strangers and {e.outcome for e in strangers} == {"refused"}
        # each refused change is audited once (not again by the unit of work)
        partner_writes = [e for e in strangers if e.username == "partner" and "api/v1" in
                          (e.detail or "") and '"method":"GET"' not in (e.detail or "")]  # fmt: skip
        assert len(partner_writes) == len(writes)
    assert client.get(f"{API}/accountability", headers=officer).json() == figures
