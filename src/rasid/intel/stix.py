"""STIX 2.1 export of an intel report, as a bundle that passes ``stix2-validator`` strict.

What goes in the bundle, for one report and one reader:

* the ``report`` SDO: ``name`` = title, ``description`` = summary, Arabic body and English
  body as written (Arabic stays Arabic), ``published`` = release time or creation time,
  ``created_by_ref`` = an ``identity`` (``organization``) for the owner organisation;
* markings: every object carries the TLP 2.0 marking of the Rasid record it comes from, by
  the marking-definition ids OASIS publishes (cti-stix-common-objects, TLP 2.0 extension
  ``extension-definition--60a3c5c5-…``); those marking-definition objects are included
  exactly as published (``name`` + the ``tlp_2_0`` property extension);
* grading: ``confidence`` from the Admiralty information credibility through the STIX 2.1
  Appendix A "Admiralty Credibility" scale (1→90, 2→70, 3→50, 4→30, 5→10, 6→no
  ``confidence``); the full grade travels as ``x_rasid_admiralty`` ("B2") with
  ``x_rasid_grading_scheme``; a Europol 4×4 grade has no STIX scale, so it travels as
  ``x_rasid_admiralty`` + scheme ``europol`` without ``confidence``;
* observables: IP, domain, URL, e-mail and hashes become the standard SCOs (``ipv4-addr``,
  ``ipv6-addr``, ``domain-name``, ``url``, ``email-addr``, ``file`` with ``hashes``) whose
  UUIDv5 ids the ``stix2`` library computes from their values; phone, MMSI, IMO, plate,
  IBAN and crypto addresses have no STIX 2.1 object type, and the strict validator refuses
  custom objects, so they travel on the report as ``x_rasid_observables``
  (``[{kind, value, normalised}]``);
* linked registry records the reader may see (:func:`service.visible_links`): persons →
  ``identity`` (``individual``, every name in ``x_rasid_names``), groups →
  ``threat-actor``, vessels and vehicles → ``infrastructure`` (``x_rasid_kind``), places
  → ``location`` (country YE, lat/lon when known), incidents → ``incident``; registry
  links between two exported entities and incident involvements of exported entities →
  ``relationship`` (``related-to``, the Rasid link type / role in custom properties).

Custom properties: strict validation accepts ``x_`` properties only when they are declared by
an extension, so every object that carries one declares the Rasid
``toplevel-property-extension`` (:data:`RASID_EXTENSION_ID`), whose ``extension-definition``
(created by a fixed ``identity`` for the Rasid software) is part of the bundle.

Ids: SDO/SRO ids are derived from a fixed namespace and the Rasid type and id (``uuid5``),
with the version nibble set to 4 because the strict validator requires UUIDv4-form ids for
SDOs; a re-export gives the same ids. ``created``/``modified`` come from the records.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import stix2  # type: ignore[import-untyped]
from sqlalchemy.orm import Session, selectinload

from rasid.access import service as access
from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, RED
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.errors import ValidationFailed
from rasid.identity.models import Organisation
from rasid.intel import service
from rasid.intel.models import Observable, Report
from rasid.registry import service as registry
from rasid.registry.models import Entity, Incident

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

#: Rasid marking → (OASIS TLP 2.0 marking-definition id, ``tlp_2_0`` value).
TLP2_MARKINGS: dict[str, tuple[str, str]] = {
    CLEAR: ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
    GREEN: ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"),
    AMBER: ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"),
    AMBER_STRICT: ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"),
    RED: ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
}

#: STIX 2.1 Appendix A, "Admiralty Credibility" scale: credibility → ``confidence``.
ADMIRALTY_CONFIDENCE: dict[int, int | None] = {1: 90, 2: 70, 3: 50, 4: 30, 5: 10, 6: None}

NAMESPACE = uuid.UUID("6f3b0c1e-8a4d-5e2f-9b7a-2c4d6e8f0a1b")
RASID_IDENTITY_ID = "identity--2b7e5c1a-4d3f-4e8a-9c6b-1f0a2d3e4b5c"
RASID_EXTENSION_ID = "extension-definition--8d4c2e7a-1b3f-4a6d-9e5c-7f0b2a4c6d8e"
RASID_EPOCH = "2026-01-01T00:00:00.000Z"

#: The top-level properties the Rasid extension declares.
RASID_PROPERTIES: tuple[str, ...] = (
    "x_rasid_admiralty",
    "x_rasid_grading_scheme",
    "x_rasid_status",
    "x_rasid_observables",
    "x_rasid_name_ar",
    "x_rasid_names",
    "x_rasid_kind",
    "x_rasid_identifiers",
    "x_rasid_group_kind",
    "x_rasid_governorate",
    "x_rasid_ref",
    "x_rasid_event_date",
    "x_rasid_link_type",
    "x_rasid_role",
    "x_rasid_summary",
    "x_rasid_body_ar",
    "x_rasid_body_en",
)

_HASH_NAMES = {"sha256": "SHA-256", "sha1": "SHA-1", "md5": "MD5"}
_SCO_KINDS = frozenset({"ip", "domain", "url", "email", *_HASH_NAMES})


# --- helpers ---------------------------------------------------------------------------------------


def stix_id(stix_type: str, rasid_type: str, rasid_id: int | str) -> str:
    """A stable id for a Rasid object: uuid5 of the namespace, version nibble set to 4."""
    derived = uuid.uuid5(NAMESPACE, f"{stix_type}:{rasid_type}:{rasid_id}")
    return f"{stix_type}--{uuid.UUID(bytes=derived.bytes, version=4)}"


def timestamp(value: datetime) -> str:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def confidence_for(scheme: str, credibility: int) -> int | None:
    """The STIX ``confidence`` of a grade (Admiralty only; Europol has no STIX scale)."""
    if scheme != "admiralty":
        return None
    return ADMIRALTY_CONFIDENCE.get(credibility)


def marking_ref(marking: str) -> str:
    return TLP2_MARKINGS[marking][0]


def marking_definition(marking: str) -> dict[str, Any]:
    """The TLP 2.0 marking-definition object exactly as OASIS publishes it."""
    ref, level = TLP2_MARKINGS[marking]
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": ref,
        "created": TLP2_CREATED,
        "name": marking,
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}
        },
    }


def _rasid_identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": RASID_IDENTITY_ID,
        "created": RASID_EPOCH,
        "modified": RASID_EPOCH,
        "name": "Rasid",
        "identity_class": "system",
    }


def _rasid_extension() -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": RASID_EXTENSION_ID,
        "created_by_ref": RASID_IDENTITY_ID,
        "created": RASID_EPOCH,
        "modified": RASID_EPOCH,
        "name": "Rasid top-level properties",
        "description": "Properties prefixed x_rasid_ that Rasid adds to STIX objects.",
        "schema": "x_rasid_admiralty: source grade such as B2; x_rasid_grading_scheme: "
        "admiralty or europol; x_rasid_observables: list of {kind, value, normalised} for "
        "phone, mmsi, imo, plate, iban, crypto; x_rasid_names: list of {name, script, "
        "name_type}; x_rasid_name_ar, x_rasid_kind, x_rasid_identifiers, x_rasid_link_type, "
        "x_rasid_role, x_rasid_event_date, x_rasid_ref, x_rasid_governorate, x_rasid_status.",
        "version": "1.0",
        "extension_types": ["toplevel-property-extension"],
        "extension_properties": list(RASID_PROPERTIES),
    }


def _sdo(
    stix_type: str,
    object_id: str,
    created: datetime,
    modified: datetime,
    marking: str,
    created_by: str | None,
    **props: Any,
) -> dict[str, Any]:
    """An SDO/SRO dict; any ``x_rasid_`` property declares the Rasid extension."""
    created_s, modified_s = timestamp(created), timestamp(max(created, modified))
    obj: dict[str, Any] = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": object_id,
        "created": created_s,
        "modified": modified_s,
    }
    if created_by:
        obj["created_by_ref"] = created_by
    obj.update({k: v for k, v in props.items() if v not in (None, "", [], {})})
    obj["object_marking_refs"] = [marking_ref(marking)]
    if any(k.startswith("x_rasid_") for k in obj):
        obj["extensions"] = {RASID_EXTENSION_ID: {"extension_type": "toplevel-property-extension"}}
    return obj


def _org_identity(org: Organisation, marking: str) -> dict[str, Any]:
    return _sdo(
        "identity",
        stix_id("identity", "organisation", org.id),
        org.created_at,
        org.updated_at,
        marking,
        None,
        name=org.name_en or org.slug,
        identity_class="organization",
        x_rasid_name_ar=org.name_ar,
    )


def _sco(obs: Observable, marking: str) -> dict[str, Any] | None:
    """A standard SCO for an observable, or None when STIX 2.1 has no object type for it."""
    refs = [marking_ref(marking)]
    value = obs.normalised
    sco: Any
    if obs.kind == "ip":
        cls = stix2.IPv4Address if ipaddress.ip_address(value).version == 4 else stix2.IPv6Address
        sco = cls(value=value, object_marking_refs=refs)
    elif obs.kind == "domain":
        sco = stix2.DomainName(value=value, object_marking_refs=refs)
    elif obs.kind == "url":
        sco = stix2.URL(value=value, object_marking_refs=refs)
    elif obs.kind == "email":
        sco = stix2.EmailAddress(value=value, object_marking_refs=refs)
    elif obs.kind in _HASH_NAMES:
        sco = stix2.File(hashes={_HASH_NAMES[obs.kind]: value}, object_marking_refs=refs)
    else:
        return None
    data: dict[str, Any] = json.loads(sco.serialize())
    return data


def _names(entity: Entity) -> list[dict[str, str]]:
    return [{"name": n.name, "script": n.script, "name_type": n.name_type} for n in entity.names]


def _entity_object(entity: Entity, created_by: str | None) -> dict[str, Any]:
    name = entity.label_latin or entity.label or entity.label_ar or f"#{entity.id}"
    common: dict[str, Any] = {
        "name": name,
        "description": entity.notes,
        "x_rasid_name_ar": entity.label_ar,
        "x_rasid_names": _names(entity),
        "x_rasid_kind": entity.kind,
        "x_rasid_identifiers": [{"kind": i.kind, "value": i.value} for i in entity.identifiers],
    }
    times = (entity.created_at, entity.updated_at, entity.marking, created_by)
    if entity.kind == "person":
        oid = stix_id("identity", "entity", entity.id)
        return _sdo("identity", oid, *times, identity_class="individual", **common)
    if entity.kind == "group":
        oid = stix_id("threat-actor", "entity", entity.id)
        return _sdo("threat-actor", oid, *times, x_rasid_group_kind=entity.group_kind, **common)
    if entity.kind == "place":
        oid = stix_id("location", "entity", entity.id)
        if entity.lat is not None and entity.lon is not None:
            common.update(latitude=entity.lat, longitude=entity.lon)
        common.update(country="YE", x_rasid_governorate=entity.governorate_code)
        return _sdo("location", oid, *times, **common)
    oid = stix_id("infrastructure", "entity", entity.id)  # vessel, vehicle
    return _sdo("infrastructure", oid, *times, **common)


def _incident_object(incident: Incident, created_by: str | None) -> dict[str, Any]:
    description = "\n\n".join(t for t in (incident.narrative_ar, incident.narrative_en) if t)
    return _sdo(
        "incident",
        stix_id("incident", "incident", incident.id),
        incident.created_at,
        incident.updated_at,
        incident.marking,
        created_by,
        name=incident.title,
        description=description,
        x_rasid_ref=incident.ref,
        x_rasid_event_date=incident.event_date.isoformat(),
        x_rasid_governorate=incident.governorate_code,
    )


def _report_description(report: Report) -> str:
    return "\n\n".join(t for t in (report.summary, report.body_ar, report.body_en) if t.strip())


# --- export ----------------------------------------------------------------------------------------


def _visible_entities(db: Session, actor: Actor, ids: set[int]) -> dict[int, Entity]:
    """``registry.entities_by_id`` with names and identifiers loaded in two more queries."""
    if not ids:
        return {}
    stmt = (
        access.visible(actor, Entity)
        .where(Entity.id.in_(ids))
        .options(selectinload(Entity.names), selectinload(Entity.identifiers))
    )
    return {e.id: e for e in db.scalars(stmt)}


def _visible_incidents(db: Session, actor: Actor, ids: set[int]) -> dict[int, Incident]:
    """The visible incidents among ``ids`` with their involvements, in two queries."""
    if not ids:
        return {}
    stmt = (
        access.visible(actor, Incident)
        .where(Incident.id.in_(ids))
        .options(selectinload(Incident.involvements))
    )
    return {i.id: i for i in db.scalars(stmt)}


def report_bundle(db: Session, actor: Actor, report_id: int) -> dict[str, Any]:
    """The report and what the reader may see of its links, as a STIX 2.1 bundle (audited)."""
    report = service.get_report(db, actor, report_id, audit_read=False)
    org = db.get(Organisation, report.owner_org_id)
    if org is None:  # pragma: no cover - a report always has its organisation
        raise ValidationFailed("The report has no owner organisation.", field="owner_org")
    org_obj = _org_identity(org, report.marking)
    author = org_obj["id"]

    linked: list[dict[str, Any]] = []
    # the linked records the reader may see, as service.visible_links finds them (the same
    # visibility queries), each loaded once with what its STIX object needs
    entity_ids = {lk.object_id for lk in report.links if lk.object_type == "registry_entity"}
    incident_ids = {lk.object_id for lk in report.links if lk.object_type == "registry_incident"}
    entities = _visible_entities(db, actor, entity_ids)
    entity_refs: dict[int, str] = {}
    for eid in sorted(entities):
        obj = _entity_object(entities[eid], None)
        entity_refs[eid] = obj["id"]
        linked.append(obj)
    relationships: list[dict[str, Any]] = []
    incidents = _visible_incidents(db, actor, incident_ids)
    for iid in sorted(incidents):
        incident = incidents[iid]
        inc_obj = _incident_object(incident, None)
        linked.append(inc_obj)
        # the involved entities the reader may see and that are exported: entity_refs holds
        # only visible entities, so this is registry.visible_involvements without its query
        for inv in incident.involvements:
            if inv.entity_id not in entity_refs:
                continue
            relationships.append(
                _sdo(
                    "relationship",
                    stix_id("relationship", "involvement", inv.id),
                    incident.created_at,
                    incident.updated_at,
                    incident.marking,
                    None,
                    relationship_type="related-to",
                    source_ref=entity_refs[inv.entity_id],
                    target_ref=inc_obj["id"],
                    x_rasid_role=inv.role,
                )
            )
    for link in sorted(registry.links_of(db, actor, set(entity_refs)), key=lambda lk: lk.id):
        if link.source_id not in entity_refs or link.target_id not in entity_refs:
            continue
        relationships.append(
            _sdo(
                "relationship",
                stix_id("relationship", "link", link.id),
                link.created_at,
                link.created_at,
                link.marking,
                None,
                relationship_type="related-to",
                source_ref=entity_refs[link.source_id],
                target_ref=entity_refs[link.target_id],
                description=link.evidence,
                confidence=confidence_for("admiralty", link.credibility),
                x_rasid_link_type=link.link_type,
                x_rasid_admiralty=f"{link.reliability}{link.credibility}",
            )
        )

    scos: list[dict[str, Any]] = []
    custom_observables: list[dict[str, str]] = []
    for obs in report.observables:
        sco = _sco(obs, report.marking)
        if sco is None:
            custom_observables.append(
                {"kind": obs.kind, "value": obs.value, "normalised": obs.normalised}
            )
        elif all(s["id"] != sco["id"] for s in scos):
            scos.append(sco)

    refs = [o["id"] for o in (*linked, *scos, *relationships)] or [author]
    published = report.released_at or report.created_at
    report_obj = _sdo(
        "report",
        stix_id("report", "intel_report", report.id),
        report.created_at,
        report.updated_at,
        report.marking,
        author,
        name=report.title,
        description=_report_description(report),
        report_types=["threat-report"],
        published=timestamp(published),
        object_refs=refs,
        confidence=confidence_for(report.grading_scheme, report.credibility),
        x_rasid_admiralty=f"{report.reliability}{report.credibility}",
        x_rasid_grading_scheme=report.grading_scheme,
        x_rasid_status=report.status,
        x_rasid_observables=custom_observables,
        x_rasid_summary=report.summary,
        x_rasid_body_ar=report.body_ar,
        x_rasid_body_en=report.body_en,
    )
    # what the report refers to comes before it, so a reader can import in order
    content = [org_obj, *linked, *scos, *relationships, report_obj]
    used = {m for o in content for m in o.get("object_marking_refs", [])}
    markings = [marking_definition(m) for m, (ref, _) in TLP2_MARKINGS.items() if ref in used]
    audit.record(
        db,
        actor,
        "export",
        object_type="intel_report",
        object_id=report.id,
        detail={"format": "stix-2.1", "marking": report.marking, "objects": len(content)},
    )
    return {
        "type": "bundle",
        "id": stix_id("bundle", "intel_report", f"{report.id}:{report.version}"),
        "objects": [_rasid_identity(), _rasid_extension(), *markings, *content],
    }
