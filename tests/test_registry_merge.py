"""Duplicates shown before saving, the review queue, merge and undo."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.errors import ValidationFailed
from rasid.registry import merge, service
from rasid.registry import search as search_service
from rasid.registry.schemas import EntityIn, IdentifierIn, IncidentIn, InvolvementIn, LinkIn, NameIn
from tests.conftest import World


def person(*names: str, phone: str = "", marking: str = "TLP:AMBER") -> EntityIn:
    return EntityIn(
        kind="person",
        marking=marking,
        names=[NameIn(name=n) for n in names],
        identifiers=[IdentifierIn(kind="phone", value=phone)] if phone else [],
    )


def test_likely_duplicates_are_shown_before_saving(
    world: World, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        first, _ = service.create_entity(db, world.actor("analyst"), person("محمد عبدالله الحوثي"))
        first_id = first.id
    with factory.begin() as db:
        candidates = merge.likely_duplicates(
            db, world.actor("analyst2"), person("Mohammed Abdullah al-Houthi")
        )
        assert [c.id for c in candidates] == [first_id] and candidates[0].score >= 0.9
        # someone who cannot see the first record is not told about it
        assert (
            merge.likely_duplicates(
                db, world.actor("partner"), person("Mohammed Abdullah al-Houthi")
            )
            == []
        )


def test_merge_keeps_everything_old_id_resolves_and_undo_restores(
    world: World, factory: sessionmaker[Session]
) -> None:
    analyst = world.actor("analyst")
    with factory.begin() as db:
        a, _ = service.create_entity(db, analyst, person("محمد عبدالله الحوثي", phone="777111222"))
        b, _ = service.create_entity(
            db,
            world.actor("analyst2"),
            person("Mohammed Abdullah al-Houthi", "Abu Ali", phone="733444555"),
        )
        c, _ = service.create_entity(db, analyst, person("يحيى الحوثي"))
        inc, _ = service.create_incident(
            db,
            analyst,
            IncidentIn(
                title="حادثة",
                event_date=date(2024, 5, 1),
                involvements=[InvolvementIn(entity_id=b.id, role="suspect")],
            ),
        )
        service.create_link(
            db, analyst, LinkIn(source_id=b.id, target_id=c.id, link_type="relative_of")
        )
        ids = (a.id, b.id, c.id, inc.id)
    a_id, b_id, c_id, inc_id = ids
    with factory.begin() as db:
        assert merge.scan(db, analyst, kind="person") >= 1
        queue = merge.review_queue(db, analyst)
        assert {(p.a.id, p.b.id) for p in queue} == {(a_id, b_id)}
        assert merge.review_queue(db, world.actor("partner")) == []
    with factory.begin() as db:
        record = merge.merge(db, analyst, a_id, b_id)
        merge_id = record.id
    with factory.begin() as db:
        survivor = service.get_entity(db, analyst, b_id)  # the old id resolves to the survivor
        assert survivor.id == a_id
        assert {n.name for n in survivor.names} == {
            "محمد عبدالله الحوثي",
            "Mohammed Abdullah al-Houthi",
            "Abu Ali",
        }
        assert {i.normalised for i in survivor.identifiers} == {"+967777111222", "+967733444555"}
        assert [i.id for i, _ in service.incidents_of_entity(db, analyst, a_id)] == [inc_id]
        assert [(lk.source_id, lk.target_id) for lk in service.links_of(db, analyst, {a_id})] == [
            (a_id, c_id)
        ]
        hits = search_service.search(db, analyst, "733444555")
        assert [h.id for h in hits] == [a_id]  # the merged identifier now finds the survivor
        assert merge.review_queue(db, analyst) == []
        assert (
            db.scalar(select(AuditEntry).where(AuditEntry.action == "registry.merge")) is not None
        )
    with factory.begin() as db:
        merge.undo(db, analyst, merge_id)
    with factory.begin() as db:
        restored = service.get_entity(db, analyst, b_id)
        assert restored.id == b_id and restored.merged_into_id is None
        assert {n.name for n in service.get_entity(db, analyst, a_id).names} == {
            "محمد عبدالله الحوثي"
        }
        assert [i.id for i, _ in service.incidents_of_entity(db, analyst, b_id)] == [inc_id]
        assert [(lk.source_id, lk.target_id) for lk in service.links_of(db, analyst, {b_id})] == [
            (b_id, c_id)
        ]
        versions = service.versions(db, analyst, "entity", a_id)
        assert [v.action for v in versions][:2] == ["unmerge", "merge"]
    with factory.begin() as db, pytest.raises(Exception):  # noqa: B017 - NotFound: already undone
        merge.undo(db, analyst, merge_id)


def test_merge_refusals(world: World, factory: sessionmaker[Session]) -> None:
    with factory.begin() as db:
        a, _ = service.create_entity(db, world.actor("analyst"), person("محمد الحوثي"))
        g, _ = service.create_entity(
            db, world.actor("analyst"), EntityIn(kind="group", names=[NameIn(name="شبكة")])
        )
        w, _ = service.create_entity(
            db, world.actor("watch"), person("محمد الحوثي", marking="TLP:GREEN")
        )
        ids = (a.id, g.id, w.id)
    a_id, g_id, w_id = ids
    for survivor, duplicate, field in [
        (a_id, a_id, "duplicate_id"),
        (a_id, g_id, "duplicate_id"),
        (a_id, w_id, "duplicate_id"),
    ]:
        with factory.begin() as db, pytest.raises(ValidationFailed) as exc:
            merge.merge(db, world.actor("analyst"), survivor, duplicate)
        assert exc.value.field == field
