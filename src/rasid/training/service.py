"""Training service: units, personnel, vetting, courses, sessions, and the vetting gate.

The gate (:func:`check_gate`) is the one place that decides whether a person may be
enrolled, invited or marked present in a session: the person *and* their unit (and every
unit above it) must hold an approved vetting that covers the whole session, and no unit
above them may be denied or suspended. Every path (API, CLI, import) goes through
:func:`enrol` and :func:`set_status`, so the refusal is the same everywhere and names the
reason; there is no override. A vetting decision that changes afterwards flags the
enrolments it affects for the training officer's review (:func:`record_vetting`).

Reads go through :mod:`rasid.access.service`; every change is audited with before/after.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import AMBER
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, NotFound, Term, ValidationFailed
from rasid.core.i18n import N_
from rasid.training.models import (
    ENROLMENT_STATUSES,
    UNIT_LEVELS,
    VETTING_STATUSES,
    Course,
    Enrolment,
    TrainingPerson,
    TrainingSession,
    TrainingUnit,
    VettingCase,
)

DEFAULT_VALIDITY_MONTHS = 12
GATED_STATUSES = frozenset({"enrolled", "invited", "attended", "completed"})


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "Your roles do not allow this action (%(permission)s).", permission=permission
        )


def _owner(actor: Actor) -> int:
    if actor.org_id is None:
        raise ValidationFailed(
            "Records must belong to an organisation: use --as USERNAME.", field="owner_org"
        )
    return actor.org_id


def _get(db: Session, actor: Actor, model: Any, row_id: int) -> Any:
    return access.get_visible(db, actor, model, row_id, audit_read=False)


def _text(value: str, field: str, limit: int, required: bool = False) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise ValidationFailed("This field is required.", field=field)
    if len(text) > limit:
        raise ValidationFailed("At most %(limit)s characters.", field=field, limit=limit)
    return text


# --- units and personnel -----------------------------------------------------------------------


def create_unit(
    db: Session,
    actor: Actor,
    *,
    code: str,
    name_ar: str,
    name_en: str = "",
    level: str = "unit",
    parent_id: int | None = None,
    governorate_code: str = "",
    marking: str = AMBER,
) -> TrainingUnit:
    _require(actor, "write")
    owner = _owner(actor)
    if level not in UNIT_LEVELS:
        raise ValidationFailed(
            "The level is one of: %(levels)s.", field="level", levels=", ".join(UNIT_LEVELS)
        )
    if parent_id is not None:
        _get(db, actor, TrainingUnit, parent_id)
    clean = _text(code, "code", 40, required=True).lower()
    if db.scalar(
        select(TrainingUnit.id).where(
            TrainingUnit.owner_org_id == owner, TrainingUnit.code == clean
        )
    ):
        raise Conflict("A unit with the code %(code)s exists already.", field="code", code=clean)
    unit = TrainingUnit(
        code=clean,
        name_ar=_text(name_ar, "name_ar", 200, required=True),
        name_en=_text(name_en, "name_en", 200),
        level=level,
        parent_id=parent_id,
        governorate_code=governorate_code.strip().upper(),
        owner_org_id=owner,
        marking=access.validate_marking(marking, [], []),
    )
    db.add(unit)
    db.flush()
    audit.record_change(db, actor, "create", "training_unit", unit.id, None, _unit_snap(unit))
    return unit


def _unit_snap(u: TrainingUnit) -> dict[str, Any]:
    return {"code": u.code, "name_ar": u.name_ar, "name_en": u.name_en, "level": u.level,
            "parent_id": u.parent_id, "marking": u.marking}  # fmt: skip


def unit_chain(db: Session, unit_id: int) -> list[TrainingUnit]:
    """The unit and every unit above it (nearest first)."""
    out: list[TrainingUnit] = []
    seen: set[int] = set()
    current: int | None = unit_id
    while current is not None and current not in seen:
        seen.add(current)
        unit = db.get(TrainingUnit, current)
        if unit is None:
            break
        out.append(unit)
        current = unit.parent_id
    return out


def create_person(
    db: Session,
    actor: Actor,
    *,
    name_ar: str,
    national_id: str,
    unit_id: int,
    name_latin: str = "",
    rank: str = "",
    governorate_code: str = "",
    phone: str = "",
    email: str = "",
    marking: str = AMBER,
) -> TrainingPerson:
    _require(actor, "write")
    owner = _owner(actor)
    unit = _get(db, actor, TrainingUnit, unit_id)
    nid = _text(national_id, "national_id", 40, required=True)
    if db.scalar(
        select(TrainingPerson.id).where(
            TrainingPerson.owner_org_id == owner, TrainingPerson.national_id == nid
        )
    ):
        raise Conflict(
            "A person with the national ID %(value)s exists already.",
            field="national_id",
            value=nid,
        )
    person = TrainingPerson(
        name_ar=_text(name_ar, "name_ar", 200, required=True),
        name_latin=_text(name_latin, "name_latin", 200),
        rank=_text(rank, "rank", 60),
        national_id=nid,
        unit_id=unit.id,
        governorate_code=(governorate_code or unit.governorate_code).strip().upper(),
        phone=_text(phone, "phone", 40),
        email=_text(email, "email", 120),
        owner_org_id=owner,
        marking=access.validate_marking(marking, [], []),
    )
    db.add(person)
    db.flush()
    audit.record_change(
        db, actor, "create", "training_person", person.id, None,
        {"name_ar": person.name_ar, "name_latin": person.name_latin, "unit_id": unit.id,
         "rank": person.rank, "national_id": person.national_id},
    )  # fmt: skip
    return person


def list_personnel(db: Session, actor: Actor, limit: int | None = None) -> list[TrainingPerson]:
    _require(actor, "read")
    stmt = access.visible(actor, TrainingPerson).order_by(TrainingPerson.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.scalars(stmt))


# --- vetting ------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until(case: VettingCase) -> date | None:
    """The last day an approved vetting covers (computed from the decision)."""
    if case.decided_on is None or case.status not in ("approved", "expired"):
        return None
    return add_months(case.decided_on, case.valid_months) - _ONE_DAY


_ONE_DAY = date(2000, 1, 2) - date(2000, 1, 1)


# Vetting statuses as words inside a sentence (translated with it: errors.Term)
STATUS_TERMS = {
    "pending": N_("pending"),
    "approved": N_("approved"),
    "denied": N_("denied"),
    "suspended": N_("suspended"),
    "expired": N_("expired"),
    "cancelled": N_("cancelled"),
}


def effective_status(case: VettingCase, on: date) -> str:
    """The status on a day: an approval past its validity reads ``expired``."""
    until = valid_until(case)
    if case.status == "approved" and until is not None and until < on:
        return "expired"
    return case.status


def record_vetting(
    db: Session,
    actor: Actor,
    *,
    ref: str,
    status: str,
    requested_on: date,
    person_id: int | None = None,
    unit_id: int | None = None,
    decided_on: date | None = None,
    valid_months: int = DEFAULT_VALIDITY_MONTHS,
    notes: str = "",
) -> VettingCase:
    """A new vetting case, or a new decision on the case with this reference."""
    _require(actor, "write")
    owner = _owner(actor)
    if status not in VETTING_STATUSES or status == "expired":
        raise ValidationFailed(
            "The status is one of: pending, approved, denied, suspended, cancelled "
            "(expiry is computed).",
            field="status",
        )
    if (person_id is None) == (unit_id is None):
        raise ValidationFailed("A vetting case is about one person or one unit.", field="subject")
    if status != "pending" and decided_on is None:
        raise ValidationFailed("A decision needs its date.", field="decided_on")
    if decided_on is not None and decided_on < requested_on:
        raise ValidationFailed("The decision is dated before the request.", field="decided_on")
    if not 1 <= valid_months <= 60:
        raise ValidationFailed("Validity is 1 to 60 months.", field="valid_months")
    if person_id is not None:
        _get(db, actor, TrainingPerson, person_id)
    if unit_id is not None:
        _get(db, actor, TrainingUnit, unit_id)
    clean_ref = _text(ref, "ref", 60, required=True)
    case = db.scalar(
        select(VettingCase).where(VettingCase.owner_org_id == owner, VettingCase.ref == clean_ref)
    )
    before = None if case is None else _vetting_snap(case)
    if case is None:
        case = VettingCase(ref=clean_ref, owner_org_id=owner, marking=AMBER)
        db.add(case)
    elif (case.person_id, case.unit_id) != (person_id, unit_id):
        raise Conflict("Case %(ref)s is about another subject.", field="ref", ref=clean_ref)
    case.person_id, case.unit_id = person_id, unit_id
    case.status, case.requested_on, case.decided_on = status, requested_on, decided_on
    case.valid_months, case.notes, case.updated_at = valid_months, notes.strip(), utcnow()
    case.valid_until = valid_until(case)
    db.flush()
    audit.record_change(
        db, actor, "create" if before is None else "update", "training_vetting", case.id,
        before, _vetting_snap(case),
    )  # fmt: skip
    if before is not None and before["status"] != status:
        _flag_affected(db, actor, case)
    return case


def _vetting_snap(c: VettingCase) -> dict[str, Any]:
    return {"ref": c.ref, "person_id": c.person_id, "unit_id": c.unit_id, "status": c.status,
            "requested_on": c.requested_on.isoformat(),
            "decided_on": c.decided_on.isoformat() if c.decided_on else None,
            "valid_months": c.valid_months}  # fmt: skip


def _flag_affected(db: Session, actor: Actor, case: VettingCase) -> None:
    """Enrolments in sessions not yet over whose trainee this decision concerns."""
    if case.person_id is not None:
        people = {case.person_id}
    else:
        units = {case.unit_id}
        changed = True
        while changed:  # every unit below
            below = set(
                db.scalars(select(TrainingUnit.id).where(TrainingUnit.parent_id.in_(units)))
            )
            changed = not below <= units
            units |= below
        people = set(db.scalars(select(TrainingPerson.id).where(TrainingPerson.unit_id.in_(units))))
    if not people:
        return
    rows = db.scalars(
        select(Enrolment)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(
            Enrolment.person_id.in_(people),
            Enrolment.status != "withdrawn",
            TrainingSession.end_date >= date.today(),
        )
    ).all()
    for e in rows:
        e.flagged = True
        e.flag_reason = f"vetting {case.ref} is now {case.status}"[:300]
        audit.record(
            db, actor, "flag", object_type="training_enrolment", object_id=e.id,
            detail={"reason": e.flag_reason, "notify": "training officer"},
        )  # fmt: skip


def latest_vetting(
    db: Session, *, person_id: int | None = None, unit_id: int | None = None
) -> VettingCase | None:
    stmt = select(VettingCase)
    stmt = (
        stmt.where(VettingCase.person_id == person_id)
        if person_id is not None
        else stmt.where(VettingCase.unit_id == unit_id)
    )
    return db.scalar(
        stmt.order_by(
            VettingCase.decided_on.desc().nulls_last(),
            VettingCase.requested_on.desc(),
            VettingCase.id.desc(),
        ).limit(1)
    )


def _covers(case: VettingCase | None, start: date, end: date) -> bool:
    if case is None or case.status != "approved" or case.decided_on is None:
        return False
    until = valid_until(case)
    return case.decided_on <= start and until is not None and until >= end


def check_gate(db: Session, person: TrainingPerson, session: TrainingSession) -> None:
    """Refuse, naming the reason, unless the person and their units are vetted for the
    whole session (see the module docstring)."""
    for unit in unit_chain(db, person.unit_id):
        case = latest_vetting(db, unit_id=unit.id)
        if case is not None and case.status in ("denied", "suspended"):
            raise Forbidden(
                "Refused: the unit %(unit)s is %(status)s in vetting case %(ref)s; none of "
                "its members may be trained.",
                field="vetting",
                unit=unit.name_en or unit.name_ar,
                status=Term(STATUS_TERMS.get(case.status, case.status)),
                ref=case.ref,
            )
    own_unit = db.get(TrainingUnit, person.unit_id)
    unit_case = latest_vetting(db, unit_id=person.unit_id)
    if not _covers(unit_case, session.start_date, session.end_date):
        raise Forbidden(
            "Refused: the unit %(unit)s has no approved vetting covering %(start)s to %(end)s.",
            field="vetting",
            unit=(own_unit.name_en or own_unit.name_ar) if own_unit else person.unit_id,
            start=session.start_date.isoformat(),
            end=session.end_date.isoformat(),
        )
    case = latest_vetting(db, person_id=person.id)
    if not _covers(case, session.start_date, session.end_date):
        person_name = person.name_latin or person.name_ar
        start, end = session.start_date.isoformat(), session.end_date.isoformat()
        if case is None:
            raise Forbidden(
                "Refused: %(person)s has no approved vetting covering %(start)s to %(end)s "
                "(never vetted).",
                field="vetting", person=person_name, start=start, end=end,
            )  # fmt: skip
        status = effective_status(case, session.start_date)
        raise Forbidden(
            "Refused: %(person)s has no approved vetting covering %(start)s to %(end)s "
            "(vetting %(ref)s: %(status)s).",
            field="vetting", person=person_name, start=start, end=end, ref=case.ref,
            status=Term(STATUS_TERMS.get(status, status)),
        )  # fmt: skip


def person_vetting(db: Session, person: TrainingPerson, on: date) -> tuple[str, date | None]:
    """(status, valid until) of the person's latest vetting on a day."""
    case = latest_vetting(db, person_id=person.id)
    if case is None:
        return "none", None
    return effective_status(case, on), valid_until(case)


