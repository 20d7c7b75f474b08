"""The demo intel data (SQLite only, like the registry demo: the same service calls everywhere).

Loaded once for the module, after ``rasid.demo.load`` (organisations, users, registry demo).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rasid import demo as demo_data
from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, RED
from rasid.core.actor import Actor, system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.identity import service as identity
from rasid.identity.models import Organisation
from rasid.intel import demo, misp, service
from rasid.intel.models import RFI, Report, ReportRelease, SharingAgreement


@dataclass
class Loaded:
    factory: sessionmaker[Session]
    counts: dict[str, int]

    def actor(self, username: str) -> Actor:
        with self.factory() as s:
            return identity.actor_for_username(s, username)

    def actors(self) -> dict[str, Actor]:
        with self.factory() as s:
            return {u.username: identity.actor_for_username(s, u.username) for u in demo_data.USERS}


@pytest.fixture(scope="module")
def loaded(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    path = tmp_path_factory.mktemp("intel-demo") / "rasid.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    with factory.begin() as s:
        # `rasid demo`: organisations and users, the registry demo data, then this one
        created = demo_data.load(s, system_actor())
    counts = {
        key: int(created[key])
        for key in ("agreements", "reports", "releases", "rfis")
        if key in created
    }
    yield Loaded(factory, counts)
    engine.dispose()


def _by_title(db: Session) -> dict[str, Report]:
    rows = db.scalars(select(Report).where(Report.title.startswith(demo.TITLE_PREFIX)))
    return {r.title: r for r in rows}


def test_counts_match_the_database(loaded: Loaded) -> None:
    assert loaded.counts == {"agreements": 2, "reports": 10, "releases": 4, "rfis": 4}
    with loaded.factory() as db:
        assert db.scalar(select(func.count()).select_from(SharingAgreement)) == 2
        assert db.scalar(select(func.count()).select_from(Report)) == 10
        assert db.scalar(select(func.count()).select_from(ReportRelease)) == 4
        assert db.scalar(select(func.count()).select_from(RFI)) == 4


def test_every_marking_and_status_between_two_countries(loaded: Loaded) -> None:
    with loaded.factory() as db:
        reports = _by_title(db)
        assert set(reports) == {spec.full_title for spec in demo.REPORTS}
        assert {r.marking for r in reports.values()} == {CLEAR, GREEN, AMBER, AMBER_STRICT, RED}
        for spec in demo.REPORTS:
            report = reports[spec.full_title]
            assert (report.marking, report.status) == (spec.marking, spec.status)
        released = [r for r in reports.values() if r.status == "released"]
        assert {r.marking for r in released} == {CLEAR, GREEN, AMBER}
        withheld = {r.marking for r in reports.values() if r.status != "released"}
        assert {AMBER_STRICT, RED} <= withheld
        countries = {
            str(c)
            for c in db.scalars(
                select(Organisation.country).where(
                    Organisation.id.in_({r.owner_org_id for r in reports.values()})
                )
            )
        }
        assert countries == {"YE", "GB"}
        assert any(r.body_en for r in reports.values())
        assert all(r.body_ar for r in reports.values())


def test_partner_sees_exactly_the_released_reports(loaded: Loaded) -> None:
    partner = loaded.actor("partner")
    with loaded.factory() as db:
        reports = _by_title(db)
        released = {r.id for r in reports.values() if r.status == "released"}
        own = {r.id for r in reports.values() if r.owner_org_id == partner.org_id}
        rows, total = service.list_reports(db, partner, service.ReportFilter(), limit=100)
        assert {r.id for r in rows} == released | own
        assert total == len(released | own)
        assert set(misp.feed_report_ids(db, partner)) == released
        # the observer mission sees none of them
        rows, _ = service.list_reports(db, loaded.actor("observer"), service.ReportFilter())
        assert rows == []


def test_links_are_registry_records_the_author_may_see(loaded: Loaded) -> None:
    analyst = loaded.actor("analyst")
    with loaded.factory() as db:
        reports = _by_title(db)
        linked = [r for r in reports.values() if r.links]
        assert len(linked) >= 3
        for report in linked:
            assert service.visible_links(db, analyst, report) == list(report.links)


def test_rfis_both_ways_one_answered_one_overdue(loaded: Loaded) -> None:
    partner = loaded.actor("partner")
    liaison = loaded.actor("liaison")
    with loaded.factory() as db:
        rfis, total = service.list_rfis(db, partner)
        assert total == 4
        assert {r.owner_org_id for r in rfis} == {partner.org_id, liaison.org_id}
        answered = [r for r in rfis if r.status == "answered"]
        assert len(answered) == 1
        assert service.visible_answer_reports(db, partner, answered[0])
        overdue = service.overdue(db, liaison)
        assert len(overdue) == 1
        assert overdue[0].priority == "urgent"


def test_a_second_load_creates_nothing(loaded: Loaded) -> None:
    with loaded.factory.begin() as db:
        again = demo.load(db, loaded.actors())
    assert again == dict.fromkeys(demo.COUNT_KEYS, 0)
    with loaded.factory() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 10
