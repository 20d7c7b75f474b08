"""TAXII 2.1 server, read side, at ``/taxii2/``: discovery, one API root, collections, objects.

Collections are views for the caller's organisation:

* ``released-to-<org slug>``: the STIX objects of every report released to the caller's
  organisation by another organisation (its "date added" is the release to that organisation);
* ``public``: TLP:CLEAR released reports the caller may see (date added = first release).

Objects are the contents of :func:`rasid.intel.stix.report_bundle` for each report, in the
order (date added, report id, position in the bundle); the ``next`` cursor encodes that
position, and reports are paged in SQL. Filters ``added_after``, ``match[id]``,
``match[type]``, ``match[version]`` and ``match[spec_version]`` apply to objects. Each object
is generated from the current record, so it has exactly one version: ``first``, ``last`` and
``all`` select the same one.

* ``to-<org slug>``: write-only, one per organisation an active agreement lets the caller's
  organisation share with (callers who may write). A POST of an envelope imports the objects
  through :mod:`rasid.intel.stix_import` as records of the caller's organisation, released to
  that organisation under this server's agreements, and answers 202 with a status resource
  (``/status/<id>/``, readable by the posting organisation only). This is what a partner
  server's ``rasid sync push`` uses.

The read collections refuse POST with 403 (after the 415 check); the write-only ones refuse
reads with 403.
Every error is a TAXII error message in ``application/taxii+json;version=2.1``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from rasid.access import service as access
from rasid.access.markings import CLEAR
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.errors import RasidError
from rasid.identity.models import Organisation
from rasid.intel import service, stix, stix_import
from rasid.intel.models import Report, ReportRelease, SharingAgreement, TaxiiStatus
from rasid.web.deps import DB, get_auth

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
API_ROOT = "rasid"
MAX_CONTENT_LENGTH = 10 * 1024 * 1024
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
REPORT_BATCH = 50
PUBLIC = "public"
RELEASED_PREFIX = "released-to-"
WRITE_PREFIX = "to-"


class TaxiiResponse(JSONResponse):
    media_type = TAXII_MEDIA_TYPE


class TaxiiError(Exception):
    def __init__(
        self, status: int, title: str, description: str = "", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.description = description
        self.headers = headers

    def response(self) -> Response:
        return error_response(self.status, self.title, self.description, self.headers)


def error_response(
    status: int, title: str, description: str = "", headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    return TaxiiResponse(body, status_code=status, headers=headers)


def _acceptable(accept: str) -> bool:
    """``application/taxii+json`` (no version or version=2.1) or ``*/*``; no header is fine."""
    if not accept.strip():
        return True
    for item in accept.split(","):
        parts = [p.strip().lower() for p in item.split(";")]
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if parts[0] == "*/*":
            return True
        if parts[0] == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


def _media_problem(request: Request) -> Response | None:
    if not _acceptable(request.headers.get("accept", "")):
        return error_response(
            406,
            "Not Acceptable",
            "This server answers in application/taxii+json;version=2.1 only.",
        )
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        parts = [p.strip().lower() for p in content_type.split(";")]
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if parts[0] != "application/taxii+json" or params.get("version", "2.1") != "2.1":
            return error_response(
                415,
                "Unsupported Media Type",
                "Send objects as application/taxii+json;version=2.1.",
            )
        if not request.headers.get("authorization"):
            return _unauthenticated().response()
    return None


def _unauthenticated() -> TaxiiError:
    return TaxiiError(
        401,
        "Unauthorized",
        "Send HTTP Basic credentials (username and API token) or 'Authorization: Bearer …'.",
        {"WWW-Authenticate": 'Basic realm="Rasid TAXII"'},
    )


