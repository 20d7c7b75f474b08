"""JSON routes for auditors: list, CSV export, chain verification."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from rasid.audit import service
from rasid.audit.filters import build_filter
from rasid.audit.schemas import AuditEntryOut, AuditPage, VerifyOut
from rasid.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def list_entries(
    db: DB,
    actor: ApiActor,
    user: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    outcome: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AuditPage:
    flt = build_filter(
        user=user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        date_from=date_from,
        date_to=date_to,
        outcome=outcome,
    )
    rows, total = service.list_entries(
        db, actor, flt, limit=max(1, min(limit, 1000)), offset=max(0, offset)
    )
    return AuditPage(total=total, offset=offset, entries=[AuditEntryOut.of(e) for e in rows])


@router.get("/export.csv", response_class=StreamingResponse)
def export_csv(
    db: DB,
    actor: ApiActor,
    user: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    outcome: str | None = None,
) -> StreamingResponse:
    flt = build_filter(
        user=user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        date_from=date_from,
        date_to=date_to,
        outcome=outcome,
    )
    rows = service.export_entries(db, actor, flt)
    return StreamingResponse(
        service.csv_lines(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rasid-audit.csv"'},
    )


@router.get("/verify", response_model=VerifyOut)
def verify(db: DB, actor: ApiActor) -> VerifyOut:
    service.require_auditor(actor)
    result = service.verify_chain(db)
    service.record(
        db,
        actor,
        "audit.verify",
        object_type="audit_entry",
        outcome="ok" if result.ok else "failed",
        detail={"checked": result.checked, "problem": result.problem},
    )
    return VerifyOut(
        ok=result.ok,
        checked=result.checked,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        problem=result.problem,
        bad_seq=result.bad_seq,
    )
