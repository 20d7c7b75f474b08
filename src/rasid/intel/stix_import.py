"""STIX 2.1 import: bundles from files, TAXII clients and partner servers.

What becomes what (the reverse of :mod:`rasid.intel.stix`):

* ``report`` → an intel report (``name`` → title; the Rasid ``x_rasid_summary`` /
  ``x_rasid_body_ar`` / ``x_rasid_body_en`` when present, otherwise ``description`` goes to
  the Arabic or English body by its script; ``x_rasid_admiralty`` → grade, else
  ``confidence`` back through the Appendix A Admiralty scale with reliability F);
  ``object_refs`` to imported records become links, to SCOs and simple indicator patterns
  become observables, and ``x_rasid_observables`` come back as they were;
* ``identity`` (``individual``) → person, ``threat-actor``/``intrusion-set`` → group,
  ``infrastructure`` with ``x_rasid_kind`` vessel or vehicle → that kind, ``location`` →
  place, ``incident`` → incident; ``relationship`` between two imported entities →
  registry link (``x_rasid_link_type`` or ``associate_of``);
* marking-definitions, extension-definitions, organisations and the STIX objects Rasid has
  no record for are counted as ``skipped``, never silently lost.

Markings: the OASIS TLP 2.0 and TLP 1.0 marking-definition ids, or TLP marking-definitions
carried in the bundle; any other marking reference is an error naming the object. An object
without a marking is imported as TLP:AMBER (seen by the importing organisation only).

Idempotence: each import records (owner organisation, STIX id, ``modified``) in
:class:`~rasid.intel.models.StixOrigin`; the same id and ``modified`` again changes nothing,
a newer ``modified`` updates the record (a new version), an older one is ignored.

Strict mode (files, TAXII POST): the whole bundle is checked before anything is written,
and dangling references refuse it. Peer mode (federation): each object is imported on its
own savepoint; an object that cannot be imported is refused with its reason and counted,
and references to objects the peer did not send are dropped and counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, RED
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import savepoint
from rasid.core.errors import RasidError, ValidationFailed
from rasid.identity.models import Organisation
from rasid.intel import service, stix
from rasid.intel.models import StixOrigin
from rasid.intel.schemas import ObservableIn, ReportIn, ReportLinkIn
from rasid.registry import service as registry
from rasid.registry import taxonomy
from rasid.registry.models import Entity
from rasid.registry.names import is_arabic
from rasid.registry.schemas import EntityIn, IdentifierIn, IncidentIn, LinkIn, NameIn

TLP1_MARKINGS: dict[str, str] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": RED,
}
KNOWN_MARKINGS: dict[str, str] = {
    **{ref: marking for marking, (ref, _) in stix.TLP2_MARKINGS.items()},
    **TLP1_MARKINGS,
}
_TLP_WORDS = {
    "white": CLEAR,
    "clear": CLEAR,
    "green": GREEN,
    "amber": AMBER,
    "amber+strict": AMBER_STRICT,
    "red": RED,
}
_RESTRICTION = [CLEAR, GREEN, AMBER, AMBER_STRICT, RED]
DEFAULT_MARKING = AMBER

_ID = re.compile(
    r"^[a-z][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_SCO_TYPES = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file"})
_SKIPPED_TYPES = frozenset(
    {"marking-definition", "extension-definition", "language-content", "note", "opinion"}
)
_ENTITY_TYPES = frozenset(
    {"identity", "threat-actor", "intrusion-set", "infrastructure", "location"}
)
_PATTERN = re.compile(
    r"^\[\s*(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value\s*=\s*'([^']+)'\s*\]$"
    r"|^\[\s*file:hashes\.'?(SHA-256|SHA-1|MD5)'?\s*=\s*'([0-9A-Fa-f]+)'\s*\]$"
)
_SCO_KIND = {
    "ipv4-addr": "ip",
    "ipv6-addr": "ip",
    "domain-name": "domain",
    "url": "url",
    "email-addr": "email",
}
_HASH_KIND = {"SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5"}
_CONFIDENCE_CREDIBILITY = [(90, 1), (70, 2), (50, 3), (30, 4), (10, 5)]
_REF_FIELDS = ("created_by_ref", "object_refs", "source_ref", "target_ref")


@dataclass(frozen=True)
class Options:
    """How an import runs.

    ``release_to``: on a peer pull, the local organisation everything is released to (under
    this server's own agreements from the owner organisation). ``strict``: check the whole
    bundle first and refuse it on any error (files, TAXII POST); otherwise each object is
    imported or refused on its own (peers).
    """

    source: str = "file"
    origin_server: str = ""
    release_to: Organisation | None = None
    strict: bool = True


@dataclass
class Result:
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    matched: int = 0
    skipped: int = 0
    refused: int = 0
    dropped_refs: int = 0
    errors: list[str] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)  # STIX id → created|updated|…

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "matched": self.matched,
            "skipped": self.skipped,
            "refused": self.refused,
            "dropped_refs": self.dropped_refs,
            "errors": self.errors,
            "report_ids": self.report_ids,
        }

    def add(self, other: Result) -> None:
        for name in (
            "received",
            "created",
            "updated",
            "unchanged",
            "matched",
            "skipped",
            "refused",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.dropped_refs += other.dropped_refs
        self.errors.extend(other.errors)
        self.report_ids.extend(other.report_ids)
        self.outcomes.update(other.outcomes)


@dataclass
class Context:
    """What an import has seen so far (kept across the pages of one peer pull)."""

    scos: dict[str, dict[str, Any]] = field(default_factory=dict)
    markings: dict[str, str] = field(default_factory=dict)  # bundle TLP definitions
    orgs: dict[str, str] = field(default_factory=dict)  # identity id → organisation name


# --- checks ----------------------------------------------------------------------------------------


def _bad(message: str, at: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(message, field=at, **params)


def parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise _bad("%(where)s is not a STIX timestamp.", where, where=where)
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _bad("%(where)s is not a STIX timestamp.", where, where=where) from None
    if parsed.tzinfo is None:
        raise _bad("%(where)s is not a STIX timestamp.", where, where=where)
    return parsed.astimezone(UTC)


def version_key(value: datetime) -> str:
    """``modified`` as a fixed-width string that sorts in time order."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def bundle_objects(data: Any) -> list[dict[str, Any]]:
    """The objects of a STIX bundle, each checked for the properties every object needs."""
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise _bad('This is not a STIX bundle (no "type": "bundle").', "type")
    objects = data.get("objects", [])
    if not isinstance(objects, list):
        raise _bad("The bundle's objects are not a list.", "objects")
    return check_objects(objects)


def check_objects(objects: list[Any], prefix: str = "objects") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, obj in enumerate(objects):
        where = f"{prefix}.{i}"
        if not isinstance(obj, dict):
            raise _bad("%(where)s is not a JSON object.", where, where=where)
        oid = obj.get("id")
        if not isinstance(oid, str) or not _ID.match(oid):
            raise _bad("%(where)s has no valid STIX id.", f"{where}.id", where=where)
        otype = obj.get("type")
        if not isinstance(otype, str) or not oid.startswith(f"{otype}--"):
            raise _bad(
                "%(where)s: the type does not match the id %(id)s.",
                f"{where}.type",
                where=where,
                id=oid,
            )
        if otype not in _SCO_TYPES and otype != "marking-definition" and otype != "bundle":
            if "created" in obj:
                parse_time(obj.get("created"), f"{where}.created")
            parse_time(obj.get("modified", obj.get("created")), f"{where}.modified")
        refs = obj.get("object_marking_refs", [])
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise _bad(
                "%(where)s is not a list of ids.", f"{where}.object_marking_refs", where=where
            )
        for ref_field in ("object_refs",):
            value = obj.get(ref_field)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(r, str) for r in value)
            ):
                raise _bad("%(where)s is not a list of ids.", f"{where}.{ref_field}", where=where)
        out.append(obj)
    return out


