"""Federation with partner servers over TAXII 2.1: peers, pull, push, schedule.

A *peer* is another TAXII 2.1 server (usually another Rasid). Pulling reads the peer's
collection page by page (``limit`` = :data:`PAGE_SIZE`, ``added_after`` = the peer's cursor)
and imports each page through :mod:`rasid.intel.stix_import` in its own transaction, as
records owned by the peer's local organisation and released to the receiving organisation
under this server's own agreements. Provenance (peer, server, organisation, original STIX
id and version) is kept in ``intel_stix_origin``.

Resuming: after each page the cursor moves to the latest ``date_added`` that is certainly
complete (all objects added at or before it have been received): the previous page's
last date, or this page's first date when it is earlier than its last. The next run asks
for ``added_after`` = cursor and the import is idempotent, so an interrupted pull loses
nothing and duplicates nothing. A peer that is down or answers garbage ends the run with an
error (recorded in ``intel_sync_run``); the cursor stays where the last complete page left
it and the next run retries.

Pushing sends the reports this server released to the peer's local organisation (not those
that came from the peer) to the peer's write collection, one bundle per POST, and checks
the status resource the peer answers with.

The peer's API token lives in ``<data dir>/peers/<name>.token`` (0600), not in the database.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.access.service import ORG_READER
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Forbidden, NotFound, RasidError, ValidationFailed
from rasid.identity.models import Organisation
from rasid.intel import service, stix, stix_import
from rasid.intel.models import Peer, Report, ReportRelease, SyncRun

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
PAGE_SIZE = 1000
TIMEOUT_SECONDS = 60
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class PeerError(RasidError):
    """The peer is unreachable, refuses us, or answers something that is not TAXII 2.1."""

    code = "peer_error"
    status = 502


# --- peers -------------------------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if not actor.can("administer"):
        raise Forbidden("Only an administrator can manage partner servers.")


def _require_sync(actor: Actor) -> None:
    if not (actor.can("administer") or actor.can("release")):
        raise Forbidden("Only an administrator or a liaison officer can run a sync.")


def token_path(data_dir: Path, name: str) -> Path:
    return data_dir / "peers" / f"{name}.token"


def _org(db: Session, slug: str, field: str) -> Organisation:
    org = db.scalar(select(Organisation).where(Organisation.slug == slug.strip().lower()))
    if org is None:
        raise ValidationFailed("No organisation named %(slug)s.", field=field, slug=slug)
    return org


@dataclass(frozen=True)
class PeerIn:
    name: str
    url: str
    collection: str
    token: str
    username: str = ""
    local_org: str = ""
    receiving_org: str = ""
    push_collection: str = ""
    interval_minutes: int = 0


def add_peer(db: Session, actor: Actor, data: PeerIn, data_dir: Path) -> Peer:
    """Define a partner server (administrators); the token goes to a 0600 file."""
    _require_admin(actor)
    name = data.name.strip().lower()
    if not _NAME.match(name):
        raise ValidationFailed(
            "A peer name is lower-case letters, digits, '-' or '_' (at most 64).", field="name"
        )
    if db.scalar(select(Peer.id).where(Peer.name == name)) is not None:
        raise ValidationFailed("A peer named %(name)s exists already.", field="name", name=name)
    url = data.url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed("The URL must start with http:// or https://.", field="url")
    if not url.endswith("/"):
        url += "/"
    if not data.collection.strip():
        raise ValidationFailed("Name the peer's collection to pull.", field="collection")
    token = data.token.strip()
    if not token:
        raise ValidationFailed("The peer's API token is empty.", field="token")
    if not data.local_org:
        raise ValidationFailed(
            "Name the local organisation that stands for the peer (--org).", field="local_org"
        )
    local = _org(db, data.local_org, "local_org")
    receiving = _org(db, data.receiving_org, "receiving_org") if data.receiving_org else None
    if receiving is None:
        if actor.org_id is None:
            raise ValidationFailed(
                "Name the organisation that receives what the peer sends (--receiving-org).",
                field="receiving_org",
            )
        receiving = db.get(Organisation, actor.org_id)
        assert receiving is not None
    if receiving.id == local.id:
        raise ValidationFailed(
            "The receiving organisation cannot be the one that stands for the peer.",
            field="receiving_org",
        )
    if data.interval_minutes < 0:
        raise ValidationFailed("The interval cannot be negative.", field="interval_minutes")
    peer = Peer(
        name=name,
        url=url,
        collection=data.collection.strip(),
        push_collection=data.push_collection.strip(),
        username=data.username.strip(),
        local_org_id=local.id,
        receiving_org_id=receiving.id,
        interval_minutes=data.interval_minutes,
        created_by=actor.user_id,
    )
    db.add(peer)
    db.flush()
    path = token_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    audit.record_change(db, actor, "create", "intel_peer", peer.id, None, peer_snapshot(peer))
    return peer


def peer_snapshot(peer: Peer) -> dict[str, Any]:
    return {
        "name": peer.name,
        "url": peer.url,
        "collection": peer.collection,
        "push_collection": peer.push_collection,
        "username": peer.username,
        "local_org_id": peer.local_org_id,
        "receiving_org_id": peer.receiving_org_id,
        "interval_minutes": peer.interval_minutes,
        "active": peer.active,
    }


def get_peer(db: Session, name: str) -> Peer:
    peer = db.scalar(select(Peer).where(Peer.name == name.strip().lower()))
    if peer is None:
        raise NotFound("No peer named %(name)s.", name=name)
    return peer


def list_peers(db: Session, actor: Actor) -> list[Peer]:
    _require_sync(actor)
    return list(db.scalars(select(Peer).order_by(Peer.name)))


def last_runs(db: Session, peer_id: int, limit: int = 10) -> list[SyncRun]:
    return list(
        db.scalars(
            select(SyncRun)
            .where(SyncRun.peer_id == peer_id)
            .order_by(SyncRun.id.desc())
            .limit(limit)
        )
    )


# --- the TAXII client -----------------------------------------------------------------------------


class Client:
    """A small TAXII 2.1 client on the standard library (no extra dependency)."""

    def __init__(self, url: str, username: str, token: str) -> None:
        self.url = url
        if username:
            raw = base64.b64encode(f"{username}:{token}".encode()).decode()
            self.authorization = f"Basic {raw}"
        else:
            self.authorization = f"Bearer {token}"

    def _request(
        self, method: str, url: str, body: bytes | None = None
    ) -> tuple[Any, dict[str, str]]:
        headers = {"Accept": TAXII_MEDIA_TYPE, "Authorization": self.authorization}
        if body is not None:
            headers["Content-Type"] = TAXII_MEDIA_TYPE
        # only http(s) URLs reach here: add_peer refuses any other scheme
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                raw = response.read()
                answer_headers = {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as exc:
            detail = ""
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(exc.read()).get("description", "")
            raise PeerError(
                "The peer answered %(status)s %(reason)s for %(url)s. %(detail)s",
                status=exc.code,
                reason=exc.reason,
                url=url,
                detail=detail,
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PeerError(
                "Cannot reach the peer at %(url)s: %(reason)s", url=url, reason=str(reason)
            ) from None
        content_type = answer_headers.get("content-type", "")
        if not content_type.startswith("application/taxii+json"):
            raise PeerError(
                "The peer answered %(type)s, not TAXII 2.1, for %(url)s.",
                type=content_type or "no content type",
                url=url,
            )
        try:
            return json.loads(raw), answer_headers
        except ValueError:
            raise PeerError(
                "The peer answered something that is not JSON: %(url)s.", url=url
            ) from None

    def objects(
        self, collection: str, added_after: str, next_: str, limit: int
    ) -> tuple[list[Any], bool, str, dict[str, str]]:
        params = {"limit": str(limit)}
        if added_after:
            params["added_after"] = added_after
        if next_:
            params["next"] = next_
        url = f"{self.url}collections/{urllib.parse.quote(collection)}/objects/?"
        body, headers = self._request("GET", url + urllib.parse.urlencode(params))
        if not isinstance(body, dict) or not isinstance(body.get("objects", []), list):
            raise PeerError("The peer's answer is not a TAXII envelope: %(url)s.", url=url)
        more = bool(body.get("more", False))
        nxt = str(body.get("next", "")) if more else ""
        if more and not nxt:
            raise PeerError("The peer said 'more' without a 'next' cursor: %(url)s.", url=url)
        return list(body.get("objects", [])), more, nxt, headers

    def post(self, collection: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        url = f"{self.url}collections/{urllib.parse.quote(collection)}/objects/"
        payload = json.dumps({"objects": objects}, ensure_ascii=False).encode()
        body, _ = self._request("POST", url, payload)
        if not isinstance(body, dict) or "status" not in body:
            raise PeerError("The peer did not answer with a TAXII status: %(url)s.", url=url)
        return body


def client_for(peer: Peer, data_dir: Path) -> Client:
    path = token_path(data_dir, peer.name)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ValidationFailed(
            "The token file of peer %(name)s is missing (%(path)s); add the peer again.",
            field="token",
            name=peer.name,
            path=str(path),
        ) from None
    return Client(peer.url, peer.username, token)


# --- pull -------------------------------------------------------------------------------------------


def peer_actor(peer: Peer, by: Actor) -> Actor:
    """Imports run as the peer's local organisation (audited as ``sync:<name>``)."""
    return Actor(
        user_id=None,
        username=f"sync:{peer.name}",
        org_id=peer.local_org_id,
        roles=frozenset({"analyst"}),
        via="system",
        request_id=by.request_id,
        address=by.address,
    )


