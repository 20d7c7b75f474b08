"""Duplicates and merges.

A merge keeps everything: the survivor receives a copy of every name and identifier of the
duplicate, and every link and incident involvement of the duplicate is re-pointed to the
survivor. The duplicate stays in the table with ``merged_into_id`` set, so its old id keeps
resolving (``service.get_entity`` follows it). What moved is written down in ``Merge.moved``
so the merge can be undone exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import AMBER, MARKINGS, RED
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Forbidden, NotFound, ValidationFailed
from rasid.registry import names, service
from rasid.registry import search as search_service
from rasid.registry.models import (
    DuplicateCandidate,
    Entity,
    EntityIdentifier,
    EntityName,
    Involvement,
    Link,
    Merge,
)
from rasid.registry.schemas import EntityIn

DUPLICATE_THRESHOLD = 0.9


@dataclass(frozen=True)
class Candidate:
    id: int
    label: str
    names: list[str]
    score: float
    reason: str


def likely_duplicates(
    db: Session, actor: Actor, data: EntityIn, *, exclude_id: int | None = None, limit: int = 5
) -> list[Candidate]:
    """Records the user can see that the one being entered probably duplicates (shown before saving)."""
    found: dict[int, Candidate] = {}
    queries = [n.name for n in data.names if n.name.strip()]
    if data.kind == "person":
        parts = " ".join(
            p
            for p in (data.given_name, data.father_name, data.grandfather_name, data.family_name)
            if p
        )
        if parts.strip():
            queries.insert(0, parts)
    queries += [i.value for i in data.identifiers if i.value.strip()]
    for query in queries:
        for hit in search_service.search(
            db, actor, query, search_service.SearchFilter(type=data.kind), limit=limit
        ):
            if hit.id == exclude_id or hit.score < DUPLICATE_THRESHOLD:
                continue
            if hit.id not in found or found[hit.id].score < hit.score:
                found[hit.id] = Candidate(hit.id, hit.label, hit.names, hit.score, hit.reason)
    return sorted(found.values(), key=lambda c: -c.score)[:limit]


def scan(db: Session, actor: Actor, *, kind: str | None = None, limit: int = 2000) -> int:
    """Fill the review queue with candidate pairs among the records the user's organisation owns."""
    stmt = (
        access.visible(actor, Entity)
        .where(Entity.merged_into_id.is_(None), Entity.owner_org_id == actor.org_id)
        .order_by(Entity.id)
        .limit(limit)
    )
    if kind:
        stmt = stmt.where(Entity.kind == kind)
    added = 0
    seen: set[tuple[int, int]] = set()
    for entity in db.scalars(stmt).all():
        # every script: an Arabic record and its Latin-only twin find each other one way round
        queries = [
            q for q in dict.fromkeys((entity.label_ar, entity.label_latin, entity.label)) if q
        ]
        flt = search_service.SearchFilter(type=entity.kind)
        hits = [
            hit
            for query in queries
            for hit in search_service.search(db, actor, query, flt, limit=5)
        ]
        for hit in hits:
            if hit.id == entity.id or hit.score < DUPLICATE_THRESHOLD:
                continue
            a, b = sorted((entity.id, hit.id))
            if (a, b) in seen:
                continue
            seen.add((a, b))
            exists = db.scalar(
                select(DuplicateCandidate.id).where(
                    DuplicateCandidate.entity_a == a, DuplicateCandidate.entity_b == b
                )
            )
            if exists is None:
                db.add(
                    DuplicateCandidate(
                        entity_a=a, entity_b=b, score=hit.score, reason=hit.reason[:300]
                    )
                )
                db.flush()
                added += 1
    if added:
        audit.record(
            db,
            actor,
            "registry.duplicates_scan",
            object_type="registry_entity",
            detail={"kind": kind, "pairs_added": added},
        )
    return added


@dataclass(frozen=True)
class Pair:
    candidate: DuplicateCandidate
    a: Entity
    b: Entity


def review_queue(db: Session, actor: Actor, *, limit: int = 100) -> list[Pair]:
    """Open candidate pairs whose both records the user can see."""
    rows = db.scalars(
        select(DuplicateCandidate)
        .where(DuplicateCandidate.status == "open")
        .order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.id)
        .limit(limit * 3)
    ).all()
    ids = {r.entity_a for r in rows} | {r.entity_b for r in rows}
    visible = {
        e.id: e
        for e in db.scalars(
            access.visible(actor, Entity).where(Entity.id.in_(ids), Entity.merged_into_id.is_(None))
        )
    }
    return [
        Pair(r, visible[r.entity_a], visible[r.entity_b])
        for r in rows
        if r.entity_a in visible and r.entity_b in visible
    ][:limit]