class TaxiiRoute(APIRoute):
    """Checks media types first and turns every failure into a TAXII error message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            problem = _media_problem(request)
            if problem is not None:
                return problem
            try:
                return await original(request)
            except TaxiiError as exc:
                return exc.response()
            except RasidError as exc:
                title = exc.code.replace("_", " ").capitalize()
                return error_response(exc.status, title, exc.message)
            except RequestValidationError as exc:
                return error_response(400, "Bad Request", str(exc.errors()[:1]))
            except StarletteHTTPException as exc:
                return error_response(exc.status_code, str(exc.detail))

        return handler


router = APIRouter(prefix="/taxii2", route_class=TaxiiRoute, tags=["taxii"])


# --- caller and collections ------------------------------------------------------------------


def taxii_actor(request: Request, db: Session) -> Actor:
    """The caller, authenticated by an API token (HTTP Basic or Bearer)."""
    auth = get_auth(request, db)
    if auth.user is None or auth.token_id is None or auth.mfa_pending:
        raise _unauthenticated()
    if not auth.actor.can("read"):
        raise TaxiiError(403, "Forbidden", "Your roles do not allow reading.")
    if auth.actor.org_id is None:
        raise TaxiiError(403, "Forbidden", "The account belongs to no organisation.")
    return auth.actor


@dataclass(frozen=True)
class View:
    """A collection: its description and the SQL that finds its reports and their date added."""

    id: str
    title: str
    description: str
    date_added: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None]
    conditions: tuple[ColumnElement[bool], ...]
    join_release: bool
    target_org_id: int | None = None  # set on the writable "to-<org>" collections

    @property
    def can_read(self) -> bool:
        return self.target_org_id is None

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": self.can_read,
            "can_write": not self.can_read,
            "media_types": [STIX_MEDIA_TYPE],
        }


def _views(db: Session, actor: Actor) -> list[View]:
    org_id = actor.org_id
    assert org_id is not None  # taxii_actor refuses callers without an organisation
    slug = service.org_slugs(db, {org_id}).get(org_id, str(org_id))
    released_here = exists().where(
        ReportRelease.report_id == Report.id, ReportRelease.org_id == org_id
    )
    released = View(
        id=RELEASED_PREFIX + slug,
        title=f"Reports released to {slug}",
        description="STIX 2.1 content of the intel reports other organisations released "
        f"to {slug}.",
        date_added=ReportRelease.released_at,
        conditions=(
            access.visible_filter(actor, Report),
            Report.status == "released",
            Report.owner_org_id != org_id,
            Report.marking.not_in(tuple(service.NEVER_RELEASED)),
            ReportRelease.org_id == org_id,
        ),
        join_release=True,
    )
    public = View(
        id=PUBLIC,
        title="Public reports (TLP:CLEAR)",
        description="STIX 2.1 content of released TLP:CLEAR intel reports you may see.",
        date_added=Report.released_at,
        conditions=(
            access.visible_filter(actor, Report),
            Report.status == "released",
            Report.marking == CLEAR,
            Report.released_at.is_not(None),
            or_(Report.owner_org_id == org_id, released_here),
        ),
        join_release=False,
    )
    views = [released, public]
    if actor.can("write"):
        on = service.today()
        targets = db.execute(
            select(Organisation.id, Organisation.slug)
            .join(SharingAgreement, SharingAgreement.partner_org_id == Organisation.id)
            .where(
                SharingAgreement.owner_org_id == org_id,
                SharingAgreement.active.is_(True),
                or_(SharingAgreement.valid_from.is_(None), SharingAgreement.valid_from <= on),
                or_(SharingAgreement.valid_to.is_(None), SharingAgreement.valid_to >= on),
            )
            .distinct()
            .order_by(Organisation.slug)
        ).all()
        for target_id, target_slug in targets:
            views.append(
                View(
                    id=WRITE_PREFIX + target_slug,
                    title=f"Share with {target_slug}",
                    description=f"POST STIX 2.1 objects here to share them with {target_slug} "
                    f"under the agreements from {slug} (write only).",
                    date_added=Report.released_at,
                    conditions=(),
                    join_release=False,
                    target_org_id=int(target_id),
                )
            )
    return views


def _view(db: Session, actor: Actor, collection_id: str) -> View:
    for view in _views(db, actor):
        if view.id == collection_id:
            return view
    raise TaxiiError(404, "Not Found", f"No collection {collection_id} for you.")


def _readable(db: Session, actor: Actor, collection_id: str) -> View:
    view = _view(db, actor, collection_id)
    if not view.can_read:
        raise TaxiiError(403, "Forbidden", "This collection is write-only (can_read is false).")
    return view


# --- the object stream -------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    added: datetime
    report_id: int
    index: int

    def encode(self) -> str:
        raw = json.dumps([self.added.isoformat(), self.report_id, self.index])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            added, report_id, index = json.loads(raw)
            return cls(_utc(datetime.fromisoformat(added)), int(report_id), int(index))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise TaxiiError(400, "Bad Request", "The 'next' cursor is not valid.") from exc


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def taxii_timestamp(value: datetime) -> str:
    """A TAXII timestamp with microseconds, so that ``added_after`` is exact."""
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str, name: str) -> datetime:
    try:
        return _utc(datetime.fromisoformat(text.strip().replace("z", "Z")))
    except ValueError as exc:
        raise TaxiiError(400, "Bad Request", f"'{name}' is not a timestamp: {text}.") from exc


def _report_rows(
    db: Session, view: View, after: datetime | None, start: Position | None, inclusive: bool
) -> list[tuple[int, datetime]]:
    col = view.date_added
    stmt = select(Report.id, col)
    if view.join_release:
        stmt = stmt.join(ReportRelease, ReportRelease.report_id == Report.id)
    stmt = stmt.where(*view.conditions)
    if after is not None:
        stmt = stmt.where(col > after)
    if start is not None:
        same = Report.id >= start.report_id if inclusive else Report.id > start.report_id
        stmt = stmt.where(or_(col > start.added, and_(col == start.added, same)))
    rows = db.execute(stmt.order_by(col, Report.id).limit(REPORT_BATCH)).all()
    return [(int(r[0]), _utc(r[1])) for r in rows if r[1] is not None]


def _stream(
    db: Session, actor: Actor, view: View, after: datetime | None, start: Position | None
) -> Iterator[tuple[Position, dict[str, Any]]]:
    """Every object of the collection from ``start`` on, in order, with its position."""
    cursor, inclusive = start, True
    while True:
        rows = _report_rows(db, view, after, cursor, inclusive)
        for report_id, added in rows:
            bundle = stix.report_bundle(db, actor, report_id)
            for index, obj in enumerate(bundle["objects"]):
                pos = Position(added, report_id, index)
                if (
                    start is not None
                    and (added, report_id) == (start.added, start.report_id)
                    and index < start.index
                ):
                    continue
                yield pos, obj
        if len(rows) < REPORT_BATCH:
            return
        cursor, inclusive = Position(rows[-1][1], rows[-1][0], 0), False


def object_version(obj: dict[str, Any], added: datetime) -> str:
    return str(obj.get("modified") or obj.get("created") or taxii_timestamp(added))


@dataclass(frozen=True)
class Query:
    added_after: datetime | None
    limit: int
    start: Position | None
    ids: frozenset[str]
    types: frozenset[str]
    versions: frozenset[str]
    spec_versions: frozenset[str]

    @classmethod
    def of(cls, request: Request, object_id: str | None = None) -> Query:
        params = request.query_params

        def values(name: str) -> frozenset[str]:
            found = {v.strip() for raw in params.getlist(name) for v in raw.split(",")}
            return frozenset(v for v in found if v)

        limit = DEFAULT_LIMIT
        if params.get("limit"):
            try:
                limit = int(params["limit"])
            except ValueError as exc:
                raise TaxiiError(400, "Bad Request", "'limit' must be a number.") from exc
            if limit < 1:
                raise TaxiiError(400, "Bad Request", "'limit' must be at least 1.")
        after = params.get("added_after")
        nxt = params.get("next")
        versions = values("match[version]") or frozenset({"last"})
        for v in versions - {"first", "last", "all"}:
            _parse_time(v, "match[version]")
        ids = frozenset({object_id}) if object_id else values("match[id]")
        return cls(
            added_after=_parse_time(after, "added_after") if after else None,
            limit=min(limit, MAX_LIMIT),
            start=Position.decode(nxt) if nxt else None,
            ids=ids,
            types=values("match[type]"),
            versions=versions,
            spec_versions=values("match[spec_version]"),
        )

    def matches(self, obj: dict[str, Any], added: datetime) -> bool:
        if self.ids and obj.get("id") not in self.ids:
            return False
        if self.types and obj.get("type") not in self.types:
            return False
        if self.spec_versions and obj.get("spec_version", "2.1") not in self.spec_versions:
            return False
        if self.versions & {"first", "last", "all"}:
            return True  # each object has one version, the current one
        version = _parse_time(object_version(obj, added), "version")
        return any(_parse_time(v, "match[version]") == version for v in self.versions)


@dataclass
class Page:
    items: list[tuple[Position, dict[str, Any]]]
    next: Position | None

    def headers(self) -> dict[str, str]:
        if not self.items:
            return {}
        added = [pos.added for pos, _ in self.items]
        return {
            "X-TAXII-Date-Added-First": taxii_timestamp(min(added)),
            "X-TAXII-Date-Added-Last": taxii_timestamp(max(added)),
        }

    def envelope(self, key: str, items: list[Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"more": self.next is not None}
        if self.next is not None:
            body["next"] = self.next.encode()
        body[key] = items
        return body


def _page(db: Session, actor: Actor, view: View, query: Query) -> Page:
    """Up to ``limit`` matching objects (one copy of each version per page), and what follows."""
    items: list[tuple[Position, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for pos, obj in _stream(db, actor, view, query.added_after, query.start):
        if not query.matches(obj, pos.added):
            continue
        key = (str(obj.get("id")), object_version(obj, pos.added))
        if key in seen:
            continue
        if len(items) == query.limit:
            return Page(items, pos)
        seen.add(key)
        items.append((pos, obj))
    return Page(items, None)


def _audit_export(db: Session, actor: Actor, view: View, page: Page, what: str) -> None:
    audit.record(
        db,
        actor,
        "export",
        object_type="taxii_collection",
        object_id=view.id,
        detail={"format": "taxii-2.1", "endpoint": what, "objects": len(page.items)},
    )


# --- endpoints ----------------------------------------------------------------------------------


@router.get("/")
def discovery(request: Request, db: DB) -> Response:
    taxii_actor(request, db)
    root = str(request.base_url) + f"taxii2/{API_ROOT}/"
    return TaxiiResponse(
        {
            "title": "Rasid TAXII 2.1",
            "description": "Intel reports released to your organisation, as STIX 2.1.",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get(f"/{API_ROOT}/")
def api_root(request: Request, db: DB) -> Response:
    taxii_actor(request, db)
    return TaxiiResponse(
        {
            "title": "Rasid",
            "description": "Rasid (راصد) security-cooperation intel reports.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": MAX_CONTENT_LENGTH,
        }
    )


@router.get(f"/{API_ROOT}/collections/")
def collections(request: Request, db: DB) -> Response:
    actor = taxii_actor(request, db)
    return TaxiiResponse({"collections": [v.info() for v in _views(db, actor)]})


@router.get(f"/{API_ROOT}/collections/{{collection_id}}/")
def collection(request: Request, db: DB, collection_id: str) -> Response:
    actor = taxii_actor(request, db)
    return TaxiiResponse(_view(db, actor, collection_id).info())


@router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/")
def get_objects(request: Request, db: DB, collection_id: str) -> Response:
    actor = taxii_actor(request, db)
    view = _readable(db, actor, collection_id)
    page = _page(db, actor, view, Query.of(request))
    _audit_export(db, actor, view, page, "objects")
    return TaxiiResponse(
        page.envelope("objects", [obj for _, obj in page.items]), headers=page.headers()
    )


@router.post(f"/{API_ROOT}/collections/{{collection_id}}/objects/")
async def add_objects(request: Request, db: DB, collection_id: str) -> Response:
    """Import posted objects as the caller's organisation, released to the collection's target.

    The envelope is checked first (400 and nothing written when it is not an envelope of
    STIX objects); then each object is imported or refused on its own, as the status
    resource (answered with 202, already complete) lists.
    """
    actor = taxii_actor(request, db)
    view = _view(db, actor, collection_id)
    if view.target_org_id is None:
        raise TaxiiError(403, "Forbidden", "This collection is read-only (can_write is false).")
    raw = await request.body()
    if len(raw) > MAX_CONTENT_LENGTH:
        raise TaxiiError(413, "Payload Too Large", f"At most {MAX_CONTENT_LENGTH} bytes.")
    try:
        envelope = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TaxiiError(400, "Bad Request", f"The body is not JSON: {exc}.") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise TaxiiError(400, "Bad Request", 'Send an envelope: {"objects": [...]}.')
    objects = stix_import.check_objects(envelope["objects"])
    target = db.get(Organisation, view.target_org_id)
    result = stix_import.import_objects(
        db,
        actor,
        objects,
        stix_import.Options(source="taxii", release_to=target, strict=False),
    )
    status = _record_status(db, actor, view, objects, result)
    audit.record(
        db,
        actor,
        "import",
        object_type="taxii_collection",
        object_id=view.id,
        detail={"format": "taxii-2.1", "status": status.id, **result.as_dict()},
    )
    return TaxiiResponse(_status_body(status), status_code=202)


def _record_status(
    db: Session,
    actor: Actor,
    view: View,
    objects: list[dict[str, Any]],
    result: stix_import.Result,
) -> TaxiiStatus:
    successes: list[dict[str, str]] = []
    failures: list[dict[str, str]] = []
    reasons = dict(e.split(": ", 1) for e in result.errors if ": " in e)
    for obj in objects:
        entry = {"id": obj["id"], "version": object_version(obj, datetime.now(UTC))}
        if result.outcomes.get(obj["id"]) == "refused":
            failures.append({**entry, "message": reasons.get(obj["id"], "refused")})
        else:
            successes.append({**entry, "message": result.outcomes.get(obj["id"], "skipped")})
    status = TaxiiStatus(
        id=str(uuid.uuid4()),
        collection=view.id,
        org_id=actor.org_id,
        user_id=actor.user_id,
        status="complete",
        total_count=len(objects),
        success_count=len(successes),
        failure_count=len(failures),
        pending_count=0,
        details=json.dumps({"successes": successes, "failures": failures}, ensure_ascii=False),
    )
    db.add(status)
    db.flush()
    return status


def _status_body(status: TaxiiStatus) -> dict[str, Any]:
    details = json.loads(status.details)
    return {
        "id": status.id,
        "status": status.status,
        "request_timestamp": taxii_timestamp(status.request_timestamp),
        "total_count": status.total_count,
        "success_count": status.success_count,
        "successes": details.get("successes", []),
        "failure_count": status.failure_count,
        "failures": details.get("failures", []),
        "pending_count": status.pending_count,
        "pendings": [],
    }


@router.get(f"/{API_ROOT}/status/{{status_id}}/")
def get_status(request: Request, db: DB, status_id: str) -> Response:
    """A POST's status, for the organisation that posted it only."""
    actor = taxii_actor(request, db)
    status = db.get(TaxiiStatus, status_id)
    if status is None or status.org_id != actor.org_id:
        raise TaxiiError(404, "Not Found", f"No status {status_id} for you.")
    return TaxiiResponse(_status_body(status))


