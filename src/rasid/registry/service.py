"""Registry business rules: create, change, read and link entities and incidents.

Every read goes through ``access``; every change is audited with before/after and leaves a
version snapshot; only this module writes the registry tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import RED
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Forbidden, NotFound, ValidationFailed
from rasid.identity.models import Organisation, User
from rasid.registry import attachments as attachment_store
from rasid.registry import gazetteer, names, taxonomy
from rasid.registry.models import (
    Entity,
    EntityIdentifier,
    EntityName,
    Incident,
    IncidentSource,
    Involvement,
    Link,
    SearchTerm,
    Version,
)
from rasid.registry.schemas import EntityIn, IncidentIn, LinkIn, MarkingIn

RELIABILITY = "ABCDEF"
CREDIBILITY = range(1, 7)


def require_write(actor: Actor) -> None:
    if not actor.can("write"):
        raise Forbidden("Your roles do not allow this action (%(permission)s).", permission="write")


def _require_owner(actor: Actor, owner_org_id: int) -> None:
    if not actor.is_system and actor.org_id != owner_org_id:
        raise Forbidden("Only the owner organisation can change this record.")


def check_grade(reliability: str, credibility: int, field: str) -> str:
    rel = (reliability or "").strip().upper()
    if rel not in RELIABILITY or len(rel) != 1:
        raise ValidationFailed(
            "Source reliability must be a letter from A to F.", field=f"{field}.reliability"
        )
    if credibility not in CREDIBILITY:
        raise ValidationFailed(
            "Information credibility must be a number from 1 to 6.", field=f"{field}.credibility"
        )
    return rel


# --- markings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grants:
    marking: str
    org_ids: list[int]
    user_ids: list[int]


def resolve_marking(db: Session, actor: Actor, data: MarkingIn) -> Grants:
    org_ids: list[int] = []
    for slug in data.releasable_to:
        org_id = db.scalar(select(Organisation.id).where(Organisation.slug == slug.strip().lower()))
        if org_id is None:
            raise ValidationFailed(
                "No organisation named %(slug)s.", field="releasable_to", slug=slug
            )
        org_ids.append(org_id)
    user_ids: list[int] = []
    for username in data.recipients:
        user_id = db.scalar(select(User.id).where(User.username == username.strip().lower()))
        if user_id is None:
            raise ValidationFailed(
                "No user named %(username)s.", field="recipients", username=username
            )
        user_ids.append(user_id)
    recipients = list(user_ids)
    if (
        data.marking.strip().upper().endswith("RED")
        and actor.user_id
        and actor.user_id not in recipients
    ):
        recipients.append(actor.user_id)  # whoever writes a RED record can read it back
    marking = access.validate_marking(data.marking, org_ids, recipients)
    return Grants(marking, org_ids, recipients if marking == RED else [])


def _owner_org(actor: Actor) -> int:
    if actor.org_id is None:
        raise ValidationFailed(
            "Records must belong to an organisation: use --as USERNAME.", field="owner_org"
        )
    return actor.org_id


# --- snapshots, versions, search terms ------------------------------------------------------------

_ENTITY_FIELDS = (
    "kind",
    "label",
    "label_ar",
    "label_latin",
    "notes",
    "given_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "kunya",
    "birth_date",
    "birth_date_precision",
    "birth_place",
    "nationality",
    "group_kind",
    "make",
    "model",
    "colour",
    "flag",
    "vessel_type",
    "gazetteer_kind",
    "gazetteer_id",
    "governorate_code",
    "lat",
    "lon",
    "marking",
    "owner_org_id",
    "merged_into_id",
)
_INCIDENT_FIELDS = (
    "ref",
    "title",
    "event_date",
    "date_precision",
    "event_time",
    "event_type",
    "sub_event_type",
    "attack_type",
    "target_type",
    "weapon_type",
    "governorate_code",
    "district_id",
    "location_name",
    "lat",
    "lon",
    "geo_precision",
    "fatalities",
    "injured",
    "narrative_ar",
    "narrative_en",
    "marking",
    "owner_org_id",
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def entity_snapshot(db: Session, entity: Entity, grants: Grants | None = None) -> dict[str, Any]:
    data = {f: _plain(getattr(entity, f)) for f in _ENTITY_FIELDS}
    data["names"] = [
        {"name": n.name, "script": n.script, "name_type": n.name_type} for n in entity.names
    ]
    data["identifiers"] = [{"kind": i.kind, "value": i.value} for i in entity.identifiers]
    if grants is None:
        orgs, users = access.grants_for(db, Entity, entity.id)
    else:
        orgs, users = (
            sorted(set(grants.org_ids) - {entity.owner_org_id}),
            sorted(set(grants.user_ids)),
        )
    data["releasable_to"], data["recipients"] = orgs, users
    return data


def incident_snapshot(
    db: Session, incident: Incident, grants: Grants | None = None
) -> dict[str, Any]:
    data = {f: _plain(getattr(incident, f)) for f in _INCIDENT_FIELDS}
    data["sources"] = [
        {
            "description": s.description,
            "grade": f"{s.reliability}{s.credibility}",
            "attachment": s.attachment_name,
        }
        for s in incident.sources
    ]
    data["involvements"] = [
        {"entity_id": i.entity_id, "role": i.role} for i in incident.involvements
    ]
    if grants is None:
        orgs, users = access.grants_for(db, Incident, incident.id)
    else:
        orgs, users = (
            sorted(set(grants.org_ids) - {incident.owner_org_id}),
            sorted(set(grants.user_ids)),
        )
    data["releasable_to"], data["recipients"] = orgs, users
    return data


def save_version(
    db: Session,
    actor: Actor,
    object_type: str,
    object_id: int,
    version: int,
    action: str,
    data: dict[str, Any],
) -> None:
    db.execute(
        insert(Version),
        [_version_row(actor, object_type, object_id, version, action, data, utcnow())],
    )


def _version_row(
    actor: Actor,
    object_type: str,
    object_id: int,
    version: int,
    action: str,
    data: dict[str, Any],
    at: datetime,
) -> dict[str, Any]:
    return {
        "object_type": object_type,
        "object_id": object_id,
        "version": version,
        "action": action,
        "at": at,
        "user_id": actor.user_id,
        "username": actor.username,
        "data": json.dumps(data, ensure_ascii=False, sort_keys=True, default=str),
    }


def _reindex(
    db: Session, object_type: str, object_id: int, texts: list[str], *, fresh: bool = False
) -> None:
    """Replace a record's search terms (``fresh``: a record inserted now, it has none yet)."""
    if not fresh:
        db.execute(
            delete(SearchTerm).where(
                SearchTerm.object_type == object_type, SearchTerm.object_id == object_id
            )
        )
    rows = _term_rows(object_type, object_id, texts)
    if rows:  # a core insert: tens of rows per record, no need for the unit of work
        db.execute(insert(SearchTerm), rows)