def _parse(ts: str) -> datetime | None:
    try:
        return stix_import.parse_time(ts, "date_added") if ts else None
    except ValidationFailed:
        return None


@dataclass
class RunSummary:
    peer: str
    direction: str
    status: str
    received: int
    created: int
    updated: int
    unchanged: int
    refused: int
    pages: int
    cursor: str
    errors: list[str]
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


ProgressFn = Callable[[int], None]


def _start_run(factory: sessionmaker[Session], peer_name: str, by: Actor, direction: str) -> int:
    with factory.begin() as db:
        _require_sync(by)
        peer = get_peer(db, peer_name)
        if not peer.active:
            raise ValidationFailed("Peer %(name)s is switched off.", field="name", name=peer.name)
        run = SyncRun(
            peer_id=peer.id,
            direction=direction,
            cursor_before=peer.cursor if direction == "pull" else peer.push_cursor,
            user_id=by.user_id,
        )
        db.add(run)
        db.flush()
        return run.id


def _finish(factory: sessionmaker[Session], run_id: int, by: Actor, summary: RunSummary) -> None:
    with factory.begin() as db:
        run = db.get(SyncRun, run_id)
        assert run is not None
        run.finished_at = utcnow()
        run.status = summary.status
        run.received = summary.received
        run.created = summary.created
        run.updated = summary.updated
        run.unchanged = summary.unchanged
        run.refused = summary.refused
        run.cursor_after = summary.cursor
        run.error = "\n".join([summary.error, *summary.errors[:50]]).strip()
        audit.record(
            db,
            by,
            f"sync.{summary.direction}",
            object_type="intel_peer",
            object_id=run.peer_id,
            detail={k: v for k, v in summary.as_dict().items() if k != "errors"},
            outcome="ok" if summary.status == "ok" else "error",
        )