def _definition_marking(obj: dict[str, Any]) -> str | None:
    """The TLP level of a marking-definition carried in a bundle, if it is one."""
    if obj.get("id") in KNOWN_MARKINGS:
        return KNOWN_MARKINGS[str(obj["id"])]
    definition = obj.get("definition")
    if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
        return _TLP_WORDS.get(str(definition.get("tlp", "")).lower())
    for ext in (obj.get("extensions") or {}).values():
        if isinstance(ext, dict) and "tlp_2_0" in ext:
            return _TLP_WORDS.get(str(ext["tlp_2_0"]).lower())
    name = str(obj.get("name", ""))
    if name.upper().startswith("TLP:"):
        return _TLP_WORDS.get(name[4:].lower())
    return None


def marking_of(obj: dict[str, Any], ctx: Context, where: str) -> str:
    levels: list[str] = []
    for ref in obj.get("object_marking_refs", []):
        level = KNOWN_MARKINGS.get(ref) or ctx.markings.get(ref)
        if level is None:
            if ref in ctx.markings:
                continue
            raise _bad(
                "%(where)s: unknown marking definition %(ref)s.",
                f"{where}.object_marking_refs",
                where=where,
                ref=ref,
            )
        levels.append(level)
    if not levels:
        return DEFAULT_MARKING
    return max(levels, key=_RESTRICTION.index)


