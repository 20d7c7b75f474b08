"""The demo registry data of ``rasid demo`` (SQLite only: the data goes through the same service
calls on every database, and loading it once takes a few seconds).

The data is loaded once for the module, into a copy of the migrated template database, with the
real demo organisations and users of ``rasid.demo``.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rasid import demo as demo_data
from rasid.access import service as access
from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, MARKINGS, RED
from rasid.access.models import AccessGrant
from rasid.audit import service as audit
from rasid.audit.models import AuditEntry
from rasid.core.actor import Actor, system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.identity import service as identity
from rasid.identity.models import Organisation, User
from rasid.registry import demo, gazetteer, merge, taxonomy
from rasid.registry import search as search_service
from rasid.registry.models import (
    Entity,
    EntityIdentifier,
    Incident,
    IncidentSource,
    Involvement,
    Link,
    Version,
)


@dataclass
class Loaded:
    factory: sessionmaker[Session]
    counts: dict[str, int]
    seconds: float

    def actor(self, username: str) -> Actor:
        with self.factory() as s:
            return identity.actor_for_username(s, username)

    def actors(self) -> dict[str, Actor]:
        with self.factory() as s:
            return {u.username: identity.actor_for_username(s, u.username) for u in demo_data.USERS}


@pytest.fixture(scope="module")
def loaded(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    path = tmp_path_factory.mktemp("registry-demo") / "rasid.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory.begin() as s:
        # `rasid demo`: the demo organisations and users, then the registry demo data
        created = demo_data.load(s, system_actor())
    counts = {key: created[key] for key in demo.COUNT_KEYS}
    yield Loaded(factory, counts, time.perf_counter() - started)
    engine.dispose()


def _slugs(db: Session) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in db.execute(select(Organisation.id, Organisation.slug))}


def test_counts_match_the_brief_and_the_database(loaded: Loaded) -> None:
    counts = loaded.counts
    assert counts["incidents"] == demo.INCIDENTS == 300
    assert 110 <= counts["persons"] <= 130
    assert 12 <= counts["groups"] <= 18
    assert 20 <= counts["vehicles"] <= 30
    assert 18 <= counts["vessels"] <= 24
    assert 12 <= counts["places"] <= 18
    assert 70 <= counts["links"] <= 110
    with loaded.factory() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == counts["incidents"]
        kinds = dict(s.execute(select(Entity.kind, func.count()).group_by(Entity.kind)).all())
        assert kinds == {
            "person": counts["persons"],
            "group": counts["groups"],
            "vehicle": counts["vehicles"],
            "vessel": counts["vessels"],
            "place": counts["places"],
        }
        assert s.scalar(select(func.count()).select_from(Link)) == counts["links"]


def test_a_second_load_creates_nothing(loaded: Loaded) -> None:
    with loaded.factory.begin() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
        again = demo.load(s, loaded.actors())
        after = s.scalar(select(func.count()).select_from(AuditEntry))
    assert again == dict.fromkeys(demo.COUNT_KEYS, 0)
    assert before == after


def test_load_needs_the_demo_writers(loaded: Loaded) -> None:
    actors = loaded.actors()
    del actors["watch"]
    with loaded.factory() as s, pytest.raises(ValueError, match="watch"):
        demo.load(s, actors)


def test_every_marking_among_incidents_and_entities(loaded: Loaded) -> None:
    with loaded.factory() as s:
        incidents = Counter(s.scalars(select(Incident.marking)))
        entities = Counter(s.scalars(select(Entity.marking)))
        released_to_partner = s.scalar(
            select(func.count())
            .select_from(AccessGrant)
            .join(Organisation, Organisation.id == AccessGrant.org_id)
            .where(
                Organisation.slug == "partner-embassy",
                AccessGrant.object_type == "registry_incident",
            )
        )
        red_without_recipient = s.scalar(
            select(func.count())
            .select_from(Incident)
            .where(
                Incident.marking == RED,
                ~select(AccessGrant.id)
                .where(
                    AccessGrant.object_type == "registry_incident",
                    AccessGrant.object_id == Incident.id,
                    AccessGrant.user_id.is_not(None),
                )
                .exists(),
            )
        )
    for counter in (incidents, entities):
        assert set(counter) == set(MARKINGS)
        # mostly AMBER and GREEN; some CLEAR and AMBER+STRICT; a few RED
        assert counter[AMBER] + counter[GREEN] > sum(counter.values()) / 2
        assert counter[RED] < counter[CLEAR] and counter[RED] < counter[AMBER_STRICT]
    assert incidents[RED] <= 15
    assert released_to_partner and released_to_partner >= 20
    assert red_without_recipient == 0


def test_owners_moi_mostly_coast_guard_at_sea_partner_a_few(loaded: Loaded) -> None:
    with loaded.factory() as s:
        slugs = _slugs(s)
        incidents = Counter(slugs[o] for o in s.scalars(select(Incident.owner_org_id)))
        vessels = Counter(
            slugs[o] for o in s.scalars(select(Entity.owner_org_id).where(Entity.kind == "vessel"))
        )
        entities = Counter(slugs[o] for o in s.scalars(select(Entity.owner_org_id)))
        first = s.scalars(select(Incident).where(Incident.ref == demo.FIRST_REF)).one()
        assert slugs[first.owner_org_id] == "moi-ct"
    assert incidents["moi-ct"] > 200
    assert 20 <= incidents["ycg-ops"] <= 70
    assert 3 <= incidents["partner-embassy"] <= 25
    assert set(incidents) == {"moi-ct", "ycg-ops", "partner-embassy"}
    assert vessels == Counter({"ycg-ops": sum(vessels.values())})
    assert entities["moi-ct"] > entities["ycg-ops"] > entities["partner-embassy"] > 0


def _expected_visible(
    db: Session, model: type[Incident] | type[Entity] | type[Link], user: User
) -> set[int]:
    """What the access rule of the design lets ``user`` see, computed row by row."""
    grants: dict[int, tuple[set[int], set[int]]] = {}
    for object_id, org_id, user_id in db.execute(
        select(AccessGrant.object_id, AccessGrant.org_id, AccessGrant.user_id).where(
            AccessGrant.object_type == model.__access_type__
        )
    ):
        orgs, users = grants.setdefault(object_id, (set(), set()))
        if org_id is not None:
            orgs.add(org_id)
        if user_id is not None:
            users.add(user_id)
    visible: set[int] = set()
    for row_id, owner, marking in db.execute(select(model.id, model.owner_org_id, model.marking)):
        orgs, users = grants.get(row_id, (set(), set()))
        if (
            marking == CLEAR
            or (marking == GREEN and user.org.in_community)
            or (marking == AMBER and (owner == user.org_id or user.org_id in orgs))
            or (marking == AMBER_STRICT and owner == user.org_id)
            or (marking == RED and user.id in users)
        ):
            visible.add(row_id)
    return visible


def test_partner_sees_only_clear_green_released_amber_and_its_own(loaded: Loaded) -> None:
    partner = loaded.actor("partner")
    observer = loaded.actor("observer")
    with loaded.factory() as s:
        slugs = _slugs(s)
        user = identity.get_user(s, "partner")
        for model in (Incident, Entity, Link):
            expected = _expected_visible(s, model, user)
            seen = set(s.scalars(select(model.id).where(access.visible_filter(partner, model))))
            assert seen == expected, model.__name__
            assert access.count_visible(s, partner, model) == len(expected)
            total = s.scalar(select(func.count()).select_from(model))
            assert 0 < len(expected) < (total or 0)
        rows = s.execute(
            select(Incident.id, Incident.owner_org_id, Incident.marking).where(
                access.visible_filter(partner, Incident)
            )
        ).all()
        released = {
            r[0]
            for r in s.execute(
                select(AccessGrant.object_id).where(
                    AccessGrant.object_type == "registry_incident",
                    AccessGrant.org_id == partner.org_id,
                )
            )
        }
        others = [r for r in rows if slugs[r[1]] != "partner-embassy"]
        assert {r[2] for r in others} == {CLEAR, GREEN, AMBER}
        assert all(r[0] in released for r in others if r[2] == AMBER)
        assert any(r[2] == AMBER for r in others)
        # the observer mission is outside the community: CLEAR only
        markings = set(
            s.scalars(select(Incident.marking).where(access.visible_filter(observer, Incident)))
        )
        assert markings == {CLEAR}


def test_a_latin_spelling_finds_the_arabic_record(loaded: Loaded) -> None:
    analyst = loaded.actor("analyst")
    with loaded.factory() as s:
        for query in (
            demo.SHOWCASE_QUERY,
            "Mohamed Abdul-Rahman Al Sharabi",
            "عبد الرحمن محمد الشرعبي",
        ):
            hits = search_service.search(s, analyst, query)
            assert hits and hits[0].type == "person", query
            assert hits[0].label == demo.SHOWCASE_PERSON_AR, query
            assert hits[0].score >= 0.8, query
        # … and every stored Latin spelling of a visible person finds that person first or tied
        person = s.scalars(
            select(Entity)
            .where(Entity.kind == "person", access.visible_filter(analyst, Entity))
            .where(Entity.label_latin != "", Entity.label_ar != "")
            .order_by(Entity.id)
            .offset(20)
            .limit(1)
        ).one()
        hits = search_service.search(s, analyst, person.label_latin)
        assert person.id in [h.id for h in hits if h.score == hits[0].score]


def test_records_are_well_formed(loaded: Loaded) -> None:
    today = date.today()
    with loaded.factory() as s:
        incidents = s.scalars(select(Incident).order_by(Incident.ref)).all()
        refs = [i.ref for i in incidents]
        assert refs == [f"DEMO-{n:04d}" for n in range(1, len(incidents) + 1)]
        dates = [i.event_date for i in incidents]
        assert dates == sorted(dates)
        assert dates[0] >= demo.START and dates[-1] <= today
        assert sum(1 for d in dates if (today - d).days <= 60) >= 10  # recent activity
        governorates = Counter(i.governorate_code for i in incidents)
        assert set(governorates) == {g.code for g in gazetteer.governorates()}
        assert governorates["YE-TA"] > 5 * governorates["YE-SU"]
        assert governorates["YE-HU"] > 5 * governorates["YE-MR"]
        for inc in incidents:
            taxonomy.check_acled(inc.event_type, inc.sub_event_type)
            taxonomy.check_gtd(inc.attack_type, inc.target_type, inc.weapon_type)
            assert (
                (inc.attack_type is None) == (inc.target_type is None) == (inc.weapon_type is None)
            )
            assert inc.lat is not None and inc.lon is not None
            assert gazetteer.point_in_yemen(inc.lat, inc.lon), inc.ref
            assert inc.geo_precision in (1, 2, 3)
            if inc.district_id:
                assert gazetteer.district(inc.district_id).governorate_code == inc.governorate_code
            assert inc.title and inc.narrative_ar and inc.location_name
            assert 0 <= inc.fatalities <= 60 and 0 <= inc.injured <= 80
        assert sum(1 for i in incidents if i.narrative_en) >= 50
        assert sum(1 for i in incidents if i.fatalities >= 8) >= 2  # a few larger ones
        assert sorted(i.fatalities for i in incidents)[len(incidents) // 2] <= 1  # mostly small
        # sources: 1-3 each, Admiralty graded
        per_incident = Counter(s.scalars(select(IncidentSource.incident_id)))
        assert set(per_incident) == {i.id for i in incidents}
        assert set(per_incident.values()) <= {1, 2, 3}
        for src in s.scalars(select(IncidentSource)):
            assert src.reliability in "ABCDEF" and 1 <= src.credibility <= 6
        roles = Counter(s.scalars(select(Involvement.role)))
        assert {"perpetrator", "suspect", "arrested", "victim", "target"} <= set(roles)
        # identifiers: valid, unique, realistic
        idents = s.execute(
            select(EntityIdentifier.kind, EntityIdentifier.value, EntityIdentifier.normalised)
        ).all()
        normalised = [(k, n) for k, _, n in idents]
        assert len(normalised) == len(set(normalised))
        for kind, value, norm in idents:
            assert taxonomy.normalise_identifier(kind, value) == norm
            if kind == "phone":
                assert norm.startswith("+9677") and len(norm) == 13
            if kind == "mmsi":
                assert norm[:3] in {"473", "475", "470", "471", "403", "622", "621"}
            if kind == "imo":
                assert taxonomy.is_valid_imo(norm)
        kinds = Counter(k for k, _ in normalised)
        assert kinds["phone"] >= 50 and kinds["mmsi"] >= 10 and kinds["imo"] >= 4
        assert kinds["national_id"] and kinds["passport"] and kinds["plate"] and kinds["call_sign"]
        # persons: Arabic in parts plus Latin spellings
        persons = s.scalars(select(Entity).where(Entity.kind == "person")).all()
        in_parts = [p for p in persons if p.given_name and p.family_name]
        assert len(in_parts) >= 100
        assert sum(1 for p in in_parts if p.kunya) >= 15
        assert all(any(n.script == "latin" for n in p.names) for p in in_parts)
        assert sum(1 for p in in_parts if sum(n.script == "latin" for n in p.names) >= 2) >= 30


def test_everything_is_versioned_and_audited(loaded: Loaded) -> None:
    with loaded.factory() as s:
        incidents = s.scalar(select(func.count()).select_from(Incident))
        entities = s.scalar(select(func.count()).select_from(Entity))
        links = s.scalar(select(func.count()).select_from(Link))
        versions = Counter(s.scalars(select(Version.object_type).where(Version.action == "create")))
        assert versions == Counter({"incident": incidents, "entity": entities})
        created = Counter(
            s.scalars(
                select(AuditEntry.object_type).where(
                    AuditEntry.action == "create", AuditEntry.object_type.like("registry_%")
                )
            )
        )
        assert created == Counter(
            {"registry_incident": incidents, "registry_entity": entities, "registry_link": links}
        )
        writers = set(
            s.scalars(select(AuditEntry.username).where(AuditEntry.object_type.like("registry_%")))
        )
        assert writers == {"analyst", "liaison", "watch", "partner"}
        assert audit.verify_chain(s).ok


def test_the_near_duplicates_reach_the_review_queue(loaded: Loaded) -> None:
    analyst = loaded.actor("analyst")
    with loaded.factory() as s:
        added = merge.scan(s, analyst, kind="person")
        pairs = [
            (p.a.created_by, p.b.created_by, p.a.label_ar, p.b.label_ar)
            for p in merge.review_queue(s, analyst)
        ]
        s.rollback()
    # the deliberate pairs (the same person typed by two analysts), and nothing else
    assert added == len(pairs) == 5
    for a_by, b_by, a_label, b_label in pairs:
        assert a_by != b_by and a_label != b_label