def pull(
    factory: sessionmaker[Session],
    by: Actor,
    peer_name: str,
    data_dir: Path,
    *,
    page_size: int = PAGE_SIZE,
    max_pages: int | None = None,
    progress: ProgressFn | None = None,
) -> RunSummary:
    """Pull new objects from a peer (see the module docstring); raises PeerError on failure."""
    run_id = _start_run(factory, peer_name, by, "pull")
    with factory() as db:
        peer = get_peer(db, peer_name)
        db.expunge(peer)
        target = db.get(Organisation, peer.receiving_org_id)
        assert target is not None
        db.expunge(target)
    actor = peer_actor(peer, by)
    options = stix_import.Options(
        source=f"peer:{peer.name}", origin_server=peer.url, release_to=target, strict=False
    )
    ctx = stix_import.Context()
    total = stix_import.Result()
    summary = RunSummary(peer.name, "pull", "ok", 0, 0, 0, 0, 0, 0, peer.cursor, [])
    cursor, previous_last, nxt = peer.cursor, "", ""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"pull-{peer.name}")
    try:
        client = client_for(peer, data_dir)
        # The next page is fetched while this one is imported (the request depends only on
        # the previous answer's `next`); an error fetching it surfaces when it is used.
        ahead = pool.submit(client.objects, peer.collection, cursor, nxt, page_size)
        while True:
            objects, more, nxt, headers = ahead.result()
            last_page = not more or (max_pages is not None and summary.pages + 1 >= max_pages)
            if not last_page:
                ahead = pool.submit(client.objects, peer.collection, cursor, nxt, page_size)
            checked = stix_import.check_objects(objects)
            first = headers.get("x-taxii-date-added-first", "")
            last = headers.get("x-taxii-date-added-last", "")
            with factory.begin() as db:
                result = stix_import.import_objects(db, actor, checked, options, ctx)
                safe = _safe_cursor(cursor, previous_last, first, last, more)
                row = db.get(Peer, peer.id)
                assert row is not None
                row.cursor = safe
            total.add(result)
            summary.pages += 1
            summary.cursor = safe
            previous_last = last or previous_last
            if progress is not None:
                progress(len(objects))
            if last_page:
                break
    except RasidError as exc:
        summary.status = "error"
        summary.error = exc.message
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    summary.received = total.received
    summary.created = total.created
    summary.updated = total.updated
    summary.unchanged = total.unchanged + total.matched
    summary.refused = total.refused
    summary.errors = total.errors
    _finish(factory, run_id, by, summary)
    return summary


def _safe_cursor(cursor: str, previous_last: str, first: str, last: str, more: bool) -> str:
    """The latest ``date_added`` whose objects have all been received (see module docstring)."""
    if not last:
        return cursor
    if not more:
        return last
    candidates = [c for c in (cursor, previous_last, first) if c]
    last_t = _parse(last)
    best = cursor
    best_t = _parse(cursor)
    for c in candidates:
        t = _parse(c)
        if t is not None and last_t is not None and t < last_t and (best_t is None or t > best_t):
            best, best_t = c, t
    return best