def _term_rows(object_type: str, object_id: int, texts: list[str]) -> list[dict[str, Any]]:
    terms: set[str] = set()
    for text in texts:
        if text.strip():
            terms |= names.index_terms(text)
    return [
        {"object_type": object_type, "object_id": object_id, "term": t[:80]} for t in sorted(terms)
    ]


def reindex_entity(db: Session, entity: Entity) -> None:
    _reindex(db, "entity", entity.id, entity_names(entity))


def entity_names(entity: Entity) -> list[str]:
    out = [n.name for n in entity.names]
    for extra in (entity.label, entity.label_ar, entity.label_latin):
        if extra and extra not in out:
            out.append(extra)
    return out


# --- entities ----------------------------------------------------------------------------------------


def _clean_names(data: EntityIn) -> list[tuple[str, str, str]]:
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str, str]] = []
    person_parts = [data.given_name, data.father_name, data.grandfather_name, data.family_name]
    if data.kind == "person" and any(p.strip() for p in person_parts):
        as_parts = " ".join(p.strip() for p in person_parts if p.strip())
        candidates = [(as_parts, "as_written"), *((n.name, n.name_type) for n in data.names)]
    else:
        candidates = [(n.name, n.name_type) for n in data.names]
    if data.kunya.strip():
        candidates.append((data.kunya, "kunya"))
    for i, (raw, name_type) in enumerate(candidates):
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > 300:
            raise ValidationFailed("A name is longer than 300 characters.", field=f"names.{i}")
        script = "ar" if names.is_arabic(name) else "latin"
        key = (names.parse(name).normalised, name_type)
        if key in seen:
            continue
        seen.add(key)
        out.append((name, script, name_type))
    if not out:
        raise ValidationFailed("A record needs at least one name.", field="names")
    return out


def _clean_identifiers(data: EntityIn) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for ident in data.identifiers:
        if not ident.value.strip():
            continue
        normalised = taxonomy.normalise_identifier(ident.kind, ident.value)
        if (ident.kind, normalised) in seen:
            continue
        seen.add((ident.kind, normalised))
        out.append((ident.kind, ident.value.strip(), normalised))
    return out


def _apply_entity_fields(entity: Entity, data: EntityIn) -> list[str]:
    warnings: list[str] = []
    for field in (
        "notes",
        "given_name",
        "father_name",
        "grandfather_name",
        "family_name",
        "kunya",
        "birth_place",
        "group_kind",
        "make",
        "model",
        "colour",
        "vessel_type",
        "gazetteer_kind",
        "gazetteer_id",
    ):
        setattr(entity, field, getattr(data, field).strip())
    entity.birth_date = data.birth_date
    entity.birth_date_precision = data.birth_date_precision if data.birth_date else None
    if data.birth_date and data.birth_date > date.today():
        raise ValidationFailed("The date of birth is in the future.", field="birth_date")
    for field in ("nationality", "flag"):
        value = getattr(data, field).strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise ValidationFailed(
                "%(value)s is not an ISO 3166-1 alpha-2 country code.", field=field, value=value
            )
        setattr(entity, field, value)
    if data.kind == "group" and data.group_kind:
        taxonomy.check_term("group_kind", data.group_kind)
    entity.governorate_code = _check_governorate(data.governorate_code)
    if entity.gazetteer_id:
        entity.governorate_code = _check_gazetteer_place(entity.gazetteer_kind, entity.gazetteer_id)
    entity.lat, entity.lon = _check_coordinates(data.lat, data.lon)
    outside = entity.lat is not None and entity.lon is not None and entity.governorate_code
    if outside and not gazetteer.point_in_yemen(entity.lat, entity.lon):  # type: ignore[arg-type]
        warnings.append("The coordinates are outside Yemen but a Yemeni governorate is given.")
    return warnings


def _check_governorate(code: str) -> str:
    code = code.strip()
    if not code:
        return ""
    if code.upper().startswith("YE-"):
        gazetteer.governorate(code.upper())
        return code.upper()
    matches = gazetteer.search_places(code, limit=1, kinds={"governorate"})
    if matches and matches[0].score >= 90:
        return matches[0].governorate_code
    suggestions = ", ".join(gazetteer.nearest_names(code))
    raise ValidationFailed(
        "Unknown governorate %(value)s. Did you mean: %(suggestions)s?",
        field="governorate_code",
        value=code,
        suggestions=suggestions,
    )


