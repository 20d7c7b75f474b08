"""Federation on loopback: a ministry server and a partner server, each with its own
organisations and agreements, pulling and pushing over TAXII 2.1.

The ministry server is this test's database behind a real Uvicorn server; the partner server
is a second database (SQLite) that runs ``rasid sync`` against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app as cli_app
from rasid.core.actor import Actor, system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.core.errors import NotFound
from rasid.core.migrate import upgrade
from rasid.core.settings import Settings
from rasid.identity import service as identity
from rasid.intel import federation, service
from rasid.intel.models import Report, StixOrigin
from rasid.intel.schemas import AgreementIn, ReportIn
from rasid.web.app import create_app
from tests.conftest import PASSWORD, World, csrf_from, login
from tests.test_intel import BODY_AR, add_liaison
from tests.test_taxii import TAXII, server  # noqa: F401  (the Uvicorn fixture)

EVERY = ["report", "entity", "incident", "link"]


def _report(title: str, marking: str, **extra: object) -> ReportIn:
    return ReportIn.model_validate(
        {
            "title": title,
            "summary": "Skiff sighted off Mukalla.",
            "body_ar": BODY_AR,
            "reliability": "B",
            "credibility": 2,
            "marking": marking,
            **extra,
        }
    )


@dataclass
class Ministry:
    url: str
    factory: sessionmaker[Session]
    world: World
    token: str
    released: dict[str, int]  # marking → report id
    withheld: dict[str, int]


@pytest.fixture
def ministry(server: str, world: World, factory: sessionmaker[Session]) -> Ministry:  # noqa: F811
    add_liaison(factory)
    with factory.begin() as db:
        admin = world.actor("admin")
        service.create_agreement(
            db,
            admin,
            AgreementIn(
                partner_org="partner",
                markings=["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"],
                record_types=EVERY,
            ),
        )
        service.create_agreement(
            db,
            system_actor(),
            AgreementIn(
                from_org="partner",
                partner_org="moi-ct",
                markings=["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"],
                record_types=EVERY,
            ),
        )
        token = identity.create_token(db, admin, "partner").plaintext
    released: dict[str, int] = {}
    withheld: dict[str, int] = {}
    for marking in ["TLP:AMBER", "TLP:GREEN", "TLP:CLEAR", "TLP:AMBER+STRICT", "TLP:RED"]:
        extra = {"recipients": ["analyst2", "liaison"]} if marking == "TLP:RED" else {}
        with factory.begin() as db:
            rid = service.create_report(
                db, world.actor("analyst"), _report(f"تقرير {marking}", marking, **extra)
            ).id
            service.approve_report(db, world.actor("liaison"), rid)
            if marking in ("TLP:AMBER+STRICT", "TLP:RED"):
                withheld[marking] = rid
            else:
                service.release_report(db, world.actor("liaison"), rid, ["partner"])
                released[marking] = rid
    return Ministry(server, factory, world, token, released, withheld)


@dataclass
class PartnerServer:
    factory: sessionmaker[Session]
    data_dir: Path
    url: str

    def actor(self, username: str) -> Actor:
        with self.factory() as db:
            return identity.actor_for_username(db, username, via="cli")

    def reports(self, username: str) -> list[Report]:
        with self.factory() as db:
            return service.list_reports(db, self.actor(username), service.ReportFilter())[0]

    def count(self, model: type[object]) -> int:
        with self.factory() as db:
            return int(db.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def partner_server(tmp_path: Path) -> Iterator[PartnerServer]:
    url = f"sqlite:///{tmp_path / 'partner.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    sys_actor = system_actor()
    with factory.begin() as db:
        for slug, country, name in [
            ("gb-embassy", "GB", "Embassy"),
            ("moi-ct", "YE", "Ministry CT Unit (peer)"),
            ("other", "FR", "Other"),
        ]:
            identity.create_org(
                db,
                sys_actor,
                slug=slug,
                name_ar=name,
                name_en=name,
                country=country,
                kind="embassy",
            )
        for username, org, roles in [
            ("gb-admin", "gb-embassy", ["admin"]),
            ("gb-analyst", "gb-embassy", ["analyst"]),
            ("gb-liaison", "gb-embassy", ["liaison"]),
            ("gb-liaison2", "gb-embassy", ["liaison"]),
            ("other", "other", ["analyst"]),
        ]:
            identity.create_user(
                db,
                sys_actor,
                username=username,
                org_slug=org,
                roles=roles,
                password=PASSWORD,
                language="en",
            )
        service.create_agreement(
            db,
            sys_actor,
            AgreementIn(
                from_org="moi-ct",
                partner_org="gb-embassy",
                markings=["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"],
                record_types=EVERY,
            ),
        )
        service.create_agreement(
            db,
            sys_actor,
            AgreementIn(
                from_org="gb-embassy",
                partner_org="moi-ct",
                markings=["TLP:GREEN", "TLP:AMBER"],
                record_types=["report"],
            ),
        )
    yield PartnerServer(factory, tmp_path / "partner-data", url)
    engine.dispose()


def _add_peer(p: PartnerServer, m: Ministry, token: str | None = None, **extra: str) -> None:
    with p.factory.begin() as db:
        federation.add_peer(
            db,
            p.actor("gb-admin"),
            federation.PeerIn(
                name=extra.get("name", "ministry"),
                url=extra.get("url", m.url + "/taxii2/rasid/"),
                collection="released-to-partner",
                token=token or m.token,
                username="partner",
                local_org="moi-ct",
                push_collection="to-moi-ct",
            ),
            p.data_dir,
        )


def _pull(p: PartnerServer, **kw: int) -> federation.RunSummary:
    return federation.pull(p.factory, p.actor("gb-liaison"), "ministry", p.data_dir, **kw)


def test_pull_brings_what_agreements_allow_and_nothing_else(
    ministry: Ministry, partner_server: PartnerServer
) -> None:
    p = partner_server
    _add_peer(p, ministry)
    first = _pull(p)
    assert first.status == "ok", first.error
    assert first.refused == 0 and first.errors == []
    titles = {r.title: r for r in p.reports("gb-analyst")}
    assert set(titles) == {"تقرير TLP:AMBER", "تقرير TLP:GREEN", "تقرير TLP:CLEAR"}
    amber = titles["تقرير TLP:AMBER"]
    assert amber.body_ar == BODY_AR and amber.marking == "TLP:AMBER"
    assert amber.status == "released"
    # provenance: the peer, its server, the owner organisation's name, the original STIX id
    with p.factory() as db:
        origin = db.scalar(
            select(StixOrigin).where(
                StixOrigin.object_type == "intel_report", StixOrigin.object_id == amber.id
            )
        )
        assert origin is not None
        assert origin.source == "peer:ministry" and origin.origin_server.startswith(ministry.url)
        assert origin.origin_org == "CT Unit" and origin.stix_id.startswith("report--")
    # AMBER+STRICT and RED never left the ministry; another organisation sees nothing
    assert p.reports("other") == []
    # the partner's analyst reads it on the partner server's pages, in English, Arabic intact
    partner_settings = Settings(
        data_dir=p.data_dir, database_url=p.url, secret_key="partner-server-test-secret-key-0123"
    )
    with TestClient(create_app(partner_settings), base_url="http://testserver") as browser:
        login(browser, "gb-analyst")
        page = browser.get(f"/intel/reports/{amber.id}")
        assert page.status_code == 200 and '<html lang="en" dir="ltr">' in page.text
        assert BODY_AR in page.text and "TLP:AMBER" in page.text
        assert browser.get("/intel/inbox").text.count("data-id=") == 3
    # running it again changes nothing
    before = (p.count(Report), p.count(StixOrigin))
    again = _pull(p)
    assert again.status == "ok" and (again.created, again.updated) == (0, 0)
    assert (p.count(Report), p.count(StixOrigin)) == before

    # an update on the ministry side arrives as a new version
    m, world = ministry, ministry.world
    with m.factory.begin() as db:
        service.update_report(
            db, world.actor("analyst"), m.released["TLP:AMBER"], _report("تقرير معدل", "TLP:AMBER")
        )
    with m.factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), m.released["TLP:AMBER"])
    third = _pull(p)
    assert third.updated == 1 and third.created == 0
    with p.factory() as db:
        updated = service.get_report(db, p.actor("gb-analyst"), amber.id)
        assert updated.title == "تقرير معدل"
        history = service.versions(db, system_actor(), amber.id)
        assert [v.action for v in history] == ["import", "import"]
        # a pulled report is changed only by the peer
        with pytest.raises(Exception, match="partner server"):
            service.update_report(db, system_actor(), amber.id, _report("x", "TLP:AMBER"))

    # every step is in each server's audit log
    with p.factory() as db:
        actions = set(db.scalars(select(AuditEntry.action)))
        assert {"sync.pull", "import", "create"} <= actions
    with m.factory() as db:
        exports = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "export", AuditEntry.object_type == "taxii_collection"
            )
        ).all()
        assert exports and all(e.username == "partner" for e in exports)


def test_interrupted_pull_resumes_without_loss_or_duplicates(
    ministry: Ministry, partner_server: PartnerServer
) -> None:
    p = partner_server
    _add_peer(p, ministry)
    partial = _pull(p, page_size=4, max_pages=2)  # stops as if the link dropped
    assert partial.status == "ok" and partial.pages == 2
    assert len(p.reports("gb-analyst")) < 3
    rest = _pull(p, page_size=4)
    assert rest.status == "ok"
    assert sorted(r.title for r in p.reports("gb-analyst")) == sorted(
        ["تقرير TLP:AMBER", "تقرير TLP:GREEN", "تقرير TLP:CLEAR"]
    )
    with p.factory() as db:
        ids = list(db.scalars(select(StixOrigin.stix_id)))
        assert len(ids) == len(set(ids))


def test_peer_down_garbage_or_bad_token_changes_nothing(
    ministry: Ministry, partner_server: PartnerServer
) -> None:
    p = partner_server
    _add_peer(p, ministry, name="down", url="http://127.0.0.1:9/taxii2/rasid/")
    _add_peer(p, ministry, name="garbage", url=ministry.url + "/static/")
    _add_peer(p, ministry, name="badtoken", token="not-a-token")
    for name, message in [
        ("down", "Cannot reach the peer"),
        ("garbage", "The peer answered"),
        ("badtoken", "401"),
    ]:
        summary = federation.pull(p.factory, p.actor("gb-liaison"), name, p.data_dir)
        assert summary.status == "error" and message in summary.error, summary.error
        with p.factory() as db:
            peer = federation.get_peer(db, name)
            assert peer.cursor == ""
            run = federation.last_runs(db, peer.id, 1)[0]
            assert run.status == "error" and message in run.error
    assert p.count(Report) == 0


def test_push_reaches_the_ministry_under_its_agreements(
    ministry: Ministry, partner_server: PartnerServer
) -> None:
    p = partner_server
    _add_peer(p, ministry)
    with p.factory.begin() as db:
        rid = service.create_report(
            db, p.actor("gb-analyst"), _report("Partner report", "TLP:AMBER")
        ).id
        service.approve_report(db, p.actor("gb-liaison"), rid)
        service.release_report(db, p.actor("gb-liaison"), rid, ["moi-ct"])
    summary = federation.push(p.factory, p.actor("gb-liaison"), "ministry", p.data_dir)
    assert summary.status == "ok" and summary.refused == 0, summary.error
    world = ministry.world
    with ministry.factory() as db:
        seen = service.list_reports(db, world.actor("analyst"), service.ReportFilter())[0]
        pushed = [r for r in seen if r.title == "Partner report"]
        assert len(pushed) == 1 and pushed[0].body_ar == BODY_AR
        # the coast guard, not covered by the agreement, does not see it
        with pytest.raises(NotFound):
            service.get_report(db, world.actor("watch"), pushed[0].id)
    again = federation.push(p.factory, p.actor("gb-liaison"), "ministry", p.data_dir)
    assert again.received == 0  # nothing new since the last push


def test_taxii_post_status_and_refusals(ministry: Ministry) -> None:
    url = ministry.url + "/taxii2/rasid/"
    auth = ("partner", ministry.token)
    collections = httpx.get(url + "collections/", auth=auth, headers={"Accept": TAXII}).json()
    writable = [c for c in collections["collections"] if c["can_write"]]
    assert [c["id"] for c in writable] == ["to-moi-ct"]
    assert httpx.get(url + "collections/to-moi-ct/objects/", auth=auth).status_code == 403
    bad = httpx.post(
        url + "collections/to-moi-ct/objects/",
        auth=auth,
        content=b"{not json",
        headers={"Content-Type": TAXII, "Accept": TAXII},
    )
    assert bad.status_code == 400 and bad.headers["content-type"] == TAXII
    red = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--0f5f2a44-7d59-4a4a-9d55-5a0b3f1e2c11",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Red",
        "published": "2026-01-01T00:00:00Z",
        "object_refs": ["report--0f5f2a44-7d59-4a4a-9d55-5a0b3f1e2c11"],
        "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
    }
    green = {**red, "id": "report--1a2b3c4d-7d59-4a4a-9d55-5a0b3f1e2c11", "name": "Green"}
    green["object_refs"] = [green["id"]]
    green["object_marking_refs"] = ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    posted = httpx.post(
        url + "collections/to-moi-ct/objects/",
        auth=auth,
        content=json.dumps({"objects": [red, green]}).encode(),
        headers={"Content-Type": TAXII, "Accept": TAXII},
    )
    assert posted.status_code == 202, posted.text
    status = posted.json()
    assert status["status"] == "complete" and status["total_count"] == 2
    assert status["success_count"] == 1 and status["failure_count"] == 1
    assert "never leaves its server" in status["failures"][0]["message"]
    again = httpx.get(url + f"status/{status['id']}/", auth=auth, headers={"Accept": TAXII})
    assert again.status_code == 200 and again.json()["id"] == status["id"]
    # another organisation cannot read the status
    with ministry.factory.begin() as db:
        watch_token = identity.create_token(db, ministry.world.actor("admin"), "watch").plaintext
    hidden = httpx.get(url + f"status/{status['id']}/", auth=("watch", watch_token))
    assert hidden.status_code == 404


def test_sync_cli_and_peers_page(ministry: Ministry, cli_env: Settings, client: TestClient) -> None:
    """The CLI on the ministry's own database: add a peer from stdin, pull it (a loop to itself)."""
    runner = CliRunner()
    added = runner.invoke(
        cli_app,
        [
            "sync",
            "peer",
            "add",
            "self",
            ministry.url + "/taxii2/rasid/",
            "--collection",
            "released-to-partner",
            "--token-stdin",
            "--username",
            "partner",
            "--org",
            "observer",
            "--receiving-org",
            "coastguard",
            "--every",
            "5",
            "--as",
            "admin",
        ],
        input=ministry.token + "\n",
    )
    assert added.exit_code == 0, added.output
    token_file = cli_env.data_dir / "peers" / "self.token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    no_token = runner.invoke(
        cli_app,
        ["sync", "peer", "add", "x", "http://h/", "--collection", "c", "--org", "observer"],
    )
    assert no_token.exit_code != 0 and "--token-stdin" in no_token.output
    # no agreement on this server lets the observer mission share with the coast guard:
    # every report is refused with the reason, and the run says so
    pulled = runner.invoke(cli_app, ["sync", "pull", "self", "--json", "--as", "admin"])
    summary = json.loads(pulled.output.splitlines()[0])
    assert summary["refused"] == 3 and "No active sharing agreement" in summary["errors"][0]
    listed = runner.invoke(cli_app, ["sync", "peer", "list", "--json", "--as", "admin"])
    (peer,) = json.loads(listed.output)
    assert peer["last_pull"]["refused"] == 3 and peer["every_minutes"] == 5
    scheduled = runner.invoke(cli_app, ["sync", "schedule", "--once", "--as", "admin"])
    assert "pull self" not in scheduled.output  # pulled a moment ago: not due yet
    viewer = runner.invoke(cli_app, ["sync", "pull", "self", "--as", "observer"])
    assert viewer.exit_code != 0 and "liaison" in viewer.output

    # the page: Arabic by default, the last pull with its counts and the first refusal
    login(client, "liaison")  # liaison officers run the sync and see its state
    page = client.get("/intel/peers")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert 'data-peer="self"' in page.text and "No active sharing agreement" in page.text
    assert "خوادم الشركاء" in page.text
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    login(client, "watch")
    assert client.get("/intel/peers").status_code == 403
