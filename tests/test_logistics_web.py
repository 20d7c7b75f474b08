"""Logistics pages: equipment and serials, a hand-over signed by both sides, a check visit
that finds an item missing, deficiencies, the accountability report (page and PDF) and the
audit log showing it, support requests; Arabic and English; who must not see them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.logistics.models import Item
from rasid.training import service as training
from tests.conftest import World, login, page_csrf

TODAY = date.today()


def _post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data=data, follow_redirects=False)


def _units(world: World, factory: sessionmaker[Session]) -> dict[str, int]:
    with factory.begin() as db:
        store = training.create_unit(db, world.actor("analyst"), code="store", name_ar="المخزن",
                                     name_en="Central store")  # fmt: skip
        aden = training.create_unit(db, world.actor("analyst"), code="aden", name_ar="قطاع عدن",
                                    name_en="Aden Sector")  # fmt: skip
        return {"store": store.id, "aden": aden.id}


def _logout(client: TestClient) -> None:
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})


def test_handover_check_finds_missing_and_the_report_and_audit_show_it(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    units = _units(world, factory)
    login(client, "analyst")
    csrf = page_csrf(client, "/logistics/equipment")
    assert _post(client, "/logistics/types", {"csrf_token": csrf, "name_ar": "جهاز لاسلكي",
                 "name_en": "VHF radio", "part_number": "5820-01", "enhanced": "yes"}
                 ).status_code == 303  # fmt: skip
    page = client.get("/logistics/equipment").text
    type_id = re.search(r'name="type_id"><option value="(\d+)"', page)
    assert type_id
    made = _post(client, "/logistics/items", {"csrf_token": csrf, "type_id": type_id.group(1),
                 "serials": "r-001\nR-002\r\nR-003", "donor": "Partner embassy"})  # fmt: skip
    assert made.status_code == 303
    again = _post(client, "/logistics/items", {"csrf_token": csrf, "type_id": type_id.group(1),
                  "serials": "R-004\nR-002"})  # fmt: skip
    assert again.status_code == 409 and "R-002" in again.text
    with factory() as db:
        assert sorted(db.scalars(select(Item.serial))) == ["R-001", "R-002", "R-003"]

    csrf = page_csrf(client, "/logistics/handovers")
    issued = _post(client, "/logistics/handovers", {"csrf_token": csrf, "ref": "HO-1",
                   "to_unit_id": str(units["aden"]), "from_donor": "Partner embassy",
                   "serials": "R-001 R-002 R-003"})  # fmt: skip
    assert issued.status_code == 303
    handover = issued.headers["location"]
    assert 'id="handover-accept"' not in client.get(handover).text  # the issuer does not accept
    _logout(client)
    login(client, "analyst2")  # the receiving side
    accepted = _post(client, f"{handover}/accept", {"csrf_token": page_csrf(client, handover)})
    assert accepted.status_code == 303
    assert 'id="handover-status">' in client.get(handover).text

    csrf = page_csrf(client, "/logistics/checks")
    scheduled = _post(client, "/logistics/checks", {"csrf_token": csrf,
                      "unit_id": str(units["aden"]), "kind": "initial",
                      "scheduled_for": TODAY.isoformat()})  # fmt: skip
    assert scheduled.status_code == 303
    check = scheduled.headers["location"]
    page = client.get(check).text
    assert page.count('<tr data-serial="R-') == 3 and "js/logistics.js" in page
    csrf = page_csrf(client, check)
    wrong = _post(client, check, {"csrf_token": csrf, "done_on": TODAY.isoformat(),
                  "result.R-001": "present", "result.R-404": "present"})  # fmt: skip
    assert wrong.status_code == 422 and "R-404" in wrong.text
    recorded = _post(client, check, {"csrf_token": csrf, "done_on": TODAY.isoformat(),
                     "result.R-001": "present", "result.R-002": "missing",
                     "notes.R-002": "not in the armoury", "result.R-003": "damaged"})  # fmt: skip
    assert recorded.status_code == 303
    page = client.get(check).text
    assert 'data-serial="R-002" data-result="missing"' in page and 'id="check-record"' not in page

    report = client.get("/logistics/accountability").text
    assert 'id="fig-total">3<' in report and 'id="fig-missing">1<' in report
    assert 'id="fig-verified">2 (66.7 %)' in report and 'id="fig-deficiencies">2<' in report
    assert 'data-serial="R-002"' in report
    pdf = client.get("/logistics/accountability.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    bad_quarter = client.get("/logistics/accountability", params={"quarter": 5})
    assert bad_quarter.status_code == 422
    item_id = re.search(r'href="/logistics/items/(\d+)">R-002', report)
    assert item_id
    chain = client.get(f"/logistics/items/{item_id.group(1)}").text
    assert chain.count("<tr data-kind=") == 3  # registered, handed over, missing at the check

    # Close a deficiency: a corrective action is required.
    deficiencies = client.get("/logistics/checks").text
    d_id = re.findall(r'<tr id="d-(\d+)"', deficiencies)[0]
    csrf = page_csrf(client, "/logistics/checks")
    no_action = _post(client, f"/logistics/deficiencies/{d_id}", {"csrf_token": csrf,
                      "corrective_action": "", "closed_on": TODAY.isoformat()})  # fmt: skip
    assert no_action.status_code == 422
    closed = _post(client, f"/logistics/deficiencies/{d_id}", {"csrf_token": csrf,
                   "corrective_action": "Report filed with the donor",
                   "closed_on": TODAY.isoformat()})  # fmt: skip
    assert closed.status_code == 303
    assert 'id="fig-deficiencies">1<' in client.get("/logistics/accountability").text

    # The audit log shows the missing item and the report's export.
    with factory() as db:
        entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        check_entry = [e for e in entries if e.object_type == "logistics_check"
                       and e.action == "update"]  # fmt: skip
        assert check_entry and '"R-002":"missing"' in (check_entry[-1].after or "")
        assert any(e.object_type == "logistics_accountability" and e.action == "export"
                   for e in entries)  # fmt: skip
    _logout(client)
    login(client, "auditor")
    audit_page = client.get("/audit", params={"object_type": "logistics_check"})
    assert audit_page.status_code == 200 and "R-002" in audit_page.text


def test_support_requests_board_and_workflow(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    units = _units(world, factory)
    login(client, "analyst")
    csrf = page_csrf(client, "/logistics/requests")
    unknown = _post(client, "/logistics/requests", {"csrf_token": csrf, "title": "Radio repair",
                    "category": "technical", "priority": "urgent",
                    "unit_id": str(units["aden"]), "items": "NOPE-1"})  # fmt: skip
    assert unknown.status_code == 422 and "NOPE-1" in unknown.text
    made = _post(client, "/logistics/requests", {"csrf_token": csrf, "title": "Radio repair",
                 "category": "technical", "priority": "urgent",
                 "unit_id": str(units["aden"])})  # fmt: skip
    assert made.status_code == 303
    url = made.headers["location"]
    board = client.get("/logistics/requests").text
    assert 'id="col-new"' in board and "Radio repair" in board.split('id="col-new"')[1][:800]
    csrf = page_csrf(client, url)
    skip = _post(client, f"{url}/status", {"csrf_token": csrf, "status": "resolved"})
    assert skip.status_code == 409
    assert (
        _post(client, f"{url}/status", {"csrf_token": csrf, "status": "triaged"}).status_code == 303
    )
    assert _post(client, f"{url}/comments", {"csrf_token": csrf, "body": ""}).status_code == 422
    assert _post(client, f"{url}/comments", {"csrf_token": csrf,
                 "body": "فني في الطريق"}).status_code == 303  # fmt: skip
    page = client.get(url).text
    assert "فني في الطريق" in page and 'id="request-status">' in page


def test_logistics_pages_in_english_and_who_must_not_see_them(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    from rasid.logistics import requests, service

    units = _units(world, factory)
    with factory.begin() as db:
        officer = world.actor("analyst")
        kind = service.add_type(db, officer, name_ar="منظار", name_en="Binoculars")
        item = service.add_items(db, officer, kind.id, ["B-1"])[0]
        h = service.issue_handover(db, officer, ref="HO-9", to_unit_id=units["aden"],
                                   serials=["B-1"])  # fmt: skip
        check = service.schedule_check(db, officer, unit_id=units["aden"], kind="routine",
                                       scheduled_for=TODAY - timedelta(days=3))  # fmt: skip
        req = requests.create(db, officer, category="logistical", unit_id=units["aden"],
                              title="Fuel", priority="low")  # fmt: skip
        ids = {"item": item.id, "handover": h.id, "check": check.id, "request": req.id}
    login(client, "analyst")
    client.post("/language", data={"csrf_token": page_csrf(client, "/"), "language": "en",
                                   "next": "/logistics/equipment"})  # fmt: skip
    for path in ("/logistics/equipment", "/logistics/handovers", "/logistics/checks",
                 "/logistics/accountability", "/logistics/requests",
                 f"/logistics/items/{ids['item']}", f"/logistics/handovers/{ids['handover']}",
                 f"/logistics/checks/{ids['check']}", f"/logistics/requests/{ids['request']}"):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200 and '<html lang="en" dir="ltr">' in page.text, path
    assert "Overdue" in client.get("/logistics/checks").text
    _logout(client)
    login(client, "partner")
    assert 'data-serial="' not in client.get("/logistics/equipment").text
    assert 'data-id="' not in client.get("/logistics/handovers").text
    assert 'data-id="' not in client.get("/logistics/checks").text
    assert 'data-id="' not in client.get("/logistics/requests").text
    assert 'id="fig-total">0<' in client.get("/logistics/accountability").text
    for path in (f"/logistics/items/{ids['item']}", f"/logistics/handovers/{ids['handover']}",
                 f"/logistics/checks/{ids['check']}", f"/logistics/requests/{ids['request']}"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    csrf = page_csrf(client, "/logistics/checks")
    assert _post(client, f"/logistics/handovers/{ids['handover']}/accept",
                 {"csrf_token": csrf}).status_code == 404  # fmt: skip
