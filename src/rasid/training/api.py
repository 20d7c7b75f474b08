"""JSON routes of training: sessions with their enrolments, personnel (found across scripts),
vetting decisions, enrolment, attendance and results through the vetting gate, certificates,
due lists, the trained-personnel figures and the roster.

Everything goes through :mod:`rasid.training.service` and its siblings, so the gate, the
access filter and the audit trail are the pages' and the CLI's: a session, enrolment or
person the caller may not see is a 404 (audited), and every change runs in
:func:`rasid.web.deps.guarded`, so a refusal is rolled back, audited once and returned with
its reason.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from rasid.audit import service as audit
from rasid.training import certificates, reports, service
from rasid.training.models import Enrolment, TrainingPerson, TrainingUnit, VettingCase
from rasid.web.deps import DB, ApiActor, guarded

router = APIRouter(prefix="/api/v1/training", tags=["training"])

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SessionOut(BaseModel):
    id: int
    course: str
    start: date
    end: date
    capacity: int
    enrolled: int


class PersonOut(BaseModel):
    id: int
    name_ar: str
    name_latin: str
    unit: str | None
    vetting_status: str
    vetting_valid_until: date | None
    score: float | None = Field(None, description="How well the name matched (with q only)")


class EnrolIn(BaseModel):
    session_id: int
    person_id: int


class EnrolmentOut(BaseModel):
    id: int
    session_id: int
    person_id: int
    status: str
    flagged: bool
    flag_reason: str


class StatusIn(BaseModel):
    status: str


class SessionEnrolmentOut(EnrolmentOut):
    name_ar: str
    name_latin: str
    rank: str
    unit: str | None
    vetting_status: str = Field(description="The trainee's vetting on the session's first day")
    vetting_valid_until: date | None
    days_present: int
    score: float | None
    passed: bool | None
    certificate_code: str | None
    certificate_valid_until: date | None


class SessionDetailOut(SessionOut):
    course_id: int
    course_ar: str
    venue: str
    instructors: str
    funding_partner: str
    funding_authority: str
    language: str
    enrolments: list[SessionEnrolmentOut]


class AttendanceIn(BaseModel):
    day: date = Field(description="A day of the session")
    present: bool = Field(True, description="A presence passes the vetting gate again")


class AttendanceOut(BaseModel):
    enrolment_id: int
    day: date
    present: bool
    status: str = Field(description="The enrolment's status afterwards")


class ResultIn(BaseModel):
    score: float | None = Field(None, description="0 to 100")
    passed: bool = Field(description="A pass passes the gate again and issues the certificate")


class ResultOut(BaseModel):
    enrolment_id: int
    status: str
    score: float | None
    passed: bool | None
    certificate_code: str | None = Field(description="12 characters; verify at /verify/CODE")
    certificate_valid_until: date | None = Field(description="None: no expiry (or no pass)")
    verify_url: str | None


class CertificateDueOut(BaseModel):
    person_id: int
    name_ar: str
    course_id: int
    course: str
    valid_until: date
    expired: bool


class VettingDueOut(BaseModel):
    person_id: int | None = None
    name_ar: str | None = None
    unit_id: int | None = None
    unit: str | None = None
    ref: str
    valid_until: date
    expired: bool


class DueOut(BaseModel):
    certificates_expiring: list[CertificateDueOut]
    refreshers_due: list[CertificateDueOut] = Field(
        description="Expiring certificates with no upcoming session of the course booked"
    )
    vetting_expiring: list[VettingDueOut]


class TrainedOut(BaseModel):
    unit: dict[str, int]
    governorate: dict[str, int]
    course: dict[str, int]
    year: dict[str, int]


class VettingIn(BaseModel):
    ref: str = Field(description="The case reference; a reference on file is a new decision")
    status: str = Field(description="pending, approved, denied, suspended or cancelled")
    requested_on: date
    decided_on: date | None = Field(None, description="Needed unless pending")
    valid_months: int = Field(service.DEFAULT_VALIDITY_MONTHS, description="1 to 60 months")
    notes: str = ""
    person_id: int | None = Field(None, description="The person vetted (or unit_id)")
    unit_id: int | None = Field(None, description="The unit vetted (or person_id)")


class VettingOut(BaseModel):
    id: int
    ref: str
    person_id: int | None
    unit_id: int | None
    status: str
    requested_on: date
    decided_on: date | None
    valid_months: int
    valid_until: date | None
    notes: str


def _unit_name(unit: TrainingUnit | None) -> str | None:
    return (unit.name_en or unit.name_ar) if unit else None


@router.get("/sessions", response_model=list[SessionOut])
def list_sessions(db: DB, actor: ApiActor) -> list[SessionOut]:
    return [
        SessionOut(
            id=r.session.id,
            course=r.course.title_en or r.course.title_ar,
            start=r.session.start_date,
            end=r.session.end_date,
            capacity=r.session.capacity,
            enrolled=r.enrolled,
        )
        for r in service.list_sessions(db, actor)
    ]


@router.get("/sessions/{session_id}", response_model=SessionDetailOut)
def get_session(session_id: int, db: DB, actor: ApiActor) -> SessionDetailOut:
    """One session with its enrolments (each trainee's vetting on the first day, days
    present, result and certificate); 404 for a session hidden or missing."""
    s = service.get_session(db, actor, session_id)
    course = service.course_of(db, s)
    rows = service.session_enrolments(db, actor, s.id)
    enrolments: list[SessionEnrolmentOut] = []
    for r in rows:
        status, until = service.person_vetting(db, r.person, s.start_date)
        e = r.enrolment
        enrolments.append(
            SessionEnrolmentOut(
                id=e.id,
                session_id=e.session_id,
                person_id=e.person_id,
                status=e.status,
                flagged=e.flagged,
                flag_reason=e.flag_reason,
                name_ar=r.person.name_ar,
                name_latin=r.person.name_latin,
                rank=r.person.rank,
                unit=_unit_name(r.unit),
                vetting_status=status,
                vetting_valid_until=until,
                days_present=r.days_present,
                score=e.score,
                passed=e.passed,
                certificate_code=e.certificate_code,
                certificate_valid_until=e.certificate_valid_until,
            )
        )
    return SessionDetailOut(
        id=s.id, course=course.title_en or course.title_ar, start=s.start_date, end=s.end_date,
        capacity=s.capacity, enrolled=sum(1 for r in rows if r.enrolment.status != "withdrawn"),
        course_id=course.id, course_ar=course.title_ar, venue=s.venue, instructors=s.instructors,
        funding_partner=s.funding_partner, funding_authority=s.funding_authority,
        language=s.language, enrolments=enrolments,
    )  # fmt: skip


def _person(db: DB, p: TrainingPerson, today: date, score: float | None = None) -> PersonOut:
    status, until = service.person_vetting(db, p, today)
    return PersonOut(
        id=p.id,
        name_ar=p.name_ar,
        name_latin=p.name_latin,
        unit=_unit_name(db.get(TrainingUnit, p.unit_id)),
        vetting_status=status,
        vetting_valid_until=until,
        score=score,
    )


@router.get("/personnel", response_model=list[PersonOut])
def list_personnel(
    db: DB,
    actor: ApiActor,
    q: str = Query(
        "",
        description="A name in either script (محمد finds Mohammed) or a "
        "national ID; best match first",
    ),
) -> list[PersonOut]:
    """The personnel the caller may see with their vetting today, or those matching ``q``."""
    today = date.today()
    if q.strip():
        return [_person(db, h.person, today, round(h.score, 3))
                for h in service.search_personnel(db, actor, q)]  # fmt: skip
    return [_person(db, p, today) for p in service.list_personnel(db, actor)]


@router.post("/vetting", response_model=VettingOut)
def record_vetting(body: VettingIn, request: Request, db: DB, actor: ApiActor) -> VettingOut:
    """A new vetting case, or a new decision on the case with this reference, about one
    person or one unit; a changed decision flags the enrolments it concerns."""
    case: VettingCase = guarded(
        request, db, lambda: service.record_vetting(db, actor, **body.model_dump())
    )
    return VettingOut.model_validate(case, from_attributes=True)


def _out(e: object) -> EnrolmentOut:
    return EnrolmentOut.model_validate(e, from_attributes=True)


@router.post("/enrolments", response_model=EnrolmentOut, status_code=201)
def enrol(body: EnrolIn, request: Request, db: DB, actor: ApiActor) -> EnrolmentOut:
    """Enrol through the vetting gate: 403 naming the reason when the trainee or a unit
    above them is not vetted for the whole session; 409 when full or overlapping."""
    return _out(guarded(request, db, lambda: service.enrol(db, actor, body.session_id,
                                                            body.person_id)))  # fmt: skip


@router.post("/enrolments/{enrolment_id}/status", response_model=EnrolmentOut)
def set_status(
    enrolment_id: int, body: StatusIn, request: Request, db: DB, actor: ApiActor
) -> EnrolmentOut:
    """Invite, mark attended or completed (each through the gate again), or withdraw."""
    return _out(guarded(request, db, lambda: service.set_status(db, actor, enrolment_id,
                                                                 body.status)))  # fmt: skip


@router.post("/enrolments/{enrolment_id}/attendance", response_model=AttendanceOut)
def record_attendance(
    enrolment_id: int, body: AttendanceIn, request: Request, db: DB, actor: ApiActor
) -> AttendanceOut:
    """A day's presence (through the vetting gate again: 403 naming the reason when the
    vetting was suspended after enrolment) or absence."""
    row = guarded(request, db, lambda: certificates.record_attendance(
        db, actor, enrolment_id, body.day, present=body.present))  # fmt: skip
    enrolment = db.get(Enrolment, enrolment_id)
    assert enrolment is not None
    return AttendanceOut(
        enrolment_id=enrolment_id, day=row.day, present=row.present, status=enrolment.status
    )


@router.post("/enrolments/{enrolment_id}/result", response_model=ResultOut)
def record_result(
    enrolment_id: int, body: ResultIn, request: Request, db: DB, actor: ApiActor
) -> ResultOut:
    """Score and pass/fail; a pass (through the gate again) completes the enrolment and
    issues the certificate: its verification code and until when it is valid."""
    e = guarded(request, db, lambda: certificates.record_result(
        db, actor, enrolment_id, body.score, body.passed))  # fmt: skip
    code = e.certificate_code
    return ResultOut(
        enrolment_id=e.id, status=e.status, score=e.score, passed=e.passed,
        certificate_code=code, certificate_valid_until=e.certificate_valid_until,
        verify_url=f"{str(request.base_url).rstrip('/')}/verify/{code}" if code else None,
    )  # fmt: skip


@router.get(
    "/enrolments/{enrolment_id}/certificate.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}, "description": "The certificate (Arabic and English)"}},
)
def certificate_pdf(enrolment_id: int, request: Request, db: DB, actor: ApiActor) -> Response:
    """A passed trainee's bilingual certificate (422 when no pass is recorded)."""
    body = certificates.certificate_pdf(db, actor, enrolment_id, str(request.base_url))
    return Response(body, media_type=PDF, headers={
        "content-disposition": f'attachment; filename="certificate-{enrolment_id}.pdf"'})  # fmt: skip


