"""JSON routes of training: sessions, personnel, enrolment through the vetting gate."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel

from rasid.training import service
from rasid.training.models import TrainingUnit
from rasid.web.deps import DB, ApiActor, guarded

router = APIRouter(prefix="/api/v1/training", tags=["training"])


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


@router.get("/personnel", response_model=list[PersonOut])
def list_personnel(db: DB, actor: ApiActor) -> list[PersonOut]:
    today = date.today()
    out: list[PersonOut] = []
    for p in service.list_personnel(db, actor):
        unit = db.get(TrainingUnit, p.unit_id)
        status, until = service.person_vetting(db, p, today)
        out.append(
            PersonOut(
                id=p.id,
                name_ar=p.name_ar,
                name_latin=p.name_latin,
                unit=(unit.name_en or unit.name_ar) if unit else None,
                vetting_status=status,
                vetting_valid_until=until,
            )
        )
    return out


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