def _refs(obj: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in _REF_FIELDS:
        value = obj.get(name)
        if isinstance(value, str):
            out.append((name, value))
        elif isinstance(value, list):
            out.extend((name, v) for v in value if isinstance(v, str))
    return out


# --- the import ----------------------------------------------------------------------------------------


def _origin(db: Session, owner: int, stix_id: str) -> StixOrigin | None:
    return db.scalar(
        select(StixOrigin).where(StixOrigin.owner_org_id == owner, StixOrigin.stix_id == stix_id)
    )


def origins(db: Session, owner: int, ids: Iterable[str]) -> dict[str, StixOrigin]:
    """The earlier imports of these STIX ids by ``owner``, 500 ids a query."""
    wanted = list(set(ids))
    found: dict[str, StixOrigin] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in db.scalars(
            select(StixOrigin).where(
                StixOrigin.owner_org_id == owner, StixOrigin.stix_id.in_(chunk)
            )
        ):
            found[row.stix_id] = row
    return found


class _Importer:
    def __init__(
        self, db: Session, actor: Actor, options: Options, ctx: Context, result: Result
    ) -> None:
        if actor.org_id is None:
            raise ValidationFailed(
                "Records must belong to an organisation: use --as USERNAME.", field="owner_org"
            )
        self.db = db
        self.actor = actor
        self.owner = actor.org_id
        self.options = options
        self.ctx = ctx
        self.result = result
        self.release_slug = options.release_to.slug if options.release_to else None
        # per batch: STIX id → its earlier import (None: none), agreements already found
        self.origins: dict[str, StixOrigin | None] = {}
        self.agreements: set[tuple[str, str]] = set()

    def prefetch(self, ids: Iterable[str]) -> None:
        """Look up the earlier imports of a whole batch at once (instead of one by one)."""
        wanted = {i for i in ids if i not in self.origins}
        found = origins(self.db, self.owner, wanted) if wanted else {}
        for stix_id in wanted:
            self.origins[stix_id] = found.get(stix_id)

    def lookup(self, stix_id: str) -> StixOrigin | None:
        if stix_id not in self.origins:
            self.origins[stix_id] = _origin(self.db, self.owner, stix_id)
        return self.origins[stix_id]

    def forget(self, stix_id: str) -> None:
        """After a refused object (its savepoint rolled back): look it up again if needed."""
        self.origins.pop(stix_id, None)

    # marking and release of one record
    def marking_fields(self, marking: str, record_type: str, stix_id: str) -> dict[str, Any]:
        target = self.options.release_to
        if target is None:
            return {"marking": marking}
        if marking in service.NEVER_RELEASED:
            raise ValidationFailed(
                "%(id)s is %(marking)s, which never leaves its server; refused.",
                field="object_marking_refs",
                id=stix_id,
                marking=marking,
            )
        key = (marking, record_type)
        if key not in self.agreements and (
            service.find_agreement(self.db, self.owner, target.id, marking, record_type) is None
        ):
            owner_slug = service.org_slugs(self.db, {self.owner}).get(self.owner, "")
            raise ValidationFailed(
                "No active sharing agreement on this server lets %(owner)s share %(marking)s "
                "%(type)s records with %(org)s.",
                field="agreement",
                owner=owner_slug,
                marking=marking,
                type=record_type,
                org=target.slug,
            )
        self.agreements.add(key)
        return {"marking": marking, "releasable_to": [target.slug] if marking == AMBER else []}

    def origin_row(self, obj: dict[str, Any], modified: str) -> tuple[StixOrigin | None, bool]:
        """The earlier import of this STIX id, and whether this version is new."""
        row = self.lookup(obj["id"])
        return row, row is None or modified > row.stix_modified

    def remember(
        self, row: StixOrigin | None, obj: dict[str, Any], modified: str, object_type: str, oid: int
    ) -> None:
        origin_org = self.ctx.orgs.get(str(obj.get("created_by_ref", "")), "")
        if row is None:
            new = StixOrigin(
                owner_org_id=self.owner,
                stix_id=obj["id"],
                stix_modified=modified,
                object_type=object_type,
                object_id=oid,
                source=self.options.source,
                origin_server=self.options.origin_server,
                origin_org=origin_org,
            )
            self.db.add(new)
            self.origins[obj["id"]] = new
            self.result.created += 1
            self.result.outcomes[obj["id"]] = "created"
        else:
            row.stix_modified = modified
            row.object_id = oid
            row.updated_at = datetime.now(UTC)
            if origin_org:
                row.origin_org = origin_org
            self.result.updated += 1
            self.result.outcomes[obj["id"]] = "updated"

    def owns_entity(self, entity_id: int) -> bool:
        entity = self.db.get(Entity, entity_id)
        return entity is not None and entity.owner_org_id == self.owner

    def resolve(self, stix_id: str) -> StixOrigin | None:
        return self.lookup(stix_id)

    # one object
    def entity_data(self, obj: dict[str, Any], kind: str, where: str) -> EntityIn:
        return EntityIn(
            kind=kind,
            names=_names(obj),
            identifiers=_identifiers(obj),
            notes=str(obj.get("description", "")),
            group_kind=str(obj.get("x_rasid_group_kind", "")) if kind == "group" else "",
            governorate_code=str(obj.get("x_rasid_governorate") or "") if kind == "place" else "",
            lat=_float(obj.get("latitude")) if kind == "place" else None,
            lon=_float(obj.get("longitude")) if kind == "place" else None,
            **self.marking_fields(marking_of(obj, self.ctx, where), "entity", obj["id"]),
        )

    def entity(self, obj: dict[str, Any], kind: str, where: str) -> None:
        modified = version_key(
            parse_time(obj.get("modified", obj.get("created")), f"{where}.modified")
        )
        row, new = self.origin_row(obj, modified)
        if not new:
            self.unchanged(obj)
            return
        data = self.entity_data(obj, kind, where)
        if row is None:
            same = registry.find_by_identifiers(self.db, self.actor, data)
            if same is not None:  # a record we already hold: link to it, do not duplicate
                self.remember(row, obj, modified, "registry_entity", same)
                self.result.created -= 1
                self.result.matched += 1
                self.result.outcomes[obj["id"]] = "matched"
                return
            entity, _ = registry.create_entity(self.db, self.actor, data)
        elif row.object_id is not None and not self.owns_entity(row.object_id):
            row.stix_modified = modified  # matched to another organisation's record
            self.unchanged(obj)
            return
        else:
            entity, _ = registry.update_entity(self.db, self.actor, row.object_id, data)
        self.remember(row, obj, modified, "registry_entity", entity.id)

    def incident_data(self, obj: dict[str, Any], where: str) -> IncidentIn:
        description = str(obj.get("description", ""))
        narrative_ar, narrative_en = _split_script(description)
        return IncidentIn(
            title=str(obj.get("name", ""))[:300] or obj["id"],
            event_date=_event_date(obj, where),
            governorate_code=str(obj.get("x_rasid_governorate") or ""),
            narrative_ar=narrative_ar,
            narrative_en=narrative_en,
            **self.marking_fields(marking_of(obj, self.ctx, where), "incident", obj["id"]),
        )

    def incident(self, obj: dict[str, Any], where: str) -> None:
        modified = version_key(
            parse_time(obj.get("modified", obj.get("created")), f"{where}.modified")
        )
        row, new = self.origin_row(obj, modified)
        if not new:
            self.unchanged(obj)
            return
        data = self.incident_data(obj, where)
        if row is None:
            incident, _ = registry.create_incident(self.db, self.actor, data)
        else:
            incident, _ = registry.update_incident(self.db, self.actor, row.object_id, data)
        self.remember(row, obj, modified, "registry_incident", incident.id)

    def relationship(self, obj: dict[str, Any], where: str) -> None:
        modified = version_key(
            parse_time(obj.get("modified", obj.get("created")), f"{where}.modified")
        )
        row, new = self.origin_row(obj, modified)
        if not new:
            self.unchanged(obj)
            return
        source = self.resolve(str(obj.get("source_ref", "")))
        target = self.resolve(str(obj.get("target_ref", "")))
        if (
            source is None
            or target is None
            or source.object_type != "registry_entity"
            or target.object_type != "registry_entity"
        ):
            self.skip(obj)  # only entity-to-entity relationships have a registry counterpart
            return
        if row is not None:
            self.unchanged(obj)  # a registry link is not versioned; the first import stands
            return
        link = registry.create_link(
            self.db, self.actor, self.link_data(obj, where, source.object_id, target.object_id)
        )
        self.remember(row, obj, modified, "registry_link", link.id)

    def link_data(self, obj: dict[str, Any], where: str, source_id: int, target_id: int) -> LinkIn:
        link_type = str(obj.get("x_rasid_link_type") or "associate_of")
        if link_type not in taxonomy.LINK_TYPES:
            link_type = "associate_of"
        grade = str(obj.get("x_rasid_admiralty") or "F6")
        return LinkIn(
            source_id=source_id,
            target_id=target_id,
            link_type=link_type,
            evidence=str(obj.get("description", "")),
            reliability=grade[:1] if grade[:1] in "ABCDEF" else "F",
            credibility=int(grade[1:]) if grade[1:].isdigit() else 6,
            **self.marking_fields(marking_of(obj, self.ctx, where), "link", obj["id"]),
        )

    def report(self, obj: dict[str, Any], where: str) -> None:
        modified = version_key(
            parse_time(obj.get("modified", obj.get("created")), f"{where}.modified")
        )
        row, new = self.origin_row(obj, modified)
        if not new:
            self.unchanged(obj)
            if row is not None:
                self.result.report_ids.append(row.object_id)
            return
        links: list[ReportLinkIn] = []
        observables: list[ObservableIn] = []
        for ref in obj.get("object_refs", []):
            if ref in self.ctx.scos:
                obs = _observable(self.ctx.scos[ref])
                if obs is not None:
                    observables.append(obs)
                continue
            origin = self.resolve(ref)
            if origin is not None and origin.object_type in (
                "registry_entity",
                "registry_incident",
            ):
                links.append(
                    ReportLinkIn(object_type=origin.object_type, object_id=origin.object_id)
                )
        for item in obj.get("x_rasid_observables") or []:
            if isinstance(item, dict) and item.get("kind") and item.get("value"):
                observables.append(ObservableIn(kind=item["kind"], value=str(item["value"])))
        reliability, credibility, scheme = _grade(obj)
        summary = str(obj.get("x_rasid_summary") or "")
        body_ar = str(obj.get("x_rasid_body_ar") or "")
        body_en = str(obj.get("x_rasid_body_en") or "")
        if not (summary or body_ar or body_en):
            body_ar, body_en = _split_script(str(obj.get("description", "")))
        if not (summary or body_ar or body_en):
            summary = str(obj.get("name", ""))
        marking = marking_of(obj, self.ctx, where)
        self.marking_fields(marking, "report", obj["id"])  # refuses what may not come in
        data = ReportIn(
            title=str(obj.get("name", ""))[:300],
            summary=summary,
            body_ar=body_ar,
            body_en=body_en,
            grading_scheme=scheme,
            reliability=reliability,
            credibility=credibility,
            links=_unique_links(links),
            observables=observables,
            marking=marking,
        )
        report = service.import_report(
            self.db,
            self.actor,
            data,
            existing_id=row.object_id if row is not None else None,
            release_to=self.options.release_to,
        )
        self.remember(row, obj, modified, "intel_report", report.id)
        self.result.report_ids.append(report.id)

    def unchanged(self, obj: dict[str, Any]) -> None:
        self.result.unchanged += 1
        self.result.outcomes[obj["id"]] = "unchanged"

    def skip(self, obj: dict[str, Any]) -> None:
        self.result.skipped += 1
        self.result.outcomes[obj["id"]] = "skipped"

    def one(self, obj: dict[str, Any], where: str) -> None:
        kind = entity_kind(obj)
        otype = obj["type"]
        if kind is not None:
            self.entity(obj, kind, where)
        elif otype == "incident":
            self.incident(obj, where)
        elif otype == "relationship":
            self.relationship(obj, where)
        elif otype == "report":
            self.report(obj, where)
        else:
            self.skip(obj)


def entity_kind(obj: dict[str, Any]) -> str | None:
    """The registry kind a STIX object becomes, or None when it is not a registry entity."""
    otype = obj["type"]
    if otype == "identity" and obj.get("identity_class") == "individual":
        return "person"
    if otype in ("threat-actor", "intrusion-set"):
        return "group"
    if otype == "infrastructure" and obj.get("x_rasid_kind") in ("vessel", "vehicle"):
        return str(obj["x_rasid_kind"])
    if otype == "location":
        return "place"
    return None


def _bulk_entities(
    db: Session, importer: _Importer, indexed: list[tuple[int, dict[str, Any]]]
) -> set[str]:
    """Create the batch's plainly new entities together; returns the STIX ids it handled.

    A plainly new entity: never imported before, its record data and marking acceptable, no
    identifier already on a visible record, and no identifier shared with another entity of
    the batch. Those are created by :func:`registry.create_entities` in one savepoint, exactly
    as the one-by-one path would create them; everything else (updates, matches, refusals,
    and the whole batch if the bulk insert fails) is left to that path.
    """
    candidates: list[tuple[dict[str, Any], str, EntityIn]] = []
    keys_seen: dict[tuple[str, str], int] = {}
    for i, obj in indexed:
        kind = entity_kind(obj)
        if kind is None:
            continue
        where = f"objects.{i}"
        try:
            modified = version_key(
                parse_time(obj.get("modified", obj.get("created")), f"{where}.modified")
            )
            row, new = importer.origin_row(obj, modified)
            keys = registry.identifier_keys(
                EntityIn(kind=kind, names=[], identifiers=_identifiers(obj))
            )
        except (RasidError, ValueError):
            continue
        for key in keys:
            keys_seen[key] = keys_seen.get(key, 0) + 1
        if row is not None or not new:
            keys_seen.update({key: 2 for key in keys})  # an update: keep the order of events
            continue
        try:
            data = importer.entity_data(obj, kind, where)
        except (RasidError, ValueError):
            continue
        candidates.append((obj, modified, data))
    held = registry.identifier_holders(db, importer.actor, keys_seen)  # matches, not new
    chosen = [
        (obj, modified, data)
        for obj, modified, data in candidates
        if all(keys_seen[key] == 1 and key not in held for key in registry.identifier_keys(data))
    ]
    return _create_in_bulk(
        db,
        importer,
        chosen,
        "registry_entity",
        lambda items: [e.id for e, _ in registry.create_entities(db, importer.actor, items)],
    )


def _create_in_bulk(
    db: Session,
    importer: _Importer,
    chosen: list[tuple[dict[str, Any], str, Any]],
    object_type: str,
    create: Callable[[list[Any]], list[int]],
) -> set[str]:
    """Create the chosen records together in one savepoint and remember their origins; if
    the bulk insert refuses anything, undo it (and its audit entries) and leave all of them
    to the one-by-one path. Returns the STIX ids handled."""
    if not chosen:
        return set()
    mark = audit.batch_mark(db)
    try:
        with savepoint(db):
            ids = create([data for _, _, data in chosen])
    except RasidError:
        audit.batch_discard(db, mark)
        return set()
    for (obj, modified, _), record_id in zip(chosen, ids, strict=True):
        importer.remember(None, obj, modified, object_type, record_id)
    return {obj["id"] for obj, _, _ in chosen}


def _new_version(importer: _Importer, obj: dict[str, Any], where: str) -> str | None:
    """``modified`` of an object never imported before, else None (left to the one-by-one path)."""
    try:
        modified = version_key(
            parse_time(obj.get("modified", obj.get("created")), f"{where}.modified")
        )
    except RasidError:
        return None
    row, new = importer.origin_row(obj, modified)
    return modified if row is None and new else None


def _bulk_incidents(
    db: Session, importer: _Importer, indexed: list[tuple[int, dict[str, Any]]]
) -> set[str]:
    """Create the batch's new incidents together (see :func:`_bulk_entities`)."""
    chosen: list[tuple[dict[str, Any], str, IncidentIn]] = []
    for i, obj in indexed:
        if obj["type"] != "incident":
            continue
        modified = _new_version(importer, obj, f"objects.{i}")
        if modified is None:
            continue
        try:
            chosen.append((obj, modified, importer.incident_data(obj, f"objects.{i}")))
        except (RasidError, ValueError):
            continue
    return _create_in_bulk(
        db,
        importer,
        chosen,
        "registry_incident",
        lambda items: [i.id for i, _ in registry.create_incidents(db, importer.actor, items)],
    )


def _bulk_links(
    db: Session, importer: _Importer, indexed: list[tuple[int, dict[str, Any]]]
) -> set[str]:
    """Create the batch's new entity-to-entity relationships together."""
    chosen: list[tuple[dict[str, Any], str, LinkIn]] = []
    for i, obj in indexed:
        if obj["type"] != "relationship":
            continue
        modified = _new_version(importer, obj, f"objects.{i}")
        if modified is None:
            continue
        source = importer.resolve(str(obj.get("source_ref", "")))
        target = importer.resolve(str(obj.get("target_ref", "")))
        if (
            source is None
            or target is None
            or source.object_type != "registry_entity"
            or target.object_type != "registry_entity"
            or source.object_id is None
            or target.object_id is None
        ):
            continue
        try:
            data = importer.link_data(obj, f"objects.{i}", source.object_id, target.object_id)
        except (RasidError, ValueError):
            continue
        chosen.append((obj, modified, data))
    return _create_in_bulk(
        db,
        importer,
        chosen,
        "registry_link",
        lambda items: [link.id for link in registry.create_links(db, importer.actor, items)],
    )


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _split_script(text: str) -> tuple[str, str]:
    """Paragraphs in Arabic script to the Arabic body, the rest to the English one."""
    arabic: list[str] = []
    other: list[str] = []
    for para in (p.strip() for p in text.split("\n\n")):
        if para:
            (arabic if is_arabic(para) else other).append(para)
    return "\n\n".join(arabic), "\n\n".join(other)


def _names(obj: dict[str, Any]) -> list[NameIn]:
    out: list[NameIn] = []
    for item in obj.get("x_rasid_names") or []:
        if isinstance(item, dict) and item.get("name"):
            name_type = item.get("name_type", "alias")
            if name_type not in ("as_written", "latin", "alias", "kunya"):
                name_type = "alias"
            out.append(NameIn(name=str(item["name"]), name_type=name_type))
    if not out:
        if obj.get("x_rasid_name_ar"):
            out.append(NameIn(name=str(obj["x_rasid_name_ar"]), name_type="as_written"))
        if obj.get("name"):
            out.append(NameIn(name=str(obj["name"]), name_type="latin"))
        for alias in obj.get("aliases") or []:
            if isinstance(alias, str):
                out.append(NameIn(name=alias, name_type="alias"))
    return out


def _identifiers(obj: dict[str, Any]) -> list[IdentifierIn]:
    return [
        IdentifierIn(kind=str(i["kind"]), value=str(i["value"]))
        for i in obj.get("x_rasid_identifiers") or []
        if isinstance(i, dict) and i.get("kind") and i.get("value")
    ]


def _event_date(obj: dict[str, Any], where: str) -> date:
    text = obj.get("x_rasid_event_date")
    if isinstance(text, str):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _bad(
                "%(where)s is not a date.", f"{where}.x_rasid_event_date", where=where
            ) from None
    for name in ("first_seen", "created", "modified"):
        if name in obj:
            return parse_time(obj[name], f"{where}.{name}").date()
    return datetime.now(UTC).date()


def _grade(obj: dict[str, Any]) -> tuple[str, int, str]:
    scheme = str(obj.get("x_rasid_grading_scheme") or "admiralty")
    if scheme not in ("admiralty", "europol"):
        scheme = "admiralty"
    grade = obj.get("x_rasid_admiralty")
    if isinstance(grade, str) and len(grade) >= 2 and grade[1:].isdigit():
        return grade[0].upper(), int(grade[1:]), scheme
    confidence = obj.get("confidence")
    if isinstance(confidence, int):
        best = min(_CONFIDENCE_CREDIBILITY, key=lambda pair: abs(pair[0] - confidence))
        return "F", best[1], "admiralty"
    return "F", 6, "admiralty"


def _observable(sco: dict[str, Any]) -> ObservableIn | None:
    otype = sco.get("type")
    if otype in _SCO_KIND and sco.get("value"):
        return ObservableIn(kind=_SCO_KIND[str(otype)], value=str(sco["value"]))
    if otype == "file":
        for name, value in (sco.get("hashes") or {}).items():
            kind = _HASH_KIND.get(str(name).upper())
            if kind:
                return ObservableIn(kind=kind, value=str(value))
    if otype == "indicator" and isinstance(sco.get("pattern"), str):
        match = _PATTERN.match(sco["pattern"].strip())
        if match:
            if match.group(1):
                return ObservableIn(kind=_SCO_KIND[match.group(1)], value=match.group(2))
            return ObservableIn(kind=_HASH_KIND[match.group(3)], value=match.group(4))
    return None


def _unique_links(links: list[ReportLinkIn]) -> list[ReportLinkIn]:
    seen: set[tuple[str, int]] = set()
    out: list[ReportLinkIn] = []
    for link in links:
        key = (link.object_type, link.object_id)
        if key not in seen:
            seen.add(key)
            out.append(link)
    return out


_ORDER = {"relationship": 2, "report": 3}


def import_objects(
    db: Session,
    actor: Actor,
    objects: list[dict[str, Any]],
    options: Options,
    ctx: Context | None = None,
) -> Result:
    """Import checked STIX objects (see :func:`check_objects`) as ``actor``'s organisation.

    Records are written in dependency order: entities and incidents, then relationships,
    then reports. In strict mode every error refuses the whole batch (raised, nothing
    written); otherwise each object is refused on its own and counted.
    """
    ctx = ctx or Context()
    result = Result(received=len(objects))
    importer = _Importer(db, actor, options, ctx, result)
    for obj in objects:
        otype = obj["type"]
        if otype == "marking-definition":
            level = _definition_marking(obj)
            if level is not None:
                ctx.markings[obj["id"]] = level
        elif otype == "identity" and obj.get("identity_class") != "individual":
            ctx.orgs[obj["id"]] = str(obj.get("name", ""))
        if otype in _SCO_TYPES or otype == "indicator":
            ctx.scos[obj["id"]] = obj
    present = {o["id"] for o in objects} | set(ctx.scos) | set(ctx.markings) | set(ctx.orgs)
    wanted = {ref for o in objects for _, ref in _refs(o)} - present
    importer.prefetch({o["id"] for o in objects} | wanted)
    known = {ref for ref in wanted if importer.origins.get(ref) is not None}
    indexed = list(enumerate(objects))
    for i, obj in indexed:
        for name, ref in _refs(obj):
            if ref in present or ref in known:
                continue
            if name == "created_by_ref":
                continue  # provenance only
            if options.strict:
                raise _bad(
                    "objects.%(index)s (%(id)s): %(ref_field)s names %(ref)s, which is neither in "
                    "the bundle nor imported before.",
                    f"objects.{i}.{name}",
                    index=i,
                    id=obj["id"],
                    ref_field=name,
                    ref=ref,
                )
            result.dropped_refs += 1
    indexed.sort(key=lambda pair: (_ORDER.get(pair[1]["type"], 1), pair[0]))
    with audit.batched(db):  # one entry per record, written together at the end of the batch
        _import_sorted(db, importer, indexed, options, ctx, result)
    return result


def _import_sorted(
    db: Session,
    importer: _Importer,
    indexed: list[tuple[int, dict[str, Any]]],
    options: Options,
    ctx: Context,
    result: Result,
) -> None:
    done: set[str] = set()
    bulk_done = 0
    for i, obj in indexed:
        order = _ORDER.get(obj["type"], 1)
        if order > bulk_done:  # the first object of its group: create its plain new ones
            bulk_done = order
            group = [pair for pair in indexed if _ORDER.get(pair[1]["type"], 1) == order]
            if order == 1:
                done |= _bulk_entities(db, importer, group)
                done |= _bulk_incidents(db, importer, group)
            elif order == 2:
                done |= _bulk_links(db, importer, group)
        if obj["id"] in done:
            continue
        where = f"objects.{i}"
        otype = obj["type"]
        if otype in _SKIPPED_TYPES or otype in _SCO_TYPES or otype == "indicator":
            importer.skip(obj)
            continue
        if options.strict:
            try:
                marking_of(obj, ctx, where)
                importer.one(obj, where)
            except RasidError as exc:
                if exc.field and exc.field.startswith(f"{where}."):
                    raise
                raise _bad(
                    "objects.%(index)s (%(id)s): %(reason)s",
                    (exc.field and f"{where}.{exc.field}") or where,
                    index=i,
                    id=obj["id"],
                    reason=exc.message,
                ) from exc
            continue
        mark = audit.batch_mark(db)
        try:
            with savepoint(db):
                importer.one(obj, where)
        except RasidError as exc:
            audit.batch_discard(db, mark)  # its savepoint was rolled back, and so its entries
            importer.forget(obj["id"])
            result.refused += 1
            result.outcomes[obj["id"]] = "refused"
            result.errors.append(f"{obj['id']}: {exc.message}")


def import_bundle(db: Session, actor: Actor, data: Any, options: Options | None = None) -> Result:
    """Import a whole bundle (strict: checked first, all or nothing), audited."""
    options = options or Options()
    objects = bundle_objects(data)
    result = import_objects(db, actor, objects, options)
    audit.record(
        db,
        actor,
        "import",
        object_type="stix_bundle",
        object_id=str(data.get("id", ""))[:120] if isinstance(data, dict) else None,
        detail={
            "source": options.source,
            **{k: v for k, v in result.as_dict().items() if k != "errors"},
        },
    )
    return result