def dismiss(db: Session, actor: Actor, candidate_id: int) -> None:
    service.require_write(actor)
    pair = db.get(DuplicateCandidate, candidate_id)
    pair_ids = {pair.entity_a, pair.entity_b} if pair is not None else set()
    owned = db.scalars(access.visible(actor, Entity).where(Entity.id.in_(pair_ids))).all()
    if pair is None or len(owned) < 2:  # a pair holding a hidden record answers like a missing pair
        raise NotFound("No duplicate pair with id %(id)s.", id=candidate_id)
    if not actor.is_system and any(e.owner_org_id != actor.org_id for e in owned):
        raise Forbidden("Only the owner organisation can change this record.")
    pair.status = "dismissed"
    audit.record(
        db,
        actor,
        "update",
        object_type="registry_duplicate",
        object_id=pair.id,
        before={"status": "open"},
        after={"status": "dismissed"},
    )


def merge(db: Session, actor: Actor, survivor_id: int, duplicate_id: int) -> Merge:
    service.require_write(actor)
    if survivor_id == duplicate_id:
        raise ValidationFailed("A record cannot be merged into itself.", field="duplicate_id")
    survivor = _owned(db, actor, survivor_id, "survivor_id")
    duplicate = _owned(db, actor, duplicate_id, "duplicate_id")
    if survivor.kind != duplicate.kind:
        raise ValidationFailed("Only records of the same kind can be merged.", field="duplicate_id")
    _check_no_downgrade(db, survivor, duplicate)
    before_survivor = service.entity_snapshot(db, survivor)
    before_duplicate = service.entity_snapshot(db, duplicate)
    moved: dict[str, Any] = {
        "names": [],
        "identifiers": [],
        "links": [],
        "involvements": [],
        "dropped": [],
    }
    have = {names.parse(n.name).normalised for n in survivor.names}
    for n in list(duplicate.names):
        if names.parse(n.name).normalised not in have:
            copy = EntityName(
                entity_id=survivor.id, name=n.name, script=n.script, name_type=n.name_type
            )
            db.add(copy)
            db.flush()
            moved["names"].append(copy.id)
            have.add(names.parse(n.name).normalised)
    have_ids = {(i.kind, i.normalised) for i in survivor.identifiers}
    for ident in list(duplicate.identifiers):
        if (ident.kind, ident.normalised) not in have_ids:
            copy_i = EntityIdentifier(
                entity_id=survivor.id,
                kind=ident.kind,
                value=ident.value,
                normalised=ident.normalised,
            )
            db.add(copy_i)
            db.flush()
            moved["identifiers"].append(copy_i.id)
    for link in db.scalars(
        select(Link).where(or_(Link.source_id == duplicate.id, Link.target_id == duplicate.id))
    ):
        moved["links"].append(
            {"id": link.id, "source_id": link.source_id, "target_id": link.target_id}
        )
        if link.source_id == duplicate.id:
            link.source_id = survivor.id
        if link.target_id == duplicate.id:
            link.target_id = survivor.id
    existing = {
        (i.incident_id, i.role)
        for i in db.scalars(select(Involvement).where(Involvement.entity_id == survivor.id))
    }
    for inv in db.scalars(select(Involvement).where(Involvement.entity_id == duplicate.id)).all():
        if (inv.incident_id, inv.role) in existing:
            moved["dropped"].append({"incident_id": inv.incident_id, "role": inv.role})
            db.delete(inv)
            continue
        moved["involvements"].append(inv.id)
        inv.entity_id = survivor.id
    duplicate.merged_into_id = survivor.id
    duplicate.version += 1
    survivor.version += 1
    survivor.updated_at = duplicate.updated_at = utcnow()
    db.flush()
    db.expire(survivor)
    service.reindex_entity(db, survivor)
    record = Merge(
        survivor_id=survivor.id,
        merged_id=duplicate.id,
        user_id=actor.user_id,
        moved=json.dumps(moved),
    )
    db.add(record)
    db.execute(
        update(DuplicateCandidate)
        .where(
            or_(
                (DuplicateCandidate.entity_a == min(survivor.id, duplicate.id))
                & (DuplicateCandidate.entity_b == max(survivor.id, duplicate.id))
            )
        )
        .values(status="merged")
    )
    db.flush()
    after_survivor = service.entity_snapshot(db, survivor)
    service.save_version(
        db, actor, "entity", survivor.id, survivor.version, "merge", after_survivor
    )
    service.save_version(
        db,
        actor,
        "entity",
        duplicate.id,
        duplicate.version,
        "merged",
        service.entity_snapshot(db, duplicate),
    )
    audit.record(
        db,
        actor,
        "registry.merge",
        object_type="registry_entity",
        object_id=survivor.id,
        before={"survivor": before_survivor, "duplicate": before_duplicate},
        after={"survivor": after_survivor, "merged_id": duplicate.id},
        detail={"merge_id": record.id, "moved": moved},
    )
    return record


