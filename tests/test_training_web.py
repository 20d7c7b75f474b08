"""Training pages: plan a session, the vetting gate's refusal on the page (named and audited),
enrolment found by name in either script, attendance, results, bilingual certificates that
verify; vetting decisions; due lists; Arabic and English; who must not see them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.training.models import Enrolment, TrainingSession
from tests.conftest import World, login, page_csrf

TODAY = date.today()
RTL = '<html lang="ar" dir="rtl">'


def _post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data=data, follow_redirects=False)


def _enrol(client: TestClient, session_id: int, person_id: int) -> Any:
    csrf = page_csrf(client, f"/training/sessions/{session_id}")
    return _post(
        client, f"/training/sessions/{session_id}/enrol",
        {"csrf_token": csrf, "person_id": str(person_id)},
    )  # fmt: skip


def test_plan_enrol_refuse_attend_pass_and_verify(
    client: TestClient, world: World, factory: sessionmaker[Session], plan: dict[str, int]
) -> None:
    login(client, "analyst")
    sessions = client.get("/training/sessions")
    assert sessions.status_code == 200 and RTL in sessions.text
    course_id = re.search(r'name="course_id"><option value="(\d+)"', sessions.text)
    assert course_id
    start = TODAY - timedelta(days=2)
    made = _post(
        client,
        "/training/sessions",
        data={
            "csrf_token": page_csrf(client, "/training/sessions"),
            "course_id": course_id.group(1),
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=4)).isoformat(),
            "capacity": "3",
            "venue": "عدن",
            "funding_partner": "Partner embassy",
        },
    )
    assert made.status_code == 303
    session_id = int(made.headers["location"].rsplit("/", 1)[1])

    # A bad date is named, nothing is planned.
    bad = _post(client,
        "/training/sessions",
        data={"csrf_token": page_csrf(client, "/training/sessions"), "course_id": course_id.group(1),
              "start_date": "2026-13-01", "end_date": "2026-12-20", "capacity": "3"},
    )  # fmt: skip
    assert bad.status_code == 422 and "2026-13-01" in bad.text and 'id="form-error"' in bad.text
    with factory() as db:
        assert (
            db.scalar(select(TrainingSession.id).order_by(TrainingSession.id.desc())) == session_id
        )

    # Found across scripts: the Latin "Badr" finds بدر of the denied unit.
    found = client.get(f"/training/sessions/{session_id}", params={"q": "Badr"})
    assert f'data-person="{plan["badr"]}"' in found.text
    refused = _enrol(client, session_id, plan["badr"])
    assert refused.status_code == 403
    assert "Unit 2" in refused.text and "U-2" in refused.text and 'role="alert"' in refused.text
    # In Arabic the status is an Arabic word too (a translated message parameter)
    alert = refused.text.split('role="alert"')[1][:400]
    assert "حالتها مرفوض" in alert and "denied" not in alert
    unvetted = _enrol(client, session_id, plan["noor"])
    assert unvetted.status_code == 403 and "P-" not in unvetted.text.split('role="alert"')[1][:200]
    assert "لم يُدقَّق قط" in unvetted.text.split('role="alert"')[1][:400]
    with factory() as db:
        assert db.scalar(select(Enrolment.id).where(Enrolment.session_id == session_id)) is None
        refusals = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "enrol",
                AuditEntry.outcome == "refused",
                AuditEntry.object_id == str(session_id),
            )
        ).all()
        assert len(refusals) == 2 and any("U-2" in (r.detail or "") for r in refusals)

    for key in ("ali", "salem"):
        assert _enrol(client, session_id, plan[key]).status_code == 303
    page = client.get(f"/training/sessions/{session_id}").text
    assert 'id="places">2 / 3' in page
    ids = [int(x) for x in re.findall(r'<tr id="e-(\d+)"', page)]
    assert len(ids) == 2
    ali, salem = ids
    csrf = page_csrf(client, f"/training/sessions/{session_id}")
    # Attendance outside the session's days is refused, naming the day.
    outside = _post(client, f"/training/enrolments/{ali}/attendance",
                          data={"csrf_token": csrf, "day": (start - timedelta(days=1)).isoformat(),
                                "present": "yes"})  # fmt: skip
    alert = outside.text.split('role="alert"')[1][:300]
    assert outside.status_code == 422 and (start - timedelta(days=1)).isoformat() in alert
    for day in (start, start + timedelta(days=1)):
        r = _post(client, f"/training/enrolments/{ali}/attendance",
                        data={"csrf_token": csrf, "day": day.isoformat(), "present": "yes"})  # fmt: skip
        assert r.status_code == 303
    # A pass with no attendance is refused; the score range is checked.
    no_show = _post(client, f"/training/enrolments/{salem}/result",
                          data={"csrf_token": csrf, "score": "80", "passed": "yes"})  # fmt: skip
    assert no_show.status_code == 422
    over = _post(client, f"/training/enrolments/{ali}/result",
                       data={"csrf_token": csrf, "score": "180", "passed": "yes"})  # fmt: skip
    assert over.status_code == 422
    passed = _post(client, f"/training/enrolments/{ali}/result",
                         data={"csrf_token": csrf, "score": "87.5", "passed": "yes"})  # fmt: skip
    assert passed.status_code == 303
    page = client.get(f"/training/sessions/{session_id}").text
    assert "2 / 5" in page  # days present of five
    code = re.search(r'href="/verify/([A-Z0-9]{12})"', page)
    assert code
    pdf = client.get(f"/training/enrolments/{ali}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    roster = client.get(f"/training/sessions/{session_id}/roster.csv")
    assert roster.status_code == 200 and "علي" in roster.text and "NID-" not in roster.text

    xlsx = client.get(f"/training/sessions/{session_id}/roster.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    verified = client.get(f"/verify/{code.group(1)}")
    assert verified.status_code == 200 and "علي" in verified.text and "NID-ali" not in verified.text
    assert client.get("/verify/AAAAAAAAAAAA").status_code == 404


def test_vetting_decisions_flag_enrolments_for_review(
    client: TestClient, plan: dict[str, int]
) -> None:
    login(client, "analyst")
    assert _enrol(client, plan["session"], plan["ali"]).status_code == 303
    person = client.get(f"/training/personnel/{plan['ali']}")
    assert person.status_code == 200 and "P-ali" in person.text
    form_csrf = re.search(
        r'id="vetting-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', person.text
    )
    assert form_csrf  # the form macro sees the page's token
    csrf = form_csrf.group(1)
    bad = _post(client, f"/training/personnel/{plan['ali']}/vetting",
                      data={"csrf_token": csrf, "ref": "P-ali", "status": "suspended",
                            "requested_on": TODAY.isoformat()})  # fmt: skip
    assert bad.status_code == 422 and 'class="field invalid"' in bad.text  # no decision date
    made = _post(client, f"/training/personnel/{plan['ali']}/vetting",
                       data={"csrf_token": csrf, "ref": "P-ali", "status": "suspended",
                             "requested_on": (TODAY - timedelta(days=40)).isoformat(),
                             "decided_on": TODAY.isoformat(), "notes": "under review"})  # fmt: skip
    assert made.status_code == 303
    sessions = client.get("/training/sessions").text
    assert 'id="flagged"' in sessions and "vetting P-ali is now suspended" in sessions
    # Units: a decision on a unit, from the units page.
    units = client.get("/training/units")
    assert units.status_code == 200 and 'data-code="u2"' in units.text
    unit_vetting = _post(client, "/training/units/vetting",
                               data={"csrf_token": page_csrf(client, "/training/units"),
                                     "unit_id": str(plan["good"]), "ref": "U-1",
                                     "status": "approved",
                                     "requested_on": (TODAY - timedelta(days=50)).isoformat(),
                                     "decided_on": (TODAY - timedelta(days=1)).isoformat()})  # fmt: skip
    assert unit_vetting.status_code == 303


def test_personnel_search_across_scripts_and_registration(
    client: TestClient, plan: dict[str, int]
) -> None:
    login(client, "analyst")
    arabic = client.get("/training/personnel", params={"q": "Ali"}).text
    assert f'data-id="{plan["ali"]}"' in arabic and f'data-id="{plan["salem"]}"' not in arabic
    by_nid = client.get("/training/personnel", params={"q": "NID-salem"}).text
    assert f'data-id="{plan["salem"]}"' in by_nid
    csrf = page_csrf(client, "/training/personnel")
    twice = _post(client, "/training/personnel",
                        data={"csrf_token": csrf, "name_ar": "علي آخر", "national_id": "NID-ali",
                              "unit_id": str(plan["good"])})  # fmt: skip
    assert twice.status_code == 409 and "NID-ali" in twice.text
    made = _post(client, "/training/personnel",
                       data={"csrf_token": csrf, "name_ar": "خالد", "name_latin": "Khalid",
                             "national_id": "NID-khalid", "unit_id": str(plan["good"])})  # fmt: skip
    assert made.status_code == 303
    assert "Khalid" in client.get("/training/personnel", params={"q": "خالد"}).text


def test_courses_due_lists_and_english(client: TestClient, plan: dict[str, int]) -> None:
    login(client, "analyst")
    csrf = page_csrf(client, "/training/courses")
    made = _post(client, "/training/courses",
                       data={"csrf_token": csrf, "title_ar": "حماية الموانئ",
                             "title_en": "Port security", "duration_days": "3",
                             "certificate_valid_months": "12"})  # fmt: skip
    assert made.status_code == 303 and "Port security" in client.get("/training/courses").text
    due = client.get("/training/due", params={"days": 400})
    assert due.status_code == 200 and "P-ali" in due.text  # approvals expire within a year
    client.post("/language", data={"csrf_token": page_csrf(client, "/"), "language": "en",
                                   "next": "/training/sessions"})  # fmt: skip
    for path in ("/training/sessions", "/training/personnel", "/training/units",
                 "/training/courses", "/training/due", f"/training/sessions/{plan['session']}",
                 f"/training/personnel/{plan['ali']}"):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200 and '<html lang="en" dir="ltr">' in page.text, path
    assert "Plan a session" in client.get("/training/sessions").text


def test_who_must_not_see_the_training_pages(client: TestClient, plan: dict[str, int]) -> None:
    login(client, "partner")  # another organisation: nothing of the ministry's is shown
    assert 'data-id="' not in client.get("/training/sessions").text
    assert 'data-id="' not in client.get("/training/personnel").text
    assert 'data-id="' not in client.get("/training/personnel", params={"q": "Ali"}).text
    assert 'data-code="' not in client.get("/training/units").text
    assert "P-ali" not in client.get("/training/due", params={"days": 400}).text
    assert client.get(f"/training/sessions/{plan['session']}").status_code == 404
    assert client.get(f"/training/personnel/{plan['ali']}").status_code == 404
    refused = _enrol(client, plan["session"], plan["ali"])
    assert refused.status_code == 404
