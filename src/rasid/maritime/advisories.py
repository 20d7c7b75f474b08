"""Navigation security advisories in the UKMTO / JMIC manner, drafted from an incident.

An advisory says where (distance in nautical miles and a 16-point compass bearing from the
nearest named port of ``data/zones.geojson``), when (UTC), what happened and what mariners
are advised to do — in Arabic and English — and names no vessel: the names, call signs,
MMSI and IMO numbers of every vessel involved in the incident (and any MMSI- or IMO-like
number) are taken out of the text, and the officer reviews it before issuing.

Lifecycle: ``draft`` (seen by the owner organisation only, editable) → ``issued`` (the
marking the officer chose, TLP:CLEAR by default: advisories are for every mariner;
immutable). Every change is audited. Exports: plain text and PDF, each in either language.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import CLEAR, GREEN, normalise_marking
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.maritime.models import MaritimeAdvisory
from rasid.maritime.zones import Zone, Zones
from rasid.registry import service as registry

ADVISORY_MARKINGS = (CLEAR, GREEN)
LOCAL = ZoneInfo("Asia/Aden")
NM_PER_KM = 1 / 1.852
COMPASS_EN = (
    "north", "north-northeast", "northeast", "east-northeast",
    "east", "east-southeast", "southeast", "south-southeast",
    "south", "south-southwest", "southwest", "west-southwest",
    "west", "west-northwest", "northwest", "north-northwest",
)  # fmt: skip
COMPASS_AR = (
    "شمال", "شمال الشمال الشرقي", "شمال شرق", "شرق الشمال الشرقي",
    "شرق", "شرق الجنوب الشرقي", "جنوب شرق", "جنوب الجنوب الشرقي",
    "جنوب", "جنوب الجنوب الغربي", "جنوب غرب", "غرب الجنوب الغربي",
    "غرب", "غرب الشمال الغربي", "شمال غرب", "شمال الشمال الغربي",
)  # fmt: skip
ADVICE_EN = (
    "Vessels transiting the area are advised to exercise caution, maintain a full watch, "
    "follow the guidance of their flag state and the Best Management Practices (BMP "
    "Maritime Security), and report any suspicious activity to the coast guard and UKMTO."
)
ADVICE_AR = (
    "يُنصح السفن العابرة في المنطقة بتوخي الحذر والمحافظة على المراقبة الكاملة واتباع "
    "توجيهات دولة العلم وأفضل الممارسات الإدارية للأمن البحري، والإبلاغ عن أي نشاط مشبوه "
    "إلى خفر السواحل وإلى UKMTO."
)
_NUMBERS = re.compile(r"(?<!\d)(?:IMO\s*)?\d{7,9}(?!\d)", re.IGNORECASE)


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "Your roles do not allow this action (%(permission)s).", permission=permission
        )


# --- geometry ---------------------------------------------------------------------------------


def distance_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """Great-circle distance (NM) and initial bearing (degrees true) from point 1 to 2."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    km = 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return km * NM_PER_KM, (math.degrees(math.atan2(y, x)) + 360.0) % 360.0


def compass_index(bearing: float) -> int:
    return int((bearing % 360.0) / 22.5 + 0.5) % 16


def nearest_port(lat: float, lon: float, zones: Zones | None = None) -> tuple[Zone, float, float]:
    """The nearest named port (not anchorage) with the distance and bearing from it."""
    zones = zones or Zones.load_default()
    best: tuple[Zone, float, float] | None = None
    for port in zones.ports:
        if port.kind != "port" or port.center is None:
            continue
        nm, bearing = distance_bearing(port.center[0], port.center[1], lat, lon)
        if best is None or nm < best[1]:
            best = (port, nm, bearing)
    if best is None:
        raise ValidationFailed("No port is defined to give the position from.", field="port")
    return best


@dataclass(frozen=True)
class Position:
    port_en: str
    port_ar: str
    distance_nm: float
    bearing_deg: float

    def text(self, lang: str) -> str:
        i = compass_index(self.bearing_deg)
        nm = round(self.distance_nm)
        if nm < 1:
            return f"في ميناء {self.port_ar}" if lang == "ar" else f"in the port of {self.port_en}"
        if lang == "ar":
            return f"على بعد {nm} ميلاً بحرياً {COMPASS_AR[i]} {self.port_ar}"
        return f"{nm} NM {COMPASS_EN[i]} of {self.port_en}"


def position_of(advisory: MaritimeAdvisory) -> Position:
    zones = Zones.load_default()
    port = zones.by_id.get(advisory.port_id)
    return Position(
        port.name_en if port else advisory.port_id,
        port.name_ar if port else advisory.port_id,
        advisory.distance_nm,
        advisory.bearing_deg,
    )


# --- drafting ----------------------------------------------------------------------------------


def _event_time(incident: Any) -> datetime:
    local = time(0, 0)
    if incident.event_time:
        hh, mm = incident.event_time.split(":")
        local = time(int(hh), int(mm))
    return datetime.combine(incident.event_date, local, LOCAL).astimezone(UTC)