@router.get("/due", response_model=DueOut)
def due(
    db: DB,
    actor: ApiActor,
    days: int = Query(60, ge=0, le=3660, description="Within this many days"),
) -> DueOut:
    """Certificates expiring, refreshers due and vetting approvals expiring within ``days``
    (those already past included), over what the caller may see."""
    return DueOut.model_validate(reports.due(db, actor, days))


@router.get("/trained", response_model=TrainedOut)
def trained(db: DB, actor: ApiActor) -> TrainedOut:
    """Trained (completed) personnel counted by unit, governorate, course and year."""
    return TrainedOut.model_validate(reports.trained(db, actor))


@router.get(
    "/sessions/{session_id}/roster",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}},
                     "description": "The roster (no national IDs or contacts)"}},
)  # fmt: skip
def roster(
    session_id: int,
    db: DB,
    actor: ApiActor,
    fmt: Literal["csv", "xlsx"] = Query("csv", alias="format"),
) -> Response:
    """A session's roster for the funding partner: CSV (UTF-8 with BOM) or XLSX (the sheet
    right-to-left for a session taught in Arabic); the export is audited."""
    if fmt == "xlsx":
        body, media = reports.roster_xlsx(db, actor, session_id), XLSX
    else:
        text = reports.roster_csv(db, actor, session_id)
        body, media = ("\ufeff" + text).encode(), "text/csv; charset=utf-8"
    rows = sum(1 for r in service.session_enrolments(db, actor, session_id)
               if r.enrolment.status != "withdrawn")  # fmt: skip
    audit.record(db, actor, "export", object_type="training_session", object_id=session_id,
                 detail={"format": fmt, "rows": rows})  # fmt: skip
    disposition = f'attachment; filename="roster-{session_id}.{fmt}"'
    return Response(body, media_type=media, headers={"content-disposition": disposition})
