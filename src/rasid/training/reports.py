"""Due lists and reports: certificates expiring, refreshers due, vetting expiring within N
days; trained personnel by unit, governorate, course and year; the roster for the partner.

All over what the reader may see (``access/``); expiry is computed from the decisions."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.core.actor import Actor
from rasid.training import service
from rasid.training.models import (
    Course,
    Enrolment,
    TrainingPerson,
    TrainingSession,
    TrainingUnit,
    VettingCase,
)


def due(
    db: Session, actor: Actor, days: int = 60, today: date | None = None
) -> dict[str, list[dict[str, Any]]]:
    """What falls due within ``days``: certificates expiring (the latest of a person and
    course), refreshers due (those of them with no upcoming session of the course booked)
    and vetting approvals of people and units expiring."""
    service._require(actor, "read")
    day = today or date.today()
    horizon = day + timedelta(days=days)
    people = {p.id: p for p in db.scalars(access.visible(actor, TrainingPerson))}
    latest: dict[tuple[int, int], tuple[Enrolment, TrainingSession]] = {}
    rows = db.execute(
        select(Enrolment, TrainingSession)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(
            access.visible_filter(actor, Enrolment),
            Enrolment.certificate_valid_until.is_not(None),
        )
    ).all()
    for enrolment, session in rows:
        key = (enrolment.person_id, session.course_id)
        best = latest.get(key)
        if best is None or (enrolment.certificate_valid_until or day) > (
            best[0].certificate_valid_until or day
        ):
            latest[key] = (enrolment, session)
    courses = {c.id: c for c in db.scalars(select(Course))}
    certificates = []
    for (person_id, course_id), (enrolment, _session) in sorted(latest.items()):
        until = enrolment.certificate_valid_until
        if until is None or until > horizon or person_id not in people:
            continue
        course = courses[course_id]
        certificates.append({
            "person_id": person_id, "name_ar": people[person_id].name_ar,
            "course_id": course_id, "course": course.title_en or course.title_ar, "valid_until": until.isoformat(),
            "expired": until < day,
        })  # fmt: skip
    booked = {
        (e.person_id, s.course_id)
        for e, s in db.execute(
            select(Enrolment, TrainingSession)
            .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
            .where(
                Enrolment.status.in_(("enrolled", "invited", "attended")),
                TrainingSession.start_date >= day,
            )
        ).all()
    }
    vetting = []
    for person in people.values():
        case = service.latest_vetting(db, person_id=person.id)
        if case is None or case.status != "approved":
            continue
        until = service.valid_until(case)
        if until is not None and until <= horizon:
            vetting.append({"person_id": person.id, "name_ar": person.name_ar, "ref": case.ref,
                            "valid_until": until.isoformat(), "expired": until < day})  # fmt: skip
    units = {u.id: u for u in db.scalars(access.visible(actor, TrainingUnit))}
    for unit in units.values():
        case = service.latest_vetting(db, unit_id=unit.id)
        if case is None or case.status != "approved":
            continue
        until = service.valid_until(case)
        if until is not None and until <= horizon:
            vetting.append({"unit_id": unit.id, "unit": unit.name_en or unit.name_ar, "ref": case.ref,
                            "valid_until": until.isoformat(), "expired": until < day})  # fmt: skip
    return {
        "certificates_expiring": certificates,
        "refreshers_due": [
            c for c in certificates if (c["person_id"], c["course_id"]) not in booked
        ],
        "vetting_expiring": sorted(vetting, key=lambda v: str(v["valid_until"])),
    }


def trained(db: Session, actor: Actor) -> dict[str, dict[str, int]]:
    """Trained (completed) personnel counted by unit, governorate, course and year."""
    service._require(actor, "read")
    rows = db.execute(
        select(Enrolment, TrainingSession, TrainingPerson)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(TrainingPerson, TrainingPerson.id == Enrolment.person_id)
        .where(access.visible_filter(actor, Enrolment), Enrolment.status == "completed")
    ).all()
    units = {u.id: u for u in db.scalars(select(TrainingUnit))}
    courses = {c.id: c for c in db.scalars(select(Course))}
    by: dict[str, Counter[str]] = {k: Counter() for k in ("unit", "governorate", "course", "year")}
    for _e, session, person in rows:
        unit = units.get(person.unit_id)
        by["unit"][(unit.name_en or unit.name_ar) if unit else "?"] += 1
        by["governorate"][person.governorate_code or "?"] += 1
        course = courses[session.course_id]
        by["course"][course.title_en or course.title_ar] += 1
        by["year"][str(session.end_date.year)] += 1
    return {k: dict(sorted(v.items())) for k, v in by.items()}


ROSTER_COLUMNS = ("session_id", "course", "start", "end", "name_ar", "name_latin", "rank",
                  "unit", "status", "vetting_ref", "vetting_valid_until")  # fmt: skip


def roster_csv(db: Session, actor: Actor, session_id: int) -> str:
    """A session's roster for the funding partner (no national IDs or contacts)."""
    session: TrainingSession = access.get_visible(db, actor, TrainingSession, session_id)
    course = db.get(Course, session.course_id)
    assert course is not None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ROSTER_COLUMNS)
    enrolments = db.scalars(
        access.visible(actor, Enrolment)
        .where(Enrolment.session_id == session.id, Enrolment.status != "withdrawn")
        .order_by(Enrolment.id)
    )
    for e in enrolments:
        person = db.get(TrainingPerson, e.person_id)
        if person is None:
            continue
        unit = db.get(TrainingUnit, person.unit_id)
        case: VettingCase | None = service.latest_vetting(db, person_id=person.id)
        until = service.valid_until(case) if case else None
        writer.writerow([
            session.id, course.title_en or course.title_ar, session.start_date.isoformat(),
            session.end_date.isoformat(), person.name_ar, person.name_latin, person.rank,
            (unit.name_en or unit.name_ar) if unit else "", e.status,
            case.ref if case else "", until.isoformat() if until else "",
        ])  # fmt: skip
    return out.getvalue()