# --- courses, sessions, enrolment ----------------------------------------------------------------


def create_course(
    db: Session,
    actor: Actor,
    *,
    title_ar: str,
    title_en: str = "",
    topic: str = "",
    duration_days: int = 1,
    prerequisites: str = "",
    certificate_valid_months: int | None = None,
    marking: str = AMBER,
    releasable_to: Iterable[int] = (),
) -> Course:
    _require(actor, "write")
    course = Course(
        title_ar=_text(title_ar, "title_ar", 200, required=True),
        title_en=_text(title_en, "title_en", 200),
        topic=_text(topic, "topic", 100),
        duration_days=max(1, duration_days),
        prerequisites=prerequisites.strip(),
        certificate_valid_months=certificate_valid_months,
        owner_org_id=_owner(actor),
        marking=access.validate_marking(marking, list(releasable_to), []),
    )
    db.add(course)
    db.flush()
    access.set_grants(db, course, releasable_to=releasable_to, fresh=True)
    audit.record_change(db, actor, "create", "training_course", course.id, None,
                        {"title_ar": course.title_ar, "title_en": course.title_en})  # fmt: skip
    return course


def create_session(
    db: Session,
    actor: Actor,
    *,
    course_id: int,
    start_date: date,
    end_date: date,
    capacity: int,
    venue: str = "",
    instructors: str = "",
    funding_partner: str = "",
    funding_authority: str = "",
    language: str = "ar",
    marking: str = AMBER,
    releasable_to: Iterable[int] = (),
) -> TrainingSession:
    _require(actor, "write")
    course = _get(db, actor, Course, course_id)
    if end_date < start_date:
        raise ValidationFailed("The session ends before it starts.", field="end_date")
    if capacity < 1:
        raise ValidationFailed("The capacity is at least 1.", field="capacity")
    session = TrainingSession(
        course_id=course.id,
        start_date=start_date,
        end_date=end_date,
        capacity=capacity,
        venue=_text(venue, "venue", 200),
        instructors=_text(instructors, "instructors", 300),
        funding_partner=_text(funding_partner, "funding_partner", 200),
        funding_authority=_text(funding_authority, "funding_authority", 200),
        language=language if language in ("ar", "en") else "ar",
        owner_org_id=_owner(actor),
        marking=access.validate_marking(marking, list(releasable_to), []),
    )
    db.add(session)
    db.flush()
    access.set_grants(db, session, releasable_to=releasable_to, fresh=True)
    audit.record_change(db, actor, "create", "training_session", session.id, None,
                        {"course_id": course.id, "start": start_date.isoformat(),
                         "end": end_date.isoformat(), "capacity": capacity})  # fmt: skip
    return session


