"""MISP export of intel reports: one report as a MISP event, reports as a MISP feed directory.

What goes in an event, for one report and one reader (:func:`report_event`):

* ``uuid``: uuid5 of a fixed namespace and the report id (a re-export gives the same uuid);
  ``info`` = title; ``date`` = release date (or creation date), local time; ``timestamp`` =
  last change; ``published`` when released; ``analysis`` 1 (ongoing) for a draft, 2
  (completed) once approved; ``threat_level_id`` 4 (undefined: Rasid grades the source and
  the information, not the threat);
* ``distribution`` from the TLP marking: CLEAR → 3 (all communities), GREEN → 2 (connected
  communities), AMBER → 1 (this community only), AMBER+STRICT and RED → 0 (organisation only);
* ``Tag``: the MISP ``tlp`` taxonomy (``tlp:clear`` … ``tlp:amber+strict``, ``tlp:red``) and,
  for an Admiralty grade, the ``admiralty-scale`` taxonomy
  (``admiralty-scale:source-reliability="b"``, ``admiralty-scale:information-credibility="2"``);
  a Europol 4×4 grade has no MISP taxonomy and travels in the grade attribute's comment;
* ``Attribute``: the observables mapped to MISP types (phone → ``phone-number``, e-mail →
  ``email-src``, IP → ``ip-dst``, domain, URL, hashes, IBAN → ``iban``, Bitcoin → ``btc``;
  MMSI, IMO, plate and other crypto addresses → ``text`` with the kind in the comment), with
  the MISP default category and ``to_ids`` for the network and file indicators; then the
  summary, Arabic body and English body as ``text`` attributes (category ``Other``), as
  written (Arabic stays Arabic);
* ``Orgc`` and ``Org``: the owner organisation (English name, uuid5 of its slug).

A feed (:func:`feed_directory`) is what MISP fetches from a "MISP feed" URL: ``manifest.json``
(event uuid → info, date, analysis, threat level, timestamp, Orgc, Tag), ``hashes.csv`` (one
``md5(attribute value),event uuid`` line per attribute, as ``pymisp.tools.feed`` writes it) and
``<uuid>.json`` per event. AMBER+STRICT and RED reports never leave the server: a feed refuses
them. Every export is audited (``export``, format ``misp``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, RED
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.dates import to_local
from rasid.core.errors import Forbidden, ValidationFailed
from rasid.identity.models import Organisation
from rasid.intel import service
from rasid.intel.models import Observable, Report

NAMESPACE = uuid.UUID("3c9f1d2e-7b4a-5c6d-8e9f-0a1b2c3d4e5f")

#: Rasid marking → (MISP ``tlp`` taxonomy tag, MISP distribution level).
TLP_TAGS: dict[str, tuple[str, int]] = {
    CLEAR: ("tlp:clear", 3),
    GREEN: ("tlp:green", 2),
    AMBER: ("tlp:amber", 1),
    AMBER_STRICT: ("tlp:amber+strict", 0),
    RED: ("tlp:red", 0),
}
NEVER_IN_FEED = frozenset({AMBER_STRICT, RED})

#: observable kind → (MISP type, category, to_ids, comment).
_TYPES: dict[str, tuple[str, str, bool, str]] = {
    "phone": ("phone-number", "Person", False, ""),
    "email": ("email-src", "Payload delivery", True, ""),
    "ip": ("ip-dst", "Network activity", True, ""),
    "domain": ("domain", "Network activity", True, ""),
    "url": ("url", "Network activity", True, ""),
    "md5": ("md5", "Payload delivery", True, ""),
    "sha1": ("sha1", "Payload delivery", True, ""),
    "sha256": ("sha256", "Payload delivery", True, ""),
    "iban": ("iban", "Financial fraud", False, ""),
    "mmsi": ("text", "Other", False, "MMSI (vessel)"),
    "imo": ("text", "Other", False, "IMO number (vessel)"),
    "plate": ("text", "Other", False, "vehicle plate"),
}


def event_uuid(report_id: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"intel_report:{report_id}"))


def _attribute_uuid(report_id: int, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"intel_report:{report_id}:attribute:{key}"))


def _epoch(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return str(int(aware.timestamp()))


def _org(org: Organisation | None) -> dict[str, str]:
    if org is None:  # pragma: no cover - a report always has its organisation
        raise ValidationFailed("The report has no owner organisation.", field="owner_org")
    return {
        "name": org.name_en or org.name_ar or org.slug,
        "uuid": str(uuid.uuid5(NAMESPACE, f"organisation:{org.slug}")),
    }


def tags_for(report: Report) -> list[dict[str, str]]:
    tags = [{"name": TLP_TAGS[report.marking][0]}]
    if report.grading_scheme == "admiralty":
        tags.append({"name": f'admiralty-scale:source-reliability="{report.reliability.lower()}"'})
        tags.append({"name": f'admiralty-scale:information-credibility="{report.credibility}"'})
    return tags


def _observable_attribute(report: Report, obs: Observable, stamp: str) -> dict[str, Any]:
    if obs.kind == "crypto":
        is_btc = not obs.normalised.startswith("0x") and not obs.normalised.startswith("T")
        misp_type, category, to_ids, comment = (
            ("btc", "Financial fraud", True, "")
            if is_btc
            else ("text", "Financial fraud", False, "cryptocurrency address")
        )
    else:
        misp_type, category, to_ids, comment = _TYPES[obs.kind]
    return {
        "uuid": _attribute_uuid(report.id, f"{obs.kind}:{obs.normalised}"),
        "type": misp_type,
        "category": category,
        "value": obs.normalised,
        "to_ids": to_ids,
        "comment": comment,
        "distribution": "5",  # inherit the event's
        "timestamp": stamp,
    }


def _text_attribute(
    report: Report, key: str, value: str, comment: str, stamp: str
) -> dict[str, Any]:
    return {
        "uuid": _attribute_uuid(report.id, key),
        "type": "text",
        "category": "Other",
        "value": value,
        "to_ids": False,
        "comment": comment,
        "distribution": "5",
        "timestamp": stamp,
    }


def _event(db: Session, report: Report) -> dict[str, Any]:
    org = _org(db.get(Organisation, report.owner_org_id))
    stamp = _epoch(report.updated_at)
    attributes = [_observable_attribute(report, o, stamp) for o in report.observables]
    grade = f"{report.reliability}{report.credibility}"
    attributes.append(
        _text_attribute(report, "grade", grade, f"grade ({report.grading_scheme} scheme)", stamp)
    )
    for key, value, comment in (
        ("summary", report.summary, "summary"),
        ("body_ar", report.body_ar, "report body (Arabic)"),
        ("body_en", report.body_en, "report body (English)"),
    ):
        if value:
            attributes.append(_text_attribute(report, key, value, comment, stamp))
    when = report.released_at or report.created_at
    return {
        "Event": {
            "uuid": event_uuid(report.id),
            "info": report.title,
            "date": to_local(when).date().isoformat(),
            "timestamp": stamp,
            "published": report.status == "released",
            "analysis": "1" if report.status == "draft" else "2",
            "threat_level_id": "4",
            "distribution": str(TLP_TAGS[report.marking][1]),
            "Orgc": org,
            "Org": dict(org),
            "Tag": tags_for(report),
            "Attribute": attributes,
        }
    }


def report_event(db: Session, actor: Actor, report_id: int) -> dict[str, Any]:
    """The report as a MISP event (``{"Event": {...}}``) for a reader who may see it (audited)."""
    report = service.get_report(db, actor, report_id, audit_read=False)
    event = _event(db, report)
    audit.record(
        db,
        actor,
        "export",
        object_type="intel_report",
        object_id=report.id,
        detail={
            "format": "misp",
            "marking": report.marking,
            "attributes": len(event["Event"]["Attribute"]),
        },
    )
    return event


def manifest_entry(event: dict[str, Any]) -> dict[str, Any]:
    body = event["Event"]
    return {
        key: body[key]
        for key in ("info", "date", "analysis", "threat_level_id", "timestamp", "Orgc", "Tag")
    }


def feed_hashes(event: dict[str, Any]) -> list[str]:
    """``md5(value),event uuid`` per attribute, as MISP feeds list them in ``hashes.csv``."""
    body = event["Event"]
    return [
        f"{hashlib.md5(str(a['value']).encode('utf-8')).hexdigest()},{body['uuid']}"  # noqa: S324 - the MISP feed format
        for a in body["Attribute"]
    ]


def feed_report_ids(db: Session, actor: Actor) -> list[int]:
    """The released reports the actor may see that may leave the server, oldest first."""
    ids: list[int] = []
    offset = 0
    while True:
        rows, total = service.list_reports(
            db, actor, service.ReportFilter(status="released"), limit=200, offset=offset
        )
        ids += [r.id for r in rows if r.marking not in NEVER_IN_FEED]
        offset += len(rows)
        if not rows or offset >= total:
            break
    return sorted(ids)


def feed_directory(
    db: Session, actor: Actor, report_ids: Sequence[int], path: Path
) -> dict[str, dict[str, Any]]:
    """Write a MISP feed of these reports into ``path``; returns the manifest (audited)."""
    reports: list[Report] = []
    for report_id in dict.fromkeys(report_ids):
        report = service.get_report(db, actor, report_id, audit_read=False)
        if report.marking in NEVER_IN_FEED:
            error = Forbidden(
                "Report %(id)s is %(marking)s: it never leaves this server, so it is not "
                "put in a feed.",
                field="report",
                id=report.id,
                marking=report.marking,
            )
            error.audit = {
                "action": "export",
                "object_type": "intel_report",
                "object_id": report.id,
                "outcome": "refused",
            }
            raise error
        reports.append(report)
    path.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, Any]] = {}
    hashes: list[str] = []
    for report in reports:
        event = _event(db, report)
        uid = event["Event"]["uuid"]
        (path / f"{uid}.json").write_text(
            json.dumps(event, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        manifest[uid] = manifest_entry(event)
        hashes += feed_hashes(event)
        audit.record(
            db,
            actor,
            "export",
            object_type="intel_report",
            object_id=report.id,
            detail={"format": "misp", "feed": True, "marking": report.marking},
        )
    (path / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (path / "hashes.csv").write_text("".join(f"{h}\n" for h in hashes), encoding="utf-8")
    return manifest
