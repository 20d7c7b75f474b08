"""API shapes for the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from rasid.audit.models import AuditEntry


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    username: str
    user_id: int | None
    org_id: int | None
    via: str
    session_id: int | None
    token_id: int | None
    address: str | None
    request_id: str
    action: str
    outcome: str
    object_type: str | None
    object_id: str | None
    before: Any = None
    after: Any = None
    detail: Any = None
    hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            seq=e.seq,
            at=e.at,
            username=e.username,
            user_id=e.user_id,
            org_id=e.org_id,
            via=e.via,
            session_id=e.session_id,
            token_id=e.token_id,
            address=e.address,
            request_id=e.request_id,
            action=e.action,
            outcome=e.outcome,
            object_type=e.object_type,
            object_id=e.object_id,
            before=json.loads(e.before) if e.before else None,
            after=json.loads(e.after) if e.after else None,
            detail=json.loads(e.detail) if e.detail else None,
            hash=e.hash,
        )


class AuditPage(BaseModel):
    total: int
    offset: int
    entries: list[AuditEntryOut]


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    problem: str | None
    bad_seq: int | None