@dataclass(frozen=True)
class SessionRow:
    session: TrainingSession
    course: Course
    enrolled: int


def list_sessions(db: Session, actor: Actor) -> list[SessionRow]:
    _require(actor, "read")
    sessions = list(
        db.scalars(access.visible(actor, TrainingSession).order_by(TrainingSession.start_date))
    )
    counts = dict(
        db.execute(
            select(Enrolment.session_id, func.count())
            .where(Enrolment.status != "withdrawn")
            .group_by(Enrolment.session_id)
        ).all()
    )
    courses = {
        c.id: c
        for c in db.scalars(select(Course).where(Course.id.in_({s.course_id for s in sessions})))
    }
    return [SessionRow(s, courses[s.course_id], int(counts.get(s.id, 0))) for s in sessions]


def enrol(db: Session, actor: Actor, session_id: int, person_id: int) -> Enrolment:
    """Enrol a person, through the vetting gate; refusals name the reason and are audited."""
    _require(actor, "write")
    try:
        session = _get(db, actor, TrainingSession, session_id)
    except NotFound:
        raise NotFound(
            "No %(type)s with id %(id)s.", type="training_session", id=session_id
        ) from None
    person = _get(db, actor, TrainingPerson, person_id)
    if session.owner_org_id != actor.org_id:
        raise Forbidden("Only the organisation running a session enrols trainees in it.")
    existing = db.scalar(
        select(Enrolment).where(
            Enrolment.session_id == session.id, Enrolment.person_id == person.id
        )
    )
    if existing is not None and existing.status != "withdrawn":
        raise Conflict("%(person)s is already enrolled in this session.", field="person_id",
                       person=person.name_latin or person.name_ar)  # fmt: skip
    taken = db.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.session_id == session.id, Enrolment.status != "withdrawn")
    )
    if int(taken or 0) >= session.capacity:
        raise Conflict("Refused: the session is full (%(capacity)s places).", field="capacity",
                       capacity=session.capacity)  # fmt: skip
    overlap = db.scalar(
        select(TrainingSession.id)
        .join(Enrolment, Enrolment.session_id == TrainingSession.id)
        .where(
            Enrolment.person_id == person.id,
            Enrolment.status != "withdrawn",
            TrainingSession.id != session.id,
            TrainingSession.start_date <= session.end_date,
            TrainingSession.end_date >= session.start_date,
        )
        .limit(1)
    )
    if overlap is not None:
        raise Conflict("Refused: %(person)s is enrolled in session %(other)s at the same time.",
                       field="person_id", person=person.name_latin or person.name_ar,
                       other=overlap)  # fmt: skip
    check_gate(db, person, session)
    if existing is not None:
        existing.status, existing.flagged, existing.flag_reason = "enrolled", False, ""
        enrolment = existing
    else:
        enrolment = Enrolment(session_id=session.id, person_id=person.id, status="enrolled",
                              owner_org_id=session.owner_org_id, marking=session.marking,
                              created_by=actor.user_id)  # fmt: skip
        db.add(enrolment)
    db.flush()
    audit.record_change(db, actor, "create", "training_enrolment", enrolment.id, None,
                        {"session_id": session.id, "person_id": person.id,
                         "status": "enrolled"})  # fmt: skip
    return enrolment


