"""The auditor's page: filter, page through and export the audit log."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from rasid.audit import service
from rasid.audit.filters import build_filter
from rasid.web.deps import DB, PageActor
from rasid.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/audit")
def audit_page(
    request: Request,
    db: DB,
    actor: PageActor,
    user: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: str = "",
    date_to: str = "",
    outcome: str = "",
    page: int = 1,
) -> Response:
    params = {
        "user": user,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "date_from": date_from,
        "date_to": date_to,
        "outcome": outcome,
    }
    flt = build_filter(**params)
    page = max(1, page)
    rows, total = service.list_entries(
        db, actor, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    query = urlencode({k: v for k, v in params.items() if v})
    entries = [
        {
            "e": e,
            "before": json.loads(e.before) if e.before else None,
            "after": json.loads(e.after) if e.after else None,
            "detail": json.loads(e.detail) if e.detail else None,
        }
        for e in rows
    ]
    return render(
        request,
        "audit/list.html",
        {
            "entries": entries,
            "total": total,
            "page": page,
            "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
            "filters": params,
            "query": query,
        },
    )


@router.get("/audit/export.csv")
def audit_export(
    db: DB,
    actor: PageActor,
    user: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: str = "",
    date_to: str = "",
    outcome: str = "",
) -> Response:
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
