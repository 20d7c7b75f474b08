"""Intel pages (reports, inbox, RFIs, sharing agreements), as users drive them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from rasid.core.actor import system_actor
from rasid.identity import service as identity
from rasid.intel.models import RFI
from tests.conftest import PASSWORD, World, csrf_from, login, page_csrf

BODY_AR = "رصد قارب يحمل أسلحة قبالة ساحل المكلا، ويُعتقد أنه تابع لشبكة تهريب."
RTL = '<html lang="ar" dir="rtl">'


def _add_liaison(factory: sessionmaker[Session], username: str = "liaison") -> None:
    with factory.begin() as db:
        identity.create_user(
            db,
            system_actor(),
            username=username,
            org_slug="moi-ct",
            roles=["liaison"],
            password=PASSWORD,
        )


def _switch(client: TestClient, username: str) -> None:
    if client.cookies:
        client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    login(client, username)


def _enrol_mfa(client: TestClient) -> None:
    page = client.get("/profile/mfa")
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page.text)
    assert secret
    done = client.post(
        "/profile/mfa",
        data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": csrf_from(page.text)},
    )
    assert done.status_code in (200, 303)


def _report_form(client: TestClient, **extra: str) -> dict[str, str]:
    page = client.get("/intel/reports/new")
    assert page.status_code == 200 and RTL in page.text and 'dir="rtl" lang="ar"' in page.text
    data = {
        "csrf_token": csrf_from(page.text),
        "title": "قارب تهريب أسلحة — المكلا",
        "summary": "Arms smuggling skiff sighted off Mukalla.",
        "body_ar": BODY_AR,
        "body_en": "",
        "grading_scheme": "admiralty",
        "reliability": "B",
        "credibility": "2",
        "marking": "TLP:AMBER",
        "recipients": "",
        "links": "",
        "obs_0_kind": "ip",
        "obs_0_value": "10.1.2.3",
        "obs_1_kind": "phone",
        "obs_1_value": "",
    }
    data.update(extra)
    return data


def _create_report(client: TestClient, **extra: str) -> int:
    done = client.post("/intel/reports", data=_report_form(client, **extra), follow_redirects=False)
    assert done.status_code == 303, done.text
    match = re.fullmatch(r"/intel/reports/(\d+)", done.headers["location"])
    assert match
    return int(match.group(1))


@pytest.mark.parametrize("username", ["analyst", "auditor", "partner", "watch", "observer"])
def test_intel_pages_render_in_arabic_for_the_roles(
    world: World, client: TestClient, username: str
) -> None:
    login(client, username)
    for path in ("/intel/reports", "/intel/inbox", "/intel/rfis"):
        page = client.get(path)
        assert page.status_code == 200 and RTL in page.text, path
    home = client.get("/")
    assert 'href="/intel/reports"' in home.text and 'href="/intel/agreements"' not in home.text
    assert client.get("/intel/agreements").status_code == 403
    writer = username in ("analyst", "partner", "watch")
    assert ('id="new-report"' in client.get("/intel/reports").text) is writer


def test_report_editor_keeps_the_form_and_names_the_bad_field(
    world: World, client: TestClient
) -> None:
    login(client, "analyst")
    data = _report_form(client, obs_1_kind="ip", obs_1_value="999.1.1.1")
    bad = client.post("/intel/reports", data=data)
    assert bad.status_code == 422 and 'id="form-error"' in bad.text
    assert BODY_AR in bad.text and 'id="obs-row-1"' in bad.text
    assert re.search(r'class="row invalid" id="obs-row-1"', bad.text)
    links = client.post("/intel/reports", data=data | {"obs_1_value": "", "links": "nonsense"})
    assert links.status_code == 422 and "entity:ID" in links.text
    missing = client.post(
        "/intel/reports", data=data | {"obs_1_value": "", "links": "entity:99999"}
    )
    assert missing.status_code == 422 and BODY_AR in missing.text


def test_report_lifecycle_through_the_pages(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    _add_liaison(factory)
    login(client, "analyst")
    rid = _create_report(client)
    page = client.get(f"/intel/reports/{rid}")
    assert page.status_code == 200 and RTL in page.text and BODY_AR in page.text
    assert "10.1.2.3" in page.text and 'id="approve"' not in page.text  # analyst: no approval
    assert f'data-id="{rid}"' in client.get("/intel/reports?status=draft").text
    assert f'data-id="{rid}"' not in client.get("/intel/reports?status=released").text
    # edit keeps the Arabic body
    edit = client.get(f"/intel/reports/{rid}/edit")
    assert edit.status_code == 200 and BODY_AR in edit.text and "10.1.2.3" in edit.text
    # a user of another organisation does not see a draft
    _switch(client, "partner")
    assert client.get(f"/intel/reports/{rid}").status_code == 404
    _switch(client, "observer")
    assert client.get(f"/intel/reports/{rid}").status_code == 404

    # a second liaison of the owner approves
    _switch(client, "liaison")
    page = client.get(f"/intel/reports/{rid}")
    assert 'id="approve"' in page.text
    no_csrf = client.post(f"/intel/reports/{rid}/approve", follow_redirects=False)
    assert no_csrf.status_code == 403
    ok = client.post(
        f"/intel/reports/{rid}/approve",
        data={"csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    page = client.get(f"/intel/reports/{rid}")
    assert 'id="release-form"' in page.text and 'name="to" value="partner"' in page.text
    # release refused without an agreement: the reason on the page
    refused = client.post(
        f"/intel/reports/{rid}/release",
        data={"csrf_token": csrf_from(page.text), "to": "partner"},
    )
    assert refused.status_code == 403 and 'id="form-error"' in refused.text
    assert "partner" in refused.text.split('id="form-error"')[1].split("</div>")[0]

    # the administrator makes the agreement on the agreements page
    _switch(client, "admin")
    _enrol_mfa(client)
    agreements = client.get("/intel/agreements")
    assert agreements.status_code == 200 and RTL in agreements.text
    made = client.post(
        "/intel/agreements",
        data={
            "csrf_token": csrf_from(agreements.text),
            "partner_org": "partner",
            "markings": ["TLP:AMBER", "TLP:GREEN"],
            "record_types": ["report"],
            "note": "اتفاق تبادل",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    listed = client.get("/intel/agreements").text
    assert 'data-id="' in listed and "TLP:AMBER, TLP:GREEN" in listed

    _switch(client, "liaison")
    page = client.get(f"/intel/reports/{rid}")
    released = client.post(
        f"/intel/reports/{rid}/release",
        data={"csrf_token": csrf_from(page.text), "to": "partner"},
        follow_redirects=False,
    )
    assert released.status_code == 303
    owner_view = client.get(f"/intel/reports/{rid}").text
    assert 'id="edit-report"' in owner_view and 'id="revision-note"' in owner_view

    # the partner sees it in the inbox, marked new, and opens it
    _switch(client, "partner")
    inbox = client.get("/intel/inbox")
    assert f'data-id="{rid}"' in inbox.text and 'class="badge new"' in inbox.text
    opened = client.get(f"/intel/reports/{rid}")
    assert opened.status_code == 200 and BODY_AR in opened.text
    assert 'id="release-form"' not in opened.text and 'id="report-versions"' not in opened.text
    assert f'data-id="{rid}"' not in client.get("/intel/reports").text  # not its own report
    # the coast guard got nothing
    _switch(client, "watch")
    assert client.get(f"/intel/reports/{rid}").status_code == 404
    assert f'data-id="{rid}"' not in client.get("/intel/inbox").text


def test_agreement_deactivation(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "admin")
    _enrol_mfa(client)
    page = client.get("/intel/agreements")
    bad = client.post(
        "/intel/agreements",
        data={"csrf_token": csrf_from(page.text), "partner_org": "partner"},
    )
    assert bad.status_code == 422 and 'id="form-error"' in bad.text
    client.post(
        "/intel/agreements",
        data={
            "csrf_token": csrf_from(page.text),
            "partner_org": "partner",
            "markings": "TLP:GREEN",
            "record_types": "report",
        },
    )
    page = client.get("/intel/agreements")
    match = re.search(r'action="/intel/agreements/(\d+)/deactivate"', page.text)
    assert match
    assert client.post(match.group(0).split('"')[1]).status_code == 403  # no CSRF token
    done = client.post(
        f"/intel/agreements/{match.group(1)}/deactivate",
        data={"csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "/deactivate" not in client.get("/intel/agreements").text


def test_intel_pages_in_english(world: World, client: TestClient) -> None:
    login(client, "analyst")
    client.post(
        "/language",
        data={"csrf_token": page_csrf(client, "/"), "language": "en", "next": "/intel/reports"},
    )
    for path in ("/intel/reports", "/intel/reports/new", "/intel/inbox", "/intel/rfis"):
        page = client.get(path)
        assert page.status_code == 200 and '<html lang="en" dir="ltr">' in page.text, path
    assert "New report" in client.get("/intel/reports").text


def test_rfi_created_and_answered_through_the_pages(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "analyst")
    board = client.get("/intel/rfis")
    token = csrf_from(board.text)
    past = client.post(
        "/intel/rfis",
        data={
            "csrf_token": token,
            "to_org": "coastguard",
            "question": "هل رُصد القارب؟",
            "priority": "high",
            "due_date": (date.today() - timedelta(days=3)).isoformat(),
            "marking": "TLP:AMBER",
        },
    )
    assert past.status_code == 422 and "هل رُصد القارب؟" in past.text  # the form is kept
    sent = client.post(
        "/intel/rfis",
        data={
            "csrf_token": token,
            "to_org": "coastguard",
            "question": "هل رُصد القارب قرب المكلا؟",
            "priority": "urgent",
            "due_date": (date.today() + timedelta(days=2)).isoformat(),
            "marking": "TLP:AMBER",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    board = client.get("/intel/rfis")
    match = re.search(r'id="rfi-(\d+)"', board.text)
    assert match
    rfi = match.group(1)
    assert "هل رُصد القارب قرب المكلا؟" in board.text
    assert f'action="/intel/rfis/{rfi}/answer"' not in board.text  # the asker does not answer
    assert 'class="rfi overdue"' not in board.text
    with factory.begin() as db:  # time passes: the request is overdue
        db.get_one(RFI, int(rfi)).due_date = date.today() - timedelta(days=1)
    assert f'class="rfi overdue" id="rfi-{rfi}"' in client.get("/intel/rfis").text

    _switch(client, "partner")  # not a party
    assert f'id="rfi-{rfi}"' not in client.get("/intel/rfis").text

    _switch(client, "watch")
    board = client.get("/intel/rfis")
    assert f'action="/intel/rfis/{rfi}/answer"' in board.text
    empty = client.post(
        f"/intel/rfis/{rfi}/answer", data={"csrf_token": csrf_from(board.text), "answer": " "}
    )
    assert empty.status_code == 422 and 'id="form-error"' in empty.text
    assert client.post(f"/intel/rfis/{rfi}/answer", data={"answer": "x"}).status_code == 403
    answered = client.post(
        f"/intel/rfis/{rfi}/answer",
        data={
            "csrf_token": csrf_from(board.text),
            "answer": "نعم، شوهد فجر اليوم.",
            "report_ids": "",
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303

    _switch(client, "analyst")
    board = client.get("/intel/rfis")
    answered_group = board.text.split('id="rfis-answered"')[1].split("</section>")[0]
    assert "نعم، شوهد فجر اليوم." in answered_group and f'id="rfi-{rfi}"' in answered_group
