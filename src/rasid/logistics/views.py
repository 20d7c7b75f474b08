"""Logistics pages: equipment and serials, an item's custody chain, hand-overs signed by both
sides, end-use checks (serials typed or scanned, entered offline and saved when back online),
deficiencies, the quarterly accountability report, and the support-request board.

Every read and change goes through :mod:`rasid.logistics.service` and
:mod:`rasid.logistics.requests`, so the access rules and the audit trail are the API's.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from rasid.core import i18n
from rasid.core.actor import Actor
from rasid.core.errors import RasidError, ValidationFailed
from rasid.logistics import photos, reports, requests, service
from rasid.logistics.models import (
    CHECK_KINDS,
    CHECK_RESULTS,
    ITEM_STATUSES,
    REQUEST_PRIORITIES,
    REQUEST_STATUSES,
)
from rasid.registry.attachments import Upload
from rasid.training import service as training
from rasid.training.models import TrainingUnit
from rasid.web import forms
from rasid.web.deps import DB, PageActor, settings_of
from rasid.web.templating import environment, labeller, render

router = APIRouter(include_in_schema=False)

ITEM_STATUS_LABELS = {
    "held": i18n.N_("Held"),
    "missing": i18n.N_("Missing"),
    "destroyed": i18n.N_("Destroyed"),
    "transferred": i18n.N_("Transferred"),
}
RESULT_LABELS = {
    "present": i18n.N_("Present"),
    "missing": i18n.N_("Missing"),
    "damaged": i18n.N_("Damaged"),
    "destroyed": i18n.N_("Destroyed"),
    "transferred": i18n.N_("Transferred"),
}
CHECK_KIND_LABELS = {
    "initial": i18n.N_("Initial inventory"),
    "routine": i18n.N_("Routine check"),
    "enhanced": i18n.N_("Enhanced check (serial inventory)"),
}
REQUEST_STATUS_LABELS = {
    "new": i18n.N_("New"),
    "triaged": i18n.N_("Triaged"),
    "in_progress": i18n.N_("In progress"),
    "waiting": i18n.N_("Waiting"),
    "resolved": i18n.N_("Resolved"),
    "closed": i18n.N_("Closed"),
}
PRIORITY_LABELS = {
    "low": i18n.N_("Low"),
    "normal": i18n.N_("Normal"),
    "high": i18n.N_("High"),
    "urgent": i18n.N_("Urgent"),
}
CATEGORY_LABELS = {"technical": i18n.N_("Technical"), "logistical": i18n.N_("Logistical")}
CUSTODY_LABELS = {
    "registered": i18n.N_("Registered on delivery"),
    "handover": i18n.N_("Handed over"),
    "check": i18n.N_("Status changed at a check"),
    "status": i18n.N_("Status changed"),
}

_env = environment()
_env.globals["item_status_label"] = labeller(ITEM_STATUS_LABELS)
_env.globals["check_result_label"] = labeller(RESULT_LABELS)
_env.globals["check_kind_label"] = labeller(CHECK_KIND_LABELS)
_env.globals["request_status_label"] = labeller(REQUEST_STATUS_LABELS)
_env.globals["request_priority_label"] = labeller(PRIORITY_LABELS)
_env.globals["request_category_label"] = labeller(CATEGORY_LABELS)
_env.globals["custody_label"] = labeller(CUSTODY_LABELS)

_SERIAL_SPLIT = re.compile(r"[\s,;]+")


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _serials(form: Any, name: str = "serials") -> list[str]:
    """Serials typed, pasted or scanned one per line (or separated by commas)."""
    return [s for s in _SERIAL_SPLIT.split(forms.text(form, name)) if s]


def _units(db: DB, actor: Actor) -> dict[int, TrainingUnit]:
    return {u.id: u for u in training.list_units(db, actor)}


def _values(form: Any) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


# --- equipment and items ------------------------------------------------------------------------


def _equipment_context(
    db: DB, actor: Actor, filters: dict[str, str], **extra: Any
) -> dict[str, Any]:
    unit_id = int(filters["unit"]) if filters.get("unit", "").isdigit() else None
    status = filters.get("status") if filters.get("status") in ITEM_STATUSES else None
    types = service.list_types(db, actor)
    return {
        "items": service.list_items(
            db, actor, unit_id=unit_id, status=status, serial_prefix=filters.get("serial") or None
        ),
        "types": types,
        "type_by_id": {t.id: t for t in types},
        "units": _units(db, actor),
        "statuses": ITEM_STATUSES,
        "filters": filters,
        "can_write": actor.can("write"),
        "values": {},
        **extra,
    }


@router.get("/logistics/equipment")
def equipment_page(request: Request, db: DB, actor: PageActor, unit: str = "", status: str = "",
                   serial: str = "") -> Response:  # fmt: skip
    filters = {"unit": unit, "status": status, "serial": serial.strip()}
    return render(request, "logistics/equipment.html", _equipment_context(db, actor, filters))


def _equipment_error(request: Request, db: DB, actor: Actor, exc: RasidError,
                     form: Any) -> Response:  # fmt: skip
    db.rollback()
    ctx = _equipment_context(db, actor, {}, error_exc=exc, error_field=exc.field,
                             values=_values(form))  # fmt: skip
    return render(request, "logistics/equipment.html", ctx, status_code=exc.status)


@router.post("/logistics/types")
async def type_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        service.add_type(db, actor, name_ar=forms.text(form, "name_ar"),
                         name_en=forms.text(form, "name_en"),
                         category=forms.text(form, "category"),
                         part_number=forms.text(form, "part_number"),
                         enhanced=forms.text(form, "enhanced") == "yes")  # fmt: skip
    except RasidError as exc:
        return _equipment_error(request, db, actor, exc, form)
    return _redirect("/logistics/equipment")


@router.post("/logistics/items")
async def items_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        service.add_items(db, actor, forms.required_whole(form, "type_id"), _serials(form),
                          donor=forms.text(form, "donor"), case_ref=forms.text(form, "case_ref"),
                          site=forms.text(form, "site"))  # fmt: skip
    except RasidError as exc:
        return _equipment_error(request, db, actor, exc, form)
    return _redirect("/logistics/equipment")


@router.get("/logistics/items/{item_id}")
def item_page(request: Request, item_id: int, db: DB, actor: PageActor) -> Response:
    item = service.get_item(db, actor, item_id)
    kind = {t.id: t for t in service.list_types(db, actor)}.get(item.type_id)
    return render(
        request,
        "logistics/item.html",
        {"item": item, "kind": kind, "chain": service.custody_chain(db, actor, item.id),
         "units": _units(db, actor), "photos": photos.item_photos(db, actor, item.id)},
    )  # fmt: skip


# --- hand-overs -------------------------------------------------------------------------------


def _handovers_context(db: DB, actor: Actor, **extra: Any) -> dict[str, Any]:
    return {"handovers": service.list_handovers(db, actor), "units": _units(db, actor),
            "can_write": actor.can("write"), "values": {}, **extra}  # fmt: skip


@router.get("/logistics/handovers")
def handovers_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "logistics/handovers.html", _handovers_context(db, actor))


@router.post("/logistics/handovers")
async def handover_issue(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        handover = service.issue_handover(
            db, actor, ref=forms.text(form, "ref"), to_unit_id=forms.required_whole(form, "to_unit_id"),
            serials=_serials(form), from_unit_id=forms.whole(form, "from_unit_id"),
            from_donor=forms.text(form, "from_donor"),
        )  # fmt: skip
    except RasidError as exc:
        db.rollback()
        ctx = _handovers_context(db, actor, error_exc=exc, error_field=exc.field,
                                 values=_values(form))  # fmt: skip
        return render(request, "logistics/handovers.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/handovers/{handover.id}")


def _handover_context(db: DB, actor: Actor, handover_id: int, **extra: Any) -> dict[str, Any]:
    handover = service.get_handover(db, actor, handover_id)
    return {
        "h": handover,
        "items": service.handover_items(db, actor, handover.id),
        "types": {t.id: t for t in service.list_types(db, actor)},
        "units": _units(db, actor),
        "can_accept": actor.can("write") and handover.status == "issued"
        and actor.user_id != handover.issued_by,
        **extra,
    }  # fmt: skip


@router.get("/logistics/handovers/{handover_id}")
def handover_page(request: Request, handover_id: int, db: DB, actor: PageActor) -> Response:
    return render(request, "logistics/handover.html", _handover_context(db, actor, handover_id))


@router.post("/logistics/handovers/{handover_id}/accept")
def handover_accept(request: Request, handover_id: int, db: DB, actor: PageActor) -> Response:
    try:
        service.accept_handover(db, actor, handover_id)
    except RasidError as exc:
        db.rollback()
        ctx = _handover_context(db, actor, handover_id, error_exc=exc)
        return render(request, "logistics/handover.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/handovers/{handover_id}")


# --- end-use checks and deficiencies -------------------------------------------------------------


def _checks_context(db: DB, actor: Actor, **extra: Any) -> dict[str, Any]:
    today = date.today()
    checks = service.list_checks(db, actor)
    return {
        "overdue": [c for c in checks if c.status == "scheduled" and c.scheduled_for < today],
        "scheduled": [c for c in checks if c.status == "scheduled" and c.scheduled_for >= today],
        "done": sorted(
            (c for c in checks if c.status == "done"),
            key=lambda c: c.done_on or c.scheduled_for,
            reverse=True,
        ),
        "deficiencies": service.list_deficiencies(db, actor),
        "units": _units(db, actor),
        "kinds": CHECK_KINDS,
        "today": today,
        "can_write": actor.can("write"),
        "values": {},
        **extra,
    }


@router.get("/logistics/checks")
def checks_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "logistics/checks.html", _checks_context(db, actor))


@router.post("/logistics/checks")
async def check_schedule(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        check = service.schedule_check(db, actor, unit_id=forms.required_whole(form, "unit_id"),
                                       kind=forms.text(form, "kind"),
                                       scheduled_for=forms.required_day(form, "scheduled_for"))  # fmt: skip
    except RasidError as exc:
        db.rollback()
        ctx = _checks_context(db, actor, error_exc=exc, error_field=exc.field,
                              values=_values(form))  # fmt: skip
        return render(request, "logistics/checks.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/checks/{check.id}")


def _check_context(db: DB, actor: Actor, check_id: int, **extra: Any) -> dict[str, Any]:
    check = service.get_check(db, actor, check_id)
    units = _units(db, actor)
    expected = service.unit_items(db, actor, check.unit_id) if check.status != "done" else []
    lines = service.check_lines(db, actor, check.id)
    shown = {r.item.serial for r in lines} | {i.serial for i in expected}
    by_serial: dict[str, list[photos.PhotoRow]] = {}
    for row in photos.photos(db, actor, check.id):
        by_serial.setdefault(row.serial, []).append(row)
    return {
        "c": check,
        "unit": units.get(check.unit_id),
        "expected": expected,
        "lines": lines,
        "photos": by_serial,
        # photos of a serial no longer listed (added while scheduled, left without a result)
        "other_photos": [r for s, rows in by_serial.items() if s not in shown for r in rows],
        "can_photo": actor.can("write"),
        "photo_serial": "",
        "photo_max_mb": photos.MAX_BYTES // (1024 * 1024),
        "types": {t.id: t for t in service.list_types(db, actor)},
        "results": CHECK_RESULTS,
        "today": date.today(),
        "can_write": actor.can("write") and check.status != "done",
        "entered": {},
        **extra,
    }


@router.get("/logistics/checks/{check_id}")
def check_page(request: Request, check_id: int, db: DB, actor: PageActor) -> Response:
    return render(request, "logistics/check.html", _check_context(db, actor, check_id))


@router.post("/logistics/checks/{check_id}")
async def check_record(request: Request, check_id: int, db: DB, actor: PageActor) -> Response:
    """The visit's results: ``result.SERIAL`` and ``notes.SERIAL`` per serial checked (serials
    left without a result are not recorded)."""
    form = await request.form()
    results: dict[str, tuple[str, str]] = {}
    for key, value in form.items():
        if key.startswith("result.") and isinstance(value, str) and value:
            serial = key.removeprefix("result.")
            results[serial] = (value, forms.text(form, f"notes.{serial}"))
    try:
        service.record_check(db, actor, check_id, results, forms.required_day(form, "done_on"))
    except RasidError as exc:
        db.rollback()
        ctx = _check_context(db, actor, check_id, error_exc=exc, error_field=exc.field,
                             entered=results, done_on=forms.text(form, "done_on"))  # fmt: skip
        return render(request, "logistics/check.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/checks/{check_id}")


@router.post("/logistics/checks/{check_id}/photos")
async def check_photo_add(request: Request, check_id: int, db: DB, actor: PageActor) -> Response:
    """A photo (field ``photo``: PNG or JPEG) of one serial (field ``serial``) of the check."""
    form = await request.form()
    serial = forms.text(form, "serial").upper()
    value = form.get("photo")
    try:
        if value is None or isinstance(value, str) or not value.filename:
            raise ValidationFailed("Choose a photo to add.", field="photo")
        upload = Upload(0, value.filename, await value.read(photos.MAX_BYTES + 1), field="photo")
        row = photos.add_photo(db, actor, check_id, serial, upload,
                               photos.storage(settings_of(request).data_dir))  # fmt: skip
    except RasidError as exc:
        db.rollback()
        ctx = _check_context(db, actor, check_id, error_exc=exc, error_field=exc.field,
                             photo_serial=serial)  # fmt: skip
        return render(request, "logistics/check.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/checks/{check_id}#photos-{row.item_id}")


@router.get("/logistics/photos/{photo_id}")
def check_photo(request: Request, photo_id: int, db: DB, actor: PageActor) -> Response:
    """A check photo, shown in the browser (an audited read, for those who may see the check)."""
    path, media_type, name = photos.open_photo(
        db, actor, photo_id, photos.storage(settings_of(request).data_dir)
    )
    return FileResponse(path, media_type=media_type, filename=name,
                        content_disposition_type="inline")  # fmt: skip


@router.post("/logistics/deficiencies/{deficiency_id}")
async def deficiency_update(request: Request, deficiency_id: int, db: DB,
                            actor: PageActor) -> Response:  # fmt: skip
    form = await request.form()
    try:
        service.update_deficiency(db, actor, deficiency_id,
                                  corrective_action=forms.text(form, "corrective_action"),
                                  closed_on=forms.day(form, "closed_on"))  # fmt: skip
    except RasidError as exc:
        db.rollback()
        ctx = _checks_context(db, actor, error_exc=exc, error_field=exc.field,
                              error_deficiency=deficiency_id)  # fmt: skip
        return render(request, "logistics/checks.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/checks#d-{deficiency_id}")


# --- the quarterly accountability report --------------------------------------------------------


def _quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


@router.get("/logistics/accountability")
def accountability_page(request: Request, db: DB, actor: PageActor, year: int | None = None,
                        quarter: int | None = None) -> Response:  # fmt: skip
    this_year, this_quarter = _quarter_of(date.today())
    report = service.accountability_report(db, actor, year or this_year, quarter or this_quarter)
    return render(
        request,
        "logistics/accountability.html",
        {"r": report, "years": range(this_year - 4, this_year + 1)},
    )


@router.get("/logistics/accountability.pdf")
def accountability_pdf(request: Request, db: DB, actor: PageActor, year: int | None = None,
                       quarter: int | None = None) -> Response:  # fmt: skip
    from rasid.core import pdf
    from rasid.web.templating import render_string

    this_year, this_quarter = _quarter_of(date.today())
    report = service.accountability_report(db, actor, year or this_year, quarter or this_quarter)
    html = render_string(request, "logistics/accountability_print.html",
                         {"r": report, "font_faces": pdf.font_faces()})  # fmt: skip
    reports.record_export(db, actor, report, "pdf")
    name = f"accountability-{report.year}-Q{report.quarter}.pdf"
    return Response(pdf.html_to_pdf(html), media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="{name}"'})  # fmt: skip


# --- support requests ---------------------------------------------------------------------------


def _board_context(db: DB, actor: Actor, **extra: Any) -> dict[str, Any]:
    return {
        "board": requests.board(db, actor),
        "overdue": requests.overdue(db, actor),
        "units": _units(db, actor),
        "statuses": REQUEST_STATUSES,
        "priorities": REQUEST_PRIORITIES,
        "today": date.today(),
        "can_write": actor.can("write"),
        "values": {},
        **extra,
    }


@router.get("/logistics/requests")
def board_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(request, "logistics/requests.html", _board_context(db, actor))


@router.post("/logistics/requests")
async def request_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        item_ids = [i.id for i in requests.items_by_serials(db, actor, _serials(form, "items"))]
        made = requests.create(db, actor, category=forms.text(form, "category"),
                               unit_id=forms.required_whole(form, "unit_id"),
                               title=forms.text(form, "title"),
                               priority=forms.text(form, "priority") or "normal",
                               description=forms.text(form, "description"),
                               item_ids=item_ids)  # fmt: skip
    except RasidError as exc:
        db.rollback()
        ctx = _board_context(db, actor, error_exc=exc, error_field=exc.field,
                             values=_values(form))  # fmt: skip
        return render(request, "logistics/requests.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/requests/{made.id}")


def _request_context(db: DB, actor: Actor, request_id: int, **extra: Any) -> dict[str, Any]:
    row = requests.get(db, actor, request_id)
    return {
        "r": row,
        "comments": requests.comments(db, actor, row.id),
        "items": requests.items(db, actor, row.id),
        "moves": requests.MOVES[row.status],
        "unit": _units(db, actor).get(row.unit_id),
        "today": date.today(),
        "can_write": actor.can("write"),
        **extra,
    }


@router.get("/logistics/requests/{request_id}")
def request_page(request: Request, request_id: int, db: DB, actor: PageActor) -> Response:
    return render(request, "logistics/request.html", _request_context(db, actor, request_id))


@router.post("/logistics/requests/{request_id}/status")
async def request_move(request: Request, request_id: int, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        requests.move(db, actor, request_id, forms.text(form, "status"))
    except RasidError as exc:
        db.rollback()
        ctx = _request_context(db, actor, request_id, error_exc=exc)
        return render(request, "logistics/request.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/requests/{request_id}")


@router.post("/logistics/requests/{request_id}/comments")
async def request_comment(request: Request, request_id: int, db: DB,
                          actor: PageActor) -> Response:  # fmt: skip
    form = await request.form()
    try:
        requests.comment(db, actor, request_id, forms.text(form, "body"))
    except RasidError as exc:
        db.rollback()
        ctx = _request_context(db, actor, request_id, error_exc=exc, error_field=exc.field)
        return render(request, "logistics/request.html", ctx, status_code=exc.status)
    return _redirect(f"/logistics/requests/{request_id}#comments")