def set_status(db: Session, actor: Actor, enrolment_id: int, status: str) -> Enrolment:
    """Invite, mark attended / completed, or withdraw; all but withdrawing pass the gate."""
    _require(actor, "write")
    if status not in ENROLMENT_STATUSES:
        raise ValidationFailed("The status is one of: %(statuses)s.", field="status",
                               statuses=", ".join(ENROLMENT_STATUSES))  # fmt: skip
    enrolment: Enrolment = _get(db, actor, Enrolment, enrolment_id)
    if enrolment.owner_org_id != actor.org_id:
        raise Forbidden("Only the organisation running a session changes its enrolments.")
    if status in GATED_STATUSES:
        session = db.get(TrainingSession, enrolment.session_id)
        person = db.get(TrainingPerson, enrolment.person_id)
        assert session is not None and person is not None
        check_gate(db, person, session)
    before = {"status": enrolment.status, "flagged": enrolment.flagged}
    enrolment.status = status
    if status in GATED_STATUSES:
        enrolment.flagged, enrolment.flag_reason = False, ""
    db.flush()
    audit.record_change(db, actor, "update", "training_enrolment", enrolment.id, before,
                        {"status": status, "flagged": enrolment.flagged})  # fmt: skip
    return enrolment


def flagged_enrolments(db: Session, actor: Actor) -> list[Enrolment]:
    _require(actor, "read")
    return list(db.scalars(access.visible(actor, Enrolment).where(Enrolment.flagged)))