# --- push -------------------------------------------------------------------------------------------


def reader_for(peer: Peer, org: Organisation) -> Actor:
    """The peer's local organisation as a reader: what was released to it, nothing more."""
    return Actor(
        user_id=None,
        username=f"sync:{peer.name}",
        org_id=peer.local_org_id,
        roles=frozenset({"viewer"}),
        via=ORG_READER,
        org_in_community=org.in_community,
    )


def push(
    factory: sessionmaker[Session],
    by: Actor,
    peer_name: str,
    data_dir: Path,
    *,
    progress: ProgressFn | None = None,
) -> RunSummary:
    """Send the reports released to the peer's organisation since the last push."""
    run_id = _start_run(factory, peer_name, by, "push")
    with factory() as db:
        peer = get_peer(db, peer_name)
        local = db.get(Organisation, peer.local_org_id)
        assert local is not None
        reader = reader_for(peer, local)
        db.expunge(peer)
    summary = RunSummary(peer.name, "push", "ok", 0, 0, 0, 0, 0, 0, peer.push_cursor, [])
    if not peer.push_collection:
        summary.status = "error"
        summary.error = f"Peer {peer.name} has no push collection (--push-collection)."
        _finish(factory, run_id, by, summary)
        return summary
    after = _parse(peer.push_cursor)
    try:
        client = client_for(peer, data_dir)
        while True:
            with factory() as db:
                stmt = (
                    select(ReportRelease.report_id, ReportRelease.released_at)
                    .join(Report, Report.id == ReportRelease.report_id)
                    .where(
                        ReportRelease.org_id == peer.local_org_id,
                        Report.owner_org_id != peer.local_org_id,
                        Report.status == "released",
                        Report.marking.not_in(tuple(service.NEVER_RELEASED)),
                    )
                    .order_by(ReportRelease.released_at, ReportRelease.report_id)
                    .limit(50)
                )
                if after is not None:
                    stmt = stmt.where(ReportRelease.released_at > after)
                rows = db.execute(stmt).all()
            if not rows:
                break
            for report_id, released_at in rows:
                with factory.begin() as db:
                    bundle = stix.report_bundle(db, reader, int(report_id))
                status = client.post(peer.push_collection, bundle["objects"])
                summary.received += int(status.get("total_count", 0))
                summary.created += int(status.get("success_count", 0))
                failures = status.get("failures") or []
                summary.refused += len(failures)
                summary.errors.extend(
                    f"{f.get('id')}: {f.get('message')}" for f in failures if isinstance(f, dict)
                )
                stamp = released_at if released_at.tzinfo else released_at.replace(tzinfo=UTC)
                after = stamp
                summary.cursor = stix_import.version_key(stamp)
                with factory.begin() as db:
                    row = db.get(Peer, peer.id)
                    assert row is not None
                    row.push_cursor = summary.cursor
                if progress is not None:
                    progress(1)
    except RasidError as exc:
        summary.status = "error"
        summary.error = exc.message
    _finish(factory, run_id, by, summary)
    return summary


# --- schedule ---------------------------------------------------------------------------------------


def due_peers(factory: sessionmaker[Session], now: datetime | None = None) -> list[str]:
    """Active peers with an interval whose last pull started longer ago than it."""
    now = now or datetime.now(UTC)
    due: list[str] = []
    with factory() as db:
        for peer in db.scalars(
            select(Peer).where(Peer.active.is_(True), Peer.interval_minutes > 0)
        ):
            last = db.scalar(
                select(SyncRun.started_at)
                .where(SyncRun.peer_id == peer.id, SyncRun.direction == "pull")
                .order_by(SyncRun.id.desc())
                .limit(1)
            )
            if last is None or now - last >= timedelta(minutes=peer.interval_minutes):
                due.append(peer.name)
    return due


def run_schedule(
    factory: sessionmaker[Session],
    by: Actor,
    data_dir: Path,
    *,
    once: bool = False,
    check_seconds: float = 30.0,
    report: Callable[[RunSummary], None] | None = None,
) -> list[RunSummary]:
    """Pull (and push, when the peer has a push collection) every due peer; loop unless once."""
    done: list[RunSummary] = []
    while True:
        for name in due_peers(factory):
            for step in (pull, push):
                with factory() as db:
                    has_push = bool(get_peer(db, name).push_collection)
                if step is push and not has_push:
                    continue
                summary = step(factory, by, name, data_dir)
                done.append(summary)
                if report is not None:
                    report(summary)
        if once:
            return done
        time.sleep(check_seconds)
