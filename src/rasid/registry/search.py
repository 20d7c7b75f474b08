"""One search box across every record the user may see.

1. Identifiers (phone, national ID, passport, plate, MMSI, IMO, call sign, e-mail) match
   exactly after normalisation.
2. Names: the query's cross-script keys (``registry.names``) select candidates through the
   ``registry_search_term`` index — token pairs first (selective even for "Mohammed"), then
   single tokens — restricted in SQL to what the user may see; each candidate's every name is
   then scored token by token and the best name gives the score and the reason.
3. Incidents match on their reference, title and place name the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from rasid.access import service as access
from rasid.core.actor import Actor
from rasid.core.errors import ValidationFailed
from rasid.registry import names, taxonomy
from rasid.registry.models import Entity, EntityIdentifier, Incident, Involvement, SearchTerm

CANDIDATES_PER_TERM = 150  # best-ranked visible candidates scored in full, per pass
INNER_LIMIT = 3000  # ids ranked on the index before the access filter is applied
MAX_CANDIDATES = 300
MIN_SCORE = 0.5
SEARCH_TYPES = ("person", "group", "vehicle", "vessel", "place", "incident")


@dataclass(frozen=True)
class SearchFilter:
    type: str | None = None
    governorate_code: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    marking: str | None = None


@dataclass(frozen=True)
class Hit:
    id: int
    type: str
    names: list[str]
    score: float
    reason: str
    label: str
    marking: str
    matched_name: str = ""
    # what the reason says, as data, for the pages to put into words in either language
    detail: dict[str, object] = field(default_factory=dict)


def _identifier_candidates(query: str) -> list[tuple[str, str]]:
    """Every (kind, normalised value) the query could be, as an identifier."""
    out: list[tuple[str, str]] = []
    if not any(ch.isdigit() for ch in query) and "@" not in query:
        return out  # every identifier but an e-mail address has a digit in it
    for kind in taxonomy.IDENTIFIER_KINDS:
        try:
            out.append((kind, taxonomy.normalise_identifier(kind, query)))
        except ValidationFailed:
            continue
    return out


def _entity_conditions(actor: Actor, flt: SearchFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [
        access.visible_filter(actor, Entity),
        Entity.merged_into_id.is_(None),
    ]
    if flt.type and flt.type != "incident":
        conds.append(Entity.kind == flt.type)
    if flt.governorate_code:
        conds.append(Entity.governorate_code == flt.governorate_code)
    if flt.marking:
        conds.append(Entity.marking == flt.marking)
    if flt.date_from or flt.date_to:
        # An entity is in a date range when one of its incidents is.
        inc = (
            select(Involvement.entity_id)
            .join(Incident, Incident.id == Involvement.incident_id)
            .where(access.visible_filter(actor, Incident))  # hidden incidents' dates stay secret
        )
        if flt.date_from:
            inc = inc.where(Incident.event_date >= flt.date_from)
        if flt.date_to:
            inc = inc.where(Incident.event_date <= flt.date_to)
        conds.append(Entity.id.in_(inc))
    return conds


def _incident_conditions(actor: Actor, flt: SearchFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [access.visible_filter(actor, Incident)]
    if flt.governorate_code:
        conds.append(Incident.governorate_code == flt.governorate_code)
    if flt.marking:
        conds.append(Incident.marking == flt.marking)
    if flt.date_from:
        conds.append(Incident.event_date >= flt.date_from)
    if flt.date_to:
        conds.append(Incident.event_date <= flt.date_to)
    return conds


def _candidate_ids(
    db: Session,
    object_type: str,
    query: str,
    model: type[Entity] | type[Incident],
    conds: list[ColumnElement[bool]],
) -> list[int]:
    token_terms, pair_terms = names.query_terms(query)
    found: list[int] = []
    seen: set[int] = set()

    def take(terms: set[str]) -> None:
        if not terms or len(found) >= MAX_CANDIDATES:
            return
        # The posting lists are counted on the covering term index alone; only the best
        # ranked ids are then joined to the records and their access filter.
        hits = func.count(SearchTerm.term).label("hits")
        ranked = (
            select(SearchTerm.object_id.label("oid"), hits)
            .where(SearchTerm.term.in_(sorted(terms)), SearchTerm.object_type == object_type)
            .group_by(SearchTerm.object_id)
            .order_by(hits.desc(), SearchTerm.object_id)
            .limit(INNER_LIMIT)
            .subquery()
        )
        stmt = (
            select(ranked.c.oid, ranked.c.hits)
            .join(model, model.id == ranked.c.oid)
            .where(*conds)
            .order_by(ranked.c.hits.desc(), ranked.c.oid)
            .limit(CANDIDATES_PER_TERM)
        )
        for object_id, _hits in db.execute(stmt):
            if object_id not in seen:
                seen.add(object_id)
                found.append(int(object_id))

    take(pair_terms)
    if len(found) < CANDIDATES_PER_TERM:
        take(token_terms)
    return found


def search(
    db: Session, actor: Actor, query: str, flt: SearchFilter | None = None, *, limit: int = 20
) -> list[Hit]:
    flt = flt or SearchFilter()
    query = " ".join(query.split())
    if not query:
        raise ValidationFailed("Type something to search for.", field="q")
    if flt.type and flt.type not in SEARCH_TYPES:
        raise ValidationFailed(
            "Unknown record type %(value)s; use one of %(types)s.",
            field="type",
            value=flt.type,
            types=", ".join(SEARCH_TYPES),
        )
    hits: dict[tuple[str, int], Hit] = {}
    if flt.type != "incident":
        for hit in _identifier_hits(db, actor, query, flt):
            hits[(hit.type, hit.id)] = hit
        for hit in _name_hits(db, actor, query, flt):
            key = (hit.type, hit.id)
            if key not in hits:
                hits[key] = hit
    if flt.type in (None, "incident"):
        for hit in _incident_hits(db, actor, query, flt):
            hits[("incident", hit.id)] = hit
    ranked = sorted(hits.values(), key=lambda h: (-h.score, h.type, h.id))
    return ranked[:limit]


def _identifier_hits(db: Session, actor: Actor, query: str, flt: SearchFilter) -> list[Hit]:
    candidates = _identifier_candidates(query)
    if not candidates:
        return []
    out: list[Hit] = []
    conds = _entity_conditions(actor, flt)
    for kind, value in candidates:
        rows = db.scalars(
            select(Entity)
            .join(EntityIdentifier, EntityIdentifier.entity_id == Entity.id)
            .where(EntityIdentifier.kind == kind, EntityIdentifier.normalised == value, *conds)
            .options(selectinload(Entity.names))
            .limit(50)
        ).all()
        for entity in rows:
            out.append(
                Hit(
                    entity.id,
                    entity.kind,
                    _all_names(entity),
                    1.0,
                    f"exact identifier ({kind})",
                    entity.label,
                    entity.marking,
                )
            )
    return out


def _all_names(entity: Entity) -> list[str]:
    out: list[str] = []
    for n in entity.names:
        if n.name not in out:
            out.append(n.name)
    return out


def _name_hits(db: Session, actor: Actor, query: str, flt: SearchFilter) -> list[Hit]:
    conds = _entity_conditions(actor, flt)
    ids = _candidate_ids(db, "entity", query, Entity, conds)
    if not ids:
        return []
    entities = db.scalars(
        select(Entity).where(Entity.id.in_(ids)).options(selectinload(Entity.names))
    ).all()
    q = names.parse(query)
    out: list[Hit] = []
    for entity in entities:
        best: tuple[names.Match, str, str] | None = None
        for n in entity.names:
            m = names.score(q, names.parse(n.name))
            if best is None or m.score > best[0].score:
                best = (m, n.name, n.name_type)
        if best is None or best[0].score < MIN_SCORE:
            continue
        match, name, name_type = best
        script = "Arabic" if names.is_arabic(name) else "Latin"
        reason = f"name '{name}' ({script}, {name_type.replace('_', ' ')}): {match.reason()}"
        out.append(
            Hit(
                entity.id,
                entity.kind,
                _all_names(entity),
                match.score,
                reason,
                entity.label,
                entity.marking,
                name,
                {
                    "name_type": name_type,
                    "matched": len(match.matches),
                    "parts": len(match.matches) + len(match.unmatched_query),
                    "extra": len(match.unmatched_record),
                    "rules": sorted({m.rule for m in match.matches}),
                },
            )
        )
    return out


def _incident_hits(db: Session, actor: Actor, query: str, flt: SearchFilter) -> list[Hit]:
    conds = _incident_conditions(actor, flt)
    out: list[Hit] = []
    exact = db.scalars(select(Incident).where(Incident.ref == query, *conds).limit(5)).all()
    for inc in exact:
        out.append(
            Hit(inc.id, "incident", [inc.title], 1.0, "exact reference", inc.title, inc.marking)
        )
    ids = _candidate_ids(db, "incident", query, Incident, conds)
    if not ids:
        return out
    q = names.parse(query)
    for inc in db.scalars(select(Incident).where(Incident.id.in_(ids))).all():
        best = max(
            (names.score(q, names.parse(text)) for text in (inc.title, inc.location_name) if text),
            key=lambda m: m.score,
            default=None,
        )
        if best is None:
            continue
        # Titles are long: judge by how much of the query is found in them. Ranked a little
        # below an equally good name match.
        value = round(0.95 * sum(m.similarity for m in best.matches) / max(1, len(q.tokens)), 4)
        if value < MIN_SCORE:
            continue
        out.append(
            Hit(
                inc.id,
                "incident",
                [inc.title],
                value,
                f"title or place: {len(best.matches)} of {len(q.tokens)} words",
                inc.title,
                inc.marking,
            )
        )
    return out