def _vessel_words(db: Session, actor: Actor, incident: Any) -> list[str]:
    """Every name, call sign and number of the vessels involved (to take out of the text)."""
    ids = {i.entity_id for i in incident.involvements}
    words: list[str] = []
    for entity in registry.entities_by_id(db, actor, ids):
        if entity.kind != "vessel":
            continue
        words += [n.name for n in entity.names]
        words += [i.value for i in entity.identifiers] + [i.normalised for i in entity.identifiers]
    return sorted({w for w in words if w and len(w) >= 3}, key=len, reverse=True)


def scrub(text: str, words: list[str], replacement: str) -> str:
    """The text with the vessels' names and MMSI/IMO-like numbers replaced."""
    out = text
    for word in words:
        out = re.sub(re.escape(word), replacement, out, flags=re.IGNORECASE)
    return _NUMBERS.sub(replacement, out)


def _next_ref(db: Session, year: int) -> str:
    prefix = f"RASID-ADV-{year}-"
    count = db.scalar(
        select(func.count())
        .select_from(MaritimeAdvisory)
        .where(MaritimeAdvisory.ref.like(prefix + "%"))
    )
    return f"{prefix}{int(count or 0) + 1:04d}"


def snapshot(a: MaritimeAdvisory) -> dict[str, Any]:
    return {
        "ref": a.ref,
        "status": a.status,
        "incident_id": a.incident_id,
        "event_at": a.event_at.isoformat(),
        "lat": a.lat,
        "lon": a.lon,
        "port_id": a.port_id,
        "distance_nm": round(a.distance_nm, 1),
        "bearing_deg": round(a.bearing_deg, 1),
        "title_ar": a.title_ar,
        "title_en": a.title_en,
        "what_ar": a.what_ar,
        "what_en": a.what_en,
        "advice_ar": a.advice_ar,
        "advice_en": a.advice_en,
        "marking": a.marking,
    }


def draft_from_incident(db: Session, actor: Actor, incident_id: int) -> MaritimeAdvisory:
    """A draft advisory of the actor's organisation from an incident they may see."""
    _require(actor, "write")
    if actor.org_id is None:
        raise ValidationFailed(
            "Advisories must belong to an organisation: use --as USERNAME.", field="owner_org"
        )
    incident = registry.get_incident(db, actor, incident_id)
    if incident.lat is None or incident.lon is None:
        raise ValidationFailed(
            "Incident %(id)s has no coordinates: an advisory gives the position.",
            field="incident_id",
            id=incident_id,
        )
    port, nm, bearing = nearest_port(incident.lat, incident.lon)
    where = Position(port.name_en, port.name_ar, nm, bearing)
    when = _event_time(incident)
    words = _vessel_words(db, actor, incident)
    stamp_en = when.strftime("%d %b %Y %H%M UTC")
    stamp_ar = when.strftime("%Y-%m-%d الساعة %H%M بالتوقيت العالمي")
    what_en = scrub(incident.narrative_en or incident.title, words, "a vessel").strip()
    what_ar = scrub(incident.narrative_ar or incident.title, words, "سفينة").strip()
    advisory = MaritimeAdvisory(
        ref=_next_ref(db, when.year),
        status="draft",
        incident_id=incident.id,
        event_at=when,
        lat=incident.lat,
        lon=incident.lon,
        port_id=port.id,
        distance_nm=nm,
        bearing_deg=bearing,
        title_en=f"Incident {where.text('en')}",
        title_ar=f"حادثة {where.text('ar')}",
        what_en=f"On {stamp_en}, {where.text('en')}: {what_en}",
        what_ar=f"بتاريخ {stamp_ar}، {where.text('ar')}: {what_ar}",
        advice_en=ADVICE_EN,
        advice_ar=ADVICE_AR,
        owner_org_id=actor.org_id,
        marking=CLEAR,
        created_by=actor.user_id,
    )
    db.add(advisory)
    db.flush()
    audit.record_change(
        db, actor, "create", "maritime_advisory", advisory.id, None, snapshot(advisory)
    )
    return advisory


# --- reading, editing, issuing -------------------------------------------------------------------


def _visible(actor: Actor) -> ColumnElement[bool]:
    """Issued advisories by their marking; drafts to their own organisation only."""
    return and_(
        access.visible_filter(actor, MaritimeAdvisory),
        or_(MaritimeAdvisory.status == "issued", MaritimeAdvisory.owner_org_id == actor.org_id)
        if not actor.is_system
        else MaritimeAdvisory.id.is_not(None),
    )


def list_advisories(db: Session, actor: Actor, limit: int = 200) -> list[MaritimeAdvisory]:
    _require(actor, "read")
    return list(
        db.scalars(
            select(MaritimeAdvisory)
            .where(_visible(actor))
            .order_by(MaritimeAdvisory.event_at.desc(), MaritimeAdvisory.id.desc())
            .limit(limit)
        )
    )


