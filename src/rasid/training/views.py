"""Training pages: sessions (planning, enrolment through the vetting gate, attendance,
results, certificates, roster), personnel with their vetting, units, courses, due lists,
and the public verification of a certificate (``/verify/CODE``).

Every read and change goes through :mod:`rasid.training.service` and its siblings, so the
gate, the access rules and the audit trail are the API's and the CLI's. A refusal re-renders
the page with the reason and is audited in its own transaction.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from rasid.core import i18n
from rasid.core.actor import Actor, anonymous_actor
from rasid.core.errors import Conflict, Forbidden, NotFound, RasidError
from rasid.training import certificates, reports, service
from rasid.training.models import UNIT_LEVELS, TrainingUnit
from rasid.web import forms
from rasid.web.deps import DB, PageActor, client_address, request_id
from rasid.web.templating import environment, labeller, render

router = APIRouter(include_in_schema=False)

VETTING_LABELS = {
    "none": i18n.N_("Not vetted"),
    "pending": i18n.N_("Pending"),
    "approved": i18n.N_("Approved"),
    "denied": i18n.N_("Denied"),
    "suspended": i18n.N_("Suspended"),
    "expired": i18n.N_("Expired"),
    "cancelled": i18n.N_("Cancelled"),
}
ENROLMENT_LABELS = {
    "enrolled": i18n.N_("Enrolled"),
    "invited": i18n.N_("Invited"),
    "attended": i18n.N_("Attending"),
    "completed": i18n.N_("Completed"),
    "withdrawn": i18n.N_("Withdrawn"),
}
LEVEL_LABELS = {
    "ministry": i18n.N_("Ministry"),
    "directorate": i18n.N_("Directorate"),
    "unit": i18n.N_("Unit"),
}
DUE_DAYS = 60

_env = environment()
_env.globals["vetting_label"] = labeller(VETTING_LABELS)
_env.globals["enrolment_label"] = labeller(ENROLMENT_LABELS)
_env.globals["unit_level_label"] = labeller(LEVEL_LABELS)


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _refused(request: Request, actor: Actor, exc: RasidError, action: str, otype: str,
             oid: int, **detail: Any) -> None:  # fmt: skip
    """Audit a refusal (the gate, a full or overlapping session) in its own transaction (the
    refused work was rolled back); a mistyped form value is not a refusal."""
    if not isinstance(exc, (Forbidden, Conflict)):
        return
    db = request.app.state.session_factory()
    try:
        service.record_refusal(db, actor, action, otype, oid, exc.message, **detail)
        db.commit()
    finally:
        db.close()


def _unit_name(unit: TrainingUnit | None) -> str:
    if unit is None:
        return ""
    return unit.name_ar if i18n.get_language() == "ar" else (unit.name_en or unit.name_ar)


_env.globals["unit_name"] = _unit_name


# --- sessions -------------------------------------------------------------------------------


def _sessions_context(db: DB, actor: Actor, **extra: Any) -> dict[str, Any]:
    today = date.today()
    rows = service.list_sessions(db, actor)
    return {
        "upcoming": [r for r in rows if r.session.end_date >= today],
        "past": [r for r in rows if r.session.end_date < today],
        "courses": service.list_courses(db, actor),
        "flagged": _flagged(db, actor),
        "can_write": actor.can("write"),
        "values": {},
        **extra,
    }


def _flagged(db: DB, actor: Actor) -> list[service.EnrolmentRow]:
    return service.flagged_rows(db, actor)


@router.get("/training/sessions")
def sessions_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "training/sessions.html", _sessions_context(db, actor))


@router.post("/training/sessions")
async def session_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        session = service.create_session(
            db,
            actor,
            course_id=forms.required_whole(form, "course_id"),
            start_date=forms.required_day(form, "start_date"),
            end_date=forms.required_day(form, "end_date"),
            capacity=forms.required_whole(form, "capacity"),
            venue=forms.text(form, "venue"),
            instructors=forms.text(form, "instructors"),
            funding_partner=forms.text(form, "funding_partner"),
            funding_authority=forms.text(form, "funding_authority"),
            language=forms.text(form, "language") or "ar",
        )
    except RasidError as exc:
        db.rollback()
        ctx = _sessions_context(db, actor, error_exc=exc, error_field=exc.field,
                                values={k: str(v) for k, v in form.items()})  # fmt: skip
        return render(request, "training/sessions.html", ctx, status_code=exc.status)
    return _redirect(f"/training/sessions/{session.id}")


def _session_context(db: DB, actor: Actor, session_id: int, query: str = "",
                     **extra: Any) -> dict[str, Any]:  # fmt: skip
    session = service.get_session(db, actor, session_id)
    course = service.course_of(db, session)
    rows = service.session_enrolments(db, actor, session.id)
    today = date.today()
    vetting = {r.person.id: service.person_vetting(db, r.person, session.start_date) for r in rows}
    hits = service.search_personnel(db, actor, query, limit=20) if query else []
    enrolled = {r.person.id for r in rows if r.enrolment.status != "withdrawn"}
    days = [session.start_date + timedelta(days=i)
            for i in range((session.end_date - session.start_date).days + 1)]  # fmt: skip
    return {
        "s": session,
        "course": course,
        "rows": rows,
        "vetting": vetting,
        "taken": len(enrolled),
        "query": query,
        "hits": [h for h in hits if h.person.id not in enrolled],
        "hit_vetting": {
            h.person.id: service.person_vetting(db, h.person, session.start_date) for h in hits
        },
        "units": {u.id: u for u in service.list_units(db, actor)},
        "days": days,
        "default_day": min(max(today, session.start_date), session.end_date),
        "can_write": actor.can("write") and actor.org_id == session.owner_org_id,
        **extra,
    }


@router.get("/training/sessions/{session_id}")
def session_page(request: Request, session_id: int, db: DB, actor: PageActor,
                 q: str = "") -> Response:  # fmt: skip
    return render(request, "training/session.html", _session_context(db, actor, session_id, q))


def _session_error(request: Request, db: DB, actor: Actor, session_id: int,
                   exc: RasidError, enrolment_id: int | None = None) -> Response:  # fmt: skip
    db.rollback()
    ctx = _session_context(db, actor, session_id, error_exc=exc, error_field=exc.field,
                           error_enrolment=enrolment_id)  # fmt: skip
    return render(request, "training/session.html", ctx, status_code=exc.status)


@router.post("/training/sessions/{session_id}/enrol")
async def session_enrol(request: Request, session_id: int, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    service.get_session(db, actor, session_id)  # 404 for a session hidden or missing
    person_id = 0
    try:
        person_id = forms.required_whole(form, "person_id")
        enrolment = service.enrol(db, actor, session_id, person_id)
    except RasidError as exc:
        db.rollback()
        _refused(request, actor, exc, "enrol", "training_session", session_id,
                 person_id=person_id)  # fmt: skip
        return _session_error(request, db, actor, session_id, exc)
    return _redirect(f"/training/sessions/{session_id}#e-{enrolment.id}")


def _enrolment_session(db: DB, actor: Actor, enrolment_id: int) -> int:
    return service.get_enrolment(db, actor, enrolment_id).session_id


@router.post("/training/enrolments/{enrolment_id}/status")
async def enrolment_status(request: Request, enrolment_id: int, db: DB,
                           actor: PageActor) -> Response:  # fmt: skip
    form = await request.form()
    session_id = _enrolment_session(db, actor, enrolment_id)
    status = forms.text(form, "status")
    try:
        service.set_status(db, actor, enrolment_id, status)
    except RasidError as exc:
        db.rollback()
        _refused(request, actor, exc, status or "status", "training_enrolment", enrolment_id)
        return _session_error(request, db, actor, session_id, exc, enrolment_id)
    return _redirect(f"/training/sessions/{session_id}#e-{enrolment_id}")


@router.post("/training/enrolments/{enrolment_id}/attendance")
async def enrolment_attendance(request: Request, enrolment_id: int, db: DB,
                               actor: PageActor) -> Response:  # fmt: skip
    form = await request.form()
    session_id = _enrolment_session(db, actor, enrolment_id)
    try:
        certificates.record_attendance(db, actor, enrolment_id, forms.required_day(form, "day"),
                                       present=forms.text(form, "present") != "no")  # fmt: skip
    except RasidError as exc:
        db.rollback()
        _refused(request, actor, exc, "attend", "training_enrolment", enrolment_id)
        return _session_error(request, db, actor, session_id, exc, enrolment_id)
    return _redirect(f"/training/sessions/{session_id}#e-{enrolment_id}")


@router.post("/training/enrolments/{enrolment_id}/result")
async def enrolment_result(request: Request, enrolment_id: int, db: DB,
                           actor: PageActor) -> Response:  # fmt: skip
    form = await request.form()
    session_id = _enrolment_session(db, actor, enrolment_id)
    try:
        certificates.record_result(db, actor, enrolment_id, forms.number(form, "score"),
                                   passed=forms.text(form, "passed") == "yes")  # fmt: skip
    except RasidError as exc:
        return _session_error(request, db, actor, session_id, exc, enrolment_id)
    return _redirect(f"/training/sessions/{session_id}#e-{enrolment_id}")


@router.get("/training/enrolments/{enrolment_id}/certificate.pdf")
def certificate_download(request: Request, enrolment_id: int, db: DB,
                         actor: PageActor) -> Response:  # fmt: skip
    body = certificates.certificate_pdf(db, actor, enrolment_id, str(request.base_url))
    return Response(
        body,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="certificate-{enrolment_id}.pdf"'},
    )


@router.get("/training/sessions/{session_id}/roster.csv")
def roster_download(session_id: int, db: DB, actor: PageActor) -> Response:
    text = reports.roster_csv(db, actor, session_id)
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="roster-{session_id}.csv"'},
    )


@router.get("/training/sessions/{session_id}/roster.xlsx")
def roster_xlsx_download(session_id: int, db: DB, actor: PageActor) -> Response:
    body = reports.roster_xlsx(db, actor, session_id)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="roster-{session_id}.xlsx"'},
    )


# --- personnel, units, courses ------------------------------------------------------------------


def _personnel_context(db: DB, actor: Actor, query: str, **extra: Any) -> dict[str, Any]:
    today = date.today()
    if query:
        hits = service.search_personnel(db, actor, query, limit=200)
        people = [h.person for h in hits]
        matched = {h.person.id: h.matched for h in hits}
    else:
        people = service.list_personnel(db, actor, limit=200)
        matched = {}
    return {
        "people": people,
        "matched": matched,
        "query": query,
        "vetting": {p.id: service.person_vetting(db, p, today) for p in people},
        "units": {u.id: u for u in service.list_units(db, actor)},
        "can_write": actor.can("write"),
        "values": {},
        **extra,
    }


@router.get("/training/personnel")
def personnel_page(request: Request, db: DB, actor: PageActor, q: str = "") -> Response:
    return render(request, "training/personnel.html", _personnel_context(db, actor, q.strip()))


@router.post("/training/personnel")
async def person_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        person = service.create_person(
            db,
            actor,
            name_ar=forms.text(form, "name_ar"),
            name_latin=forms.text(form, "name_latin"),
            national_id=forms.text(form, "national_id"),
            unit_id=forms.required_whole(form, "unit_id"),
            rank=forms.text(form, "rank"),
            phone=forms.text(form, "phone"),
            email=forms.text(form, "email"),
        )
    except RasidError as exc:
        db.rollback()
        ctx = _personnel_context(db, actor, "", error_exc=exc, error_field=exc.field,
                                 values={k: str(v) for k, v in form.items()})  # fmt: skip
        return render(request, "training/personnel.html", ctx, status_code=exc.status)
    return _redirect(f"/training/personnel/{person.id}")


def _person_context(db: DB, actor: Actor, person_id: int, **extra: Any) -> dict[str, Any]:
    person = service.get_person(db, actor, person_id)
    today = date.today()
    chain = service.unit_chain(db, person.unit_id)
    enrolments = service.person_enrolments(db, actor, person.id)
    return {
        "p": person,
        "chain": chain,
        "chain_vetting": {u.id: service.unit_vetting(db, u, today) for u in chain},
        "vetting": service.person_vetting(db, person, today),
        "cases": service.vetting_cases(db, actor, person_id=person.id),
        "enrolments": enrolments,
        "can_write": actor.can("write") and actor.org_id == person.owner_org_id,
        "today": today,
        "values": {},
        **extra,
    }


@router.get("/training/personnel/{person_id}")
def person_page(request: Request, person_id: int, db: DB, actor: PageActor) -> Response:
    return render(request, "training/person.html", _person_context(db, actor, person_id))


def _vetting_from(form: Any) -> dict[str, Any]:
    return {
        "ref": forms.text(form, "ref"),
        "status": forms.text(form, "status"),
        "requested_on": forms.required_day(form, "requested_on"),
        "decided_on": forms.day(form, "decided_on"),
        "valid_months": forms.whole(form, "valid_months") or service.DEFAULT_VALIDITY_MONTHS,
        "notes": forms.text(form, "notes"),
    }


@router.post("/training/personnel/{person_id}/vetting")
async def person_vetting(request: Request, person_id: int, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        service.get_person(db, actor, person_id)
        service.record_vetting(db, actor, person_id=person_id, **_vetting_from(form))
    except RasidError as exc:
        db.rollback()
        ctx = _person_context(db, actor, person_id, error_exc=exc, error_field=exc.field,
                              values={k: str(v) for k, v in form.items()})  # fmt: skip
        return render(request, "training/person.html", ctx, status_code=exc.status)
    return _redirect(f"/training/personnel/{person_id}")


def _units_context(db: DB, actor: Actor, **extra: Any) -> dict[str, Any]:
    units = service.list_units(db, actor)
    today = date.today()
    by_parent: dict[int | None, list[TrainingUnit]] = {}
    ids = {u.id for u in units}
    for u in units:
        by_parent.setdefault(u.parent_id if u.parent_id in ids else None, []).append(u)
    tree: list[tuple[int, TrainingUnit]] = []

    def walk(parent: int | None, depth: int) -> None:
        for u in by_parent.get(parent, []):
            tree.append((depth, u))
            walk(u.id, depth + 1)

    walk(None, 0)
    return {
        "tree": tree,
        "units": units,
        "vetting": {u.id: service.unit_vetting(db, u, today) for u in units},
        "levels": UNIT_LEVELS,
        "can_write": actor.can("write"),
        "values": {},
        **extra,
    }


@router.get("/training/units")
def units_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "training/units.html", _units_context(db, actor))


@router.post("/training/units")
async def unit_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        service.create_unit(
            db, actor, code=forms.text(form, "code"), name_ar=forms.text(form, "name_ar"),
            name_en=forms.text(form, "name_en"), level=forms.text(form, "level") or "unit",
            parent_id=forms.whole(form, "parent_id"),
            governorate_code=forms.text(form, "governorate_code"),
        )  # fmt: skip
    except RasidError as exc:
        db.rollback()
        ctx = _units_context(db, actor, error_exc=exc, error_field=exc.field,
                             values={k: str(v) for k, v in form.items()})  # fmt: skip
        return render(request, "training/units.html", ctx, status_code=exc.status)
    return _redirect("/training/units")


@router.post("/training/units/vetting")
async def unit_vetting(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        unit_id = forms.required_whole(form, "unit_id")
        service.record_vetting(db, actor, unit_id=unit_id, **_vetting_from(form))
    except RasidError as exc:
        db.rollback()
        ctx = _units_context(db, actor, error_exc=exc, error_field=exc.field,
                             vetting_values={k: str(v) for k, v in form.items()})  # fmt: skip
        return render(request, "training/units.html", ctx, status_code=exc.status)
    return _redirect("/training/units")


def _courses_context(db: DB, actor: Actor, **extra: Any) -> dict[str, Any]:
    return {"courses": service.list_courses(db, actor), "can_write": actor.can("write"),
            "values": {}, **extra}  # fmt: skip


@router.get("/training/courses")
def courses_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "training/courses.html", _courses_context(db, actor))


@router.post("/training/courses")
async def course_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        service.create_course(
            db, actor, title_ar=forms.text(form, "title_ar"), title_en=forms.text(form, "title_en"),
            topic=forms.text(form, "topic"),
            duration_days=forms.whole(form, "duration_days") or 1,
            prerequisites=forms.text(form, "prerequisites"),
            certificate_valid_months=forms.whole(form, "certificate_valid_months"),
        )  # fmt: skip
    except RasidError as exc:
        db.rollback()
        ctx = _courses_context(db, actor, error_exc=exc, error_field=exc.field,
                               values={k: str(v) for k, v in form.items()})  # fmt: skip
        return render(request, "training/courses.html", ctx, status_code=exc.status)
    return _redirect("/training/courses")


# --- due lists and reports ---------------------------------------------------------------------


@router.get("/training/due")
def due_page(request: Request, db: DB, actor: PageActor, days: int = DUE_DAYS) -> Response:
    days = max(1, min(days, 730))
    return render(
        request,
        "training/due.html",
        {
            "days": days,
            "due": reports.due(db, actor, days=days),
            "trained": reports.trained(db, actor),
            "today": date.today(),
        },
    )


# --- the public verification ---------------------------------------------------------------------


@router.get("/verify/{code}")
def verify_page(request: Request, code: str, db: DB) -> Response:
    """Anyone (no sign-in) may check a certificate; it shows the certificate and nothing else."""
    actor = anonymous_actor(address=client_address(request), request_id=request_id(request))
    try:
        found = certificates.verify(db, actor, code)
    except NotFound:
        db.commit()  # the failed verification stays in the audit log
        return render(
            request, "training/verify.html", {"found": None, "code": code}, status_code=404
        )
    return render(
        request,
        "training/verify.html",
        {"found": found, "code": found.code, "valid": found.valid_on(date.today())},
    )
