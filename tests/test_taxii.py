"""TAXII 2.1 read side: a real Uvicorn server and taxii2-client as the real client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages

from rasid.audit.models import AuditEntry
from rasid.core.actor import system_actor
from rasid.core.settings import Settings
from rasid.identity import service as identity
from rasid.intel import service, stix
from rasid.intel.models import ReportRelease
from rasid.intel.schemas import AgreementIn, ObservableIn, ReportIn
from tests.conftest import PASSWORD, World

TAXII = "application/taxii+json;version=2.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings, world: World) -> Iterator[str]:
    from rasid.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@dataclass
class Shared:
    reports: list[int]  # released to partner, in release order; the last one is TLP:CLEAR
    draft: int
    tokens: dict[str, str]
    released_at: dict[int, datetime]


def _report(db: Session, world: World, title: str, marking: str, ip: str) -> int:
    data = ReportIn(
        title=title,
        summary="Skiff sighted off Mukalla.",
        body_ar="رصد قارب قبالة المكلا",
        reliability="B",
        credibility=2,
        marking=marking,
        observables=[ObservableIn(kind="ip", value=ip)],
    )
    return service.create_report(db, world.actor("analyst"), data).id


@pytest.fixture
def shared(world: World, factory: sessionmaker[Session]) -> Shared:
    with factory.begin() as db:
        identity.create_user(
            db,
            system_actor(),
            username="liaison",
            org_slug="moi-ct",
            roles=["liaison"],
            password=PASSWORD,
        )
        service.create_agreement(
            db,
            world.actor("admin"),
            AgreementIn(
                partner_org="partner",
                markings=["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"],
                record_types=["report"],
            ),
        )
    reports: list[int] = []
    for i, marking in enumerate(["TLP:AMBER", "TLP:GREEN", "TLP:CLEAR"]):
        with factory.begin() as db:
            rid = _report(db, world, f"تقرير {i}", marking, f"192.0.2.{i + 1}")
            service.approve_report(db, world.actor("liaison"), rid)
            service.release_report(db, world.actor("liaison"), rid, ["partner"])
            reports.append(rid)
    with factory.begin() as db:
        draft = _report(db, world, "مسودة", "TLP:AMBER", "192.0.2.99")
        tokens = {
            u: identity.create_token(db, world.actor("admin"), u).plaintext
            for u in ("partner", "watch", "observer")
        }
        released_at = {r.report_id: r.released_at for r in db.scalars(select(ReportRelease)).all()}
    return Shared(reports, draft, tokens, released_at)


def _server(url: str, shared: Shared, user: str) -> Server:
    return Server(url + "/taxii2/", user=user, password=shared.tokens[user])


def _strictly_valid(objects: list[dict[str, Any]]) -> None:
    unique = list({o["id"]: o for o in objects}.values())
    bundle = {"type": "bundle", "id": "bundle--6b9a1d6e-8c52-4b1c-9d8e-0f1a2b3c4d5e"}
    results = validate_instance(
        {**bundle, "objects": unique}, ValidationOptions(version="2.1", strict=True)
    )
    problems = [str(e) for e in results.errors] + [str(w) for w in results.warnings]
    assert results.is_valid and not problems, problems


def _report_ids(shared: Shared, objects: list[dict[str, Any]]) -> list[int]:
    by_stix = {
        stix.stix_id("report", "intel_report", r): r for r in [*shared.reports, shared.draft]
    }
    return [by_stix[o["id"]] for o in objects if o["type"] == "report"]


def test_partner_reads_released_reports_with_paging_and_filters(
    server: str, shared: Shared, factory: sessionmaker[Session]
) -> None:
    taxii = _server(server, shared, "partner")
    assert taxii.title == "Rasid TAXII 2.1"
    root = taxii.default
    assert root is not None and root.url == server + "/taxii2/rasid/"
    assert root.versions == [TAXII]
    assert root.max_content_length > 0
    by_id = {c.id: c for c in root.collections}
    assert set(by_id) == {"released-to-partner", "public"}
    released = by_id["released-to-partner"]
    assert (released.can_read, released.can_write) == (True, False)

    everything = released.get_objects()
    assert everything["more"] is False
    objects = everything["objects"]
    assert _report_ids(shared, objects) == shared.reports
    _strictly_valid(objects)
    markings = {m for o in objects for m in o.get("object_marking_refs", [])}
    assert stix.TLP2_MARKINGS["TLP:RED"][0] not in markings

    # paging with limit and the opaque next cursor gives the same objects in the same order
    pages = list(as_pages(released.get_objects, per_request=4))
    assert len(pages) > 2
    assert all(len(p["objects"]) <= 4 for p in pages)
    assert all(p["more"] for p in pages[:-1]) and not pages[-1]["more"]
    paged = [o for p in pages for o in p["objects"]]
    assert [o["id"] for o in paged if o["type"] == "report"] == [
        o["id"] for o in objects if o["type"] == "report"
    ]
    assert {o["id"] for o in paged} == {o["id"] for o in objects}

    only_reports = released.get_objects(type="report")["objects"]
    assert [o["type"] for o in only_reports] == ["report"] * 3
    one = stix.stix_id("report", "intel_report", shared.reports[1])
    assert [o["id"] for o in released.get_objects(id=one)["objects"]] == [one]
    ips = released.get_objects(type=["ipv4-addr"])["objects"]
    assert sorted(o["value"] for o in ips) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]

    first_release = shared.released_at[shared.reports[0]]
    later = released.get_objects(added_after=first_release, type="report")["objects"]
    assert _report_ids(shared, later) == shared.reports[1:]

    got = released.get_object(one)["objects"]
    assert [o["id"] for o in got] == [one]
    versions = released.object_versions(one)
    assert versions["versions"] == [got[0]["modified"]]
    manifest = released.get_manifest(type="report")
    assert [m["id"] for m in manifest["objects"]] == [o["id"] for o in only_reports]
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest["objects"])

    public = by_id["public"].get_objects(type="report")["objects"]
    assert _report_ids(shared, public) == [shared.reports[2]]  # the TLP:CLEAR one

    with factory() as db:
        exports = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "export", AuditEntry.object_type == "taxii_collection"
            )
        ).all()
    assert exports and all(e.username == "partner" for e in exports)


@pytest.mark.parametrize("user", ["watch", "observer"])
def test_third_organisations_see_nothing(server: str, shared: Shared, user: str) -> None:
    root = _server(server, shared, user).default
    assert root is not None
    slug = "coastguard" if user == "watch" else "observer"
    by_id = {c.id: c for c in root.collections}
    assert set(by_id) == {f"released-to-{slug}", "public"}
    for collection in by_id.values():
        assert collection.get_objects() == {"more": False, "objects": []}
    # another organisation's collection does not exist for this caller
    response = httpx.get(
        server + "/taxii2/rasid/collections/released-to-partner/objects/",
        auth=(user, shared.tokens[user]),
    )
    assert response.status_code == 404
    assert response.json()["http_status"] == "404"


def test_errors_are_taxii_error_messages(server: str, shared: Shared) -> None:
    url = server + "/taxii2/rasid/collections/released-to-partner/objects/"
    auth = ("partner", shared.tokens["partner"])

    anonymous = httpx.get(url, headers={"Accept": TAXII})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == TAXII
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert anonymous.json()["http_status"] == "401" and anonymous.json()["title"]

    wrong_token = httpx.get(url, auth=("partner", shared.tokens["watch"]))
    assert wrong_token.status_code == 401

    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        refused = httpx.get(url, auth=auth, headers={"Accept": accept})
        assert refused.status_code == 406, accept
        assert refused.headers["content-type"] == TAXII
        assert refused.json()["http_status"] == "406"
    for accept in ("*/*", "application/taxii+json", TAXII):
        assert httpx.get(url, auth=auth, headers={"Accept": accept}).status_code == 200

    bearer = httpx.get(
        url, params={"limit": "2"}, headers={"Authorization": f"Bearer {shared.tokens['partner']}"}
    )
    assert bearer.status_code == 200 and bearer.headers["content-type"] == TAXII
    assert bearer.json()["more"] is True and len(bearer.json()["objects"]) == 2
    assert bearer.headers["x-taxii-date-added-first"] <= bearer.headers["x-taxii-date-added-last"]

    assert httpx.get(url, auth=auth, params={"next": "!!"}).status_code == 400
    assert httpx.get(url, auth=auth, params={"limit": "x"}).status_code == 400
    missing = httpx.get(url + "indicator--6b9a1d6e-8c52-4b1c-9d8e-0f1a2b3c4d5e/", auth=auth)
    assert missing.status_code == 404 and missing.headers["content-type"] == TAXII

    body = b'{"objects": []}'
    form = httpx.post(url, auth=auth, content=body, headers={"Content-Type": "application/json"})
    assert form.status_code == 415 and form.json()["http_status"] == "415"
    post = httpx.post(url, auth=auth, content=body, headers={"Content-Type": TAXII})
    assert post.status_code == 403 and post.json()["http_status"] == "403"
