"""JSON routes of logistics: the equipment catalogue, serials with their custody chain,
hand-overs issued and accepted, end-use checks and their per-serial results, deficiencies,
the accountability figures and quarterly report, and support requests.

Everything goes through :mod:`rasid.logistics.service` / :mod:`rasid.logistics.requests`, so
the rules (and the access filter) are the pages' and the CLI's. A refused change is rolled
back, audited in its own transaction and returned with the field at fault.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from rasid.core.errors import ValidationFailed
from rasid.logistics import photos, service
from rasid.logistics import requests as support
from rasid.logistics.models import (
    CustodyEvent,
    Deficiency,
    EndUseCheck,
    EquipmentType,
    Handover,
    Item,
    SupportComment,
    SupportRequest,
)
from rasid.registry.attachments import Upload
from rasid.web.deps import DB, ApiActor, guarded, settings_of

router = APIRouter(prefix="/api/v1/logistics", tags=["logistics"])

# --- models ----------------------------------------------------------------------------------


class TypeIn(BaseModel):
    name_ar: str
    name_en: str = ""
    category: str = ""
    part_number: str = Field("", description="NSN or part number")
    enhanced: bool = Field(False, description="Under enhanced end-use monitoring")


class TypeOut(BaseModel):
    id: int
    name_ar: str
    name_en: str
    category: str
    part_number: str
    enhanced: bool


class ItemsIn(BaseModel):
    type_id: int
    serials: list[str] = Field(description="Serial numbers delivered (all or none are added)")
    donor: str = ""
    case_ref: str = ""
    site: str = ""


class ItemOut(BaseModel):
    id: int
    type_id: int
    serial: str
    donor: str
    case_ref: str
    condition: str
    status: str = Field(description="held, missing, destroyed or transferred")
    custodian_unit_id: int | None
    site: str


class CustodyEventOut(BaseModel):
    at: datetime
    kind: str = Field(description="registered, handover, check or status")
    from_unit_id: int | None
    to_unit_id: int | None
    handover_id: int | None
    check_id: int | None
    detail: str
    user_id: int | None


class ItemDetailOut(ItemOut):
    custody: list[CustodyEventOut]


class HandoverIn(BaseModel):
    ref: str
    to_unit_id: int
    serials: list[str]
    from_unit_id: int | None = Field(None, description="None: from the donor (undelivered)")
    from_donor: str = ""


class HandoverOut(BaseModel):
    id: int
    ref: str
    from_unit_id: int | None
    from_donor: str
    to_unit_id: int
    status: str = Field(description="issued or accepted")
    issued_by: int | None
    issued_at: datetime
    accepted_by: int | None
    accepted_at: datetime | None
    serials: list[str]


class CheckIn(BaseModel):
    unit_id: int
    kind: str = Field(description="initial, routine or enhanced")
    scheduled_for: date


class CheckOut(BaseModel):
    id: int
    unit_id: int
    kind: str
    status: str = Field(description="scheduled or done")
    scheduled_for: date
    done_on: date | None
    notes: str


class CheckLineOut(BaseModel):
    item_id: int
    serial: str
    result: str
    checked_on: date
    notes: str


class CheckDetailOut(CheckOut):
    expected_serials: list[str] = Field(
        description="What the unit holds now (held or missing): the serials the check expects"
    )
    lines: list[CheckLineOut]


class ResultIn(BaseModel):
    serial: str
    result: str = Field(description="present, missing, damaged, destroyed or transferred")
    notes: str = ""


class ResultsIn(BaseModel):
    done_on: date
    results: list[ResultIn]


class DeficiencyOut(BaseModel):
    id: int
    check_id: int | None
    item_id: int | None
    description: str
    corrective_action: str
    due_date: date
    closed_on: date | None
    overdue: bool


class DeficiencyPatch(BaseModel):
    corrective_action: str | None = None
    closed_on: date | None = Field(None, description="Closing needs a corrective action")


class AccountabilityOut(BaseModel):
    serials_total: int
    serials_verified_12m: int
    missing: int
    open_deficiencies: int
    overdue_checks: int


class MissingItemOut(BaseModel):
    item_id: int
    serial: str
    type_id: int
    type_name: str
    unit_id: int | None
    unit_name: str


class OpenDeficiencyOut(BaseModel):
    deficiency_id: int
    description: str
    due_date: date
    overdue: bool


class CheckSummaryOut(BaseModel):
    check_id: int
    unit_id: int
    unit_name: str
    kind: str
    scheduled_for: date
    done_on: date | None


class ReportOut(BaseModel):
    year: int
    quarter: int
    start: date
    end: date
    as_of: date = Field(description="The quarter's last day, or today while it runs")
    figures: AccountabilityOut
    share_verified: float = Field(description="serials_verified_12m / serials_total (0 if none)")
    missing_items: list[MissingItemOut]
    open_deficiencies: list[OpenDeficiencyOut]
    overdue_checks: list[CheckSummaryOut]
    checks_done: list[CheckSummaryOut]


class RequestIn(BaseModel):
    category: str = Field(description="technical or logistical")
    unit_id: int
    title: str
    priority: str = Field("normal", description="low, normal, high or urgent")
    description: str = ""
    item_ids: list[int] = []


class RequestOut(BaseModel):
    id: int
    category: str
    unit_id: int
    priority: str
    title: str
    description: str
    status: str
    due_date: date
    created_at: datetime
    updated_at: datetime


class MoveIn(BaseModel):
    status: str


class CommentIn(BaseModel):
    body: str


class CommentOut(BaseModel):
    id: int
    request_id: int
    body: str
    username: str
    at: datetime


def _type(row: EquipmentType) -> TypeOut:
    return TypeOut.model_validate(row, from_attributes=True)


def _item(row: Item) -> ItemOut:
    return ItemOut.model_validate(row, from_attributes=True)


def _handover(db: DB, actor: ApiActor, row: Handover) -> HandoverOut:
    return HandoverOut(
        id=row.id, ref=row.ref, from_unit_id=row.from_unit_id, from_donor=row.from_donor,
        to_unit_id=row.to_unit_id, status=row.status, issued_by=row.issued_by,
        issued_at=row.issued_at, accepted_by=row.accepted_by, accepted_at=row.accepted_at,
        serials=[i.serial for i in service.handover_items(db, actor, row.id)],
    )  # fmt: skip


def _check(row: EndUseCheck) -> CheckOut:
    return CheckOut.model_validate(row, from_attributes=True)


def _check_detail(db: DB, actor: ApiActor, row: EndUseCheck) -> CheckDetailOut:
    return CheckDetailOut(
        **_check(row).model_dump(),
        expected_serials=[i.serial for i in service.unit_items(db, actor, row.unit_id)],
        lines=[
            CheckLineOut(item_id=r.item.id, serial=r.item.serial, result=r.line.result,
                         checked_on=r.line.checked_on, notes=r.line.notes)
            for r in service.check_lines(db, actor, row.id)
        ],
    )  # fmt: skip


def _deficiency(row: Deficiency, today: date) -> DeficiencyOut:
    return DeficiencyOut(
        id=row.id, check_id=row.check_id, item_id=row.item_id, description=row.description,
        corrective_action=row.corrective_action, due_date=row.due_date, closed_on=row.closed_on,
        overdue=row.closed_on is None and row.due_date < today,
    )  # fmt: skip


def _request(row: SupportRequest) -> RequestOut:
    return RequestOut.model_validate(row, from_attributes=True)


def _comment(row: SupportComment) -> CommentOut:
    return CommentOut.model_validate(row, from_attributes=True)


def _event(row: CustodyEvent) -> CustodyEventOut:
    return CustodyEventOut.model_validate(row, from_attributes=True)


# --- catalogue and items ---------------------------------------------------------------------


@router.get("/types", response_model=list[TypeOut])
def list_types(db: DB, actor: ApiActor) -> list[TypeOut]:
    return [_type(t) for t in service.list_types(db, actor)]


@router.post("/types", response_model=TypeOut, status_code=201)
def add_type(body: TypeIn, request: Request, db: DB, actor: ApiActor) -> TypeOut:
    return _type(guarded(request, db, lambda: service.add_type(db, actor, **body.model_dump())))


@router.get("/items", response_model=list[ItemOut])
def list_items(
    db: DB,
    actor: ApiActor,
    unit_id: int | None = Query(None, description="Custodian unit"),
    status: str | None = Query(None, description="held, missing, destroyed or transferred"),
    serial: str | None = Query(None, description="Serial prefix"),
    limit: int = Query(500, ge=1, le=5000),
) -> list[ItemOut]:
    rows = service.list_items(
        db, actor, unit_id=unit_id, status=status, serial_prefix=serial, limit=limit
    )
    return [_item(i) for i in rows]


@router.post("/items", response_model=list[ItemOut], status_code=201)
def add_items(body: ItemsIn, request: Request, db: DB, actor: ApiActor) -> list[ItemOut]:
    """Register delivered serials: all or none (409 naming a serial that exists already)."""
    items = guarded(
        request,
        db,
        lambda: service.add_items(db, actor, body.type_id, body.serials, donor=body.donor,
                                  case_ref=body.case_ref, site=body.site),
    )  # fmt: skip
    return [_item(i) for i in items]


@router.get("/items/{item_id}", response_model=ItemDetailOut)
def get_item(item_id: int, db: DB, actor: ApiActor) -> ItemDetailOut:
    """One item with its custody chain (an audited read)."""
    item = service.get_item(db, actor, item_id)
    chain = service.custody_chain(db, actor, item.id)
    return ItemDetailOut(**_item(item).model_dump(), custody=[_event(e) for e in chain])


# --- hand-overs ------------------------------------------------------------------------------


@router.get("/handovers", response_model=list[HandoverOut])
def list_handovers(db: DB, actor: ApiActor) -> list[HandoverOut]:
    return [_handover(db, actor, h) for h in service.list_handovers(db, actor)]


@router.post("/handovers", response_model=HandoverOut, status_code=201)
def issue_handover(body: HandoverIn, request: Request, db: DB, actor: ApiActor) -> HandoverOut:
    """The issuing side signs; refused (409) for an item missing, destroyed or not held by
    the issuing side."""
    handover = guarded(request, db, lambda: service.issue_handover(db, actor, **body.model_dump()))
    return _handover(db, actor, handover)


@router.get("/handovers/{handover_id}", response_model=HandoverOut)
def get_handover(handover_id: int, db: DB, actor: ApiActor) -> HandoverOut:
    """One hand-over with its serials (an audited read)."""
    return _handover(db, actor, service.get_handover(db, actor, handover_id))


@router.post("/handovers/{handover_id}/accept", response_model=HandoverOut)
def accept_handover(handover_id: int, request: Request, db: DB, actor: ApiActor) -> HandoverOut:
    """The receiving side signs (someone other than the issuer, else 403): custody moves."""
    handover = guarded(request, db, lambda: service.accept_handover(db, actor, handover_id))
    return _handover(db, actor, handover)


# --- end-use checks and deficiencies ---------------------------------------------------------


@router.get("/checks", response_model=list[CheckOut])
def list_checks(
    db: DB,
    actor: ApiActor,
    status: str | None = Query(None, description="scheduled or done"),
) -> list[CheckOut]:
    return [_check(c) for c in service.list_checks(db, actor, status=status)]


@router.post("/checks", response_model=CheckOut, status_code=201)
def schedule_check(body: CheckIn, request: Request, db: DB, actor: ApiActor) -> CheckOut:
    check = guarded(request, db, lambda: service.schedule_check(db, actor, **body.model_dump()))
    return _check(check)


@router.get("/checks/{check_id}", response_model=CheckDetailOut)
def get_check(check_id: int, db: DB, actor: ApiActor) -> CheckDetailOut:
    """One check with the serials its unit holds and the results recorded (an audited read)."""
    return _check_detail(db, actor, service.get_check(db, actor, check_id))


def _record(db: DB, actor: ApiActor, check_id: int, body: ResultsIn) -> EndUseCheck:
    results: dict[str, tuple[str, str]] = {}
    for i, r in enumerate(body.results):
        key = r.serial.strip().upper()
        if key in results:
            raise ValidationFailed("Serial %(serial)s is listed twice.", field=f"results.{i}",
                                   serial=key)  # fmt: skip
        results[key] = (r.result, r.notes)
    try:
        return service.record_check(db, actor, check_id, results, body.done_on)
    except ValidationFailed as exc:  # the service names the serial's place as serials.N
        if exc.field and exc.field.startswith("serials."):
            exc.field = "results." + exc.field.removeprefix("serials.")
        raise


@router.post("/checks/{check_id}/results", response_model=CheckDetailOut)
def record_results(
    check_id: int, body: ResultsIn, request: Request, db: DB, actor: ApiActor
) -> CheckDetailOut:
    """Per-serial results of the visit, all or none (422 naming ``results.N`` for a serial
    the checked unit does not hold); missing, damaged and destroyed open deficiencies."""
    check = guarded(request, db, lambda: _record(db, actor, check_id, body))
    return _check_detail(db, actor, check)


class PhotoOut(BaseModel):
    id: int
    check_id: int
    item_id: int
    serial: str
    name: str = Field(description="The original file name")
    media_type: str = Field(description="image/png or image/jpeg (from the file's first bytes)")
    size: int
    sha256: str
    uploaded_by: int | None
    uploaded_at: datetime
    url: str = Field(description="Where the image is served (an audited read)")


def _photo(row: photos.PhotoRow) -> PhotoOut:
    p = row.photo
    return PhotoOut(
        id=p.id, check_id=p.check_id, item_id=p.item_id, serial=row.serial, name=p.name,
        media_type=p.media_type, size=p.size, sha256=p.sha256, uploaded_by=p.uploaded_by,
        uploaded_at=p.uploaded_at, url=f"/api/v1/logistics/photos/{p.id}",
    )  # fmt: skip


def _photo_dir(request: Request) -> Path:
    return photos.storage(settings_of(request).data_dir)


@router.get("/checks/{check_id}/photos", response_model=list[PhotoOut])
def list_photos(check_id: int, db: DB, actor: ApiActor) -> list[PhotoOut]:
    """The photos taken at a check, by serial (404 when the check is hidden)."""
    return [_photo(r) for r in photos.photos(db, actor, check_id)]


@router.post("/checks/{check_id}/photos", response_model=PhotoOut, status_code=201)
async def add_photo(
    check_id: int,
    request: Request,
    db: DB,
    actor: ApiActor,
    serial: str = Form(
        "",
        description="A serial the check recorded, or that the unit holds "
        "while the check is scheduled",
    ),
    photo: UploadFile | None = File(None, description="PNG or JPEG (multipart field 'photo')"),
) -> PhotoOut:
    """A photo of one serial taken at the check (multipart: ``serial``, ``photo``); 422
    naming ``photo`` for anything but a PNG or JPEG image, ``serial`` for a serial the check
    does not concern. Nothing is stored when refused."""
    content = await photo.read(photos.MAX_BYTES + 1) if photo is not None else b""

    def work() -> photos.PhotoRow:
        if photo is None or not photo.filename:
            raise ValidationFailed("Choose a photo to add.", field="photo")
        upload = Upload(0, photo.filename, content, field="photo")
        row = photos.add_photo(db, actor, check_id, serial, upload, _photo_dir(request))
        return photos.photo_row(db, row)

    return _photo(guarded(request, db, work))


@router.get("/photos/{photo_id}", response_class=FileResponse)
def get_photo(photo_id: int, request: Request, db: DB, actor: ApiActor) -> FileResponse:
    """The image itself, inline, with its media type (an audited read; 404 when its check
    is hidden)."""
    path, media_type, name = photos.open_photo(db, actor, photo_id, _photo_dir(request))
    return FileResponse(path, media_type=media_type, filename=name,
                        content_disposition_type="inline")  # fmt: skip


@router.get("/deficiencies", response_model=list[DeficiencyOut])
def list_deficiencies(
    db: DB, actor: ApiActor, open_only: bool = Query(False, alias="open")
) -> list[DeficiencyOut]:
    today = date.today()
    return [
        _deficiency(d, today) for d in service.list_deficiencies(db, actor, open_only=open_only)
    ]


@router.patch("/deficiencies/{deficiency_id}", response_model=DeficiencyOut)
def update_deficiency(
    deficiency_id: int, body: DeficiencyPatch, request: Request, db: DB, actor: ApiActor
) -> DeficiencyOut:
    """Record the corrective action and/or close (closing needs the corrective action)."""
    row = guarded(
        request,
        db,
        lambda: service.update_deficiency(db, actor, deficiency_id,
                                          corrective_action=body.corrective_action,
                                          closed_on=body.closed_on),
    )  # fmt: skip
    return _deficiency(row, date.today())


# --- accountability --------------------------------------------------------------------------


@router.get("/accountability", response_model=AccountabilityOut)
def accountability(db: DB, actor: ApiActor) -> AccountabilityOut:
    """The five figures over the equipment the caller may see."""
    return AccountabilityOut(**service.accountability(db, actor).as_dict())


@router.get("/accountability/report", response_model=ReportOut)
def accountability_report(
    db: DB, actor: ApiActor, year: int = Query(...), quarter: int = Query(...)
) -> ReportOut:
    """The quarterly accountability report (422 naming ``quarter`` unless 1 to 4)."""
    r = service.accountability_report(db, actor, year, quarter)
    return ReportOut(
        year=r.year, quarter=r.quarter, start=r.start, end=r.end, as_of=r.as_of,
        figures=AccountabilityOut(**r.figures.as_dict()), share_verified=r.share_verified,
        missing_items=[MissingItemOut.model_validate(m, from_attributes=True)
                       for m in r.missing_items],
        open_deficiencies=[OpenDeficiencyOut.model_validate(d, from_attributes=True)
                           for d in r.open_deficiencies],
        overdue_checks=[CheckSummaryOut.model_validate(c, from_attributes=True)
                        for c in r.overdue_checks],
        checks_done=[CheckSummaryOut.model_validate(c, from_attributes=True)
                     for c in r.checks_done],
    )  # fmt: skip


# --- support requests ------------------------------------------------------------------------


@router.get("/requests", response_model=dict[str, list[RequestOut]])
def request_board(db: DB, actor: ApiActor) -> dict[str, list[RequestOut]]:
    """The board: every visible request by status, the most urgent due first."""
    return {s: [_request(r) for r in rows] for s, rows in support.board(db, actor).items()}


@router.get("/requests/overdue", response_model=list[RequestOut])
def overdue_requests(db: DB, actor: ApiActor) -> list[RequestOut]:
    return [_request(r) for r in support.overdue(db, actor)]


@router.post("/requests", response_model=RequestOut, status_code=201)
def create_request(body: RequestIn, request: Request, db: DB, actor: ApiActor) -> RequestOut:
    """Open a request (its due date follows from the priority)."""
    row = guarded(request, db, lambda: support.create(db, actor, **body.model_dump()))
    return _request(row)


@router.post("/requests/{request_id}/status", response_model=RequestOut)
def move_request(
    request_id: int, body: MoveIn, request: Request, db: DB, actor: ApiActor
) -> RequestOut:
    """Move a request along its workflow (409 naming the allowed moves)."""
    row = guarded(request, db, lambda: support.move(db, actor, request_id, body.status))
    return _request(row)


@router.post("/requests/{request_id}/comments", response_model=CommentOut, status_code=201)
def comment_request(
    request_id: int, body: CommentIn, request: Request, db: DB, actor: ApiActor
) -> CommentOut:
    row = guarded(request, db, lambda: support.comment(db, actor, request_id, body.body))
    return _comment(row)