# --- reads for the pages -------------------------------------------------------------------------

NAME_MATCH_MIN = 0.5  # the registry search's threshold for a name match


@dataclass(frozen=True)
class PersonHit:
    person: TrainingPerson
    score: float
    matched: str


def search_personnel(db: Session, actor: Actor, query: str, limit: int = 50) -> list[PersonHit]:
    """Personnel whose Arabic name or transliteration matches ``query`` in either script (the
    registry's cross-script name matching: محمد finds Mohammed and Muhammad), or whose
    national ID is ``query``; best first."""
    from rasid.registry import names

    _require(actor, "read")
    query = " ".join(query.split())
    if not query:
        return []
    by_id = db.scalars(
        access.visible(actor, TrainingPerson).where(TrainingPerson.national_id == query)
    ).all()
    hits = [PersonHit(p, 1.0, p.national_id) for p in by_id]
    seen = {p.id for p in by_id}
    q = names.parse(query)
    for person in db.scalars(access.visible(actor, TrainingPerson)):
        if person.id in seen:
            continue
        best = max(
            ((names.score(q, names.parse(n)).score, n) for n in (person.name_ar, person.name_latin)
             if n),
            default=(0.0, ""),
        )  # fmt: skip
        if best[0] >= NAME_MATCH_MIN:
            hits.append(PersonHit(person, best[0], best[1]))
    hits.sort(key=lambda h: (-h.score, h.person.id))
    return hits[:limit]


