"""Intel business rules: reports and their lifecycle, releases under agreements, RFIs.

Every read goes through ``access``; every change is audited and every change of a report
leaves a version snapshot; only this module writes the intel tables.

Lifecycle of a report: ``draft`` → ``approved`` (by a liaison officer who is not the
author) → ``released`` (to organisations named in a sharing agreement that covers the
report's marking and the record type ``report``). Editing an approved report sends it back
to draft; a released report is not edited (write a new one).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import (
    AMBER,
    AMBER_STRICT,
    AUDITED_READ_MARKINGS,
    CLEAR,
    GREEN,
    RED,
    RELEASABLE_MARKINGS,
    normalise_marking,
)
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.dates import to_local
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.identity.models import Organisation, User
from rasid.intel.models import (
    RECORD_TYPES,
    RFI,
    Observable,
    Report,
    ReportLink,
    ReportRelease,
    ReportVersion,
    RFIAnswerReport,
    SharingAgreement,
    StixOrigin,
)
from rasid.intel.schemas import AgreementIn, ReportIn, RFIAnswerIn, RFIIn
from rasid.registry import service as registry
from rasid.registry import taxonomy
from rasid.registry.models import Entity, Incident

ADMIRALTY_RELIABILITY = "ABCDEF"
ADMIRALTY_CREDIBILITY = range(1, 7)
EUROPOL_RELIABILITY = "ABCX"  # the Europol 4x4: A, B, C, or X (not assessed)
EUROPOL_CREDIBILITY = range(1, 5)
NEVER_RELEASED = frozenset({AMBER_STRICT, RED})
RFI_MARKINGS = frozenset({CLEAR, GREEN, AMBER})


def require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "Your roles do not allow this action (%(permission)s).", permission=permission
        )


def _require_owner(actor: Actor, owner_org_id: int) -> None:
    if not actor.is_system and actor.org_id != owner_org_id:
        raise Forbidden("Only the owner organisation can change this record.")


def _own_org(actor: Actor) -> int:
    if actor.org_id is None:
        raise ValidationFailed(
            "Records must belong to an organisation: use --as USERNAME.", field="owner_org"
        )
    return actor.org_id


def today() -> date:
    return to_local(utcnow()).date()


def _org_by_slug(db: Session, slug: str, field: str) -> Organisation:
    org = db.scalar(select(Organisation).where(Organisation.slug == slug.strip().lower()))
    if org is None:
        raise ValidationFailed("No organisation named %(slug)s.", field=field, slug=slug)
    return org


def _user_by_name(db: Session, username: str, field: str) -> User:
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise ValidationFailed("No user named %(username)s.", field=field, username=username)
    return user


def org_slugs(db: Session, org_ids: set[int]) -> dict[int, str]:
    return registry.owner_slugs(db, org_ids)


def usernames(db: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all()
    return {int(r[0]): str(r[1]) for r in rows}


# --- grading ----------------------------------------------------------------------------------------


def check_grade(scheme: str, reliability: str, credibility: int) -> str:
    """Admiralty (A–F, 1–6) or the Europol 4×4 (A–D or X, 1–4)."""
    rel = (reliability or "").strip().upper()
    if scheme == "europol":
        if len(rel) != 1 or rel not in EUROPOL_RELIABILITY:
            raise ValidationFailed(
                "Europol source evaluation must be A, B, C or X.", field="reliability"
            )
        if credibility not in EUROPOL_CREDIBILITY:
            raise ValidationFailed(
                "Europol information assessment must be a number from 1 to 4.",
                field="credibility",
            )
        return rel
    if len(rel) != 1 or rel not in ADMIRALTY_RELIABILITY:
        raise ValidationFailed(
            "Source reliability must be a letter from A to F.", field="reliability"
        )
    if credibility not in ADMIRALTY_CREDIBILITY:
        raise ValidationFailed(
            "Information credibility must be a number from 1 to 6.", field="credibility"
        )
    return rel


# --- observables --------------------------------------------------------------------------------------

_HEX = re.compile(r"^[0-9a-f]+$")
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BTC_BASE58 = re.compile(r"^[13][1-9A-HJ-NP-Za-km-z]{25,34}$")
_BTC_BECH32 = re.compile(r"^(bc1)[02-9ac-hj-np-z]{11,71}$")
_ETH = re.compile(r"^0x[0-9a-f]{40}$")
_TRON = re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$")
_REGISTRY_KINDS = frozenset({"phone", "email", "mmsi", "imo", "plate"})


def _bad(message: str, field: str, value: str) -> ValidationFailed:
    return ValidationFailed(message, field=field, value=value)


def _iban(value: str, field: str) -> str:
    text = re.sub(r"[\s-]", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", text):
        raise _bad("Not an IBAN: %(value)s.", field, value)
    rearranged = text[4:] + text[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    if int(number) % 97 != 1:
        raise _bad("The IBAN %(value)s fails its check digits.", field, value)
    return text


def _domain(value: str, field: str) -> str:
    text = value.strip().rstrip(".").lower()
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _bad("Not a domain name: %(value)s.", field, value) from exc
    labels = ascii_name.split(".")
    if (
        len(labels) < 2
        or len(ascii_name) > 253
        or not all(_DOMAIN_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise _bad("Not a domain name: %(value)s.", field, value)
    return ascii_name


def _url(value: str, field: str) -> str:
    text = value.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise _bad("Not a URL: %(value)s.", field, value) from exc
    if parts.scheme.lower() not in ("http", "https", "ftp") or not host:
        raise _bad("Not a URL (http, https or ftp with a host): %(value)s.", field, value)
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        host = _domain(host, field)
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    rest = text.split("//", 1)[1][len(parts.netloc) :]
    return f"{parts.scheme.lower()}://{netloc}{rest}"


def _crypto(value: str, field: str) -> str:
    text = value.strip()
    if _ETH.match(text.lower()):
        return text.lower()
    if _BTC_BECH32.match(text.lower()):
        return text.lower()
    if _BTC_BASE58.match(text) or _TRON.match(text):
        return text
    raise _bad("Not a Bitcoin, Ethereum or Tron address: %(value)s.", field, value)


def normalise_observable(kind: str, value: str, field: str) -> str:
    """The canonical form of an observable, or ValidationFailed naming ``field``."""
    text = value.strip()
    if not text:
        raise _bad("The value is empty.", field, value)
    if kind in _REGISTRY_KINDS:
        try:
            return taxonomy.normalise_identifier(kind, text)
        except ValidationFailed as exc:
            exc.field = field  # the registry names its own field
            raise
    if kind == "iban":
        return _iban(text, field)
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(text))
        except ValueError as exc:
            raise _bad("Not an IP address: %(value)s.", field, value) from exc
    if kind == "domain":
        return _domain(text, field)
    if kind == "url":
        return _url(text, field)
    if kind == "crypto":
        return _crypto(text, field)
    if kind in _HASH_LENGTHS:
        digest = text.lower()
        if len(digest) != _HASH_LENGTHS[kind] or not _HEX.match(digest):
            raise ValidationFailed(
                "A %(kind)s hash has %(length)s hexadecimal digits: %(value)s.",
                field=field,
                kind=kind,
                length=_HASH_LENGTHS[kind],
                value=value,
            )
        return digest
    raise ValidationFailed("Unknown kind of observable: %(value)s.", field=field, value=kind)


def _clean_observables(data: ReportIn) -> list[Observable]:
    out: list[Observable] = []
    seen: set[tuple[str, str]] = set()
    for i, obs in enumerate(data.observables):
        normalised = normalise_observable(obs.kind, obs.value, f"observables.{i}.value")
        if (obs.kind, normalised) in seen:
            continue
        seen.add((obs.kind, normalised))
        out.append(Observable(kind=obs.kind, value=obs.value.strip()[:500], normalised=normalised))
    return out


# --- links to registry records --------------------------------------------------------------------------


def _may_see_record(db: Session, actor: Actor, object_type: str, object_id: int) -> bool:
    try:
        if object_type == "registry_entity":
            registry.get_entity(db, actor, object_id, audit_read=False)
        else:
            registry.get_incident(db, actor, object_id, audit_read=False)
    except NotFound:
        return False
    return True


def visible_links(db: Session, actor: Actor, report: Report) -> list[ReportLink]:
    """The report's links to registry records the reader may see (others are left out)."""
    entity_ids = {lk.object_id for lk in report.links if lk.object_type == "registry_entity"}
    incident_ids = {lk.object_id for lk in report.links if lk.object_type == "registry_incident"}
    seen_entities = {e.id for e in registry.entities_by_id(db, actor, entity_ids)}
    seen_incidents: set[int] = set()
    if incident_ids:
        seen_incidents = set(
            db.scalars(
                select(Incident.id).where(
                    Incident.id.in_(incident_ids), access.visible_filter(actor, Incident)
                )
            )
        )
    return [
        lk
        for lk in report.links
        if (lk.object_type == "registry_entity" and lk.object_id in seen_entities)
        or (lk.object_type == "registry_incident" and lk.object_id in seen_incidents)
    ]


