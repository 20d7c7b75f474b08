"""The inbox's unread state: first open marks a report read, per user; mark all read."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.core.actor import system_actor
from rasid.identity import service as identity
from rasid.intel import inbox, service
from rasid.intel.models import ReportRead
from tests.conftest import PASSWORD, World, csrf_from, login
from tests.test_intel import add_liaison, agreement, new_report, report_in


def _released(factory: sessionmaker[Session], world: World, title: str) -> int:
    rid = new_report(factory, world, report_in(title=title))
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    return rid


def _setup(factory: sessionmaker[Session], world: World) -> list[int]:
    add_liaison(factory)
    agreement(factory, world)
    with factory.begin() as db:
        identity.create_user(
            db,
            system_actor(),
            username="partner2",
            org_slug="partner",
            roles=["viewer"],
            password=PASSWORD,
        )
    new_report(factory, world, report_in(title="مسودة لا تصل"))  # a draft reaches nobody
    return [_released(factory, world, f"تقرير {n}") for n in (1, 2)]


def _count(factory: sessionmaker[Session], world: World, user: str) -> int:
    with factory() as db:
        return inbox.unread_count(db, world.actor(user))


def test_unread_state_is_per_user_and_first_open_only(
    world: World, factory: sessionmaker[Session]
) -> None:
    first, second = _setup(factory, world)
    assert _count(factory, world, "partner") == 2
    assert _count(factory, world, "partner2") == 2
    assert _count(factory, world, "analyst") == 0  # its own reports are not in its inbox
    assert _count(factory, world, "watch") == 0  # nothing was released to the coast guard
    with factory.begin() as db:
        report = service.get_report(db, world.actor("partner"), first)
        assert inbox.mark_read(db, world.actor("partner"), report) is True
        assert inbox.mark_read(db, world.actor("partner"), report) is False
    with factory.begin() as db:
        assert inbox.mark_read(db, world.actor("partner"), report) is False
        assert inbox.unread_ids(db, world.actor("partner"), [first, second]) == {second}
        assert inbox.unread_ids(db, world.actor("partner2"), [first, second]) == {first, second}
    assert _count(factory, world, "partner") == 1
    assert _count(factory, world, "partner2") == 2
    with factory.begin() as db:
        assert inbox.mark_all_read(db, world.actor("partner2")) == 2
    with factory.begin() as db:
        assert inbox.mark_all_read(db, world.actor("partner2")) == 0
        rows = db.scalars(select(ReportRead).order_by(ReportRead.id)).all()
    assert len(rows) == 3
    assert (_count(factory, world, "partner"), _count(factory, world, "partner2")) == (1, 0)
    # a newly released report is unread again
    _released(factory, world, "تقرير 3")
    assert (_count(factory, world, "partner"), _count(factory, world, "partner2")) == (2, 1)
    # the system account has no inbox
    with factory() as db:
        assert inbox.unread_count(db, system_actor()) == 0


def test_inbox_page_shows_unread_and_marks_all_read(
    world: World, factory: sessionmaker[Session], client: TestClient
) -> None:
    first, second = _setup(factory, world)
    login(client, "partner")
    page = client.get("/intel/inbox")
    assert page.status_code == 200
    assert re.search(r'id="unread-count"[^>]*>2<', page.text)
    for rid in (first, second):
        row = page.text.split(f'data-id="{rid}"')[1].split("</tr>")[0]
        assert 'class="badge new"' in row and "<strong>" in row
    assert 'id="mark-all-read"' in page.text
    # opening the report page marks it read
    assert client.get(f"/intel/reports/{first}").status_code == 200
    page = client.get("/intel/inbox")
    assert re.search(r'id="unread-count"[^>]*>1<', page.text)
    row = page.text.split(f'data-id="{first}"')[1].split("</tr>")[0]
    assert 'class="badge new"' not in row and "<strong>" not in row
    done = client.post(
        "/intel/inbox/read", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    page = client.get("/intel/inbox")
    assert 'id="unread-count"' not in page.text and 'class="badge new"' not in page.text
    assert 'id="mark-all-read"' not in page.text
    assert f'data-id="{second}"' in page.text  # still listed, only read


def test_api_get_marks_read(
    world: World, factory: sessionmaker[Session], client: TestClient
) -> None:
    first, second = _setup(factory, world)
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), "partner").plaintext
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/intel/inbox", headers=auth).json() == {"unread": 2}
    assert client.get(f"/api/v1/intel/reports/{first}", headers=auth).status_code == 200
    assert client.get(f"/api/v1/intel/reports/{first}", headers=auth).status_code == 200
    assert client.get("/api/v1/intel/inbox", headers=auth).json() == {"unread": 1}
    # listing does not count as opening
    assert client.get("/api/v1/intel/reports", headers=auth).status_code == 200
    assert client.get("/api/v1/intel/inbox", headers=auth).json() == {"unread": 1}
    assert client.post("/api/v1/intel/inbox/read", headers=auth).json() == {"unread": 0}
    assert _count(factory, world, "partner2") == 2
    assert second