def get_person(db: Session, actor: Actor, person_id: int) -> TrainingPerson:
    """One person (an audited read: personnel records are protected data)."""
    _require(actor, "read")
    person: TrainingPerson = access.get_visible(db, actor, TrainingPerson, person_id)
    return person


def get_session(db: Session, actor: Actor, session_id: int) -> TrainingSession:
    _require(actor, "read")
    session: TrainingSession = access.get_visible(db, actor, TrainingSession, session_id)
    return session


def list_units(db: Session, actor: Actor) -> list[TrainingUnit]:
    _require(actor, "read")
    return list(db.scalars(access.visible(actor, TrainingUnit).order_by(TrainingUnit.code)))


def list_courses(db: Session, actor: Actor) -> list[Course]:
    _require(actor, "read")
    return list(db.scalars(access.visible(actor, Course).order_by(Course.title_en, Course.id)))


def vetting_cases(
    db: Session, actor: Actor, *, person_id: int | None = None, unit_id: int | None = None
) -> list[VettingCase]:
    """A subject's vetting cases, newest decision first."""
    stmt = access.visible(actor, VettingCase)
    stmt = (
        stmt.where(VettingCase.person_id == person_id)
        if person_id is not None
        else stmt.where(VettingCase.unit_id == unit_id)
    )
    return list(
        db.scalars(
            stmt.order_by(
                VettingCase.decided_on.desc().nulls_last(), VettingCase.requested_on.desc()
            )
        )
    )


