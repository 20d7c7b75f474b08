"""MISP import: a MISP event (``{"Event": {...}}``) or a MISP feed directory into draft reports.

Each event becomes a draft report owned by the importing user's organisation:

* ``info`` → title; ``text`` and ``comment`` attributes → the body, Arabic or English by the
  script they are written in (Arabic stays Arabic). Rasid's own export is recognised by the
  attribute comments (``summary``, ``report body (Arabic)``, ``report body (English)``, the
  grade, and the MMSI / IMO / plate / cryptocurrency ``text`` attributes);
* the ``tlp:*`` tag → the marking (``tlp:white`` is TLP:CLEAR; several tags: the strictest;
  none: TLP:AMBER). ``tlp:red`` is refused unless recipients are named; an unknown ``tlp:``
  tag is refused, naming it;
* ``admiralty-scale:source-reliability`` / ``information-credibility`` tags → the grade
  (F6, "cannot be judged", when absent); a Europol grade travels in Rasid's grade attribute;
* attributes (of the event and of its objects) → observables (:data:`TYPES`); attributes of
  other types, and values that are not valid for their type, are listed in the result, not
  silently dropped.

Imports are idempotent by event uuid: :class:`StixOrigin` keeps ``misp-event--<uuid>`` and the
event's ``timestamp`` per importing organisation. The same event and timestamp again changes
nothing; a newer timestamp updates the report (a new version) while it is still a draft, and is
skipped otherwise. Everything is checked before anything is written, and the caller's unit of
work makes an import all-or-nothing: a malformed file or a missing field is a
:class:`ValidationFailed` naming the file and the field.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, MARKINGS, RED
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import ValidationFailed
from rasid.core.jsonfile import read_json
from rasid.intel import service
from rasid.intel.models import Report, StixOrigin
from rasid.intel.schemas import ReportIn

SOURCE = "misp"
ORIGIN_PREFIX = "misp-event--"

TLP: dict[str, str] = {
    "tlp:white": CLEAR,
    "tlp:clear": CLEAR,
    "tlp:green": GREEN,
    "tlp:amber": AMBER,
    "tlp:amber+strict": AMBER_STRICT,
    "tlp:red": RED,
}

#: MISP attribute type → observable kind (composite ``a|b`` types keep the part named here).
TYPES: dict[str, tuple[str, int]] = {
    "ip-src": ("ip", 0),
    "ip-dst": ("ip", 0),
    "ip-src|port": ("ip", 0),
    "ip-dst|port": ("ip", 0),
    "domain": ("domain", 0),
    "hostname": ("domain", 0),
    "domain|ip": ("domain", 0),
    "hostname|port": ("domain", 0),
    "url": ("url", 0),
    "link": ("url", 0),
    "email": ("email", 0),
    "email-src": ("email", 0),
    "email-dst": ("email", 0),
    "email-reply-to": ("email", 0),
    "whois-registrant-email": ("email", 0),
    "md5": ("md5", 0),
    "sha1": ("sha1", 0),
    "sha256": ("sha256", 0),
    "filename|md5": ("md5", 1),
    "filename|sha1": ("sha1", 1),
    "filename|sha256": ("sha256", 1),
    "phone-number": ("phone", 0),
    "whois-registrant-phone": ("phone", 0),
    "iban": ("iban", 0),
    "btc": ("crypto", 0),
}
#: ``domain|ip`` also carries an IP address.
SECOND: dict[str, tuple[str, int]] = {"domain|ip": ("ip", 1)}
#: Rasid's own ``text`` attributes (by comment) that are observables.
TEXT_KINDS: dict[str, str] = {
    "mmsi (vessel)": "mmsi",
    "imo number (vessel)": "imo",
    "vehicle plate": "plate",
    "cryptocurrency address": "crypto",
}
BODY_TYPES = frozenset({"text", "comment"})

_ADMIRALTY = re.compile(
    r'^admiralty-scale:(source-reliability|information-credibility)\s*=\s*"?([^"]*)"?$'
)
_GRADE_COMMENT = re.compile(r"^grade \((admiralty|europol) scheme\)$")
_GRADE = re.compile(r"^([A-FX])([1-6])$")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass
class Skipped:
    event: str
    type: str
    value: str
    reason: str  # "unsupported type" | the validation message


@dataclass
class EventResult:
    uuid: str
    source: str
    action: str  # created | updated | unchanged | skipped
    report_id: int | None
    reason: str = ""


@dataclass
class ImportResult:
    events: list[EventResult] = field(default_factory=list)
    skipped_attributes: list[Skipped] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for e in self.events if e.action == action)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": len(self.events),
            "created": self.count("created"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "skipped": self.count("skipped"),
            "events": [vars(e) for e in self.events],
            "skipped_attributes": [vars(s) for s in self.skipped_attributes],
        }


@dataclass
class Parsed:
    source: str
    uuid: str
    timestamp: int
    data: ReportIn
    skipped: list[Skipped]


# --- reading ------------------------------------------------------------------------------------


def _missing(source: str, name: str) -> ValidationFailed:
    return ValidationFailed(
        "%(file)s: the field %(name)s is missing or empty.", field=name, file=source, name=name
    )


def read_path(path: Path) -> list[tuple[str, Any]]:
    """The events in a file or a feed directory, each with the name of its file."""
    if path.is_dir():
        manifest = read_json(path / "manifest.json", "manifest.json")
        if not isinstance(manifest, dict):
            raise ValidationFailed(
                "%(file)s must map event uuids to their summaries.",
                field="manifest.json",
                file="manifest.json",
            )
        out: list[tuple[str, Any]] = []
        for uid in manifest:
            name = f"{uid}.json"
            if "/" in uid or "\\" in uid or uid.startswith("."):
                raise ValidationFailed(
                    "%(file)s: %(value)s is not an event uuid.",
                    field="manifest.json",
                    file="manifest.json",
                    value=uid,
                )
            out.append((name, read_json(path / name, name)))
        return out
    return [(path.name, read_json(path, path.name))]


# --- parsing ------------------------------------------------------------------------------------


def _tags(source: str, event: dict[str, Any]) -> list[str]:
    raw = event.get("Tag") or []
    if not isinstance(raw, list):
        raise ValidationFailed(
            "%(file)s: %(name)s must be a list.", field="Event.Tag", file=source, name="Event.Tag"
        )
    names: list[str] = []
    for i, tag in enumerate(raw):
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise _missing(source, f"Event.Tag.{i}.name")
        names.append(name.strip())
    return names


def _marking(source: str, tags: list[str]) -> str:
    found: list[str] = []
    for tag in tags:
        if not tag.lower().startswith("tlp:"):
            continue
        marking = TLP.get(tag.lower().replace(" ", ""))
        if marking is None:
            raise ValidationFailed(
                "%(file)s: unknown TLP tag %(tag)s; use tlp:clear (or tlp:white), tlp:green, "
                "tlp:amber, tlp:amber+strict or tlp:red.",
                field="Event.Tag",
                file=source,
                tag=tag,
            )
        found.append(marking)
    if not found:
        return AMBER
    return max(found, key=MARKINGS.index)


def _admiralty(source: str, tags: list[str]) -> tuple[str, int] | None:
    reliability: str | None = None
    credibility: int | None = None
    for tag in tags:
        match = _ADMIRALTY.match(tag.lower())
        if match is None:
            continue
        part, value = match.group(1), match.group(2).strip()
        if part == "source-reliability":
            if len(value) != 1 or value not in "abcdef":
                raise ValidationFailed(
                    "%(file)s: the tag %(tag)s is not an Admiralty source reliability (a to f).",
                    field="Event.Tag",
                    file=source,
                    tag=tag,
                )
            reliability = value.upper()
        else:
            if not value.isdigit() or not 1 <= int(value) <= 6:
                raise ValidationFailed(
                    "%(file)s: the tag %(tag)s is not an Admiralty information credibility "
                    "(1 to 6).",
                    field="Event.Tag",
                    file=source,
                    tag=tag,
                )
            credibility = int(value)
    if reliability is None and credibility is None:
        return None
    return reliability or "F", credibility or 6


def is_arabic(text: str) -> bool:
    """Whether a text is mostly written in Arabic script (more Arabic than Latin letters)."""
    return len(_ARABIC.findall(text)) > len(_LATIN.findall(text))


def _attributes(source: str, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The event's attributes and its objects' attributes, each with its field path."""
    out: list[tuple[str, dict[str, Any]]] = []
    lists: list[tuple[str, Any]] = [("Event.Attribute", event.get("Attribute") or [])]
    objects = event.get("Object") or []
    if not isinstance(objects, list):
        raise ValidationFailed(
            "%(file)s: %(name)s must be a list.",
            field="Event.Object",
            file=source,
            name="Event.Object",
        )
    for i, obj in enumerate(objects):
        if isinstance(obj, dict):
            lists.append((f"Event.Object.{i}.Attribute", obj.get("Attribute") or []))
    for path, items in lists:
        if not isinstance(items, list):
            raise ValidationFailed(
                "%(file)s: %(name)s must be a list.", field=path, file=source, name=path
            )
        for i, attr in enumerate(items):
            where = f"{path}.{i}"
            if not isinstance(attr, dict):
                raise ValidationFailed(
                    "%(file)s: %(name)s must be an object.", field=where, file=source, name=where
                )
            for key in ("type", "value"):
                value = attr.get(key)
                if not isinstance(value, str | int | float) or str(value).strip() == "":
                    raise _missing(source, f"{where}.{key}")
            out.append((where, attr))
    return out