def _visible_targets(db: Session, actor: Actor, keys: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which of these (type, id) records the actor may see, as :func:`_may_see_record` says,
    with one query per 500 ids (a merged record is checked on its own, through its survivor)."""
    out: set[tuple[str, int]] = set()
    entity_ids = sorted(i for t, i in keys if t == "registry_entity")
    incident_ids = sorted(i for t, i in keys if t == "registry_incident")
    for start in range(0, len(entity_ids), 500):
        rows = db.execute(
            select(Entity.id, Entity.merged_into_id).where(
                Entity.id.in_(entity_ids[start : start + 500]),
                access.visible_filter(actor, Entity),
            )
        ).all()
        out |= {
            ("registry_entity", rid)
            for rid, merged in rows
            if merged is None or _may_see_record(db, actor, "registry_entity", rid)
        }
    for start in range(0, len(incident_ids), 500):
        found = db.scalars(
            select(Incident.id).where(
                Incident.id.in_(incident_ids[start : start + 500]),
                access.visible_filter(actor, Incident),
            )
        )
        out |= {("registry_incident", rid) for rid in found}
    return out


def _apply_links(db: Session, actor: Actor, report: Report, data: ReportIn) -> None:
    current = {(lk.object_type, lk.object_id): lk for lk in report.links}
    wanted: list[ReportLink] = []
    seen: set[tuple[str, int]] = set()
    visible = _visible_targets(db, actor, {(lk.object_type, lk.object_id) for lk in data.links})
    for i, link in enumerate(data.links):
        key = (link.object_type, link.object_id)
        if key in seen:
            continue
        if key not in visible:
            raise ValidationFailed(
                "No record with id %(id)s.", field=f"links.{i}.object_id", id=link.object_id
            )
        seen.add(key)
        wanted.append(current.get(key) or ReportLink(object_type=key[0], object_id=key[1]))
    if report.id:
        # The editor never saw the links to records hidden from them: they stay.
        shown = {(lk.object_type, lk.object_id) for lk in visible_links(db, actor, report)}
        wanted += [lk for key, lk in current.items() if key not in shown and key not in seen]
    report.links = wanted


# --- snapshots and versions ----------------------------------------------------------------------------

_REPORT_FIELDS = (
    "title",
    "summary",
    "body_ar",
    "body_en",
    "grading_scheme",
    "reliability",
    "credibility",
    "status",
    "marking",
    "owner_org_id",
    "author_id",
    "approved_by",
    "approved_at",
    "released_at",
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def report_snapshot(db: Session, report: Report) -> dict[str, Any]:
    data = {f: _plain(getattr(report, f)) for f in _REPORT_FIELDS}
    data["links"] = [
        {"object_type": lk.object_type, "object_id": lk.object_id} for lk in report.links
    ]
    data["observables"] = [
        {"kind": o.kind, "value": o.value, "normalised": o.normalised} for o in report.observables
    ]
    orgs, users = access.grants_for(db, Report, report.id)
    data["releasable_to"], data["recipients"] = orgs, users
    data["released_to"] = released_org_ids(db, report.id)
    return data


def _save_version(db: Session, actor: Actor, report: Report, action: str) -> dict[str, Any]:
    db.flush()
    snap = report_snapshot(db, report)
    db.add(
        ReportVersion(
            report_id=report.id,
            version=report.version,
            action=action,
            at=utcnow(),
            user_id=actor.user_id,
            username=actor.username,
            data=json.dumps(snap, ensure_ascii=False, sort_keys=True, default=str),
        )
    )
    return snap


def versions(db: Session, actor: Actor, report_id: int) -> list[ReportVersion]:
    """A report's history, for its owner organisation (drafts never leave it)."""
    report = get_report(db, actor, report_id)
    if not actor.is_system and actor.org_id != report.owner_org_id:
        raise Forbidden("Only the owner organisation can read the history of a report.")
    return list(
        db.scalars(
            select(ReportVersion)
            .where(ReportVersion.report_id == report.id)
            .order_by(ReportVersion.version.desc())
        )
    )


def version_data(db: Session, actor: Actor, row: ReportVersion) -> dict[str, Any]:
    """A snapshot with the links to records the reader may not see left out."""
    data: dict[str, Any] = json.loads(row.data)
    links = data.get("links", [])
    data["links"] = [
        lk for lk in links if _may_see_record(db, actor, lk["object_type"], int(lk["object_id"]))
    ]
    return data


# --- reports -------------------------------------------------------------------------------------------


def _report_visibility(actor: Actor) -> ColumnElement[bool]:
    """Marking rule, and outside the owner organisation only what was released to it."""
    if actor.is_system:
        return true()
    released_to_me = exists().where(
        ReportRelease.report_id == Report.id, ReportRelease.org_id == actor.org_id
    )
    return and_(
        access.visible_filter(actor, Report),
        or_(Report.owner_org_id == actor.org_id, Report.marking == RED, released_to_me),
    )


def get_report(db: Session, actor: Actor, report_id: int, *, audit_read: bool = True) -> Report:
    report = access.get_visible(db, actor, Report, report_id, audit_read=False)
    visible = db.scalar(select(Report.id).where(Report.id == report.id, _report_visibility(actor)))
    if visible is None:
        error = NotFound("No %(type)s with id %(id)s.", type="intel_report", id=report_id)
        error.audit = {
            "action": "access.refused",
            "object_type": "intel_report",
            "object_id": report_id,
            "outcome": "refused",
        }
        raise error
    if audit_read and report.marking in AUDITED_READ_MARKINGS:
        audit.record(
            db,
            actor,
            "read",
            object_type="intel_report",
            object_id=report.id,
            detail={"marking": report.marking},
        )
    return report


@dataclass(frozen=True)
class ReportFilter:
    status: str | None = None
    marking: str | None = None


def list_reports(
    db: Session, actor: Actor, flt: ReportFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[Report], int]:
    conds: list[ColumnElement[bool]] = [_report_visibility(actor)]
    if flt.status:
        conds.append(Report.status == flt.status)
    if flt.marking:
        conds.append(Report.marking == normalise_marking(flt.marking))
    total = access.count_visible(db, actor, Report, *conds)
    rows = db.scalars(
        select(Report)
        .where(*conds)
        .order_by(Report.updated_at.desc(), Report.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def _check_report_marking(db: Session, actor: Actor, data: ReportIn) -> registry.Grants:
    if data.releasable_to:
        raise ValidationFailed(
            "A report reaches other organisations only by release, once approved.",
            field="releasable_to",
        )
    return registry.resolve_marking(db, actor, data)


def _apply_report_fields(db: Session, actor: Actor, report: Report, data: ReportIn) -> None:
    title = " ".join(data.title.split())
    if not title:
        raise ValidationFailed("A report needs a title.", field="title")
    if len(title) > 300:
        raise ValidationFailed("The title is longer than 300 characters.", field="title")
    if not (data.body_ar.strip() or data.body_en.strip() or data.summary.strip()):
        raise ValidationFailed("Write the report in Arabic, English or both.", field="body_ar")
    report.title = title
    report.summary = data.summary.strip()
    report.body_ar = data.body_ar.strip()
    report.body_en = data.body_en.strip()
    report.grading_scheme = data.grading_scheme
    report.reliability = check_grade(data.grading_scheme, data.reliability, data.credibility)
    report.credibility = data.credibility
    report.observables = _clean_observables(data)
    _apply_links(db, actor, report, data)


def create_report(db: Session, actor: Actor, data: ReportIn) -> Report:
    require(actor, "write")
    owner = _own_org(actor)
    grants = _check_report_marking(db, actor, data)
    report = Report(
        owner_org_id=owner,
        marking=grants.marking,
        status="draft",
        version=1,
        author_id=actor.user_id,
        updated_by=actor.user_id,
    )
    _apply_report_fields(db, actor, report, data)
    db.add(report)
    db.flush()
    access.set_grants(db, report, recipients=grants.user_ids)
    snap = _save_version(db, actor, report, "create")
    audit.record_change(db, actor, "create", "intel_report", report.id, None, snap)
    return report


def update_report(
    db: Session, actor: Actor, report_id: int, data: ReportIn, expected_version: int | None = None
) -> Report:
    require(actor, "write")
    report = get_report(db, actor, report_id, audit_read=False)
    _require_owner(actor, report.owner_org_id)
    if from_peer(db, report.id):
        raise Conflict(
            "This report came from a partner server; it changes only when the partner updates it.",
            field="status",
        )
    if expected_version is not None and expected_version != report.version:
        raise ValidationFailed(
            "Someone else changed this record (now version %(version)s); reload it and try again.",
            field="version",
            version=report.version,
        )
    before = report_snapshot(db, report)
    grants = _check_report_marking(db, actor, data)
    _apply_report_fields(db, actor, report, data)
    report.marking = grants.marking
    report.status = "draft"  # an edit needs a fresh approval
    report.approved_by = None
    report.approved_at = None
    report.version += 1
    report.updated_at = utcnow()
    report.updated_by = actor.user_id
    db.flush()
    access.set_grants(db, report, recipients=grants.user_ids)
    after = _save_version(db, actor, report, "update")
    audit.record_change(db, actor, "update", "intel_report", report.id, before, after)
    return report


def _refused(error: Forbidden | Conflict | ValidationFailed, action: str, report_id: int) -> Any:
    error.audit = {
        "action": action,
        "object_type": "intel_report",
        "object_id": report_id,
        "outcome": "refused",
    }
    return error


def approve_report(db: Session, actor: Actor, report_id: int) -> Report:
    """A liaison officer of the owner organisation, not the author, approves a draft."""
    report = get_report(db, actor, report_id, audit_read=False)
    if not actor.has_role("liaison"):
        raise _refused(
            Forbidden("Only a liaison officer can approve a report."), "approve", report.id
        )
    if not actor.is_system and actor.org_id != report.owner_org_id:
        raise _refused(
            Forbidden("Only the owner organisation can approve this report."), "approve", report.id
        )
    if actor.user_id is not None and actor.user_id == report.author_id:
        raise _refused(
            Forbidden("A report must be approved by someone other than its author."),
            "approve",
            report.id,
        )
    if report.status != "draft":
        raise _refused(
            Conflict(
                "Only a draft can be approved; this report is %(status)s.",
                field="status",
                status=report.status,
            ),
            "approve",
            report.id,
        )
    before = report_snapshot(db, report)
    now = utcnow()
    report.status = "approved"
    report.approved_by = actor.user_id
    report.approved_at = now
    report.version += 1
    report.updated_at = now
    report.updated_by = actor.user_id
    withdrawn = _rerelease(db, report, now)
    after = _save_version(db, actor, report, "approve")
    audit.record_change(db, actor, "approve", "intel_report", report.id, before, after)
    if withdrawn:
        audit.record(
            db,
            actor,
            "release.withdrawn",
            object_type="intel_report",
            object_id=report.id,
            detail={"orgs": withdrawn, "reason": "no agreement covers the revision"},
        )
    return report


def _rerelease(db: Session, report: Report, now: datetime) -> list[str]:
    """A revised report that had been released goes back to its recipients once approved.

    Each earlier release is checked again against today's agreements; those no longer
    covered are withdrawn (and named in the audit log). The release time moves to now, so
    TAXII readers and peers see the revision as newly added.
    """
    rows = list(db.scalars(select(ReportRelease).where(ReportRelease.report_id == report.id)))
    if not rows:
        return []
    withdrawn: list[str] = []
    kept: list[int] = []
    for row in rows:
        agreement = find_agreement(db, report.owner_org_id, row.org_id, report.marking, "report")
        if agreement is None or report.marking in NEVER_RELEASED:
            withdrawn.append(org_slugs(db, {row.org_id}).get(row.org_id, str(row.org_id)))
            db.delete(row)
            continue
        row.agreement_id = agreement.id
        row.released_at = now
        kept.append(row.org_id)
    db.flush()
    _, users = access.grants_for(db, Report, report.id)
    releasable = kept if report.marking in RELEASABLE_MARKINGS else []
    access.set_grants(db, report, releasable_to=releasable, recipients=users)
    if kept:
        report.status = "released"
        report.released_at = now
    return withdrawn


def released_org_ids(db: Session, report_id: int) -> list[int]:
    return sorted(
        db.scalars(select(ReportRelease.org_id).where(ReportRelease.report_id == report_id))
    )


def find_agreement(
    db: Session, from_org_id: int, to_org_id: int, marking: str, record_type: str
) -> SharingAgreement | None:
    """An active, in-date agreement from one organisation to another covering both."""
    on = today()
    rows = db.scalars(
        select(SharingAgreement)
        .where(
            SharingAgreement.owner_org_id == from_org_id,
            SharingAgreement.partner_org_id == to_org_id,
            SharingAgreement.active.is_(True),
            or_(SharingAgreement.valid_from.is_(None), SharingAgreement.valid_from <= on),
            or_(SharingAgreement.valid_to.is_(None), SharingAgreement.valid_to >= on),
        )
        .order_by(SharingAgreement.id)
    )
    for row in rows:
        if marking in row.markings.split(",") and record_type in row.record_types.split(","):
            return row
    return None


def release_report(db: Session, actor: Actor, report_id: int, to: list[str]) -> Report:
    """Release an approved report to organisations, each under a sharing agreement."""
    report = get_report(db, actor, report_id, audit_read=False)

    def refuse(error: Forbidden | Conflict | ValidationFailed) -> Any:
        return _refused(error, "release", report.id)

    if not actor.can("release"):
        raise refuse(
            Forbidden("Your roles do not allow this action (%(permission)s).", permission="release")
        )
    if not actor.is_system and actor.org_id != report.owner_org_id:
        raise refuse(Forbidden("Only the owner organisation can release this report."))
    if report.marking in NEVER_RELEASED:
        raise refuse(
            Forbidden(
                "A %(marking)s report is never released to other organisations.",
                field="marking",
                marking=report.marking,
            )
        )
    if report.status not in ("approved", "released"):
        raise refuse(
            Conflict(
                "Only an approved report can be released; this report is %(status)s.",
                field="status",
                status=report.status,
            )
        )
    if not to:
        raise refuse(ValidationFailed("Name at least one organisation.", field="to"))
    owner_slug = org_slugs(db, {report.owner_org_id}).get(report.owner_org_id, "")
    already = set(released_org_ids(db, report.id))
    targets: list[tuple[Organisation, SharingAgreement]] = []
    for slug in to:
        org = _org_by_slug(db, slug, "to")
        if org.id == report.owner_org_id:
            raise refuse(
                ValidationFailed("%(org)s owns this report already.", field="to", org=org.slug)
            )
        agreement = find_agreement(db, report.owner_org_id, org.id, report.marking, "report")
        if agreement is None:
            raise refuse(
                Forbidden(
                    "No active sharing agreement lets %(owner)s release %(marking)s reports "
                    "to %(org)s.",
                    field="to",
                    owner=owner_slug,
                    marking=report.marking,
                    org=org.slug,
                )
            )
        if org.id not in already and all(t[0].id != org.id for t in targets):
            targets.append((org, agreement))
    before = report_snapshot(db, report)
    now = utcnow()
    for org, agreement in targets:
        db.add(
            ReportRelease(
                report_id=report.id,
                org_id=org.id,
                agreement_id=agreement.id,
                released_at=now,
                released_by=actor.user_id,
            )
        )
    db.flush()
    if report.marking in RELEASABLE_MARKINGS:
        orgs, users = access.grants_for(db, Report, report.id)
        access.set_grants(
            db, report, releasable_to=[*orgs, *(o.id for o, _ in targets)], recipients=users
        )
    report.status = "released"
    report.released_at = report.released_at or now
    report.version += 1
    report.updated_at = now
    report.updated_by = actor.user_id
    after = _save_version(db, actor, report, "release")
    audit.record_change(db, actor, "release", "intel_report", report.id, before, after)
    return report


# --- sharing agreements ------------------------------------------------------------------------------


def agreement_snapshot(row: SharingAgreement) -> dict[str, Any]:
    return {
        "owner_org_id": row.owner_org_id,
        "partner_org_id": row.partner_org_id,
        "partner_server": row.partner_server,
        "markings": row.markings.split(","),
        "record_types": row.record_types.split(","),
        "valid_from": _plain(row.valid_from),
        "valid_to": _plain(row.valid_to),
        "active": row.active,
        "note": row.note,
    }


def create_agreement(db: Session, actor: Actor, data: AgreementIn) -> SharingAgreement:
    require(actor, "administer")
    if data.from_org:
        owner = _org_by_slug(db, data.from_org, "from_org")
        if not actor.is_system and owner.id != actor.org_id:
            raise Forbidden("An administrator makes agreements for their own organisation only.")
        owner_id = owner.id
    else:
        owner_id = _own_org(actor)
    partner = _org_by_slug(db, data.partner_org, "partner_org")
    if partner.id == owner_id:
        raise ValidationFailed(
            "An organisation needs no agreement with itself.", field="partner_org"
        )
    markings: list[str] = []
    for value in data.markings:
        marking = normalise_marking(value)
        if marking in NEVER_RELEASED:
            raise ValidationFailed(
                "%(marking)s information never flows to another organisation.",
                field="markings",
                marking=marking,
            )
        if marking not in markings:
            markings.append(marking)
    if not markings:
        raise ValidationFailed("Name at least one marking.", field="markings")
    types: list[str] = []
    for value in data.record_types:
        kind = value.strip().lower()
        if kind not in RECORD_TYPES:
            raise ValidationFailed(
                "Unknown record type %(value)s; use one of %(types)s.",
                field="record_types",
                value=value,
                types=", ".join(RECORD_TYPES),
            )
        if kind not in types:
            types.append(kind)
    if not types:
        raise ValidationFailed("Name at least one record type.", field="record_types")
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        raise ValidationFailed("The agreement ends before it starts.", field="valid_to")
    row = SharingAgreement(
        owner_org_id=owner_id,
        partner_org_id=partner.id,
        partner_server=data.partner_server.strip(),
        markings=",".join(markings),
        record_types=",".join(types),
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        active=True,
        note=data.note.strip(),
        created_at=utcnow(),
        created_by=actor.user_id,
    )
    db.add(row)
    db.flush()
    audit.record_change(
        db, actor, "create", "intel_agreement", row.id, None, agreement_snapshot(row)
    )
    return row


def _agreement_scope(actor: Actor) -> ColumnElement[bool]:
    if actor.is_system:
        return true()
    return or_(
        SharingAgreement.owner_org_id == actor.org_id,
        SharingAgreement.partner_org_id == actor.org_id,
    )


def list_agreements(
    db: Session, actor: Actor, *, active_only: bool = False
) -> list[SharingAgreement]:
    """Agreements the actor's organisation is party to."""
    require(actor, "read")
    stmt = select(SharingAgreement).where(_agreement_scope(actor))
    if active_only:
        stmt = stmt.where(SharingAgreement.active.is_(True))
    return list(db.scalars(stmt.order_by(SharingAgreement.id)))


def deactivate_agreement(db: Session, actor: Actor, agreement_id: int) -> SharingAgreement:
    require(actor, "administer")
    row = db.scalar(
        select(SharingAgreement).where(SharingAgreement.id == agreement_id, _agreement_scope(actor))
    )
    if row is None:
        raise NotFound("No %(type)s with id %(id)s.", type="intel_agreement", id=agreement_id)
    if not actor.is_system and row.owner_org_id != actor.org_id:
        raise Forbidden("Only the sharing organisation can end this agreement.")
    before = agreement_snapshot(row)
    row.active = False
    row.deactivated_at = utcnow()
    row.deactivated_by = actor.user_id
    db.flush()
    audit.record_change(
        db, actor, "deactivate", "intel_agreement", row.id, before, agreement_snapshot(row)
    )
    return row


# --- requests for information ----------------------------------------------------------------------


def rfi_snapshot(rfi: RFI) -> dict[str, Any]:
    return {
        "owner_org_id": rfi.owner_org_id,
        "requested_org_id": rfi.requested_org_id,
        "question": rfi.question,
        "priority": rfi.priority,
        "due_date": _plain(rfi.due_date),
        "assignee_id": rfi.assignee_id,
        "status": rfi.status,
        "marking": rfi.marking,
        "answer": rfi.answer,
        "report_ids": [r.report_id for r in rfi.answer_reports],
    }


def _assignee(db: Session, org_id: int, username: str | None) -> int | None:
    if not username:
        return None
    user = _user_by_name(db, username, "assignee")
    if user.org_id != org_id:
        raise ValidationFailed(
            "The assignee must belong to the organisation asked.", field="assignee"
        )
    return user.id


def create_rfi(db: Session, actor: Actor, data: RFIIn) -> RFI:
    require(actor, "write")
    owner = _own_org(actor)
    requested = _org_by_slug(db, data.to_org, "to_org")
    if requested.id == owner:
        raise ValidationFailed("An organisation does not send an RFI to itself.", field="to_org")
    question = data.question.strip()
    if not question:
        raise ValidationFailed("An RFI needs a question.", field="question")
    marking = normalise_marking(data.marking)
    if marking not in RFI_MARKINGS:
        raise ValidationFailed(
            "An RFI must reach the organisation asked: use TLP:CLEAR, TLP:GREEN or TLP:AMBER.",
            field="marking",
        )
    if data.due_date is not None and data.due_date < today():
        raise ValidationFailed("The due date is in the past.", field="due_date")
    rfi = RFI(
        owner_org_id=owner,
        requested_org_id=requested.id,
        marking=marking,
        question=question,
        priority=data.priority,
        due_date=data.due_date,
        assignee_id=_assignee(db, requested.id, data.assignee),
        status="open",
        created_by=actor.user_id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.add(rfi)
    db.flush()
    if marking == AMBER:
        access.set_grants(db, rfi, releasable_to=[requested.id])
    audit.record_change(db, actor, "create", "intel_rfi", rfi.id, None, rfi_snapshot(rfi))
    return rfi


def _rfi_visibility(actor: Actor) -> ColumnElement[bool]:
    """Marking rule, and only the two organisations party to the request."""
    if actor.is_system:
        return true()
    return and_(
        access.visible_filter(actor, RFI),
        or_(RFI.owner_org_id == actor.org_id, RFI.requested_org_id == actor.org_id),
    )


def get_rfi(db: Session, actor: Actor, rfi_id: int, *, audit_read: bool = True) -> RFI:
    rfi = access.get_visible(db, actor, RFI, rfi_id, audit_read=False)
    if db.scalar(select(RFI.id).where(RFI.id == rfi.id, _rfi_visibility(actor))) is None:
        error = NotFound("No %(type)s with id %(id)s.", type="intel_rfi", id=rfi_id)
        error.audit = {
            "action": "access.refused",
            "object_type": "intel_rfi",
            "object_id": rfi_id,
            "outcome": "refused",
        }
        raise error
    if audit_read and rfi.marking in AUDITED_READ_MARKINGS:
        audit.record(
            db,
            actor,
            "read",
            object_type="intel_rfi",
            object_id=rfi.id,
            detail={"marking": rfi.marking},
        )
    return rfi


def list_rfis(
    db: Session, actor: Actor, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[RFI], int]:
    conds: list[ColumnElement[bool]] = [_rfi_visibility(actor)]
    if status:
        conds.append(RFI.status == status)
    total = access.count_visible(db, actor, RFI, *conds)
    rows = db.scalars(
        select(RFI).where(*conds).order_by(RFI.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def overdue(db: Session, actor: Actor) -> list[RFI]:
    """Open RFIs past their due date that the actor may see, the most overdue first."""
    return list(
        db.scalars(
            select(RFI)
            .where(
                _rfi_visibility(actor),
                RFI.status == "open",
                RFI.due_date.is_not(None),
                RFI.due_date < today(),
            )
            .order_by(RFI.due_date, RFI.id)
        )
    )


def is_overdue(rfi: RFI) -> bool:
    return rfi.status == "open" and rfi.due_date is not None and rfi.due_date < today()


def assign_rfi(db: Session, actor: Actor, rfi_id: int, username: str) -> RFI:
    require(actor, "write")
    rfi = get_rfi(db, actor, rfi_id, audit_read=False)
    if not actor.is_system and actor.org_id != rfi.requested_org_id:
        raise Forbidden("Only the organisation asked can assign this RFI.")
    before = rfi_snapshot(rfi)
    rfi.assignee_id = _assignee(db, rfi.requested_org_id, username)
    rfi.updated_at = utcnow()
    db.flush()
    audit.record_change(db, actor, "assign", "intel_rfi", rfi.id, before, rfi_snapshot(rfi))
    return rfi


def answer_rfi(db: Session, actor: Actor, rfi_id: int, data: RFIAnswerIn) -> RFI:
    require(actor, "write")
    rfi = get_rfi(db, actor, rfi_id, audit_read=False)
    if not actor.is_system and actor.org_id != rfi.requested_org_id:
        raise Forbidden("Only the organisation asked can answer this RFI.")
    if rfi.status not in ("open", "answered"):
        raise Conflict(
            "This RFI is %(status)s and takes no answer.", field="status", status=rfi.status
        )
    answer = data.answer.strip()
    if not answer:
        raise ValidationFailed("Write an answer.", field="answer")
    report_ids: list[int] = []
    for i, report_id in enumerate(data.report_ids):
        try:
            get_report(db, actor, report_id, audit_read=False)
        except NotFound as exc:
            raise ValidationFailed(
                "No report with id %(id)s.", field=f"report_ids.{i}", id=report_id
            ) from exc
        if report_id not in report_ids:
            report_ids.append(report_id)
    before = rfi_snapshot(rfi)
    rfi.answer = answer
    rfi.answer_reports = [RFIAnswerReport(report_id=r) for r in report_ids]
    rfi.status = "answered"
    rfi.answered_by = actor.user_id
    rfi.answered_at = utcnow()
    rfi.updated_at = utcnow()
    db.flush()
    audit.record_change(db, actor, "answer", "intel_rfi", rfi.id, before, rfi_snapshot(rfi))
    return rfi


def set_rfi_status(db: Session, actor: Actor, rfi_id: int, status: str) -> RFI:
    """The requesting organisation closes an answered RFI or cancels an open one."""
    require(actor, "write")
    rfi = get_rfi(db, actor, rfi_id, audit_read=False)
    _require_owner(actor, rfi.owner_org_id)
    allowed = {"closed": ("answered", "open"), "cancelled": ("open",)}
    if status not in allowed or rfi.status not in allowed[status]:
        raise Conflict(
            "An RFI that is %(status)s cannot become %(new)s.",
            field="status",
            status=rfi.status,
            new=status,
        )
    before = rfi_snapshot(rfi)
    rfi.status = status
    rfi.updated_at = utcnow()
    db.flush()
    audit.record_change(db, actor, status, "intel_rfi", rfi.id, before, rfi_snapshot(rfi))
    return rfi


def visible_answer_reports(db: Session, actor: Actor, rfi: RFI) -> list[int]:
    """The answer's reports the reader may open (the others are left out, not named)."""
    ids = [r.report_id for r in rfi.answer_reports]
    if not ids:
        return []
    seen = set(db.scalars(select(Report.id).where(Report.id.in_(ids), _report_visibility(actor))))
    return [i for i in ids if i in seen]


def from_peer(db: Session, report_id: int) -> bool:
    """Whether a report was pulled from a partner server (it then changes only by sync)."""
    return (
        db.scalar(
            select(StixOrigin.id).where(
                StixOrigin.object_type == "intel_report",
                StixOrigin.object_id == report_id,
                StixOrigin.source.like("peer:%"),
            )
        )
        is not None
    )


def import_report(
    db: Session,
    actor: Actor,
    data: ReportIn,
    *,
    existing_id: int | None = None,
    release_to: Organisation | None = None,
) -> Report:
    """Create or update a report from an import (STIX file, TAXII POST, MISP, a peer).

    Without ``release_to`` the report is a draft of the importing organisation (an update
    of a released one is a revision, as by hand). With it (a peer pull) the report is
    released at once to that organisation under this server's own agreement, since its
    owner's server already approved and released it.
    """
    require(actor, "write")
    grants = _check_report_marking(db, actor, data)
    now = utcnow()
    if existing_id is None:
        report = Report(
            owner_org_id=_own_org(actor),
            marking=grants.marking,
            status="draft",
            version=1,
            author_id=actor.user_id,
            updated_by=actor.user_id,
        )
        _apply_report_fields(db, actor, report, data)
        db.add(report)
        db.flush()
        before = None
    else:
        report = get_report(db, actor, existing_id, audit_read=False)
        _require_owner(actor, report.owner_org_id)
        before = report_snapshot(db, report)
        _apply_report_fields(db, actor, report, data)
        report.marking = grants.marking
        report.version += 1
        report.updated_at = now
        report.updated_by = actor.user_id
        report.status = "draft"
        report.approved_by = None
        report.approved_at = None
        db.flush()
    access.set_grants(db, report, recipients=grants.user_ids)
    if release_to is not None:
        agreement = find_agreement(db, report.owner_org_id, release_to.id, report.marking, "report")
        if agreement is None or report.marking in NEVER_RELEASED:
            raise Forbidden(
                "No active sharing agreement lets %(owner)s release %(marking)s reports "
                "to %(org)s.",
                field="agreement",
                owner=org_slugs(db, {report.owner_org_id}).get(report.owner_org_id, ""),
                marking=report.marking,
                org=release_to.slug,
            )
        row = db.scalar(
            select(ReportRelease).where(
                ReportRelease.report_id == report.id, ReportRelease.org_id == release_to.id
            )
        )
        if row is None:
            db.add(
                ReportRelease(
                    report_id=report.id,
                    org_id=release_to.id,
                    agreement_id=agreement.id,
                    released_at=now,
                    released_by=actor.user_id,
                )
            )
        else:
            row.agreement_id = agreement.id
            row.released_at = now
        db.flush()
        releasable = [release_to.id] if report.marking in RELEASABLE_MARKINGS else []
        access.set_grants(db, report, releasable_to=releasable, recipients=grants.user_ids)
        report.status = "released"
        report.released_at = now
    after = _save_version(db, actor, report, "import")
    audit.record_change(db, actor, "import", "intel_report", report.id, before, after)
    return report
