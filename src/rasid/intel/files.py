"""Files attached to intel reports: size-limited, type-checked, stored outside the database.

The bytes are kept by :mod:`rasid.registry.attachments` (the same checks and the same
content-addressed store as incident source documents, under ``<data dir>/attachments/``);
the database keeps one :class:`ReportAttachment` row per file.

Who may do what:

* **list and download**: whoever may read the report (:func:`service.get_report`: the owner
  organisation, and organisations it was released to); everyone else gets "not found", as for
  the report itself. A download is an audited read.
* **add**: a writer of the owner organisation, while the report is a draft or approved (like an
  edit, adding a file to an approved report sends it back to draft for a fresh approval); a
  released report is not changed.
* **delete**: a writer of the owner organisation, while the report is a draft. The row goes;
  the stored bytes stay (the store is shared and content-addressed).

Every change is audited (``attach`` / ``detach`` on ``intel_report``, with the file's name,
type, size and SHA-256).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.intel import service
from rasid.intel.models import Report, ReportAttachment
from rasid.registry import attachments as store
from rasid.registry.attachments import Upload

FIELD = "file"
MAX_BYTES = store.MAX_BYTES


def snapshot(row: ReportAttachment) -> dict[str, Any]:
    return {
        "report_id": row.report_id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
    }


def _owner_writer(actor: Actor, report: Report) -> None:
    service.require(actor, "write")
    if not actor.is_system and actor.org_id != report.owner_org_id:
        raise Forbidden("Only the owner organisation can change this record.")


def may_add(actor: Actor, report: Report) -> bool:
    """Whether the interface should offer the upload form."""
    return (
        actor.can("write")
        and (actor.is_system or actor.org_id == report.owner_org_id)
        and report.status in ("draft", "approved")
    )


def may_delete(actor: Actor, report: Report) -> bool:
    return may_add(actor, report) and report.status == "draft"


def list_attachments(db: Session, actor: Actor, report_id: int) -> list[ReportAttachment]:
    """The report's files, oldest first, for a reader who may see the report."""
    report = service.get_report(db, actor, report_id, audit_read=False)
    return list(
        db.scalars(
            select(ReportAttachment)
            .where(ReportAttachment.report_id == report.id)
            .order_by(ReportAttachment.id)
        )
    )


def add_attachment(
    db: Session, actor: Actor, report_id: int, upload: Upload, storage: Path | None
) -> ReportAttachment:
    """Check and store ``upload`` and attach it to the report (audited)."""
    report = service.get_report(db, actor, report_id, audit_read=False)
    _owner_writer(actor, report)
    if report.status not in ("draft", "approved"):
        raise Conflict(
            "A released report cannot be changed; write a new report instead.", field="status"
        )
    named = Upload(upload.index, upload.filename, upload.content, field=upload.field or FIELD)
    if storage is None:
        raise ValidationFailed("Attachments cannot be stored here.", field=named.field)
    stored = store.store(storage, named)
    row = ReportAttachment(
        report_id=report.id,
        filename=stored.name,
        content_type=stored.media_type,
        size=stored.size,
        sha256=stored.sha256,
        path=stored.path,
        uploaded_at=utcnow(),
        uploaded_by=actor.user_id,
    )
    db.add(row)
    db.flush()
    if report.status == "approved":
        _back_to_draft(db, actor, report)
    audit.record(
        db,
        actor,
        "attach",
        object_type="intel_report",
        object_id=report.id,
        after={"attachment_id": row.id, **snapshot(row)},
    )
    return row


def _back_to_draft(db: Session, actor: Actor, report: Report) -> None:
    """A new file is new content: an approved report needs a fresh approval, as after an edit."""
    before = service.report_snapshot(db, report)
    report.status = "draft"
    report.approved_by = None
    report.approved_at = None
    report.version += 1
    report.updated_at = utcnow()
    report.updated_by = actor.user_id
    after = service._save_version(db, actor, report, "attach")
    audit.record_change(db, actor, "update", "intel_report", report.id, before, after)


def get_attachment(
    db: Session, actor: Actor, report_id: int, attachment_id: int
) -> ReportAttachment:
    """One of the report's files (no audit: see :func:`open_attachment` for the download)."""
    report = service.get_report(db, actor, report_id, audit_read=False)
    row = db.scalar(
        select(ReportAttachment).where(
            ReportAttachment.id == attachment_id, ReportAttachment.report_id == report.id
        )
    )
    if row is None:
        raise NotFound(
            "No %(type)s with id %(id)s.", type="intel_report_attachment", id=attachment_id
        )
    return row


def open_attachment(
    db: Session, actor: Actor, report_id: int, attachment_id: int, storage: Path
) -> tuple[ReportAttachment, Path]:
    """The file's row and where its bytes are, for a reader who may see the report (audited)."""
    row = get_attachment(db, actor, report_id, attachment_id)
    path = store.open_path(storage, row.path)
    report = db.get(Report, row.report_id)
    audit.record(
        db,
        actor,
        "read",
        object_type="intel_report_attachment",
        object_id=row.id,
        detail={
            "report": row.report_id,
            "file": row.filename,
            "marking": report.marking if report else "",
        },
    )
    return row, path


def delete_attachment(db: Session, actor: Actor, report_id: int, attachment_id: int) -> None:
    """Remove a file from a draft report (owner organisation's writers; audited)."""
    row = get_attachment(db, actor, report_id, attachment_id)
    report = service.get_report(db, actor, report_id, audit_read=False)
    _owner_writer(actor, report)
    if report.status != "draft":
        raise Conflict(
            "Files can be removed only from a draft; this report is %(status)s.",
            field="status",
            status=report.status,
        )
    before = {"attachment_id": row.id, **snapshot(row)}
    db.delete(row)
    db.flush()
    audit.record(
        db, actor, "detach", object_type="intel_report", object_id=report.id, before=before
    )
