"""Attendance, results and certificates, and the public verification of a certificate.

Marking a trainee present, and recording a pass, go through the vetting gate again
(:func:`rasid.training.service.check_gate`): a vetting suspended after enrolment stops
both. A pass issues a certificate with a random verification code (60 bits, base32, not
derived from anything) and a validity from the course; the PDF carries the Arabic and the
English text on one page. ``/verify/CODE`` confirms a certificate — the name on it, the
course, the date, until when it is valid — and nothing else; every verification is audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.audit import service as audit
from rasid.core import pdf
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.training import service
from rasid.training.models import (
    Attendance,
    Course,
    Enrolment,
    TrainingPerson,
    TrainingSession,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 12  # 32^12 = 2^60


def _enrolment(
    db: Session, actor: Actor, enrolment_id: int
) -> tuple[Enrolment, TrainingSession, TrainingPerson]:
    service._require(actor, "write")
    enrolment: Enrolment = access.get_visible(db, actor, Enrolment, enrolment_id, audit_read=False)
    if enrolment.owner_org_id != actor.org_id:
        raise Forbidden("Only the organisation running a session changes its enrolments.")
    if enrolment.status == "withdrawn":
        raise Conflict("The trainee withdrew from this session.", field="status")
    session = db.get(TrainingSession, enrolment.session_id)
    person = db.get(TrainingPerson, enrolment.person_id)
    assert session is not None and person is not None
    return enrolment, session, person


def record_attendance(
    db: Session, actor: Actor, enrolment_id: int, day: date, present: bool = True
) -> Attendance:
    enrolment, session, person = _enrolment(db, actor, enrolment_id)
    if not session.start_date <= day <= session.end_date:
        raise ValidationFailed(
            "%(day)s is not a day of the session (%(start)s to %(end)s).",
            field="day",
            day=day.isoformat(),
            start=session.start_date.isoformat(),
            end=session.end_date.isoformat(),
        )
    if present:
        service.check_gate(db, person, session)
    row = db.scalar(
        select(Attendance).where(Attendance.enrolment_id == enrolment.id, Attendance.day == day)
    )
    before = None if row is None else {"present": row.present}
    if row is None:
        row = Attendance(enrolment_id=enrolment.id, day=day, present=present)
        db.add(row)
    row.present = present
    if present and enrolment.status in ("enrolled", "invited"):
        enrolment.status = "attended"
    db.flush()
    audit.record_change(
        db, actor, "update" if before else "create", "training_attendance", row.id, before,
        {"enrolment_id": enrolment.id, "day": day.isoformat(), "present": present},
    )  # fmt: skip
    return row


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def record_result(
    db: Session, actor: Actor, enrolment_id: int, score: float | None, passed: bool
) -> Enrolment:
    """Score and pass/fail; a pass completes the enrolment and issues the certificate."""
    enrolment, session, person = _enrolment(db, actor, enrolment_id)
    if score is not None and not 0 <= score <= 100:
        raise ValidationFailed("The score is 0 to 100.", field="score")
    if enrolment.certificate_code:
        raise Conflict("A certificate was issued already (%(certificate)s).", field="status",
                       certificate=enrolment.certificate_code)  # fmt: skip
    present = db.scalar(
        select(Attendance.id).where(Attendance.enrolment_id == enrolment.id, Attendance.present)
    )
    if passed and present is None:
        raise ValidationFailed("No attendance is recorded for this trainee.", field="attendance")
    before = {"status": enrolment.status, "score": enrolment.score, "passed": enrolment.passed}
    enrolment.score, enrolment.passed = score, passed
    if passed:
        service.check_gate(db, person, session)
        course = db.get(Course, session.course_id)
        assert course is not None
        enrolment.status = "completed"
        enrolment.completed_on = session.end_date
        enrolment.certificate_code = new_code()
        enrolment.certificate_issued_at = utcnow()
        enrolment.certificate_valid_until = (
            service.add_months(session.end_date, course.certificate_valid_months)
            - timedelta(days=1)
            if course.certificate_valid_months
            else None
        )
    db.flush()
    audit.record_change(
        db, actor, "update", "training_enrolment", enrolment.id, before,
        {"status": enrolment.status, "score": score, "passed": passed,
         "certificate": bool(enrolment.certificate_code)},
    )  # fmt: skip
    return enrolment


@dataclass(frozen=True)
class Verified:
    """What the public verification shows, and only that."""

    code: str
    name_ar: str
    name_latin: str
    course_ar: str
    course_en: str
    completed_on: date
    valid_until: date | None

    def valid_on(self, day: date) -> bool:
        return self.valid_until is None or day <= self.valid_until


def verify(db: Session, actor: Actor, code: str) -> Verified:
    """A certificate by its code (anyone may ask; audited, found or not)."""
    clean = "".join(ch for ch in code.upper() if ch.isalnum())[: CODE_LENGTH + 4]
    enrolment = db.scalar(select(Enrolment).where(Enrolment.certificate_code == clean))
    audit.record(
        db, actor, "verify", object_type="training_certificate",
        object_id=enrolment.id if enrolment else None,
        outcome="ok" if enrolment else "not_found", detail={"code": clean},
    )  # fmt: skip
    if enrolment is None or enrolment.completed_on is None:
        raise NotFound("No certificate has the code %(code)s.", code=clean)
    return _verified(db, enrolment)


def _verified(db: Session, enrolment: Enrolment) -> Verified:
    session = db.get(TrainingSession, enrolment.session_id)
    person = db.get(TrainingPerson, enrolment.person_id)
    assert session is not None and person is not None and enrolment.completed_on is not None
    course = db.get(Course, session.course_id)
    assert course is not None
    return Verified(
        str(enrolment.certificate_code), person.name_ar, person.name_latin, course.title_ar,
        course.title_en, enrolment.completed_on, enrolment.certificate_valid_until,
    )  # fmt: skip


def certificate_pdf(db: Session, actor: Actor, enrolment_id: int, base_url: str) -> bytes:
    """The certificate of a passed trainee, Arabic and English on one A4 page."""
    service._require(actor, "read")
    enrolment: Enrolment = access.get_visible(db, actor, Enrolment, enrolment_id, audit_read=False)
    if not enrolment.certificate_code or enrolment.completed_on is None:
        raise ValidationFailed(
            "This trainee has no certificate (no pass recorded).", field="result"
        )
    v = _verified(db, enrolment)
    audit.record(
        db, actor, "export", object_type="training_certificate", object_id=enrolment.id,
        detail={"format": "pdf"},
    )  # fmt: skip
    until_en = v.valid_until.isoformat() if v.valid_until else "no expiry"
    until_ar = v.valid_until.isoformat() if v.valid_until else "بلا انتهاء"
    url = f"{base_url.rstrip('/')}/verify/{v.code}"
    html = f"""<!doctype html><html><head><meta charset="utf-8"><style>
{pdf.font_faces()}
@page {{ size: A4 landscape; margin: 1.5cm; }}
body {{ font-family: "Noto Sans", "Noto Sans Arabic", sans-serif; text-align: center; }}
.ar {{ direction: rtl; font-family: "Noto Sans Arabic", sans-serif; }}
h1 {{ font-size: 22pt; margin: .3cm 0; }} .name {{ font-size: 20pt; font-weight: bold; }}
.code {{ font-family: monospace; font-size: 12pt; margin-top: 1cm; }}
</style></head><body>
<div class="ar"><h1>شهادة إتمام دورة تدريبية</h1><p>تشهد وزارة الداخلية بأن</p>
<p class="name">{escape(v.name_ar)}</p><p>أتمّ بنجاح دورة «{escape(v.course_ar)}» بتاريخ {v.completed_on.isoformat()}، وهي صالحة حتى {until_ar}.</p></div>
<hr>
<div lang="en"><h1>Certificate of completion</h1><p>The Ministry of Interior certifies that</p>
<p class="name">{escape(v.name_latin or v.name_ar)}</p><p>completed the course “{escape(v.course_en or v.course_ar)}” on {v.completed_on.isoformat()}; valid until {until_en}.</p></div>
<p class="code">{escape(v.code)} · {escape(url)}</p>
</body></html>"""
    return pdf.html_to_pdf(html)