def _observable(
    uid: str, kind: str, value: str, misp_type: str, skipped: list[Skipped]
) -> dict[str, str] | None:
    try:
        service.normalise_observable(kind, value, "value")
    except ValidationFailed as exc:
        skipped.append(Skipped(uid, misp_type, value, exc.message))
        return None
    return {"kind": kind, "value": value}


def parse_event(source: str, document: Any, recipients: list[str]) -> Parsed:
    """Check one MISP event document and turn it into a report (nothing is written)."""
    if not isinstance(document, dict) or not isinstance(document.get("Event"), dict):
        raise _missing(source, "Event")
    event: dict[str, Any] = document["Event"]
    raw_uuid = event.get("uuid")
    if not isinstance(raw_uuid, str) or not raw_uuid.strip():
        raise _missing(source, "Event.uuid")
    try:
        uid = str(uuid.UUID(raw_uuid.strip()))
    except ValueError as exc:
        raise ValidationFailed(
            "%(file)s: %(value)s is not a uuid.", field="Event.uuid", file=source, value=raw_uuid
        ) from exc
    info = event.get("info")
    if not isinstance(info, str) or not info.strip():
        raise _missing(source, "Event.info")
    stamp = event.get("timestamp")
    if not str(stamp or "").strip().isdigit():
        raise _missing(source, "Event.timestamp")
    timestamp = int(str(stamp).strip())

    tags = _tags(source, event)
    marking = _marking(source, tags)
    if marking == RED and not recipients:
        raise ValidationFailed(
            "%(file)s is tagged tlp:red: name the users who may read it (recipients).",
            field="recipients",
            file=source,
        )
    grade = _admiralty(source, tags)
    scheme = "admiralty"

    summary: list[str] = []
    body_ar: list[str] = []
    body_en: list[str] = []
    observables: list[dict[str, str]] = []
    skipped: list[Skipped] = []
    for _where, attr in _attributes(source, event):
        misp_type = str(attr["type"]).strip().lower()
        value = str(attr["value"]).strip()
        comment = str(attr.get("comment") or "").strip()
        if misp_type in TYPES:
            kind, part = TYPES[misp_type]
            pieces = value.split("|")
            for k, p in ((kind, part), SECOND.get(misp_type, ("", -1))):
                if k and p < len(pieces):
                    obs = _observable(uid, k, pieces[p], misp_type, skipped)
                    if obs is not None:
                        observables.append(obs)
            continue
        if misp_type in BODY_TYPES:
            known = comment.lower()
            if misp_type == "text" and known in TEXT_KINDS:
                obs = _observable(uid, TEXT_KINDS[known], value, misp_type, skipped)
                if obs is not None:
                    observables.append(obs)
            elif misp_type == "text" and (match := _GRADE_COMMENT.match(known)):
                graded = _GRADE.match(value.upper())
                if graded is None:
                    skipped.append(Skipped(uid, misp_type, value, "not a grade"))
                elif grade is None or match.group(1) == "europol":
                    scheme = match.group(1)
                    grade = (graded.group(1), int(graded.group(2)))
            elif known == "summary":
                summary.append(value)
            elif known == "report body (arabic)":
                body_ar.append(value)
            elif known == "report body (english)":
                body_en.append(value)
            else:
                (body_ar if is_arabic(value) else body_en).append(value)
            continue
        skipped.append(Skipped(uid, misp_type, value, "unsupported type"))

    title = " ".join(info.split())[:300]
    reliability, credibility = grade or ("F", 6)
    if not (summary or body_ar or body_en):
        summary.append(title)
    try:
        data = ReportIn.model_validate(
            {
                "title": title,
                "summary": "\n\n".join(summary),
                "body_ar": "\n\n".join(body_ar),
                "body_en": "\n\n".join(body_en),
                "grading_scheme": scheme,
                "reliability": reliability,
                "credibility": credibility,
                "marking": marking,
                "recipients": recipients if marking == RED else [],
                "observables": observables,
            }
        )
        service.check_grade(scheme, reliability, credibility)
    except ValidationFailed as exc:
        raise ValidationFailed(
            "%(file)s: %(problem)s", field=exc.field, file=source, problem=exc.message
        ) from exc
    return Parsed(source, uid, timestamp, data, skipped)