def _check_gazetteer_place(kind: str, place_id: str) -> str:
    """The governorate of a gazetteer place, or a clear error naming the field."""
    lookups = {
        "governorate": lambda i: gazetteer.governorate(i).code,
        "district": lambda i: gazetteer.district(i).governorate_code,
        "uzlah": lambda i: gazetteer.uzlah(i).governorate_code,
        "village": lambda i: gazetteer.village(i).governorate_code,
    }
    if kind not in lookups:
        raise ValidationFailed(
            "Unknown gazetteer level %(value)s; use governorate, district, uzlah or village.",
            field="gazetteer_kind",
            value=kind,
        )
    try:
        return str(lookups[kind](place_id))
    except NotFound as exc:
        raise ValidationFailed(
            "No %(kind)s with id %(value)s in the gazetteer.",
            field="gazetteer_id",
            kind=kind,
            value=place_id,
        ) from exc


def _check_coordinates(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    if lat is None and lon is None:
        return None, None
    if lat is None or lon is None:
        raise ValidationFailed("Give both latitude and longitude, or neither.", field="lat")
    if not -90 <= lat <= 90:
        raise ValidationFailed("Latitude must be between -90 and 90.", field="lat")
    if not -180 <= lon <= 180:
        raise ValidationFailed("Longitude must be between -180 and 180.", field="lon")
    return lat, lon


def _labels(rows: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    ar = next((n for n, s, _ in rows if s == "ar"), "")
    latin = next((n for n, s, _ in rows if s == "latin"), "")
    return ar or latin, ar, latin


def _set_names_and_identifiers(
    db: Session,
    entity: Entity,
    name_rows: list[tuple[str, str, str]],
    ident_rows: list[tuple[str, str, str]],
) -> None:
    entity.names = [EntityName(name=n, script=s, name_type=t) for n, s, t in name_rows]
    entity.identifiers = [
        EntityIdentifier(kind=k, value=v, normalised=nv) for k, v, nv in ident_rows
    ]
    entity.label, entity.label_ar, entity.label_latin = _labels(name_rows)


def _identifier_clash(
    db: Session, actor: Actor, rows: list[tuple[str, str, str]], exclude_id: int | None
) -> None:
    """Refuse an identifier already on a record the user can see (hidden ones are not revealed)."""
    for kind, value, normalised in rows:
        stmt = (
            select(Entity.id)
            .join(EntityIdentifier, EntityIdentifier.entity_id == Entity.id)
            .where(
                EntityIdentifier.kind == kind,
                EntityIdentifier.normalised == normalised,
                Entity.merged_into_id.is_(None),
                access.visible_filter(actor, Entity),
            )
        )
        if exclude_id is not None:
            stmt = stmt.where(Entity.id != exclude_id)
        other = db.scalar(stmt.limit(1))
        if other is not None:
            raise ValidationFailed(
                "The %(kind)s %(value)s is already on record %(other)s.",
                field="identifiers",
                kind=kind,
                value=value,
                other=other,
            )


def find_by_identifiers(db: Session, actor: Actor, data: EntityIn) -> int | None:
    """A record of the same kind the user may see that holds one of these identifiers."""
    for kind, _value, normalised in _clean_identifiers(data):
        found = db.scalar(
            select(Entity.id)
            .join(EntityIdentifier, EntityIdentifier.entity_id == Entity.id)
            .where(
                Entity.kind == data.kind,
                EntityIdentifier.kind == kind,
                EntityIdentifier.normalised == normalised,
                Entity.merged_into_id.is_(None),
                access.visible_filter(actor, Entity),
            )
            .order_by(Entity.id)
            .limit(1)
        )
        if found is not None:
            return found
    return None


def create_entity(db: Session, actor: Actor, data: EntityIn) -> tuple[Entity, list[str]]:
    require_write(actor)
    owner = _owner_org(actor)
    grants = resolve_marking(db, actor, data)
    name_rows = _clean_names(data)
    ident_rows = _clean_identifiers(data)
    _identifier_clash(db, actor, ident_rows, None)
    entity = Entity(
        kind=data.kind,
        owner_org_id=owner,
        marking=grants.marking,
        version=1,
        created_by=actor.user_id,
        updated_by=actor.user_id,
    )
    warnings = _apply_entity_fields(entity, data)
    _set_names_and_identifiers(db, entity, name_rows, ident_rows)
    db.add(entity)
    db.flush()
    access.set_grants(
        db, entity, releasable_to=grants.org_ids, recipients=grants.user_ids, fresh=True
    )
    _reindex(db, "entity", entity.id, entity_names(entity), fresh=True)
    snap = entity_snapshot(db, entity, grants)
    save_version(db, actor, "entity", entity.id, 1, "create", snap)
    audit.record_change(db, actor, "create", "registry_entity", entity.id, None, snap)
    return entity, warnings


def identifier_keys(data: EntityIn) -> set[tuple[str, str]]:
    """The (kind, normalised value) pairs of a record's identifiers, as they are matched."""
    return {(kind, normalised) for kind, _value, normalised in _clean_identifiers(data)}


def create_entities(
    db: Session, actor: Actor, items: Sequence[EntityIn]
) -> list[tuple[Entity, list[str]]]:
    """Create many records as :func:`create_entity` would one by one, in a few statements.

    The same checks (marking, names, identifiers, fields), grants, search terms, first
    versions and audit entries, with one insert per table. The returned entities are not in
    the session (their ``id`` is set; ``db.get`` loads them). All or nothing: the first bad item
    raises its error and nothing is written (the caller rolls back). An identifier that is
    already on a visible record, or twice in the batch, is refused as it would be on its own.
    For bulk jobs (imports, federation pulls).
    """
    require_write(actor)
    owner = _owner_org(actor)
    marking_cache: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Grants] = {}
    prepared: list[tuple[Entity, Grants, list[str]]] = []
    wanted: dict[tuple[str, str], str] = {}
    for data in items:
        key = (data.marking, tuple(data.releasable_to), tuple(data.recipients))
        grants = marking_cache.get(key)
        if grants is None:
            grants = marking_cache[key] = resolve_marking(db, actor, data)
        name_rows = _clean_names(data)
        ident_rows = _clean_identifiers(data)
        for kind, value, normalised in ident_rows:
            if (kind, normalised) in wanted:
                raise ValidationFailed(
                    "The %(kind)s %(value)s is already on record %(other)s.",
                    field="identifiers",
                    kind=kind,
                    value=value,
                    other=wanted[(kind, normalised)],
                )
            wanted[(kind, normalised)] = value
        entity = Entity(
            kind=data.kind,
            owner_org_id=owner,
            marking=grants.marking,
            version=1,
            created_by=actor.user_id,
            updated_by=actor.user_id,
        )
        warnings = _apply_entity_fields(entity, data)
        _set_names_and_identifiers(db, entity, name_rows, ident_rows)
        prepared.append((entity, grants, warnings))
    _identifiers_clash(db, actor, wanted)
    _insert_entities(db, [entity for entity, _, _ in prepared])
    grant_rows: list[dict[str, Any]] = []
    term_rows: list[dict[str, Any]] = []
    version_rows: list[dict[str, Any]] = []
    now = utcnow()
    with audit.batched(db):
        for entity, grants, _ in prepared:
            grant_rows += access.grant_rows(
                entity, releasable_to=grants.org_ids, recipients=grants.user_ids
            )
            term_rows += _term_rows("entity", entity.id, entity_names(entity))
            snap = entity_snapshot(db, entity, grants)
            version_rows.append(_version_row(actor, "entity", entity.id, 1, "create", snap, now))
            audit.record_change(db, actor, "create", "registry_entity", entity.id, None, snap)
        _bulk_insert(db, grant_rows, term_rows, version_rows)
    return [(entity, warnings) for entity, _, warnings in prepared]


def _insert_entities(db: Session, entities: list[Entity]) -> None:
    """Insert checked, not yet added entities with their names and identifiers: core inserts
    (one per table, ids returned in order) instead of the unit of work. The objects stay
    outside the session, with their ``id`` set; read them back with ``db.get``."""
    now = utcnow()
    columns = [c for c in Entity.__table__.columns if c.key != "id"]
    rows: list[dict[str, Any]] = []
    for entity in entities:
        entity.created_at = entity.updated_at = now
        row: dict[str, Any] = {}
        for column in columns:
            value = getattr(entity, column.key)
            if value is None and column.default is not None and column.default.is_scalar:
                value = column.default.arg
            row[column.key] = value
        rows.append(row)
    ids = db.scalars(insert(Entity).returning(Entity.id, sort_by_parameter_order=True), rows).all()
    names_rows: list[dict[str, Any]] = []
    ident_rows: list[dict[str, Any]] = []
    for entity, entity_id in zip(entities, ids, strict=True):
        entity.id = entity_id
        names_rows += [
            {"entity_id": entity_id, "name": n.name, "script": n.script, "name_type": n.name_type}
            for n in entity.names
        ]
        ident_rows += [
            {"entity_id": entity_id, "kind": i.kind, "value": i.value, "normalised": i.normalised}
            for i in entity.identifiers
        ]
    if names_rows:
        db.execute(insert(EntityName), names_rows)
    if ident_rows:
        db.execute(insert(EntityIdentifier), ident_rows)


def _identifiers_clash(db: Session, actor: Actor, wanted: dict[tuple[str, str], str]) -> None:
    """:func:`_identifier_clash` for a whole batch."""
    for (kind, normalised), other in identifier_holders(db, actor, wanted).items():
        raise ValidationFailed(
            "The %(kind)s %(value)s is already on record %(other)s.",
            field="identifiers",
            kind=kind,
            value=wanted[(kind, normalised)],
            other=other,
        )


def identifier_holders(
    db: Session, actor: Actor, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(kind, normalised value) → the first visible record holding it, 500 values a query."""
    wanted = set(pairs)
    values = sorted({normalised for _, normalised in wanted})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(values), 500):
        rows = db.execute(
            select(Entity.id, EntityIdentifier.kind, EntityIdentifier.normalised)
            .join(EntityIdentifier, EntityIdentifier.entity_id == Entity.id)
            .where(
                EntityIdentifier.normalised.in_(values[start : start + 500]),
                Entity.merged_into_id.is_(None),
                access.visible_filter(actor, Entity),
            )
            .order_by(Entity.id)
        ).all()
        for other, kind, normalised in rows:
            if (kind, normalised) in wanted:
                found.setdefault((kind, normalised), other)
    return found


def update_entity(
    db: Session, actor: Actor, entity_id: int, data: EntityIn, expected_version: int | None = None
) -> tuple[Entity, list[str]]:
    require_write(actor)
    entity = get_entity(db, actor, entity_id, audit_read=False)
    _require_owner(actor, entity.owner_org_id)
    if expected_version is not None and expected_version != entity.version:
        raise ValidationFailed(
            "Someone else changed this record (now version %(version)s); reload it and try again.",
            field="version",
            version=entity.version,
        )
    if data.kind != entity.kind:
        raise ValidationFailed("The kind of a record cannot change.", field="kind")
    before = entity_snapshot(db, entity)
    grants = resolve_marking(db, actor, data)
    name_rows = _clean_names(data)
    ident_rows = _clean_identifiers(data)
    _identifier_clash(db, actor, ident_rows, entity.id)
    warnings = _apply_entity_fields(entity, data)
    _set_names_and_identifiers(db, entity, name_rows, ident_rows)
    entity.marking = grants.marking
    entity.version += 1
    entity.updated_at = utcnow()
    entity.updated_by = actor.user_id
    db.flush()
    access.set_grants(db, entity, releasable_to=grants.org_ids, recipients=grants.user_ids)
    _reindex(db, "entity", entity.id, entity_names(entity))
    after = entity_snapshot(db, entity, grants)
    save_version(db, actor, "entity", entity.id, entity.version, "update", after)
    audit.record_change(db, actor, "update", "registry_entity", entity.id, before, after)
    return entity, warnings


def get_entity(db: Session, actor: Actor, entity_id: int, *, audit_read: bool = True) -> Entity:
    """One visible entity; a merged one resolves to its survivor.

    A record merged into one the user may not see answers like a missing record, under its
    own id: the survivor's id is not given away.
    """
    entity = access.get_visible(db, actor, Entity, entity_id, audit_read=audit_read)
    hops = 0
    while entity.merged_into_id is not None and hops < 10:
        survivor = db.scalar(
            access.visible(actor, Entity).where(Entity.id == entity.merged_into_id)
        )
        if survivor is None:
            raise NotFound("No %(type)s with id %(id)s.", type="registry_entity", id=entity_id)
        entity = access.get_visible(db, actor, Entity, survivor.id, audit_read=audit_read)
        hops += 1
    return entity


@dataclass(frozen=True)
class EntityFilter:
    kind: str | None = None
    governorate_code: str | None = None
    marking: str | None = None


def list_entities(
    db: Session, actor: Actor, flt: EntityFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[Entity], int]:
    conds: list[ColumnElement[bool]] = [Entity.merged_into_id.is_(None)]
    if flt.kind:
        conds.append(Entity.kind == flt.kind)
    if flt.governorate_code:
        conds.append(Entity.governorate_code == flt.governorate_code)
    if flt.marking:
        conds.append(Entity.marking == flt.marking)
    total = access.count_visible(db, actor, Entity, *conds)
    rows = db.scalars(
        access.visible(actor, Entity)
        .where(*conds)
        .order_by(Entity.updated_at.desc(), Entity.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


@dataclass(frozen=True)
class VersionView:
    version: int
    action: str
    at: datetime
    username: str
    data: str  # JSON, with what the reader may not see taken out


def versions(db: Session, actor: Actor, object_type: str, object_id: int) -> list[VersionView]:
    """A record's history. Snapshots name other records (involvements, a merge survivor):
    those the reader may not see are left out, as everywhere else."""
    if object_type == "entity":
        object_id = get_entity(db, actor, object_id).id
    else:
        get_incident(db, actor, object_id)
    rows = db.scalars(
        select(Version)
        .where(Version.object_type == object_type, Version.object_id == object_id)
        .order_by(Version.version.desc())
    ).all()
    snapshots = [json.loads(v.data) for v in rows]
    named: set[int] = set()
    for snap in snapshots:
        named |= {int(i["entity_id"]) for i in snap.get("involvements", [])}
        if snap.get("merged_into_id"):
            named.add(int(snap["merged_into_id"]))
    visible = _visible_entity_ids(db, actor, named)
    out: list[VersionView] = []
    for v, snap in zip(rows, snapshots, strict=True):
        if "involvements" in snap:
            snap["involvements"] = [
                i for i in snap["involvements"] if int(i["entity_id"]) in visible
            ]
        if snap.get("merged_into_id") and int(snap["merged_into_id"]) not in visible:
            snap["merged_into_id"] = None
        out.append(
            VersionView(
                v.version,
                v.action,
                v.at,
                v.username,
                json.dumps(snap, ensure_ascii=False, sort_keys=True),
            )
        )
    return out


# --- incidents -------------------------------------------------------------------------------------------


def _visible_entity_ids(db: Session, actor: Actor, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        db.scalars(
            select(Entity.id).where(Entity.id.in_(ids), access.visible_filter(actor, Entity))
        )
    )


def _apply_incident_fields(
    db: Session,
    actor: Actor,
    incident: Incident,
    data: IncidentIn,
    attachments: list[attachment_store.Upload] | None = None,
    storage: Path | None = None,
) -> list[str]:
    warnings: list[str] = []
    title = " ".join(data.title.split())
    if not title:
        raise ValidationFailed("The title is required.", field="title")
    if data.event_date > date.today():
        raise ValidationFailed("The incident date is in the future.", field="event_date")
    if data.event_date.year < 1900:
        raise ValidationFailed("The incident date is before 1900.", field="event_date")
    if data.event_time and not _valid_time(data.event_time):
        raise ValidationFailed("The time must be HH:MM (24 hours).", field="event_time")
    if data.event_type or data.sub_event_type:
        taxonomy.check_acled(data.event_type, data.sub_event_type)
    taxonomy.check_gtd(data.attack_type, data.target_type, data.weapon_type)
    if data.fatalities < 0:
        raise ValidationFailed("Fatalities cannot be negative.", field="fatalities")
    if data.injured < 0:
        raise ValidationFailed("Injured cannot be negative.", field="injured")
    if data.geo_precision is not None and data.geo_precision not in (1, 2, 3):
        raise ValidationFailed("Geo-precision must be 1, 2 or 3.", field="geo_precision")
    incident.title = title
    incident.ref = data.ref.strip() or (incident.ref or "")  # an update without a ref keeps it
    incident.event_date = data.event_date
    incident.date_precision = data.date_precision
    incident.event_time = data.event_time.strip()
    incident.event_type, incident.sub_event_type = (
        data.event_type.strip(),
        data.sub_event_type.strip(),
    )
    incident.attack_type, incident.target_type, incident.weapon_type = (
        data.attack_type,
        data.target_type,
        data.weapon_type,
    )
    incident.governorate_code = _check_governorate(data.governorate_code)
    incident.district_id = data.district_id.strip()
    if incident.district_id:
        district = gazetteer.district(incident.district_id)
        if incident.governorate_code and district.governorate_code != incident.governorate_code:
            raise ValidationFailed(
                "The district is not in the governorate given.", field="district_id"
            )
        incident.governorate_code = incident.governorate_code or district.governorate_code
    incident.location_name = data.location_name.strip()
    incident.lat, incident.lon = _check_coordinates(data.lat, data.lon)
    incident.geo_precision = data.geo_precision
    placed = incident.lat is not None and incident.lon is not None and incident.governorate_code
    if placed and not gazetteer.point_in_yemen(incident.lat, incident.lon):  # type: ignore[arg-type]
        warnings.append("The coordinates are outside Yemen but a Yemeni governorate is given.")
    incident.fatalities, incident.injured = data.fatalities, data.injured
    incident.narrative_ar, incident.narrative_en = (
        data.narrative_ar.strip(),
        data.narrative_en.strip(),
    )
    previous = {s.description: s for s in incident.sources} if incident.id else {}
    uploads = {u.index: u for u in (attachments or [])}
    sources = []
    for i, src in enumerate(data.sources):
        if not src.description.strip():
            raise ValidationFailed(
                "A source needs a description.", field=f"sources.{i}.description"
            )
        rel = check_grade(src.reliability, src.credibility, f"sources.{i}")
        row = IncidentSource(
            description=src.description.strip(), reliability=rel, credibility=src.credibility
        )
        kept = previous.get(row.description)
        if kept is not None and kept.attachment_path:  # an edit keeps the document of a kept source
            row.attachment_name, row.attachment_path = kept.attachment_name, kept.attachment_path
            row.attachment_type = kept.attachment_type
        if i in uploads:
            if storage is None:
                raise ValidationFailed(
                    "Attachments cannot be stored here.", field=f"sources.{i}.attachment"
                )
            stored = attachment_store.store(storage, uploads[i])
            row.attachment_name, row.attachment_path, row.attachment_type = (
                stored.name,
                stored.path,
                stored.media_type,
            )
        sources.append(row)
    for index in uploads:
        if index >= len(data.sources):
            raise ValidationFailed(
                "A file was attached to an empty source.", field=f"sources.{index}.attachment"
            )
    incident.sources = sources
    wanted = {inv.entity_id for inv in data.involvements}
    visible = _visible_entity_ids(db, actor, wanted)
    current = {(i.entity_id, i.role): i for i in incident.involvements} if incident.id else {}
    involvements: list[Involvement] = []
    seen: set[tuple[int, str]] = set()
    for i, inv in enumerate(data.involvements):
        taxonomy.check_term("involvement_role", inv.role, field=f"involvements.{i}.role")
        if inv.entity_id not in visible:
            raise ValidationFailed(
                "No record with id %(id)s.", field=f"involvements.{i}.entity_id", id=inv.entity_id
            )
        if (inv.entity_id, inv.role) in seen:
            continue
        seen.add((inv.entity_id, inv.role))
        # an unchanged involvement keeps its row (a new one would collide with it on flush)
        involvements.append(
            current.get((inv.entity_id, inv.role))
            or Involvement(entity_id=inv.entity_id, role=inv.role)
        )
    if incident.id:
        # The editor never saw the involvements of records hidden from them: they stay.
        shown = _visible_entity_ids(db, actor, {i.entity_id for i in incident.involvements})
        involvements += [
            kept
            for kept in incident.involvements
            if kept.entity_id not in shown and (kept.entity_id, kept.role) not in seen
        ]
    incident.involvements = involvements
    return warnings


def _valid_time(value: str) -> bool:
    parts = value.split(":")
    return (
        len(parts) == 2
        and all(p.isdigit() and len(p) == 2 for p in parts)
        and int(parts[0]) < 24
        and int(parts[1]) < 60
    )


def _incident_texts(incident: Incident) -> list[str]:
    return [incident.title, incident.location_name, incident.ref]


def create_incident(
    db: Session,
    actor: Actor,
    data: IncidentIn,
    *,
    attachments: list[attachment_store.Upload] | None = None,
    storage: Path | None = None,
) -> tuple[Incident, list[str]]:
    """A new incident; ``attachments`` are source documents stored under ``storage``."""
    require_write(actor)
    owner = _owner_org(actor)
    grants = resolve_marking(db, actor, data)
    incident = Incident(
        owner_org_id=owner,
        marking=grants.marking,
        version=1,
        created_by=actor.user_id,
        updated_by=actor.user_id,
    )
    warnings = _apply_incident_fields(db, actor, incident, data, attachments, storage)
    db.add(incident)
    db.flush()
    if not incident.ref:
        incident.ref = f"INC-{incident.event_date.year}-{incident.id:06d}"
    access.set_grants(
        db, incident, releasable_to=grants.org_ids, recipients=grants.user_ids, fresh=True
    )
    _reindex(db, "incident", incident.id, _incident_texts(incident), fresh=True)
    snap = incident_snapshot(db, incident, grants)
    save_version(db, actor, "incident", incident.id, 1, "create", snap)
    audit.record_change(db, actor, "create", "registry_incident", incident.id, None, snap)
    return incident, warnings


def create_incidents(
    db: Session, actor: Actor, items: Sequence[IncidentIn]
) -> list[tuple[Incident, list[str]]]:
    """Create many incidents as :func:`create_incident` would one by one (no attachments).

    Same checks, references, grants, search terms, first versions and audit entries, in a few
    statements for the whole batch; all or nothing (see :func:`create_entities`).
    """
    require_write(actor)
    owner = _owner_org(actor)
    marking_cache: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Grants] = {}
    prepared: list[tuple[Incident, Grants, list[str]]] = []
    for data in items:
        key = (data.marking, tuple(data.releasable_to), tuple(data.recipients))
        grants = marking_cache.get(key)
        if grants is None:
            grants = marking_cache[key] = resolve_marking(db, actor, data)
        incident = Incident(
            owner_org_id=owner,
            marking=grants.marking,
            version=1,
            created_by=actor.user_id,
            updated_by=actor.user_id,
        )
        warnings = _apply_incident_fields(db, actor, incident, data, None, None)
        prepared.append((incident, grants, warnings))
    db.add_all([incident for incident, _, _ in prepared])
    db.flush()
    for incident, _, _ in prepared:
        if not incident.ref:
            incident.ref = f"INC-{incident.event_date.year}-{incident.id:06d}"
    db.flush()
    grant_rows: list[dict[str, Any]] = []
    term_rows: list[dict[str, Any]] = []
    version_rows: list[dict[str, Any]] = []
    now = utcnow()
    with audit.batched(db):
        for incident, grants, _ in prepared:
            grant_rows += access.grant_rows(
                incident, releasable_to=grants.org_ids, recipients=grants.user_ids
            )
            term_rows += _term_rows("incident", incident.id, _incident_texts(incident))
            snap = incident_snapshot(db, incident, grants)
            version_rows.append(
                _version_row(actor, "incident", incident.id, 1, "create", snap, now)
            )
            audit.record_change(db, actor, "create", "registry_incident", incident.id, None, snap)
        _bulk_insert(db, grant_rows, term_rows, version_rows)
    return [(incident, warnings) for incident, _, warnings in prepared]


def _bulk_insert(
    db: Session,
    grant_rows: list[dict[str, Any]],
    term_rows: list[dict[str, Any]],
    version_rows: list[dict[str, Any]],
) -> None:
    access.add_grants(db, grant_rows)
    for rows, model in ((term_rows, SearchTerm), (version_rows, Version)):
        if rows:
            db.execute(insert(model), rows)


def update_incident(
    db: Session,
    actor: Actor,
    incident_id: int,
    data: IncidentIn,
    expected_version: int | None = None,
    *,
    attachments: list[attachment_store.Upload] | None = None,
    storage: Path | None = None,
) -> tuple[Incident, list[str]]:
    require_write(actor)
    incident = get_incident(db, actor, incident_id, audit_read=False)
    _require_owner(actor, incident.owner_org_id)
    if expected_version is not None and expected_version != incident.version:
        raise ValidationFailed(
            "Someone else changed this record (now version %(version)s); reload it and try again.",
            field="version",
            version=incident.version,
        )
    before = incident_snapshot(db, incident)
    grants = resolve_marking(db, actor, data)
    warnings = _apply_incident_fields(db, actor, incident, data, attachments, storage)
    incident.marking = grants.marking
    incident.version += 1
    incident.updated_at = utcnow()
    incident.updated_by = actor.user_id
    db.flush()
    access.set_grants(db, incident, releasable_to=grants.org_ids, recipients=grants.user_ids)
    _reindex(db, "incident", incident.id, _incident_texts(incident))
    after = incident_snapshot(db, incident)
    save_version(db, actor, "incident", incident.id, incident.version, "update", after)
    audit.record_change(db, actor, "update", "registry_incident", incident.id, before, after)
    return incident, warnings


def get_incident(
    db: Session, actor: Actor, incident_id: int, *, audit_read: bool = True
) -> Incident:
    return access.get_visible(db, actor, Incident, incident_id, audit_read=audit_read)


@dataclass(frozen=True)
class IncidentFilter:
    governorate_code: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    event_type: str | None = None
    marking: str | None = None
    entity_id: int | None = None
    text: str | None = None


def _incident_conditions(actor: Actor, flt: IncidentFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if flt.governorate_code:
        conds.append(Incident.governorate_code == flt.governorate_code)
    if flt.date_from:
        conds.append(Incident.event_date >= flt.date_from)
    if flt.date_to:
        conds.append(Incident.event_date <= flt.date_to)
    if flt.event_type:
        conds.append(Incident.event_type == flt.event_type)
    if flt.marking:
        conds.append(Incident.marking == flt.marking)
    if flt.entity_id:
        conds.append(
            # only through a record the user may see: a hidden one filters like a missing one
            Incident.id.in_(
                select(Involvement.incident_id)
                .join(Entity, Entity.id == Involvement.entity_id)
                .where(Involvement.entity_id == flt.entity_id, access.visible_filter(actor, Entity))
            )
        )
    if flt.text:
        like = f"%{flt.text.strip()}%"
        conds.append(
            or_(
                Incident.title.ilike(like),
                Incident.ref.ilike(like),
                Incident.location_name.ilike(like),
            )
        )
    return conds


def list_incidents(
    db: Session, actor: Actor, flt: IncidentFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[Incident], int]:
    conds = _incident_conditions(actor, flt)
    total = access.count_visible(db, actor, Incident, *conds)
    rows = db.scalars(
        access.visible(actor, Incident)
        .where(*conds)
        .order_by(Incident.event_date.desc(), Incident.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def visible_involvements(
    db: Session, actor: Actor, incident: Incident
) -> list[tuple[Involvement, Entity]]:
    """The incident's involved entities that the actor may see (others are left out, not named)."""
    ids = {i.entity_id for i in incident.involvements}
    if not ids:
        return []
    entities = {
        e.id: e for e in db.scalars(access.visible(actor, Entity).where(Entity.id.in_(ids)))
    }
    return [(i, entities[i.entity_id]) for i in incident.involvements if i.entity_id in entities]


def incidents_of_entity(
    db: Session, actor: Actor, entity_id: int, *, limit: int = 200
) -> list[tuple[Incident, str]]:
    rows = db.execute(
        select(Incident, Involvement.role)
        .join(Involvement, Involvement.incident_id == Incident.id)
        .where(Involvement.entity_id == entity_id, access.visible_filter(actor, Incident))
        .order_by(Incident.event_date.desc())
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


# --- links -------------------------------------------------------------------------------------------------


def create_link(db: Session, actor: Actor, data: LinkIn) -> Link:
    require_write(actor)
    owner = _owner_org(actor)
    visible = _visible_entity_ids(db, actor, {data.source_id, data.target_id})
    link, grants = _new_link(db, actor, owner, data, visible, {})
    db.add(link)
    db.flush()
    access.set_grants(
        db, link, releasable_to=grants.org_ids, recipients=grants.user_ids, fresh=True
    )
    audit.record_change(db, actor, "create", "registry_link", link.id, None, link_snapshot(link))
    return link


def _new_link(
    db: Session,
    actor: Actor,
    owner: int,
    data: LinkIn,
    visible: set[int],
    marking_cache: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Grants],
) -> tuple[Link, Grants]:
    """A checked, not yet added link (``visible``: the entity ids the writer may see)."""
    if data.source_id == data.target_id:
        raise ValidationFailed("A record cannot be linked to itself.", field="target_id")
    for field, value in (("source_id", data.source_id), ("target_id", data.target_id)):
        if value not in visible:
            raise ValidationFailed("No record with id %(id)s.", field=field, id=value)
    taxonomy.check_term("link_type", data.link_type, field="link_type")
    rel = check_grade(data.reliability, data.credibility, "grade")
    if data.start_date and data.end_date and data.end_date < data.start_date:
        raise ValidationFailed("The link ends before it starts.", field="end_date")
    key = (data.marking, tuple(data.releasable_to), tuple(data.recipients))
    grants = marking_cache.get(key)
    if grants is None:
        grants = marking_cache[key] = resolve_marking(db, actor, data)
    link = Link(
        source_id=data.source_id,
        target_id=data.target_id,
        link_type=data.link_type,
        start_date=data.start_date,
        end_date=data.end_date,
        evidence=data.evidence.strip(),
        reliability=rel,
        credibility=data.credibility,
        owner_org_id=owner,
        marking=grants.marking,
        created_by=actor.user_id,
    )
    return link, grants


def create_links(db: Session, actor: Actor, items: Sequence[LinkIn]) -> list[Link]:
    """Create many links as :func:`create_link` would one by one; all or nothing."""
    require_write(actor)
    owner = _owner_org(actor)
    visible = _visible_entity_ids(
        db, actor, {i.source_id for i in items} | {i.target_id for i in items}
    )
    marking_cache: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Grants] = {}
    prepared: list[tuple[Link, Grants]] = []
    for data in items:
        link, grants = _new_link(db, actor, owner, data, visible, marking_cache)
        prepared.append((link, grants))
    db.add_all([link for link, _ in prepared])
    db.flush()
    grant_rows: list[dict[str, Any]] = []
    with audit.batched(db):
        for link, grants in prepared:
            grant_rows += access.grant_rows(
                link, releasable_to=grants.org_ids, recipients=grants.user_ids
            )
            audit.record_change(
                db, actor, "create", "registry_link", link.id, None, link_snapshot(link)
            )
        access.add_grants(db, grant_rows)
    return [link for link, _ in prepared]


def link_snapshot(link: Link) -> dict[str, Any]:
    return {
        "source_id": link.source_id,
        "target_id": link.target_id,
        "link_type": link.link_type,
        "start_date": _plain(link.start_date),
        "end_date": _plain(link.end_date),
        "evidence": link.evidence,
        "grade": f"{link.reliability}{link.credibility}",
        "marking": link.marking,
    }


def delete_link(db: Session, actor: Actor, link_id: int) -> None:
    require_write(actor)
    link = access.get_visible(db, actor, Link, link_id, audit_read=False)
    if len(_visible_entity_ids(db, actor, {link.source_id, link.target_id})) < 2:
        raise NotFound("No %(type)s with id %(id)s.", type="registry_link", id=link_id)
    _require_owner(actor, link.owner_org_id)
    before = link_snapshot(link)
    access.set_grants(db, link)
    db.delete(link)
    audit.record_change(db, actor, "delete", "registry_link", link_id, before, None)


def links_of(db: Session, actor: Actor, entity_ids: set[int]) -> list[Link]:
    """Visible links touching the given entities whose both ends are visible."""
    if not entity_ids:
        return []
    rows = db.scalars(
        access.visible(actor, Link).where(
            or_(Link.source_id.in_(entity_ids), Link.target_id.in_(entity_ids))
        )
    ).all()
    ends = {r.source_id for r in rows} | {r.target_id for r in rows}
    visible = _visible_entity_ids(db, actor, ends)
    return [r for r in rows if r.source_id in visible and r.target_id in visible]


def neighbourhood(db: Session, actor: Actor, entity_id: int) -> tuple[list[Entity], list[Link]]:
    """An entity, its visible links and the visible entities at their other ends (for the chart)."""
    center = get_entity(db, actor, entity_id, audit_read=False)
    links = links_of(db, actor, {center.id})
    ids = {center.id} | {lk.source_id for lk in links} | {lk.target_id for lk in links}
    entities = list(db.scalars(access.visible(actor, Entity).where(Entity.id.in_(ids))))
    return entities, links


def entities_by_id(db: Session, actor: Actor, ids: set[int]) -> list[Entity]:
    if not ids:
        return []
    return list(db.scalars(access.visible(actor, Entity).where(Entity.id.in_(ids))).all())


def count_entities(db: Session, actor: Actor, kind: str | None = None) -> int:
    conds: list[ColumnElement[bool]] = [Entity.merged_into_id.is_(None)]
    if kind:
        conds.append(Entity.kind == kind)
    return access.count_visible(db, actor, Entity, *conds)


def count_incidents(db: Session, actor: Actor, since: date | None = None) -> int:
    conds: list[ColumnElement[bool]] = []
    if since:
        conds.append(Incident.event_date >= since)
    return access.count_visible(db, actor, Incident, *conds)


def owner_slugs(db: Session, org_ids: set[int]) -> dict[int, str]:
    if not org_ids:
        return {}
    rows = db.execute(
        select(Organisation.id, Organisation.slug).where(Organisation.id.in_(org_ids))
    ).all()
    return {int(r[0]): str(r[1]) for r in rows}


def max_id(db: Session) -> int:
    return int(db.scalar(select(func.max(Entity.id))) or 0)