@router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/")
def get_object(request: Request, db: DB, collection_id: str, object_id: str) -> Response:
    actor = taxii_actor(request, db)
    view = _readable(db, actor, collection_id)
    page = _page(db, actor, view, Query.of(request, object_id))
    if not page.items:
        raise TaxiiError(404, "Not Found", f"No object {object_id} in {collection_id}.")
    _audit_export(db, actor, view, page, "object")
    return TaxiiResponse(
        page.envelope("objects", [obj for _, obj in page.items]), headers=page.headers()
    )


@router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/")
def object_versions(request: Request, db: DB, collection_id: str, object_id: str) -> Response:
    actor = taxii_actor(request, db)
    view = _readable(db, actor, collection_id)
    query = Query.of(request, object_id)
    page = _page(db, actor, view, replace(query, versions=frozenset({"all"})))
    if not page.items:
        raise TaxiiError(404, "Not Found", f"No object {object_id} in {collection_id}.")
    found = sorted({object_version(obj, pos.added) for pos, obj in page.items})
    return TaxiiResponse(page.envelope("versions", found), headers=page.headers())


@router.get(f"/{API_ROOT}/collections/{{collection_id}}/manifest/")
def manifest(request: Request, db: DB, collection_id: str) -> Response:
    actor = taxii_actor(request, db)
    view = _readable(db, actor, collection_id)
    page = _page(db, actor, view, Query.of(request))
    records = [
        {
            "id": obj["id"],
            "date_added": taxii_timestamp(pos.added),
            "version": object_version(obj, pos.added),
            "media_type": STIX_MEDIA_TYPE,
        }
        for pos, obj in page.items
    ]
    return TaxiiResponse(page.envelope("objects", records), headers=page.headers())
