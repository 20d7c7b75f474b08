"""Intel pages: reports (list, editor, page, versions), inbox, RFI board, sharing agreements.

Every read and change goes through :mod:`rasid.intel.service`, so the access rules and the
audit trail are the same as for the API.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData

from rasid.access import service as access
from rasid.core import i18n
from rasid.core.actor import Actor
from rasid.core.errors import Forbidden, RasidError, ValidationFailed
from rasid.identity import service as identity
from rasid.intel import api, correlation, federation, files, inbox, service
from rasid.intel.models import (
    OBSERVABLE_KINDS,
    RECORD_TYPES,
    REPORT_STATUSES,
    RFI_PRIORITIES,
    RFI_STATUSES,
    Report,
    ReportRelease,
)
from rasid.intel.schemas import AgreementIn, ReportIn, RFIAnswerIn, RFIIn
from rasid.registry.attachments import Upload
from rasid.web.deps import DB, PageActor, _audit_refusal, settings_of
from rasid.web.templating import environment, labeller, render

router = APIRouter(include_in_schema=False)

MARKINGS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")
SHAREABLE_MARKINGS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER")
OBSERVABLE_ROWS = 4
LIST_LIMIT = 500

STATUS_LABELS = {
    "draft": i18n.N_("Draft"),
    "approved": i18n.N_("Approved"),
    "released": i18n.N_("Released"),
}
RFI_STATUS_LABELS = {
    "open": i18n.N_("Open"),
    "answered": i18n.N_("Answered"),
    "closed": i18n.N_("Closed"),
    "cancelled": i18n.N_("Cancelled"),
}
PRIORITY_LABELS = {
    "low": i18n.N_("Low"),
    "normal": i18n.N_("Normal"),
    "high": i18n.N_("High"),
    "urgent": i18n.N_("Urgent"),
}
SCHEME_LABELS = {
    "admiralty": i18n.N_("Admiralty (A–F, 1–6)"),
    "europol": i18n.N_("Europol 4×4 (A–C or X, 1–4)"),
}
OBSERVABLE_LABELS = {
    "phone": i18n.N_("Phone"),
    "email": i18n.N_("Email"),
    "mmsi": i18n.N_("MMSI"),
    "imo": i18n.N_("IMO"),
    "plate": i18n.N_("Plate"),
    "iban": i18n.N_("IBAN"),
    "crypto": i18n.N_("Crypto address"),
    "ip": i18n.N_("IP address"),
    "domain": i18n.N_("Domain"),
    "url": i18n.N_("URL"),
    "sha256": i18n.N_("SHA-256"),
    "sha1": i18n.N_("SHA-1"),
    "md5": i18n.N_("MD5"),
}
RECORD_TYPE_LABELS = {
    "report": i18n.N_("Reports"),
    "rfi": i18n.N_("RFIs"),
    "incident": i18n.N_("Incidents"),
    "entity": i18n.N_("Records"),
    "link": i18n.N_("Links"),
}


_env = environment()
_env.globals["report_status_label"] = labeller(STATUS_LABELS)
_env.globals["rfi_status_label"] = labeller(RFI_STATUS_LABELS)
_env.globals["priority_label"] = labeller(PRIORITY_LABELS)
_env.globals["scheme_label"] = labeller(SCHEME_LABELS)
_env.globals["observable_label"] = labeller(OBSERVABLE_LABELS)
_env.globals["record_type_label"] = labeller(RECORD_TYPE_LABELS)
_env.globals["sync_status_label"] = labeller(
    {"ok": i18n.N_("Succeeded"), "error": i18n.N_("Failed"), "running": i18n.N_("Running")}
)


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _refused(request: Request, db: DB, exc: RasidError) -> None:
    """Undo the failed change; a refusal the service marks for the audit trail is recorded."""
    db.rollback()
    if exc.audit:
        _audit_refusal(request, request.app.state.session_factory, exc)


def _int(value: str | None, field: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value.strip())
    except ValueError as exc:
        raise ValidationFailed(
            "%(value)s is not a whole number.", field=field, value=value
        ) from exc


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(
            "%(value)s is not a date (YYYY-MM-DD).", field=field, value=value
        ) from exc


def _pydantic_error(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()))
    return ValidationFailed(
        "%(field)s: %(problem)s", field=field, problem=first.get("msg", "invalid")
    )


def _org_name(org: Any) -> str:
    return str(org.name_ar if i18n.get_language() == "ar" else org.name_en)


def _own_slug(db: DB, actor: Actor) -> str:
    if actor.org_id is None:
        return ""
    return service.org_slugs(db, {actor.org_id}).get(actor.org_id, "")


# --- reports: list ---------------------------------------------------------------------------------


@router.get("/intel/reports")
def reports_page(
    request: Request, db: DB, actor: PageActor, status: str = "", marking: str = ""
) -> Response:
    service.require(actor, "read")
    filters = {
        "status": status if status in REPORT_STATUSES else "",
        "marking": marking if marking in MARKINGS else "",
    }
    rows, _ = service.list_reports(
        db,
        actor,
        service.ReportFilter(filters["status"] or None, filters["marking"] or None),
        limit=LIST_LIMIT,
    )
    # The service lists every report the actor may read; this page is the organisation's own.
    own = [r for r in rows if r.owner_org_id == actor.org_id]
    return render(
        request,
        "intel/reports.html",
        {
            "reports": own,
            "filters": filters,
            "statuses": REPORT_STATUSES,
            "markings": MARKINGS,
            "can_write": actor.can("write"),
        },
    )


# --- reports: editor --------------------------------------------------------------------------------

_LINK_LINE = re.compile(
    r"^\s*(entity|incident|كيان|سجل|حادثة)\s*[:：]\s*#?(\d+)\s*$", re.IGNORECASE
)
_LINK_TYPES = {
    "entity": "registry_entity",
    "كيان": "registry_entity",
    "سجل": "registry_entity",
    "incident": "registry_incident",
    "حادثة": "registry_incident",
}


def _observable_rows(form: FormData) -> list[int]:
    found = {int(m.group(1)) for k in form if (m := re.fullmatch(r"obs_(\d+)_value", str(k)))}
    return sorted(found)


def _report_from_form(form: FormData) -> tuple[ReportIn, list[int]]:
    """The report from the editor, and the editor row of each observable sent."""
    links: list[dict[str, Any]] = []
    for n, line in enumerate(str(form.get("links") or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINK_LINE.match(line)
        if match is None:
            raise ValidationFailed(
                "Line %(line)s of the links is not entity:ID or incident:ID.",
                field="links",
                line=n,
            )
        links.append(
            {"object_type": _LINK_TYPES[match.group(1).lower()], "object_id": match.group(2)}
        )
    picked = _int(str(form.get("link_id") or ""), "link_id")
    if picked is not None:
        links.append({"object_type": "registry_entity", "object_id": picked})
    observables: list[dict[str, str]] = []
    rows: list[int] = []
    for i in _observable_rows(form):
        value = str(form.get(f"obs_{i}_value") or "")
        if value.strip():
            observables.append({"kind": str(form.get(f"obs_{i}_kind") or ""), "value": value})
            rows.append(i)
    credibility = _int(str(form.get("credibility") or ""), "credibility")
    try:
        data = ReportIn.model_validate(
            {
                "title": str(form.get("title") or ""),
                "summary": str(form.get("summary") or ""),
                "body_ar": str(form.get("body_ar") or ""),
                "body_en": str(form.get("body_en") or ""),
                "grading_scheme": str(form.get("grading_scheme") or "admiralty"),
                "reliability": str(form.get("reliability") or ""),
                "credibility": credibility if credibility is not None else 0,
                "marking": str(form.get("marking") or "TLP:AMBER"),
                "recipients": [
                    v.strip()
                    for v in str(form.get("recipients") or "").replace("،", ",").split(",")
                    if v.strip()
                ],
                "links": links,
                "observables": observables,
            }
        )
    except ValidationError as exc:
        error = _pydantic_error(exc)
        match = re.match(r"observables\.(\d+)", error.field or "")
        if match and int(match.group(1)) < len(rows):
            error.field = f"observables.{rows[int(match.group(1))]}.value"
        raise error from exc
    return data, rows


def _editor_ctx(form: dict[str, Any], **extra: Any) -> dict[str, Any]:
    rows = _observable_row_count(form)
    return {
        "form": form,
        "markings": MARKINGS,
        "schemes": ("admiralty", "europol"),
        "observable_kinds": OBSERVABLE_KINDS,
        "observable_rows": rows,
        **extra,
    }


def _observable_row_count(form: dict[str, Any]) -> int:
    used = [int(m.group(1)) for k in form if (m := re.fullmatch(r"obs_(\d+)_value", str(k)))]
    return max(OBSERVABLE_ROWS, max(used, default=-1) + 2)


def _report_as_form(db: DB, actor: Actor, report: Report) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": report.title,
        "summary": report.summary,
        "body_ar": report.body_ar,
        "body_en": report.body_en,
        "grading_scheme": report.grading_scheme,
        "reliability": report.reliability,
        "credibility": str(report.credibility),
        "marking": report.marking,
        "version": report.version,
    }
    _, user_ids = access.grants_for(db, Report, report.id)
    form["recipients"] = ", ".join(sorted(service.usernames(db, set(user_ids)).values()))
    names = {"registry_entity": "entity", "registry_incident": "incident"}
    form["links"] = "\n".join(
        f"{names.get(lk.object_type, lk.object_type)}:{lk.object_id}"
        for lk in service.visible_links(db, actor, report)
    )
    for i, obs in enumerate(report.observables):
        form[f"obs_{i}_kind"] = obs.kind
        form[f"obs_{i}_value"] = obs.value
    return form


@router.get("/intel/reports/new")
def report_new(request: Request, actor: PageActor) -> Response:
    service.require(actor, "write")
    form = {"marking": "TLP:AMBER", "grading_scheme": "admiralty", "reliability": "F"}
    return render(request, "intel/report_form.html", _editor_ctx(form, action="/intel/reports"))


@router.post("/intel/reports")
async def report_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    return _save_report(request, db, actor, form, None)


@router.get("/intel/reports/{report_id}/edit")
def report_edit(report_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    service.require(actor, "write")
    report = service.get_report(db, actor, report_id, audit_read=False)
    if actor.org_id != report.owner_org_id:
        raise Forbidden("Only the owner organisation can change this record.")
    return render(
        request,
        "intel/report_form.html",
        _editor_ctx(
            _report_as_form(db, actor, report),
            action=f"/intel/reports/{report.id}",
            editing=report,
        ),
    )


@router.post("/intel/reports/{report_id}")
async def report_update(report_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    return _save_report(request, db, actor, form, report_id)


def _save_report(
    request: Request, db: DB, actor: Actor, form: FormData, report_id: int | None
) -> Response:
    raw: dict[str, Any] = {k: str(v) for k, v in form.items()}
    action = "/intel/reports" if report_id is None else f"/intel/reports/{report_id}"
    rows: list[int] = []
    try:
        data, rows = _report_from_form(form)
        if report_id is None:
            report = service.create_report(db, actor, data)
        else:
            report = service.update_report(
                db,
                actor,
                report_id,
                data,
                expected_version=_int(str(form.get("version") or ""), "version"),
            )
    except RasidError as exc:
        _refused(request, db, exc)
        match = re.match(r"observables\.(\d+)", exc.field or "")
        if match and int(match.group(1)) < len(rows):
            exc.field = f"observables.{rows[int(match.group(1))]}.value"
        elif (exc.field or "").startswith("links."):
            exc.field = "links"
        editing = None
        if report_id is not None:
            editing = service.get_report(db, actor, report_id, audit_read=False)
        return render(
            request,
            "intel/report_form.html",
            _editor_ctx(raw, action=action, editing=editing, error_exc=exc, error_field=exc.field),
            status_code=exc.status,
        )
    return _redirect(f"/intel/reports/{report.id}")


# --- reports: page, approve, release, versions ---------------------------------------------------


def _report_ctx(db: DB, actor: Actor, report: Report, **extra: Any) -> dict[str, Any]:
    out = api.report_out(db, actor, report)
    own = actor.org_id == report.owner_org_id
    releasable = report.marking not in service.NEVER_RELEASED
    orgs = []
    if own and releasable:
        released = set(out.released_to)
        for org in identity.list_orgs(db):
            if org.id == report.owner_org_id or org.slug in released:
                continue
            agreement = service.find_agreement(
                db, report.owner_org_id, org.id, report.marking, "report"
            )
            orgs.append({"slug": org.slug, "name": _org_name(org), "agreed": agreement is not None})
    return {
        "report": out,
        "own": own,
        "can_edit": own and actor.can("write") and not service.from_peer(db, report.id),
        "can_approve": own
        and actor.has_role("liaison")
        and report.status == "draft"
        and actor.user_id != report.author_id,
        "can_release": own
        and actor.can("release")
        and releasable
        and report.status in ("approved", "released"),
        "never_released": not releasable,
        "release_orgs": orgs,
        "correlations": correlation.correlations_for(db, actor, report),
        "attachments": files.list_attachments(db, actor, report.id),
        "can_attach": files.may_add(actor, report),
        "can_detach": files.may_delete(actor, report),
        "max_mb": files.MAX_BYTES // (1024 * 1024),
        **extra,
    }


@router.get("/intel/reports/{report_id}")
def report_page(report_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    report = service.get_report(db, actor, report_id)
    inbox.mark_read(db, actor, report)
    return render(request, "intel/report.html", _report_ctx(db, actor, report))


# --- reports: attachments ------------------------------------------------------------------------


def _storage(request: Request) -> Path:
    return settings_of(request).data_dir / "attachments"


@router.post("/intel/reports/{report_id}/attachments")
async def attachment_add(report_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    value = form.get("file")
    try:
        if value is None or isinstance(value, str) or not value.filename:
            raise ValidationFailed("Choose a file to attach.", field="file")
        upload = Upload(0, value.filename, await value.read(files.MAX_BYTES + 1), field="file")
        files.add_attachment(db, actor, report_id, upload, _storage(request))
    except RasidError as exc:
        return _report_action_refused(request, db, actor, report_id, exc)
    return _redirect(f"/intel/reports/{report_id}#attachments")


@router.get("/intel/reports/{report_id}/attachments/{attachment_id}")
def attachment_download(
    report_id: int, attachment_id: int, request: Request, db: DB, actor: PageActor
) -> Response:
    return api.attachment_response(
        *files.open_attachment(db, actor, report_id, attachment_id, _storage(request))
    )


@router.post("/intel/reports/{report_id}/attachments/{attachment_id}/delete")
def attachment_delete(
    report_id: int, attachment_id: int, request: Request, db: DB, actor: PageActor
) -> Response:
    try:
        files.delete_attachment(db, actor, report_id, attachment_id)
    except RasidError as exc:
        return _report_action_refused(request, db, actor, report_id, exc)
    return _redirect(f"/intel/reports/{report_id}#attachments")


def _report_action_refused(
    request: Request, db: DB, actor: Actor, report_id: int, exc: RasidError
) -> Response:
    _refused(request, db, exc)
    report = service.get_report(db, actor, report_id, audit_read=False)
    return render(
        request,
        "intel/report.html",
        _report_ctx(db, actor, report, error_exc=exc, error_field=exc.field),
        status_code=exc.status,
    )


@router.post("/intel/reports/{report_id}/approve")
def report_approve(report_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    try:
        service.approve_report(db, actor, report_id)
    except RasidError as exc:
        return _report_action_refused(request, db, actor, report_id, exc)
    return _redirect(f"/intel/reports/{report_id}")


@router.post("/intel/reports/{report_id}/release")
async def report_release(report_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    to = [str(v) for v in form.getlist("to") if str(v).strip()]
    try:
        service.release_report(db, actor, report_id, to)
    except RasidError as exc:
        return _report_action_refused(request, db, actor, report_id, exc)
    return _redirect(f"/intel/reports/{report_id}")


@router.get("/intel/reports/{report_id}/versions")
def report_versions(report_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    rows = service.versions(db, actor, report_id)
    items = [{"v": v, "data": service.version_data(db, actor, v)} for v in rows]
    return render(request, "intel/versions.html", {"items": items, "report_id": report_id})


# --- inbox -----------------------------------------------------------------------------------------


@router.get("/intel/inbox")
def inbox_page(request: Request, db: DB, actor: PageActor) -> Response:
    service.require(actor, "read")
    rows, _ = service.list_reports(
        db, actor, service.ReportFilter(status="released"), limit=LIST_LIMIT
    )
    received = [r for r in rows if r.owner_org_id != actor.org_id]
    # When each report reached this organisation (read from the rows the service let through).
    when: dict[int, Any] = {}
    if received and actor.org_id is not None:
        when = {
            int(rid): at
            for rid, at in db.execute(
                select(ReportRelease.report_id, ReportRelease.released_at).where(
                    ReportRelease.report_id.in_([r.id for r in received]),
                    ReportRelease.org_id == actor.org_id,
                )
            ).all()
        }
    owners = service.org_slugs(db, {r.owner_org_id for r in received})
    unread = inbox.unread_ids(db, actor, [r.id for r in received])
    items: list[dict[str, Any]] = []
    for r in sorted(
        received,
        key=lambda r: (when.get(r.id) or r.released_at or r.updated_at, r.id),
        reverse=True,
    ):
        at = when.get(r.id) or r.released_at or r.updated_at
        items.append(
            {
                "report": r,
                "owner": owners.get(r.owner_org_id, ""),
                "at": at,
                "unread": r.id in unread,
            }
        )
    return render(
        request,
        "intel/inbox.html",
        {"items": items, "unread_count": inbox.unread_count(db, actor)},
    )


@router.post("/intel/inbox/read")
def inbox_mark_all_read(db: DB, actor: PageActor) -> Response:
    service.require(actor, "read")
    inbox.mark_all_read(db, actor)
    return _redirect("/intel/inbox")


# --- RFIs ------------------------------------------------------------------------------------------


def _rfi_ctx(db: DB, actor: Actor, **extra: Any) -> dict[str, Any]:
    rows, _ = service.list_rfis(db, actor, limit=LIST_LIMIT)
    mine = _own_slug(db, actor)
    outs = [api.rfi_out(db, actor, r) for r in rows]
    groups = [(s, [o for o in outs if o.status == s]) for s in RFI_STATUSES]
    orgs = [(o.slug, _org_name(o)) for o in identity.list_orgs(db) if o.id != actor.org_id]
    form = extra.pop("form", None) or {"priority": "normal", "marking": "TLP:AMBER"}
    return {
        "groups": groups,
        "own_slug": mine,
        "orgs": orgs,
        "priorities": RFI_PRIORITIES,
        "markings": SHAREABLE_MARKINGS,
        "can_write": actor.can("write"),
        "form": form,
        "answer_form": {},
        **extra,
    }


@router.get("/intel/rfis")
def rfis_page(request: Request, db: DB, actor: PageActor) -> Response:
    service.require(actor, "read")
    return render(request, "intel/rfis.html", _rfi_ctx(db, actor))


@router.post("/intel/rfis")
async def rfi_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    raw = {k: str(v) for k, v in form.items()}
    try:
        try:
            data = RFIIn.model_validate(
                {
                    "to_org": raw.get("to_org", ""),
                    "question": raw.get("question", ""),
                    "priority": raw.get("priority") or "normal",
                    "due_date": _day(raw.get("due_date"), "due_date"),
                    "marking": raw.get("marking") or "TLP:AMBER",
                }
            )
        except ValidationError as exc:
            raise _pydantic_error(exc) from exc
        rfi = service.create_rfi(db, actor, data)
    except RasidError as exc:
        _refused(request, db, exc)
        return render(
            request,
            "intel/rfis.html",
            _rfi_ctx(db, actor, form=raw, error_exc=exc, error_field=exc.field),
            status_code=exc.status,
        )
    return _redirect(f"/intel/rfis#rfi-{rfi.id}")


@router.post("/intel/rfis/{rfi_id}/answer")
async def rfi_answer(rfi_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    raw = {k: str(v) for k, v in form.items()}
    try:
        ids = [
            _int(v, "report_ids") or 0
            for v in re.split(r"[\s,،]+", raw.get("report_ids", ""))
            if v.strip()
        ]
        service.answer_rfi(
            db, actor, rfi_id, RFIAnswerIn(answer=raw.get("answer", ""), report_ids=ids)
        )
    except RasidError as exc:
        _refused(request, db, exc)
        if (exc.field or "").startswith("report_ids"):
            exc.field = "report_ids"
        return render(
            request,
            "intel/rfis.html",
            _rfi_ctx(
                db,
                actor,
                answer_form=raw,
                answer_rfi=rfi_id,
                error_exc=exc,
                error_field=exc.field,
            ),
            status_code=exc.status,
        )
    return _redirect(f"/intel/rfis#rfi-{rfi_id}")


@router.post("/intel/rfis/{rfi_id}/status")
async def rfi_status(rfi_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    try:
        service.set_rfi_status(db, actor, rfi_id, str(form.get("status") or ""))
    except RasidError as exc:
        _refused(request, db, exc)
        return render(
            request,
            "intel/rfis.html",
            _rfi_ctx(db, actor, error_exc=exc, error_field=exc.field),
            status_code=exc.status,
        )
    return _redirect(f"/intel/rfis#rfi-{rfi_id}")


# --- sharing agreements -----------------------------------------------------------------------------


def _agreements_ctx(db: DB, actor: Actor, **extra: Any) -> dict[str, Any]:
    rows = service.list_agreements(db, actor)
    form = extra.pop("form", None) or {"markings": [], "record_types": ["report"]}
    return {
        "agreements": [(row, api.agreement_out(db, row)) for row in rows],
        "orgs": [(o.slug, _org_name(o)) for o in identity.list_orgs(db) if o.id != actor.org_id],
        "markings": SHAREABLE_MARKINGS,
        "record_types": RECORD_TYPES,
        "form": form,
        "own_org_id": actor.org_id,
        **extra,
    }


@router.get("/intel/agreements")
def agreements_page(request: Request, db: DB, actor: PageActor) -> Response:
    service.require(actor, "administer")
    return render(request, "intel/agreements.html", _agreements_ctx(db, actor))


@router.post("/intel/agreements")
async def agreement_create(request: Request, db: DB, actor: PageActor) -> Response:
    service.require(actor, "administer")
    form = await request.form()
    raw: dict[str, Any] = {k: str(v) for k, v in form.items()}
    raw["markings"] = [str(v) for v in form.getlist("markings")]
    raw["record_types"] = [str(v) for v in form.getlist("record_types")]
    try:
        try:
            data = AgreementIn(
                partner_org=raw.get("partner_org", ""),
                partner_server=raw.get("partner_server", ""),
                markings=raw["markings"],
                record_types=raw["record_types"],
                valid_from=_day(raw.get("valid_from"), "valid_from"),
                valid_to=_day(raw.get("valid_to"), "valid_to"),
                note=raw.get("note", ""),
            )
        except ValidationError as exc:
            raise _pydantic_error(exc) from exc
        service.create_agreement(db, actor, data)
    except RasidError as exc:
        _refused(request, db, exc)
        return render(
            request,
            "intel/agreements.html",
            _agreements_ctx(db, actor, form=raw, error_exc=exc, error_field=exc.field),
            status_code=exc.status,
        )
    return _redirect("/intel/agreements")


@router.post("/intel/agreements/{agreement_id}/deactivate")
def agreement_deactivate(agreement_id: int, db: DB, actor: PageActor) -> Response:
    service.deactivate_agreement(db, actor, agreement_id)
    return _redirect("/intel/agreements")


# --- partner servers (federation) ----------------------------------------------------------------


@router.get("/intel/peers")
def peers_page(request: Request, db: DB, actor: PageActor) -> Response:
    """Partner servers with their last pull and push: when, how, counts and errors."""
    rows: list[dict[str, Any]] = []
    for peer in federation.list_peers(db, actor):
        runs = federation.last_runs(db, peer.id, 10)
        orgs = service.org_slugs(db, {peer.local_org_id, peer.receiving_org_id})
        rows.append(
            {
                "peer": peer,
                "local_org": orgs.get(peer.local_org_id, ""),
                "receiving_org": orgs.get(peer.receiving_org_id, ""),
                "last_pull": next((r for r in runs if r.direction == "pull"), None),
                "last_push": next((r for r in runs if r.direction == "push"), None),
                "runs": runs,
            }
        )
    return render(request, "intel/peers.html", {"rows": rows})