def unit_vetting(db: Session, unit: TrainingUnit, on: date) -> tuple[str, date | None]:
    case = latest_vetting(db, unit_id=unit.id)
    if case is None:
        return "none", None
    return effective_status(case, on), valid_until(case)


@dataclass(frozen=True)
class EnrolmentRow:
    enrolment: Enrolment
    person: TrainingPerson
    unit: TrainingUnit | None
    days_present: int


def session_enrolments(db: Session, actor: Actor, session_id: int) -> list[EnrolmentRow]:
    """A session's enrolments with their trainee, unit and days present."""
    from rasid.training.models import Attendance

    _require(actor, "read")
    enrolments = list(
        db.scalars(
            access.visible(actor, Enrolment)
            .where(Enrolment.session_id == session_id)
            .order_by(Enrolment.id)
        )
    )
    ids = [e.id for e in enrolments]
    present = dict(
        db.execute(
            select(Attendance.enrolment_id, func.count())
            .where(Attendance.enrolment_id.in_(ids), Attendance.present)
            .group_by(Attendance.enrolment_id)
        ).all()
    )
    people = {
        p.id: p
        for p in db.scalars(
            select(TrainingPerson).where(TrainingPerson.id.in_({e.person_id for e in enrolments}))
        )
    }
    units = {
        u.id: u
        for u in db.scalars(
            select(TrainingUnit).where(TrainingUnit.id.in_({p.unit_id for p in people.values()}))
        )
    }
    return [
        EnrolmentRow(
            e,
            people[e.person_id],
            units.get(people[e.person_id].unit_id),
            int(present.get(e.id, 0)),
        )
        for e in enrolments
    ]


def record_refusal(
    db: Session, actor: Actor, action: str, object_type: str, object_id: int, reason: str,
    **detail: Any,
) -> None:  # fmt: skip
    """The audit entry of a refused enrolment, invitation or attendance (written by the
    interface in its own transaction, after the refused work was rolled back)."""
    audit.record(db, actor, action, object_type=object_type, object_id=object_id,
                 detail={**detail, "reason": reason}, outcome="refused")  # fmt: skip


def get_enrolment(db: Session, actor: Actor, enrolment_id: int) -> Enrolment:
    _require(actor, "read")
    enrolment: Enrolment = access.get_visible(db, actor, Enrolment, enrolment_id, audit_read=False)
    return enrolment


def course_of(db: Session, session: TrainingSession) -> Course:
    course = db.get(Course, session.course_id)
    assert course is not None
    return course


@dataclass(frozen=True)
class PersonEnrolment:
    enrolment: Enrolment
    session: TrainingSession
    course: Course


def person_enrolments(db: Session, actor: Actor, person_id: int) -> list[PersonEnrolment]:
    rows = db.execute(
        access.visible(actor, Enrolment)
        .add_columns(TrainingSession, Course)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(Enrolment.person_id == person_id)
        .order_by(TrainingSession.start_date.desc())
    ).all()
    return [PersonEnrolment(e, s, c) for e, s, c in rows]


def flagged_rows(db: Session, actor: Actor) -> list[EnrolmentRow]:
    """Enrolments flagged for the training officer's review, with their trainee."""
    out: list[EnrolmentRow] = []
    for e in flagged_enrolments(db, actor):
        person = db.get(TrainingPerson, e.person_id)
        if person is not None:
            out.append(EnrolmentRow(e, person, db.get(TrainingUnit, person.unit_id), 0))
    return out
