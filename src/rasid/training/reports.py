"""Due lists and reports: certificates expiring, refreshers due, vetting expiring within N
days; trained personnel by unit, governorate, course and year; the roster for the partner.

All over what the reader may see (``access/``); expiry is computed from the decisions."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
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
    and vetting approvals of people and units expiring (the latest case of each).

    The filtering is done in SQL (grouped maxima, a window over each subject's cases), so
    the cost follows what falls due, not the size of the personnel."""
    service._require(actor, "read")
    day = today or date.today()
    horizon = day + timedelta(days=days)
    latest_cert = func.max(Enrolment.certificate_valid_until)
    certs = db.execute(
        select(Enrolment.person_id, TrainingSession.course_id, latest_cert)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(
            access.visible_filter(actor, Enrolment),
            Enrolment.certificate_valid_until.is_not(None),
        )
        .group_by(Enrolment.person_id, TrainingSession.course_id)
        .having(latest_cert <= horizon)
    ).all()
    person_ids = {int(r[0]) for r in certs}
    rank = (
        func.row_number()
        .over(
            partition_by=(VettingCase.person_id, VettingCase.unit_id),
            order_by=(
                VettingCase.decided_on.desc().nulls_last(),
                VettingCase.requested_on.desc(),
                VettingCase.id.desc(),
            ),
        )
        .label("rank")
    )
    cases = select(
        VettingCase.person_id, VettingCase.unit_id, VettingCase.status, VettingCase.ref,
        VettingCase.valid_until, rank,
    ).subquery()  # fmt: skip
    expiring = db.execute(
        select(cases.c.person_id, cases.c.unit_id, cases.c.ref, cases.c.valid_until).where(
            cases.c.rank == 1, cases.c.status == "approved", cases.c.valid_until <= horizon
        )
    ).all()
    person_ids |= {int(r[0]) for r in expiring if r[0] is not None}
    people = _visible_by_id(db, actor, TrainingPerson, person_ids)
    units = _visible_by_id(
        db, actor, TrainingUnit, {int(r[1]) for r in expiring if r[1] is not None}
    )
    courses = {
        c.id: c for c in db.scalars(select(Course).where(Course.id.in_({int(r[1]) for r in certs})))
    }
    booked: set[tuple[int, int]] = set()
    cert_people = sorted({int(r[0]) for r in certs})
    for start in range(0, len(cert_people), 500):
        booked |= {
            (int(p), int(c))
            for p, c in db.execute(
                select(Enrolment.person_id, TrainingSession.course_id)
                .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
                .where(
                    Enrolment.person_id.in_(cert_people[start : start + 500]),
                    Enrolment.status.in_(("enrolled", "invited", "attended")),
                    TrainingSession.start_date >= day,
                )
            ).all()
        }
    certificates = []
    for person_id, course_id, until in sorted(certs, key=lambda r: (r[0], r[1])):
        person = people.get(int(person_id))
        if person is None or until is None:
            continue
        course = courses[int(course_id)]
        certificates.append({
            "person_id": person.id, "name_ar": person.name_ar, "course_id": course.id,
            "course": course.title_en or course.title_ar, "valid_until": until.isoformat(),
            "expired": until < day,
        })  # fmt: skip
    vetting: list[dict[str, Any]] = []
    for person_id, unit_id, ref, until in expiring:
        if person_id is not None:
            person = people.get(int(person_id))
            if person is None:
                continue
            subject: dict[str, Any] = {"person_id": person.id, "name_ar": person.name_ar}
        else:
            unit = units.get(int(unit_id))
            if unit is None:
                continue
            subject = {"unit_id": unit.id, "unit": unit.name_en or unit.name_ar}
        vetting.append(
            {**subject, "ref": ref, "valid_until": until.isoformat(), "expired": until < day}
        )
    return {
        "certificates_expiring": certificates,
        "refreshers_due": [
            c for c in certificates if (c["person_id"], c["course_id"]) not in booked
        ],
        "vetting_expiring": sorted(vetting, key=lambda v: str(v["valid_until"])),
    }


def _visible_by_id(db: Session, actor: Actor, model: Any, ids: set[int]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        for row in db.scalars(
            access.visible(actor, model).where(model.id.in_(wanted[start : start + 500]))
        ):
            out[row.id] = row
    return out


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


def roster_rows(
    db: Session, actor: Actor, session_id: int
) -> tuple[TrainingSession, list[list[str]]]:
    """A session (an audited read) and its roster's rows, in :data:`ROSTER_COLUMNS` order."""
    session: TrainingSession = access.get_visible(db, actor, TrainingSession, session_id)
    course = db.get(Course, session.course_id)
    assert course is not None
    enrolments = db.scalars(
        access.visible(actor, Enrolment)
        .where(Enrolment.session_id == session.id, Enrolment.status != "withdrawn")
        .order_by(Enrolment.id)
    )
    rows: list[list[str]] = []
    for e in enrolments:
        person = db.get(TrainingPerson, e.person_id)
        if person is None:
            continue
        unit = db.get(TrainingUnit, person.unit_id)
        case: VettingCase | None = service.latest_vetting(db, person_id=person.id)
        until = service.valid_until(case) if case else None
        rows.append([
            str(session.id), course.title_en or course.title_ar, session.start_date.isoformat(),
            session.end_date.isoformat(), person.name_ar, person.name_latin, person.rank,
            (unit.name_en or unit.name_ar) if unit else "", e.status,
            case.ref if case else "", until.isoformat() if until else "",
        ])  # fmt: skip
    return session, rows


def roster_csv(db: Session, actor: Actor, session_id: int) -> str:
    """A session's roster for the funding partner (no national IDs or contacts)."""
    _session, rows = roster_rows(db, actor, session_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ROSTER_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def roster_xlsx(db: Session, actor: Actor, session_id: int) -> bytes:
    """The roster of :func:`roster_csv` as an XLSX workbook: a bold, frozen header row, the
    Arabic text as it is, the sheet right-to-left when the session is taught in Arabic. Text
    is stored as text (a name starting with ``=`` is never run as a formula), dates as
    ``YYYY-MM-DD`` as in the CSV, the session id as a number."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    session, rows = roster_rows(db, actor, session_id)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"session {session.id}"
    sheet.sheet_view.rightToLeft = session.language == "ar"
    for r, values in enumerate([list(ROSTER_COLUMNS), *rows], start=1):
        for c, value in enumerate(values, start=1):
            if r > 1 and c == 1:
                sheet.cell(row=r, column=c, value=int(value))  # the session id, a number
            elif value:
                cell = sheet.cell(row=r, column=c, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"
                if r == 1:
                    cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for c, name in enumerate(ROSTER_COLUMNS, start=1):
        width = max([len(name), *(len(row[c - 1]) for row in rows)]) + 2
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = min(width, 50)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