# --- writing ------------------------------------------------------------------------------------


def import_documents(
    db: Session, actor: Actor, documents: list[tuple[str, Any]], recipients: list[str] | None = None
) -> ImportResult:
    """Import checked events as drafts of the actor's organisation (see the module notes)."""
    service.require(actor, "write")
    if actor.org_id is None:
        raise ValidationFailed(
            "Records must belong to an organisation: use --as USERNAME.", field="owner_org"
        )
    parsed = [parse_event(source, doc, list(recipients or [])) for source, doc in documents]
    result = ImportResult()
    for item in parsed:
        result.skipped_attributes += item.skipped
        try:
            result.events.append(_import_one(db, actor, actor.org_id, item))
        except ValidationFailed as exc:
            raise ValidationFailed(
                "%(file)s: %(problem)s", field=exc.field, file=item.source, problem=exc.message
            ) from exc
    return result


def _import_one(db: Session, actor: Actor, org_id: int, item: Parsed) -> EventResult:
    stix_id = f"{ORIGIN_PREFIX}{item.uuid}"
    origin = db.scalar(
        select(StixOrigin).where(StixOrigin.owner_org_id == org_id, StixOrigin.stix_id == stix_id)
    )
    report = db.get(Report, origin.object_id) if origin is not None else None
    if origin is not None and report is not None:
        if item.timestamp <= int(origin.stix_modified or 0):
            return EventResult(item.uuid, item.source, "unchanged", report.id)
        if report.status != "draft":
            return EventResult(
                item.uuid,
                item.source,
                "skipped",
                report.id,
                f"the report is {report.status}; only a draft is updated",
            )
        service.update_report(db, actor, report.id, item.data)
        action = "updated"
    else:
        report = service.create_report(db, actor, item.data)
        action = "created"
    now = utcnow()
    if origin is None:
        origin = StixOrigin(
            owner_org_id=org_id,
            stix_id=stix_id,
            object_type="intel_report",
            source=SOURCE,
            imported_at=now,
        )
        db.add(origin)
    origin.object_id = report.id
    origin.stix_modified = str(item.timestamp)
    origin.updated_at = now
    db.flush()
    audit.record(
        db,
        actor,
        "import",
        object_type="intel_report",
        object_id=report.id,
        detail={
            "format": "misp",
            "event": item.uuid,
            "file": item.source,
            "result": action,
            "timestamp": item.timestamp,
        },
    )
    return EventResult(item.uuid, item.source, action, report.id)


def import_path(
    db: Session, actor: Actor, path: Path, recipients: list[str] | None = None
) -> ImportResult:
    """Import a MISP event file or a MISP feed directory (manifest.json + <uuid>.json)."""
    return import_documents(db, actor, read_path(path), recipients)
