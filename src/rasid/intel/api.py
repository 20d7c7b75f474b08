"""JSON routes of intel: reports (approve, release, versions), RFIs, sharing agreements."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from rasid.core.actor import Actor
from rasid.core.errors import ValidationFailed
from rasid.intel import correlation, files, inbox, service
from rasid.intel.models import RFI, Report, ReportAttachment, SharingAgreement
from rasid.intel.schemas import (
    AgreementIn,
    AgreementOut,
    ObservableOut,
    ReleaseIn,
    ReportIn,
    ReportLinkOut,
    ReportOut,
    ReportVersionOut,
    RFIAnswerIn,
    RFIAssignIn,
    RFIIn,
    RFIOut,
    RFIStatusIn,
)
from rasid.registry.attachments import Upload
from rasid.web.deps import DB, ApiActor, settings_of

router = APIRouter(prefix="/api/v1/intel", tags=["intel"])


def report_out(db: Session, actor: Actor, report: Report) -> ReportOut:
    released = service.released_org_ids(db, report.id)
    slugs = service.org_slugs(db, {report.owner_org_id, *released})
    users = service.usernames(db, {u for u in (report.author_id, report.approved_by) if u})
    # who else received it is the owner's business
    own = actor.is_system or actor.org_id == report.owner_org_id
    shown = released if own else [o for o in released if o == actor.org_id]
    return ReportOut(
        id=report.id,
        title=report.title,
        summary=report.summary,
        body_ar=report.body_ar,
        body_en=report.body_en,
        grading_scheme=report.grading_scheme,
        grade=f"{report.reliability}{report.credibility}",
        reliability=report.reliability,
        credibility=report.credibility,
        status=report.status,
        marking=report.marking,
        owner_org=slugs.get(report.owner_org_id, ""),
        author=users.get(report.author_id or 0, ""),
        approved_by=users.get(report.approved_by or 0, ""),
        approved_at=report.approved_at,
        released_at=report.released_at,
        released_to=[slugs.get(o, "") for o in shown],
        version=report.version,
        updated_at=report.updated_at,
        links=[
            ReportLinkOut(object_type=lk.object_type, object_id=lk.object_id)
            for lk in service.visible_links(db, actor, report)
        ],
        observables=[
            ObservableOut(kind=o.kind, value=o.value, normalised=o.normalised)
            for o in report.observables
        ],
    )


def agreement_out(db: Session, row: SharingAgreement) -> AgreementOut:
    slugs = service.org_slugs(db, {row.owner_org_id, row.partner_org_id})
    return AgreementOut(
        id=row.id,
        from_org=slugs.get(row.owner_org_id, ""),
        partner_org=slugs.get(row.partner_org_id, ""),
        partner_server=row.partner_server,
        markings=row.markings.split(","),
        record_types=row.record_types.split(","),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        active=row.active,
        note=row.note,
    )


def rfi_out(db: Session, actor: Actor, rfi: RFI) -> RFIOut:
    slugs = service.org_slugs(db, {rfi.owner_org_id, rfi.requested_org_id})
    users = service.usernames(db, {rfi.assignee_id} if rfi.assignee_id else set())
    return RFIOut(
        id=rfi.id,
        from_org=slugs.get(rfi.owner_org_id, ""),
        to_org=slugs.get(rfi.requested_org_id, ""),
        question=rfi.question,
        priority=rfi.priority,
        due_date=rfi.due_date,
        overdue=service.is_overdue(rfi),
        assignee=users.get(rfi.assignee_id or 0, ""),
        status=rfi.status,
        marking=rfi.marking,
        answer=rfi.answer,
        answered_at=rfi.answered_at,
        report_ids=service.visible_answer_reports(db, actor, rfi),
        created_at=rfi.created_at,
    )


# --- reports -----------------------------------------------------------------------------------


@router.get("/reports", response_model=list[ReportOut])
def list_reports(
    db: DB,
    actor: ApiActor,
    response: Response,
    status: str | None = None,
    marking: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ReportOut]:
    rows, total = service.list_reports(
        db,
        actor,
        service.ReportFilter(status or None, marking or None),
        limit=max(1, min(limit, 500)),
        offset=max(0, offset),
    )
    response.headers["X-Total-Count"] = str(total)
    return [report_out(db, actor, r) for r in rows]


@router.post("/reports", response_model=ReportOut, status_code=201)
def create_report(body: ReportIn, db: DB, actor: ApiActor) -> ReportOut:
    return report_out(db, actor, service.create_report(db, actor, body))


@router.get("/reports/{report_id}", response_model=ReportOut)
def get_report(report_id: int, db: DB, actor: ApiActor) -> ReportOut:
    report = service.get_report(db, actor, report_id)
    inbox.mark_read(db, actor, report)
    return report_out(db, actor, report)


@router.put("/reports/{report_id}", response_model=ReportOut)
def update_report(
    report_id: int, body: ReportIn, db: DB, actor: ApiActor, version: int | None = None
) -> ReportOut:
    report = service.update_report(db, actor, report_id, body, expected_version=version)
    return report_out(db, actor, report)


@router.post("/reports/{report_id}/approve", response_model=ReportOut)
def approve_report(report_id: int, db: DB, actor: ApiActor) -> ReportOut:
    return report_out(db, actor, service.approve_report(db, actor, report_id))


@router.post("/reports/{report_id}/release", response_model=ReportOut)
def release_report(report_id: int, body: ReleaseIn, db: DB, actor: ApiActor) -> ReportOut:
    return report_out(db, actor, service.release_report(db, actor, report_id, body.to))


@router.get("/reports/{report_id}/correlations", response_model=list[correlation.Correlation])
def report_correlations(report_id: int, db: DB, actor: ApiActor) -> list[correlation.Correlation]:
    return correlation.correlations(db, actor, report_id)


@router.get("/reports/{report_id}/versions", response_model=list[ReportVersionOut])
def report_versions(report_id: int, db: DB, actor: ApiActor) -> list[ReportVersionOut]:
    return [
        ReportVersionOut(
            version=v.version,
            action=v.action,
            at=v.at,
            username=v.username,
            data=service.version_data(db, actor, v),
        )
        for v in service.versions(db, actor, report_id)
    ]


# --- report attachments ------------------------------------------------------------------------


class AttachmentOut(BaseModel):
    id: int
    report_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    url: str


def attachment_out(db: Session, row: ReportAttachment) -> AttachmentOut:
    users = service.usernames(db, {row.uploaded_by} if row.uploaded_by else set())
    return AttachmentOut(
        id=row.id,
        report_id=row.report_id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_at=row.uploaded_at,
        uploaded_by=users.get(row.uploaded_by or 0, ""),
        url=f"/api/v1/intel/reports/{row.report_id}/attachments/{row.id}",
    )


def attachment_response(row: ReportAttachment, path: Path) -> FileResponse:
    return FileResponse(
        path,
        media_type=row.content_type,
        filename=row.filename,
        content_disposition_type="attachment",
    )


def _storage(request: Request) -> Path:
    return settings_of(request).data_dir / "attachments"


@router.get("/reports/{report_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(report_id: int, db: DB, actor: ApiActor) -> list[AttachmentOut]:
    return [attachment_out(db, a) for a in files.list_attachments(db, actor, report_id)]


@router.post("/reports/{report_id}/attachments", response_model=AttachmentOut, status_code=201)
async def add_attachment(
    report_id: int,
    request: Request,
    db: DB,
    actor: ApiActor,
    file: UploadFile | None = File(None, description="the file (multipart field 'file')"),
) -> AttachmentOut:
    if file is None or not file.filename:
        raise ValidationFailed("Choose a file to attach.", field="file")
    upload = Upload(0, file.filename, await file.read(files.MAX_BYTES + 1), field="file")
    row = files.add_attachment(db, actor, report_id, upload, _storage(request))
    return attachment_out(db, row)


@router.get("/reports/{report_id}/attachments/{attachment_id}", response_class=FileResponse)
def download_attachment(
    report_id: int, attachment_id: int, request: Request, db: DB, actor: ApiActor
) -> FileResponse:
    return attachment_response(
        *files.open_attachment(db, actor, report_id, attachment_id, _storage(request))
    )


@router.delete("/reports/{report_id}/attachments/{attachment_id}", status_code=204)
def delete_attachment(report_id: int, attachment_id: int, db: DB, actor: ApiActor) -> Response:
    files.delete_attachment(db, actor, report_id, attachment_id)
    return Response(status_code=204)


# --- inbox -------------------------------------------------------------------------------------


class InboxStateOut(BaseModel):
    unread: int


@router.get("/inbox", response_model=InboxStateOut)
def inbox_state(db: DB, actor: ApiActor) -> InboxStateOut:
    service.require(actor, "read")
    return InboxStateOut(unread=inbox.unread_count(db, actor))


@router.post("/inbox/read", response_model=InboxStateOut)
def inbox_mark_all_read(db: DB, actor: ApiActor) -> InboxStateOut:
    service.require(actor, "read")
    inbox.mark_all_read(db, actor)
    return InboxStateOut(unread=inbox.unread_count(db, actor))


# --- RFIs --------------------------------------------------------------------------------------


@router.get("/rfis", response_model=list[RFIOut])
def list_rfis(
    db: DB,
    actor: ApiActor,
    response: Response,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RFIOut]:
    rows, total = service.list_rfis(
        db, actor, status=status or None, limit=max(1, min(limit, 500)), offset=max(0, offset)
    )
    response.headers["X-Total-Count"] = str(total)
    return [rfi_out(db, actor, r) for r in rows]


@router.get("/rfis/overdue", response_model=list[RFIOut])
def overdue_rfis(db: DB, actor: ApiActor) -> list[RFIOut]:
    return [rfi_out(db, actor, r) for r in service.overdue(db, actor)]


@router.post("/rfis", response_model=RFIOut, status_code=201)
def create_rfi(body: RFIIn, db: DB, actor: ApiActor) -> RFIOut:
    return rfi_out(db, actor, service.create_rfi(db, actor, body))


@router.get("/rfis/{rfi_id}", response_model=RFIOut)
def get_rfi(rfi_id: int, db: DB, actor: ApiActor) -> RFIOut:
    return rfi_out(db, actor, service.get_rfi(db, actor, rfi_id))


@router.post("/rfis/{rfi_id}/assign", response_model=RFIOut)
def assign_rfi(rfi_id: int, body: RFIAssignIn, db: DB, actor: ApiActor) -> RFIOut:
    return rfi_out(db, actor, service.assign_rfi(db, actor, rfi_id, body.assignee))


@router.post("/rfis/{rfi_id}/answer", response_model=RFIOut)
def answer_rfi(rfi_id: int, body: RFIAnswerIn, db: DB, actor: ApiActor) -> RFIOut:
    return rfi_out(db, actor, service.answer_rfi(db, actor, rfi_id, body))


@router.post("/rfis/{rfi_id}/status", response_model=RFIOut)
def set_rfi_status(rfi_id: int, body: RFIStatusIn, db: DB, actor: ApiActor) -> RFIOut:
    return rfi_out(db, actor, service.set_rfi_status(db, actor, rfi_id, body.status))


# --- sharing agreements ----------------------------------------------------------------------------


@router.get("/agreements", response_model=list[AgreementOut])
def list_agreements(db: DB, actor: ApiActor, active: bool = False) -> list[AgreementOut]:
    return [agreement_out(db, a) for a in service.list_agreements(db, actor, active_only=active)]


@router.post("/agreements", response_model=AgreementOut, status_code=201)
def create_agreement(body: AgreementIn, db: DB, actor: ApiActor) -> AgreementOut:
    return agreement_out(db, service.create_agreement(db, actor, body))


@router.post("/agreements/{agreement_id}/deactivate", response_model=AgreementOut)
def deactivate_agreement(agreement_id: int, db: DB, actor: ApiActor) -> AgreementOut:
    return agreement_out(db, service.deactivate_agreement(db, actor, agreement_id))