def undo(db: Session, actor: Actor, merge_id: int) -> Merge:
    service.require_write(actor)
    record = db.get(Merge, merge_id)
    both = {record.survivor_id, record.merged_id} if record is not None else set()
    seen = db.scalars(
        select(Entity.id).where(Entity.id.in_(both), access.visible_filter(actor, Entity))
    ).all()
    if record is None or record.undone_at is not None or len(seen) < 2:
        # a merge touching a record the user may not see answers like a missing one
        raise NotFound("No merge with id %(id)s to undo.", id=merge_id)
    survivor = _owned(db, actor, record.survivor_id, "survivor_id")
    duplicate = db.get(Entity, record.merged_id)
    if duplicate is None or duplicate.merged_into_id != survivor.id:
        raise ValidationFailed(
            "The merged record has changed since; this merge cannot be undone.", field="merge_id"
        )
    moved = json.loads(record.moved)
    if moved["names"]:
        db.execute(delete(EntityName).where(EntityName.id.in_(moved["names"])))
    if moved["identifiers"]:
        db.execute(delete(EntityIdentifier).where(EntityIdentifier.id.in_(moved["identifiers"])))
    for link in moved["links"]:
        db.execute(
            update(Link)
            .where(Link.id == link["id"])
            .values(source_id=link["source_id"], target_id=link["target_id"])
        )
    if moved["involvements"]:
        db.execute(
            update(Involvement)
            .where(Involvement.id.in_(moved["involvements"]))
            .values(entity_id=duplicate.id)
        )
    for dropped in moved["dropped"]:
        db.add(
            Involvement(
                incident_id=dropped["incident_id"], entity_id=duplicate.id, role=dropped["role"]
            )
        )
    duplicate.merged_into_id = None
    duplicate.version += 1
    survivor.version += 1
    record.undone_at = utcnow()
    record.undone_by = actor.user_id
    db.flush()
    db.expire(survivor)
    db.expire(duplicate)
    service.reindex_entity(db, survivor)
    service.reindex_entity(db, duplicate)
    service.save_version(
        db,
        actor,
        "entity",
        survivor.id,
        survivor.version,
        "unmerge",
        service.entity_snapshot(db, survivor),
    )
    service.save_version(
        db,
        actor,
        "entity",
        duplicate.id,
        duplicate.version,
        "unmerge",
        service.entity_snapshot(db, duplicate),
    )
    audit.record(
        db,
        actor,
        "registry.unmerge",
        object_type="registry_entity",
        object_id=survivor.id,
        detail={"merge_id": record.id, "restored_id": duplicate.id},
    )
    return record


def merges_of(db: Session, actor: Actor, entity_id: int) -> list[Merge]:
    """Merges into this record, of records the reader may see."""
    service.get_entity(db, actor, entity_id, audit_read=False)
    rows = db.scalars(
        select(Merge).where(Merge.survivor_id == entity_id).order_by(Merge.at.desc())
    ).all()
    visible = set(
        db.scalars(
            select(Entity.id).where(
                Entity.id.in_({m.merged_id for m in rows}), access.visible_filter(actor, Entity)
            )
        )
    )
    return [m for m in rows if m.merged_id in visible]


_RANK = {m: i for i, m in enumerate(MARKINGS)}  # CLEAR < GREEN < AMBER < AMBER+STRICT < RED


def _check_no_downgrade(db: Session, survivor: Entity, duplicate: Entity) -> None:
    """A merge must not make the duplicate's names and identifiers visible to more people."""
    wider = _RANK[duplicate.marking] > _RANK[survivor.marking]
    if not wider and duplicate.marking == survivor.marking and survivor.marking in (AMBER, RED):
        s_orgs, s_users = access.grants_for(db, Entity, survivor.id)
        d_orgs, d_users = access.grants_for(db, Entity, duplicate.id)
        wider = (
            not set(s_orgs) <= set(d_orgs)
            if survivor.marking == AMBER
            else not set(s_users) <= set(d_users)
        )
    if wider:
        raise ValidationFailed(
            "Record %(id)s is more restricted (%(marking)s) than the record it would be merged into: "
            "merge the other way round, or restrict the survivor first.",
            field="duplicate_id",
            id=duplicate.id,
            marking=duplicate.marking,
        )


def _owned(db: Session, actor: Actor, entity_id: int, field: str) -> Entity:
    entity: Entity | None = db.scalar(access.visible(actor, Entity).where(Entity.id == entity_id))
    if entity is None:
        raise ValidationFailed("No record with id %(id)s.", field=field, id=entity_id)
    if entity.merged_into_id is not None:
        raise ValidationFailed(
            "Record %(id)s is already merged into another record.", field=field, id=entity_id
        )
    if not actor.is_system and entity.owner_org_id != actor.org_id:
        raise ValidationFailed(
            "Only the owner organisation can merge record %(id)s.", field=field, id=entity_id
        )
    return entity
