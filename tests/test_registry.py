"""The registry through its service and its API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.errors import Forbidden, NotFound, ValidationFailed
from rasid.identity import service as identity
from rasid.registry import search as search_service
from rasid.registry import service
from rasid.registry.schemas import (
    EntityIn,
    IdentifierIn,
    IncidentIn,
    InvolvementIn,
    LinkIn,
    NameIn,
    SourceIn,
)
from tests.conftest import World


def person(
    name_ar: str,
    *latin: str,
    marking: str = "TLP:AMBER",
    phones: tuple[str, ...] = (),
    releasable_to: tuple[str, ...] = (),
    recipients: tuple[str, ...] = (),
) -> EntityIn:
    return EntityIn(
        kind="person",
        marking=marking,
        releasable_to=list(releasable_to),
        recipients=list(recipients),
        names=[
            NameIn(name=name_ar, name_type="as_written"),
            *[NameIn(name=n, name_type="latin") for n in latin],
        ],
        identifiers=[IdentifierIn(kind="phone", value=p) for p in phones],
    )


def create(factory: sessionmaker[Session], world: World, username: str, data: EntityIn) -> int:
    with factory.begin() as db:
        entity, _ = service.create_entity(db, world.actor(username), data)
        return entity.id


def found(
    factory: sessionmaker[Session], world: World, username: str, query: str, **flt: object
) -> list[int]:
    with factory.begin() as db:
        hits = search_service.search(
            db, world.actor(username), query, search_service.SearchFilter(**flt)
        )  # type: ignore[arg-type]
        return [h.id for h in hits]


def test_latin_spellings_find_the_arabic_only_record_and_back(
    world: World, factory: sessionmaker[Session]
) -> None:
    houthi = create(factory, world, "analyst", person("محمد عبدالله الحوثي"))
    other = create(factory, world, "analyst", person("محمد عبدالله العوذلي"))
    latin_only = create(
        factory,
        world,
        "analyst",
        EntityIn(kind="person", names=[NameIn(name="Khaled Omar Ba'abbad")]),
    )
    for query in ("Mohammed Abdullah al-Houthi", "Muhammad Abdallah Al Huthi", "Mohamed Abd Allah"):
        ids = found(factory, world, "analyst", query)
        assert houthi in ids[:2], query
    assert found(factory, world, "analyst", "Mohammed Abdullah al-Houthi")[0] == houthi
    assert other not in found(factory, world, "analyst", "Mohammed Abdullah al-Houthi")[:1]
    assert found(factory, world, "analyst", "خالد عمر باعباد")[0] == latin_only


def test_search_results_carry_score_reason_and_every_name(
    world: World, factory: sessionmaker[Session]
) -> None:
    pid = create(factory, world, "analyst", person("محمد عبدالله الحوثي", "Mohammed al-Houthi"))
    with factory.begin() as db:
        hits = search_service.search(db, world.actor("analyst"), "Muhammad Abdallah Al Huthi")
    hit = hits[0]
    assert hit.id == pid and hit.type == "person" and 0.9 <= hit.score <= 1
    assert set(hit.names) == {"محمد عبدالله الحوثي", "Mohammed al-Houthi"}
    assert "Arabic" in hit.reason and "3 of 3 parts" in hit.reason


def test_identifiers_are_exact_searchable_and_duplicates_refused(
    world: World, factory: sessionmaker[Session]
) -> None:
    pid = create(factory, world, "analyst", person("علي صالح الأحمر", phones=("+967 777-123-456",)))
    assert found(factory, world, "analyst", "777123456") == [pid]
    assert found(factory, world, "analyst", "00967777123456") == [pid]
    with pytest.raises(ValidationFailed) as dup:
        create(factory, world, "analyst2", person("علي الأحمر", phones=("777123456",)))
    assert dup.value.field == "identifiers" and str(pid) in dup.value.message


def test_nobody_outside_the_marking_sees_a_record_on_any_path(
    world: World, factory: sessionmaker[Session]
) -> None:
    strict = create(
        factory,
        world,
        "analyst",
        person("محمد عبدالله الحوثي", marking="TLP:AMBER+STRICT", phones=("777000111",)),
    )
    released = create(
        factory, world, "analyst", person("علي صالح الأحمر", releasable_to=("partner",))
    )
    # search by name and by identifier, list, count, get: the partner sees only the released one
    assert strict not in found(factory, world, "partner", "Mohammed Abdullah al-Houthi")
    assert found(factory, world, "partner", "777000111") == []
    assert found(factory, world, "partner", "Ali Saleh al-Ahmar") == [released]
    with factory.begin() as db:
        partner = world.actor("partner")
        rows, total = service.list_entities(db, partner, service.EntityFilter(kind="person"))
        assert [r.id for r in rows] == [released] and total == 1
        assert service.count_entities(db, partner) == 1
        with pytest.raises(NotFound):
            service.get_entity(db, partner, strict)
    # … and the partner's duplicate identifier is not refused (that would reveal the hidden record)
    create(factory, world, "partner", person("محمد الحوثي", phones=("777000111",)))
    # the observer (outside the community) sees nothing of AMBER
    assert found(factory, world, "observer", "Ali Saleh al-Ahmar") == []


def test_red_record_only_for_named_recipients(world: World, factory: sessionmaker[Session]) -> None:
    red = create(
        factory,
        world,
        "analyst",
        person("عبدالملك الحوثي", marking="TLP:RED", recipients=("analyst2",)),
    )
    assert found(factory, world, "analyst2", "Abdulmalik al-Houthi") == [red]
    assert found(factory, world, "analyst", "Abdulmalik al-Houthi") == [red]  # the writer is added
    assert found(factory, world, "watch", "Abdulmalik al-Houthi") == []
    assert found(factory, world, "admin", "Abdulmalik al-Houthi") == []


def test_versions_and_audit_keep_every_change(world: World, factory: sessionmaker[Session]) -> None:
    pid = create(factory, world, "analyst", person("محمد عبدالله الحوثي"))
    with factory.begin() as db:
        changed = person("محمد عبدالله الحوثي", "Mohammed Abdullah al-Houthi")
        service.update_entity(db, world.actor("analyst2"), pid, changed, expected_version=1)
    with factory.begin() as db, pytest.raises(ValidationFailed) as stale:
        service.update_entity(db, world.actor("analyst"), pid, changed, expected_version=1)
    assert stale.value.field == "version"
    with factory.begin() as db:
        versions = service.versions(db, world.actor("analyst"), "entity", pid)
        assert [(v.version, v.action, v.username) for v in versions] == [
            (2, "update", "analyst2"),
            (1, "create", "analyst"),
        ]
        assert (
            len(json.loads(versions[0].data)["names"]) == 2
            and len(json.loads(versions[1].data)["names"]) == 1
        )
        entries = db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "registry_entity")
        ).all()
        assert [e.action for e in entries][:2] == ["create", "update"]
        assert (
            json.loads(entries[1].before or "{}")["names"]
            != json.loads(entries[1].after or "{}")["names"]
        )
    # another organisation may not change it even when it can see it
    with factory.begin() as db:
        service.update_entity(
            db, world.actor("analyst"), pid, person("محمد عبدالله الحوثي", marking="TLP:GREEN")
        )
    with factory.begin() as db, pytest.raises(Forbidden):
        service.update_entity(db, world.actor("watch"), pid, person("x y", marking="TLP:GREEN"))


def test_incidents_with_sources_involvements_and_filters(
    world: World, factory: sessionmaker[Session]
) -> None:
    pid = create(factory, world, "analyst", person("محمد عبدالله الحوثي", marking="TLP:GREEN"))
    hidden = create(factory, world, "analyst", person("قاسم الريمي", marking="TLP:AMBER+STRICT"))
    with factory.begin() as db:
        incident, warnings = service.create_incident(
            db,
            world.actor("analyst"),
            IncidentIn(
                title="هجوم بعبوة ناسفة على نقطة تفتيش",
                event_date=date(2024, 3, 2),
                marking="TLP:GREEN",
                event_type="Explosions/Remote violence",
                sub_event_type="Remote explosive/landmine/IED",
                attack_type=3,
                weapon_type=6,
                governorate_code="Saada",
                lat=16.94,
                lon=43.76,
                geo_precision=1,
                fatalities=2,
                injured=5,
                narrative_ar="انفجرت عبوة ناسفة",
                sources=[SourceIn(description="بلاغ الشرطة", reliability="b", credibility=2)],
                involvements=[
                    InvolvementIn(entity_id=pid, role="suspect"),
                    InvolvementIn(entity_id=hidden, role="perpetrator"),
                ],
            ),
        )
        inc_id = incident.id
        assert (
            incident.governorate_code == "YE-SD"
            and incident.ref.startswith("INC-2024-")
            and warnings == []
        )
        assert incident.sources[0].reliability == "B"
    with factory.begin() as db:
        watch = world.actor("watch")
        inc = service.get_incident(db, watch, inc_id)
        # the watch officer sees the incident but not the AMBER+STRICT perpetrator
        assert [e.id for _, e in service.visible_involvements(db, watch, inc)] == [pid]
        _, total = service.list_incidents(
            db, watch, service.IncidentFilter(governorate_code="YE-SD")
        )
        assert total == 1
        assert (
            service.list_incidents(db, watch, service.IncidentFilter(date_from=date(2025, 1, 1)))[1]
            == 0
        )
        assert [i.id for i, _ in service.incidents_of_entity(db, watch, pid)] == [inc_id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"event_date": date(2999, 1, 1)}, "event_date"),
        ({"governorate_code": "Sadaaxq"}, "governorate_code"),
        ({"lat": 95.0, "lon": 44.0}, "lat"),
        ({"sub_event_type": "Armed clash", "event_type": "Protests"}, "sub_event_type"),
        (
            {"sources": [SourceIn(description="x", reliability="G", credibility=2)]},
            "sources.0.reliability",
        ),
        (
            {"involvements": [InvolvementIn(entity_id=999999, role="suspect")]},
            "involvements.0.entity_id",
        ),
        ({"event_time": "25:00"}, "event_time"),
        ({"marking": "TLP:PURPLE"}, "marking"),
    ],
)
def test_bad_incident_input_names_the_field(
    world: World, factory: sessionmaker[Session], changes: dict[str, object], field: str
) -> None:
    base: dict[str, object] = {"title": "حادثة", "event_date": date(2024, 1, 1)}
    with factory.begin() as db, pytest.raises(ValidationFailed) as exc:
        service.create_incident(db, world.actor("analyst"), IncidentIn(**(base | changes)))  # type: ignore[arg-type]
    assert exc.value.field == field
    if field == "governorate_code":
        assert "Did you mean" in exc.value.message and "Sa" in exc.value.message


def test_coordinates_outside_yemen_warn_but_save(
    world: World, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        _, warnings = service.create_incident(
            db,
            world.actor("analyst"),
            IncidentIn(
                title="x", event_date=date(2024, 1, 1), governorate_code="YE-AD", lat=11.6, lon=43.1
            ),
        )  # Djibouti
    assert warnings and "outside Yemen" in warnings[0]


def test_links_show_only_when_both_ends_and_the_link_are_visible(
    world: World, factory: sessionmaker[Session]
) -> None:
    a = create(factory, world, "analyst", person("محمد عبدالله الحوثي", marking="TLP:GREEN"))
    b = create(factory, world, "analyst", person("يحيى الحوثي", marking="TLP:GREEN"))
    c = create(factory, world, "analyst", person("عبدالملك الحوثي", marking="TLP:AMBER+STRICT"))
    with factory.begin() as db:
        analyst = world.actor("analyst")
        service.create_link(
            db,
            analyst,
            LinkIn(
                source_id=a,
                target_id=b,
                link_type="relative_of",
                marking="TLP:GREEN",
                reliability="B",
                credibility=2,
            ),
        )
        service.create_link(
            db,
            analyst,
            LinkIn(source_id=a, target_id=c, link_type="associate_of", marking="TLP:GREEN"),
        )
        with pytest.raises(ValidationFailed):
            service.create_link(
                db, analyst, LinkIn(source_id=a, target_id=a, link_type="associate_of")
            )
    with factory.begin() as db:
        assert len(service.links_of(db, world.actor("analyst"), {a})) == 2
        watch_links = service.links_of(db, world.actor("watch"), {a})
        assert [(lk.source_id, lk.target_id) for lk in watch_links] == [(a, b)]
        entities, links = service.neighbourhood(db, world.actor("watch"), a)
        assert {e.id for e in entities} == {a, b} and len(links) == 1


def test_api_search_and_entity_routes(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), "analyst").plaintext
        partner_token = identity.create_token(db, world.actor("admin"), "partner").plaintext
    auth = {"Authorization": f"Bearer {token}"}
    made = client.post(
        "/api/v1/entities",
        headers=auth,
        json={
            "kind": "person",
            "names": [{"name": "محمد عبدالله الحوثي", "name_type": "as_written"}],
            "identifiers": [{"kind": "phone", "value": "777123456"}],
            "nationality": "YE",
        },
    )
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    result = client.get(
        "/api/v1/search", params={"q": "Mohamed Abd Allah", "type": "person"}, headers=auth
    ).json()
    assert result["query"] == "Mohamed Abd Allah"
    assert result["results"][0]["id"] == pid and result["results"][0]["names"] == [
        "محمد عبدالله الحوثي"
    ]
    assert (
        client.get(f"/api/v1/entities/{pid}", headers=auth).json()["details"]["nationality"] == "YE"
    )
    assert client.get(f"/api/v1/entities/{pid}/versions", headers=auth).json()[0]["version"] == 1
    partner = {"Authorization": f"Bearer {partner_token}"}
    assert client.get(f"/api/v1/entities/{pid}", headers=partner).status_code == 404
    assert (
        client.get("/api/v1/search", params={"q": "Mohamed Abd Allah"}, headers=partner).json()[
            "results"
        ]
        == []
    )
    listing = client.get("/api/v1/entities", headers=partner)
    assert listing.json() == [] and listing.headers["x-total-count"] == "0"
    bad = client.post("/api/v1/entities", headers=auth, json={"kind": "person", "names": []})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "names"
    assert (
        client.get("/api/v1/search", params={"q": " "}, headers=auth).json()["error"]["field"]
        == "q"
    )


def test_updating_an_incident_without_a_reference_keeps_it(
    world: World, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        incident, _ = service.create_incident(
            db,
            world.actor("analyst"),
            IncidentIn(title="حادثة", event_date=date(2024, 1, 1), involvements=[]),
        )
        ref, inc_id = incident.ref, incident.id
    with factory.begin() as db:
        pid, _ = service.create_entity(db, world.actor("analyst"), person("محمد الحوثي"))
        involved = [InvolvementIn(entity_id=pid.id, role="suspect")]
        service.update_incident(
            db,
            world.actor("analyst"),
            inc_id,
            IncidentIn(title="حادثة معدلة", event_date=date(2024, 1, 1), involvements=involved),
        )
    with factory.begin() as db:  # saving again with the same involvement keeps its row
        updated, _ = service.update_incident(
            db,
            world.actor("analyst"),
            inc_id,
            IncidentIn(title="حادثة معدلة", event_date=date(2024, 1, 1), involvements=involved),
        )
        assert updated.ref == ref and len(updated.involvements) == 1


def test_bulk_creation_writes_what_one_by_one_creation_writes(
    world: World, factory: sessionmaker[Session]
) -> None:
    """create_entities/create_incidents/create_links (imports, federation pulls)."""
    with factory.begin() as db:
        made = service.create_entities(
            db,
            world.actor("analyst"),
            [
                person("علي صالح الأحمر", releasable_to=("partner",), phones=("777123456",)),
                person("محمد عبدالله الحوثي", marking="TLP:AMBER+STRICT"),
            ],
        )
        released, strict = (entity.id for entity, _ in made)
        ((incident, _),) = service.create_incidents(
            db,
            world.actor("analyst"),
            [IncidentIn(title="هجوم على ميناء", event_date=date(2024, 1, 9), marking="TLP:GREEN")],
        )
        (link,) = service.create_links(
            db,
            world.actor("analyst"),
            [LinkIn(source_id=released, target_id=strict, link_type="associate_of")],
        )
        assert incident.ref == f"INC-2024-{incident.id:06d}"
    # search terms, identifiers and grants: the partner finds the released record only
    assert found(factory, world, "partner", "Ali Saleh al-Ahmar") == [released]
    assert found(factory, world, "partner", "777123456") == [released]
    assert found(factory, world, "partner", "Mohammed Abdullah al-Houthi") == []
    assert found(factory, world, "analyst", "Mohammed Abdullah al-Houthi") == [strict]
    with factory.begin() as db:
        analyst = world.actor("analyst")
        assert [v.action for v in service.versions(db, analyst, "entity", released)] == ["create"]
        assert [v.action for v in service.versions(db, analyst, "incident", incident.id)] == [
            "create"
        ]
        entries = {
            (e.object_type, e.object_id, e.action, e.username)
            for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "create"))
        }
        for object_type, oid in (
            ("registry_entity", released),
            ("registry_entity", strict),
            ("registry_incident", incident.id),
            ("registry_link", link.id),
        ):
            assert (object_type, str(oid), "create", "analyst") in entries
        assert service.links_of(db, world.actor("partner"), {released}) == []  # other end hidden


def test_bulk_creation_is_all_or_nothing_and_refuses_what_one_by_one_refuses(
    world: World, factory: sessionmaker[Session]
) -> None:
    pid = create(factory, world, "analyst", person("علي صالح الأحمر", phones=("777123456",)))
    with factory() as db:
        before = len(service.list_entities(db, world.actor("analyst"), service.EntityFilter())[0])
    bad_country = person("صالح").model_copy(update={"nationality": "Yemen"})
    for batch, field, says in (
        (
            [person("سالم", phones=("777000111",)), person("صالح", phones=("777123456",))],
            "identifiers",
            f"already on record {pid}",
        ),
        (
            [person("سالم", phones=("777000222",)), person("صالح", phones=("+967777000222",))],
            "identifiers",
            "+967777000222",
        ),
        ([person("سالم"), bad_country], "nationality", "ISO 3166-1"),
    ):
        with pytest.raises(ValidationFailed) as refused, factory.begin() as db:
            service.create_entities(db, world.actor("analyst2"), batch)
        assert refused.value.field == field and says in refused.value.message
    with factory() as db:
        after = len(service.list_entities(db, world.actor("analyst"), service.EntityFilter())[0])
    assert after == before
