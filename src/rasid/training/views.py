"""Training pages: the public verification of a certificate (``/verify/CODE``)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rasid.core.actor import anonymous_actor
from rasid.core.errors import NotFound
from rasid.training import certificates
from rasid.web.deps import DB, client_address, request_id
from rasid.web.templating import render

router = APIRouter(include_in_schema=False)


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