def get_advisory(db: Session, actor: Actor, advisory_id: int) -> MaritimeAdvisory:
    _require(actor, "read")
    row = db.scalar(
        select(MaritimeAdvisory).where(MaritimeAdvisory.id == advisory_id, _visible(actor))
    )
    if row is None:
        raise NotFound("No %(type)s with id %(id)s.", type="maritime_advisory", id=advisory_id)
    return row


def _editable(db: Session, actor: Actor, advisory_id: int) -> MaritimeAdvisory:
    _require(actor, "write")
    row = get_advisory(db, actor, advisory_id)
    if row.owner_org_id != actor.org_id:
        raise Forbidden("Only the organisation that drafted an advisory may change it.")
    if row.status != "draft":
        raise Conflict("Advisory %(ref)s is issued and can no longer change.", ref=row.ref)
    return row


TEXT_FIELDS = ("title_ar", "title_en", "what_ar", "what_en", "advice_ar", "advice_en")


def update(db: Session, actor: Actor, advisory_id: int, values: dict[str, str]) -> MaritimeAdvisory:
    row = _editable(db, actor, advisory_id)
    before = snapshot(row)
    for name in TEXT_FIELDS:
        if name in values:
            text = values[name].strip()
            if name.startswith(("title", "what")) and not text:
                raise ValidationFailed("This text is required.", field=name)
            setattr(row, name, text[:300] if name.startswith("title") else text)
    row.updated_at = utcnow()
    db.flush()
    audit.record_change(db, actor, "update", "maritime_advisory", row.id, before, snapshot(row))
    return row


def issue(db: Session, actor: Actor, advisory_id: int, marking: str = CLEAR) -> MaritimeAdvisory:
    row = _editable(db, actor, advisory_id)
    value = normalise_marking(marking)
    if value not in ADVISORY_MARKINGS:
        raise ValidationFailed(
            "An advisory is issued as TLP:CLEAR or TLP:GREEN, not %(marking)s.",
            field="marking",
            marking=value,
        )
    before = snapshot(row)
    row.status = "issued"
    row.marking = value
    row.issued_by = actor.user_id
    row.issued_at = utcnow()
    db.flush()
    audit.record_change(db, actor, "issue", "maritime_advisory", row.id, before, snapshot(row))
    return row


# --- exports -----------------------------------------------------------------------------------


def as_text(advisory: MaritimeAdvisory, lang: str) -> str:
    """The advisory as plain text (UTF-8), in the UKMTO manner."""
    ar = lang == "ar"
    where = position_of(advisory)
    lat_h = "N" if advisory.lat >= 0 else "S"
    lon_h = "E" if advisory.lon >= 0 else "W"
    latlon = f"{abs(advisory.lat):.2f}{lat_h} {abs(advisory.lon):.2f}{lon_h}"
    status = "" if advisory.status == "issued" else (" — مسودة" if ar else " — DRAFT")
    lines = [
        (f"تحذير أمني ملاحي {advisory.ref}{status}" if ar else f"NAVIGATION SECURITY ADVISORY {advisory.ref}{status}"),
        advisory.marking,
        "",
        advisory.title_ar if ar else advisory.title_en,
        "",
        (f"الموقع: {latlon} ({where.text('ar')})" if ar else f"Position: {latlon} ({where.text('en')})"),
        (f"الوقت: {advisory.event_at.astimezone(UTC):%Y-%m-%d %H%M} UTC" if ar else f"Time: {advisory.event_at.astimezone(UTC):%d %b %Y %H%M} UTC"),
        "",
        advisory.what_ar if ar else advisory.what_en,
        "",
        ("إرشادات للملاحين:" if ar else "Advice to mariners:"),
        advisory.advice_ar if ar else advisory.advice_en,
    ]  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"


def as_pdf(advisory: MaritimeAdvisory, lang: str) -> bytes:
    """The advisory as a PDF (the server's Noto fonts; right to left in Arabic)."""
    from html import escape

    from rasid.core import pdf

    ar = lang == "ar"
    text = as_text(advisory, lang).split("\n")
    head, marking, body = text[0], text[1], text[2:]
    paragraphs = "".join(f"<p>{escape(line)}</p>" if line else "" for line in body)
    family = "Noto Sans Arabic" if ar else "Noto Sans"
    html = f"""<!doctype html><html lang="{lang}" dir="{"rtl" if ar else "ltr"}"><head>
<meta charset="utf-8"><style>
{pdf.font_faces()}
@page {{ size: A4; margin: 2cm; }}
body {{ font-family: "{family}", "Noto Sans", sans-serif; font-size: 11pt; line-height: 1.5; }}
h1 {{ font-size: 15pt; }} .tlp {{ font-weight: bold; }}
</style></head><body><h1>{escape(head)}</h1><p class="tlp">{escape(marking)}</p>{paragraphs}</body></html>"""
    return pdf.html_to_pdf(html)
