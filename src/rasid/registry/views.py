"""Registry pages: search, incidents (list, map, timeline, form, detail), records, links, duplicates."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from rasid.access import service as access
from rasid.core import i18n
from rasid.core.actor import Actor
from rasid.core.errors import RasidError, ValidationFailed
from rasid.identity import service as identity
from rasid.registry import attachments, gazetteer, names, service, taxonomy
from rasid.registry import merge as merge_service
from rasid.registry import search as search_service
from rasid.registry.models import ENTITY_KINDS, Entity, Incident
from rasid.registry.schemas import (
    EntityIn,
    IdentifierIn,
    IncidentIn,
    InvolvementIn,
    LinkIn,
    NameIn,
    SourceIn,
)
from rasid.web.deps import DB, PageActor, settings_of
from rasid.web.templating import environment, render

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    "person": i18n.N_("Person"),
    "group": i18n.N_("Group"),
    "vehicle": i18n.N_("Vehicle"),
    "vessel": i18n.N_("Vessel"),
    "place": i18n.N_("Place"),
    "incident": i18n.N_("Incident"),
}


def kind_name(kind: str) -> str:
    return i18n.gettext(KIND_LABELS.get(kind, kind))


NAME_TYPE_LABELS = {
    "as_written": i18n.N_("as written"),
    "latin": i18n.N_("Latin spelling"),
    "alias": i18n.N_("alias"),
    "kunya": i18n.N_("kunya"),
}


def _governorate_label(code: str) -> str:
    return _governorate_name(code, i18n.get_language())


def _vocab_label(vocabulary: str) -> Any:
    def label(key: str) -> str:
        try:
            return taxonomy.label(vocabulary, key, i18n.get_language()) if key else ""
        except RasidError:
            return key

    return label


_env = environment()
_env.globals["kind_name"] = kind_name
_env.globals["governorate_label"] = _governorate_label
_env.globals["role_name"] = _vocab_label("involvement_role")
_env.globals["group_kind_label"] = _vocab_label("group_kind")


def _name_type_label(key: str) -> str:
    return i18n.gettext(NAME_TYPE_LABELS.get(key) or key)


_env.globals["name_type_label"] = _name_type_label

RULE_LABELS = {
    "same spelling": i18n.N_("same spelling"),
    "same key": i18n.N_("same letters across scripts"),
    "same consonants, other vowels": i18n.N_("same consonants, other vowels"),
    "one edit": i18n.N_("one letter different"),
    "initial": i18n.N_("initial"),
}
_env.globals["rule_label"] = lambda key: i18n.gettext(RULE_LABELS.get(key) or key)

PLACE_KIND_LABELS = {
    "governorate": i18n.N_("governorate"),
    "district": i18n.N_("district"),
    "uzlah": i18n.N_("uzlah"),
    "village": i18n.N_("village"),
}
_env.globals["place_kind_name"] = lambda key: i18n.gettext(PLACE_KIND_LABELS.get(key) or key or "")


def _highlighter(query: str) -> Any:
    keys = {k for t in names.parse(query).tokens for k in t.keys} if query.strip() else set()

    def highlight(part: str, _tokens: object = None) -> bool:
        return bool(keys) and any(k in keys for t in names.parse(part).tokens for k in t.keys)

    return highlight


MARKINGS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")
PAGE = 50


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(
            "%(value)s is not a date (YYYY-MM-DD).", field=field, value=value
        ) from exc


def _int(value: str | None, field: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ValidationFailed(
            "%(value)s is not a whole number.", field=field, value=value
        ) from exc


def _float(value: str | None, field: str) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError as exc:
        raise ValidationFailed("%(value)s is not a number.", field=field, value=value) from exc


def _pydantic_error(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()))
    return ValidationFailed(
        "%(field)s: %(problem)s", field=field, problem=first.get("msg", "invalid")
    )


def _vocab(name: str) -> list[tuple[str, str]]:
    lang = i18n.get_language()
    return [(t.key, t.label(lang)) for t in taxonomy.terms(name)]


def _common(db: DB, actor: Actor) -> dict[str, Any]:
    lang = i18n.get_language()
    return {
        "markings": MARKINGS,
        "governorates": [
            (g.code, g.name_ar if lang == "ar" else g.name_en) for g in gazetteer.governorates()
        ],
        "orgs": identity.list_orgs(db),
        "kinds": ENTITY_KINDS,
    }


def _marking_fields(form: FormData) -> dict[str, Any]:
    return {
        "marking": str(form.get("marking") or "TLP:AMBER"),
        "releasable_to": [str(v) for v in form.getlist("releasable_to") if str(v).strip()],
        "recipients": [
            v.strip()
            for v in str(form.get("recipients") or "").replace("،", ",").split(",")
            if v.strip()
        ],
    }


# --- search ---------------------------------------------------------------------------------------


@router.get("/registry/search")
def search_page(
    request: Request,
    db: DB,
    actor: PageActor,
    q: str = "",
    type: str = "",
    governorate: str = "",
    date_from: str = "",
    date_to: str = "",
    marking: str = "",
) -> Response:
    hits: list[search_service.Hit] = []
    places: list[gazetteer.PlaceMatch] = []
    error = None
    if q.strip():
        try:
            flt = search_service.SearchFilter(
                type=type or None,
                governorate_code=governorate or None,
                date_from=_day(date_from, "date_from"),
                date_to=_day(date_to, "date_to"),
                marking=marking or None,
            )
            hits = search_service.search(db, actor, q, flt, limit=30)
            if not type or type == "place":
                places = gazetteer.search_places(
                    q, limit=5, min_score=90.0, kinds={"governorate", "district"}
                )
        except RasidError as exc:
            error = exc
    ctx = _common(db, actor) | {
        "q": q,
        "hits": hits,
        "places": places,
        "filters": {
            "type": type,
            "governorate": governorate,
            "date_from": date_from,
            "date_to": date_to,
            "marking": marking,
        },
        "types": search_service.SEARCH_TYPES,
        "error_exc": error,
        "query_tokens": set(),
        "highlight": _highlighter(q),
    }
    return render(request, "registry/search.html", ctx, status_code=error.status if error else 200)


# --- incidents ---------------------------------------------------------------------------------------


def _incident_filter(params: dict[str, str]) -> service.IncidentFilter:
    return service.IncidentFilter(
        governorate_code=params.get("governorate") or None,
        date_from=_day(params.get("date_from"), "date_from"),
        date_to=_day(params.get("date_to"), "date_to"),
        event_type=params.get("event_type") or None,
        marking=params.get("marking") or None,
        text=params.get("q") or None,
    )


@router.get("/registry/incidents")
def incidents_page(request: Request, db: DB, actor: PageActor, page: int = 1) -> Response:
    keys = ("q", "governorate", "date_from", "date_to", "event_type", "marking")
    params = {k: request.query_params.get(k, "") for k in keys}
    flt = _incident_filter(params)
    page = max(1, page)
    rows, total = service.list_incidents(db, actor, flt, limit=PAGE, offset=(page - 1) * PAGE)
    from urllib.parse import urlencode

    query = urlencode({k: v for k, v in params.items() if v})
    ctx = _common(db, actor) | {
        "incidents": rows,
        "total": total,
        "page": page,
        "pages": max(1, (total + PAGE - 1) // PAGE),
        "filters": params,
        "query": query,
        "event_types": _vocab("acled_event_type"),
        "can_write": actor.can("write"),
    }
    return render(request, "registry/incidents.html", ctx)


def _incident_form_ctx(db: DB, actor: Actor, form: dict[str, Any], **extra: Any) -> dict[str, Any]:
    gov = form.get("governorate_code") or ""
    lang = i18n.get_language()
    districts = (
        [(d.id, d.name_ar if lang == "ar" else d.name_en) for d in gazetteer.districts(gov)]
        if gov
        else []
    )
    return _common(db, actor) | {
        "form": form,
        "districts": districts,
        "event_types": _vocab("acled_event_type"),
        "sub_event_types": [(t.key, t.label(lang)) for t in taxonomy.terms("acled_sub_event_type")],
        "attack_types": [(t.code, t.label(lang)) for t in taxonomy.terms("gtd_attack_type")],
        "target_types": [(t.code, t.label(lang)) for t in taxonomy.terms("gtd_target_type")],
        "weapon_types": [(t.code, t.label(lang)) for t in taxonomy.terms("gtd_weapon_type")],
        "roles": _vocab("involvement_role"),
        "geo_precisions": _vocab("geo_precision"),
        **extra,
    }


def _incident_from_form(form: FormData) -> tuple[IncidentIn, dict[str, Any]]:
    raw: dict[str, Any] = {k: str(v) for k, v in form.items() if k not in ("releasable_to",)}
    raw["releasable_to"] = [str(v) for v in form.getlist("releasable_to")]
    sources = []
    for i in range(3):
        desc = str(form.get(f"source_{i}_description") or "").strip()
        if desc:
            sources.append(
                SourceIn(
                    description=desc,
                    reliability=str(form.get(f"source_{i}_reliability") or ""),
                    credibility=_int(
                        str(form.get(f"source_{i}_credibility") or ""), f"sources.{i}.credibility"
                    )
                    or 0,
                )
            )
    involvements = []
    for i in range(6):
        entity_id = _int(
            str(form.get(f"involvement_{i}_entity") or ""), f"involvements.{i}.entity_id"
        )
        if entity_id:
            involvements.append(
                InvolvementIn(
                    entity_id=entity_id, role=str(form.get(f"involvement_{i}_role") or "")
                )
            )
    try:
        data = IncidentIn(
            title=str(form.get("title") or ""),
            event_date=_day(str(form.get("event_date") or ""), "event_date") or date.today(),
            date_precision=str(form.get("date_precision") or "day"),
            event_time=str(form.get("event_time") or ""),
            event_type=str(form.get("event_type") or ""),
            sub_event_type=str(form.get("sub_event_type") or ""),
            attack_type=_int(str(form.get("attack_type") or ""), "attack_type"),
            target_type=_int(str(form.get("target_type") or ""), "target_type"),
            weapon_type=_int(str(form.get("weapon_type") or ""), "weapon_type"),
            governorate_code=str(form.get("governorate_code") or ""),
            district_id=str(form.get("district_id") or ""),
            location_name=str(form.get("location_name") or ""),
            lat=_float(str(form.get("lat") or ""), "lat"),
            lon=_float(str(form.get("lon") or ""), "lon"),
            geo_precision=_int(str(form.get("geo_precision") or ""), "geo_precision"),
            fatalities=_int(str(form.get("fatalities") or ""), "fatalities") or 0,
            injured=_int(str(form.get("injured") or ""), "injured") or 0,
            narrative_ar=str(form.get("narrative_ar") or ""),
            narrative_en=str(form.get("narrative_en") or ""),
            sources=sources,
            involvements=involvements,
            **_marking_fields(form),
        )
    except ValidationError as exc:
        raise _pydantic_error(exc) from exc
    if not str(form.get("event_date") or "").strip():
        raise ValidationFailed("The date is required.", field="event_date")
    return data, raw


def _incident_as_form(db: DB, actor: Actor, incident: Incident) -> dict[str, Any]:
    form: dict[str, Any] = {
        f: getattr(incident, f)
        for f in (
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
            "version",
        )
    }
    form["event_date"] = incident.event_date.isoformat()
    for i, src in enumerate(incident.sources[:3]):
        form[f"source_{i}_description"] = src.description
        form[f"source_{i}_reliability"] = src.reliability
        form[f"source_{i}_credibility"] = src.credibility
        form[f"source_{i}_attachment"] = src.attachment_name
    for i, (inv, _entity) in enumerate(service.visible_involvements(db, actor, incident)[:6]):
        form[f"involvement_{i}_entity"] = inv.entity_id
        form[f"involvement_{i}_role"] = inv.role
    orgs, users = access.grants_for(db, Incident, incident.id)
    form["releasable_to"] = [o.slug for o in identity.list_orgs(db) if o.id in orgs]
    form["recipients"] = ", ".join(u.username for u in identity.list_users_by_id(db, users))
    return form


@router.get("/registry/incidents/new")
def incident_new(request: Request, db: DB, actor: PageActor) -> Response:
    service.require_write(actor)
    form = {"event_date": date.today().isoformat(), "marking": "TLP:AMBER", "date_precision": "day"}
    return render(
        request,
        "registry/incident_form.html",
        _incident_form_ctx(db, actor, form, action="/registry/incidents"),
    )


async def _uploads(form: FormData) -> list[attachments.Upload]:
    out: list[attachments.Upload] = []
    for i in range(3):
        value = form.get(f"source_{i}_file")
        if value is not None and not isinstance(value, str) and value.filename:
            out.append(
                attachments.Upload(i, value.filename, await value.read(attachments.MAX_BYTES + 1))
            )
    return out


@router.post("/registry/incidents")
async def incident_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    return _save_incident(request, db, actor, form, None, await _uploads(form))


def _save_incident(
    request: Request,
    db: DB,
    actor: Actor,
    form: FormData,
    incident_id: int | None,
    uploads: list[attachments.Upload] | None = None,
) -> Response:
    raw: dict[str, Any] = {k: str(v) for k, v in form.items()}
    raw["releasable_to"] = [str(v) for v in form.getlist("releasable_to")]
    action = "/registry/incidents" if incident_id is None else f"/registry/incidents/{incident_id}"
    try:
        data, raw = _incident_from_form(form)
        storage = settings_of(request).data_dir / "attachments"
        if incident_id is None:
            incident, warnings = service.create_incident(
                db, actor, data, attachments=uploads, storage=storage
            )
        else:
            incident, warnings = service.update_incident(
                db,
                actor,
                incident_id,
                data,
                expected_version=_int(str(form.get("version") or ""), "version"),
                attachments=uploads,
                storage=storage,
            )
    except RasidError as exc:
        db.rollback()
        return render(
            request,
            "registry/incident_form.html",
            _incident_form_ctx(db, actor, raw, action=action, error_exc=exc, error_field=exc.field),
            status_code=exc.status,
        )
    target = f"/registry/incidents/{incident.id}"
    if warnings:
        target += "?warning=outside"
    return _redirect(target)


@router.get("/registry/incidents/{incident_id}")
def incident_page(
    incident_id: int, request: Request, db: DB, actor: PageActor, warning: str = ""
) -> Response:
    incident = service.get_incident(db, actor, incident_id)
    lang = i18n.get_language()
    owner = service.owner_slugs(db, {incident.owner_org_id}).get(incident.owner_org_id, "")
    ctx = _common(db, actor) | {
        "incident": incident,
        "involved": service.visible_involvements(db, actor, incident),
        "owner": owner,
        "governorate": _governorate_name(incident.governorate_code, lang),
        "district": _district_name(incident.district_id, lang),
        "labels": _incident_labels(incident, lang),
        "can_edit": actor.can("write") and actor.org_id == incident.owner_org_id,
        "geojson": json.dumps(_points([incident])),
        "warning": warning,
    }
    return render(request, "registry/incident.html", ctx)


def _incident_labels(incident: Incident, lang: str) -> dict[str, str]:
    def lab(vocab: str, key: Any) -> str:
        if key in (None, ""):
            return ""
        try:
            if vocab.startswith("gtd_"):
                return next(t.label(lang) for t in taxonomy.terms(vocab) if t.code == key)
            return taxonomy.label(vocab, str(key), lang)
        except (RasidError, StopIteration):
            return str(key)

    return {
        "event_type": lab("acled_event_type", incident.event_type),
        "sub_event_type": lab("acled_sub_event_type", incident.sub_event_type),
        "attack_type": lab("gtd_attack_type", incident.attack_type),
        "target_type": lab("gtd_target_type", incident.target_type),
        "weapon_type": lab("gtd_weapon_type", incident.weapon_type),
        "geo_precision": lab("geo_precision", incident.geo_precision),
    }


def _governorate_name(code: str, lang: str) -> str:
    if not code:
        return ""
    try:
        g = gazetteer.governorate(code)
    except RasidError:
        return code
    return g.name_ar if lang == "ar" else g.name_en


def _district_name(district_id: str, lang: str) -> str:
    if not district_id:
        return ""
    try:
        d = gazetteer.district(district_id)
    except RasidError:
        return district_id
    return d.name_ar if lang == "ar" else d.name_en


def _points(incidents: list[Incident]) -> dict[str, Any]:
    from rasid.registry.api import incidents_geojson

    return incidents_geojson(incidents)


@router.get("/registry/incidents/{incident_id}/edit")
def incident_edit(incident_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    service.require_write(actor)
    incident = service.get_incident(db, actor, incident_id)
    form = _incident_as_form(db, actor, incident)
    return render(
        request,
        "registry/incident_form.html",
        _incident_form_ctx(
            db, actor, form, action=f"/registry/incidents/{incident_id}", editing=incident
        ),
    )


@router.post("/registry/incidents/{incident_id}")
async def incident_update(incident_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    return _save_incident(request, db, actor, form, incident_id, await _uploads(form))


@router.get("/registry/incidents/{incident_id}/sources/{source_id}/attachment")
def source_attachment(
    incident_id: int, source_id: int, request: Request, db: DB, actor: PageActor
) -> Response:
    """A source document, to those who may read the incident (the read is audited)."""
    from fastapi.responses import FileResponse

    incident = service.get_incident(db, actor, incident_id)
    source = next((s for s in incident.sources if s.id == source_id and s.attachment_path), None)
    if source is None:
        from starlette.exceptions import HTTPException

        raise HTTPException(404)
    path = attachments.open_path(
        settings_of(request).data_dir / "attachments", source.attachment_path
    )
    from rasid.audit import service as audit

    audit.record(
        db,
        actor,
        "read",
        object_type="registry_incident_source",
        object_id=source.id,
        detail={
            "incident": incident.id,
            "file": source.attachment_name,
            "marking": incident.marking,
        },
    )
    return FileResponse(
        path,
        media_type=source.attachment_type,
        filename=source.attachment_name,
        content_disposition_type="attachment",
    )


@router.get("/registry/gazetteer/districts")
def districts_options(request: Request, actor: PageActor, governorate_code: str = "") -> Response:
    lang = i18n.get_language()
    districts = (
        [
            (d.id, d.name_ar if lang == "ar" else d.name_en)
            for d in gazetteer.districts(governorate_code)
        ]
        if governorate_code
        else []
    )
    return render(request, "registry/_district_options.html", {"districts": districts})


# --- versions -------------------------------------------------------------------------------------------


@router.get("/registry/{object_type}/{object_id}/versions")
def versions_page(
    object_type: str, object_id: int, request: Request, db: DB, actor: PageActor
) -> Response:
    kind = {"incidents": "incident", "entities": "entity"}.get(object_type)
    if kind is None:
        from starlette.exceptions import HTTPException

        raise HTTPException(404)
    rows = service.versions(db, actor, kind, object_id)
    items = [{"v": v, "data": json.loads(v.data)} for v in rows]
    return render(
        request,
        "registry/versions.html",
        {"items": items, "object_type": object_type, "object_id": object_id},
    )


# --- entities --------------------------------------------------------------------------------------------


@router.get("/registry/entities")
def entities_page(
    request: Request,
    db: DB,
    actor: PageActor,
    kind: str = "",
    governorate: str = "",
    marking: str = "",
    page: int = 1,
) -> Response:
    page = max(1, page)
    flt = service.EntityFilter(kind or None, governorate or None, marking or None)
    rows, total = service.list_entities(db, actor, flt, limit=PAGE, offset=(page - 1) * PAGE)
    ctx = _common(db, actor) | {
        "entities": rows,
        "total": total,
        "page": page,
        "pages": max(1, (total + PAGE - 1) // PAGE),
        "filters": {"kind": kind, "governorate": governorate, "marking": marking},
        "can_write": actor.can("write"),
    }
    return render(request, "registry/entities.html", ctx)


# The entity form's text fields: read from a submitted form, filled from a record.
ENTITY_TEXT_FIELDS = (
    "given_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "kunya",
    "birth_place",
    "nationality",
    "group_kind",
    "make",
    "model",
    "colour",
    "flag",
    "vessel_type",
    "governorate_code",
    "notes",
    "gazetteer_kind",
    "gazetteer_id",
)


def _entity_from_form(form: FormData) -> EntityIn:
    names: list[NameIn] = []
    for field, name_type in (("name_ar", "as_written"), ("name_latin", "latin")):
        for value in str(form.get(field) or "").splitlines():
            if value.strip():
                names.append(NameIn(name=value.strip(), name_type=name_type))
    for value in str(form.get("aliases") or "").replace("؛", ";").replace("\n", ";").split(";"):
        if value.strip():
            names.append(NameIn(name=value.strip(), name_type="alias"))
    identifiers = []
    for line in str(form.get("identifiers") or "").splitlines():
        if ":" in line:
            kind, _, value = line.partition(":")
            identifiers.append(IdentifierIn(kind=kind.strip(), value=value.strip()))
        elif line.strip():
            raise ValidationFailed(
                "Write each identifier as kind: value, e.g. phone: +967777123456.",
                field="identifiers",
            )
    birth = str(form.get("birth_date") or "").strip()
    birth_date, precision = None, None
    if birth:
        if len(birth) == 4 and birth.isdigit():
            birth_date, precision = date(int(birth), 1, 1), "year"
        else:
            birth_date, precision = _day(birth, "birth_date"), "day"
    values = {f: str(form.get(f) or "") for f in ENTITY_TEXT_FIELDS}
    try:
        return EntityIn(
            kind=str(form.get("kind") or "person"),
            names=names,
            identifiers=identifiers,
            birth_date=birth_date,
            birth_date_precision=precision,
            lat=_float(str(form.get("lat") or ""), "lat"),
            lon=_float(str(form.get("lon") or ""), "lon"),
            **values,
            **_marking_fields(form),
        )
    except ValidationError as exc:
        raise _pydantic_error(exc) from exc


def _entity_form_ctx(db: DB, actor: Actor, form: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return _common(db, actor) | {
        "form": form,
        "group_kinds": _vocab("group_kind"),
        "identifier_kinds": _vocab("identifier_kind"),
        **extra,
    }


@router.get("/registry/entities/new")
def entity_new(request: Request, db: DB, actor: PageActor, kind: str = "person") -> Response:
    service.require_write(actor)
    form = {"kind": kind if kind in ENTITY_KINDS else "person", "marking": "TLP:AMBER"}
    return render(
        request,
        "registry/entity_form.html",
        _entity_form_ctx(db, actor, form, action="/registry/entities"),
    )


@router.post("/registry/entities")
async def entity_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    return _save_entity(request, db, actor, form, None)


def _save_entity(
    request: Request, db: DB, actor: Actor, form: FormData, entity_id: int | None
) -> Response:
    raw: dict[str, Any] = {k: str(v) for k, v in form.items()}
    raw["releasable_to"] = [str(v) for v in form.getlist("releasable_to")]
    action = "/registry/entities" if entity_id is None else f"/registry/entities/{entity_id}"
    try:
        data = _entity_from_form(form)
        if entity_id is None and not form.get("confirm_new"):
            candidates = merge_service.likely_duplicates(db, actor, data)
            if candidates:
                # Show the likely duplicates before saving; the user confirms or opens one.
                return render(
                    request,
                    "registry/entity_form.html",
                    _entity_form_ctx(db, actor, raw, action=action, candidates=candidates),
                )
        if entity_id is None:
            entity, warnings = service.create_entity(db, actor, data)
        else:
            entity, warnings = service.update_entity(
                db,
                actor,
                entity_id,
                data,
                expected_version=_int(str(form.get("version") or ""), "version"),
            )
    except RasidError as exc:
        db.rollback()
        return render(
            request,
            "registry/entity_form.html",
            _entity_form_ctx(db, actor, raw, action=action, error_exc=exc, error_field=exc.field),
            status_code=exc.status,
        )
    return _redirect(f"/registry/entities/{entity.id}" + ("?warning=outside" if warnings else ""))


def _entity_as_form(db: DB, entity: Entity) -> dict[str, Any]:
    form: dict[str, Any] = {
        f: (getattr(entity, f) or "")
        for f in ("kind", *ENTITY_TEXT_FIELDS, "lat", "lon", "marking", "version")
    }
    form["name_ar"] = "\n".join(n.name for n in entity.names if n.name_type == "as_written")
    form["name_latin"] = "\n".join(n.name for n in entity.names if n.name_type == "latin")
    form["aliases"] = "; ".join(
        n.name for n in entity.names if n.name_type in ("alias", "kunya") and n.name != entity.kunya
    )
    form["identifiers"] = "\n".join(f"{i.kind}: {i.value}" for i in entity.identifiers)
    if entity.birth_date:
        form["birth_date"] = (
            str(entity.birth_date.year)
            if entity.birth_date_precision == "year"
            else entity.birth_date.isoformat()
        )
    orgs, users = access.grants_for(db, Entity, entity.id)
    form["releasable_to"] = [o.slug for o in identity.list_orgs(db) if o.id in orgs]
    form["recipients"] = ", ".join(u.username for u in identity.list_users_by_id(db, users))
    if entity.kind == "person" and any((entity.given_name, entity.father_name, entity.family_name)):
        # the parts already make the "as written" name; keep only other Arabic spellings
        parts = " ".join(
            p
            for p in (
                entity.given_name,
                entity.father_name,
                entity.grandfather_name,
                entity.family_name,
            )
            if p
        )
        form["name_ar"] = "\n".join(
            n.name for n in entity.names if n.name_type == "as_written" and n.name != parts
        )
    return form


@router.get("/registry/entities/{entity_id}")
def entity_page(
    entity_id: int, request: Request, db: DB, actor: PageActor, warning: str = ""
) -> Response:
    entity = service.get_entity(db, actor, entity_id)
    if entity.id != entity_id:
        return _redirect(f"/registry/entities/{entity.id}?merged_from={entity_id}")
    lang = i18n.get_language()
    incidents = service.incidents_of_entity(db, actor, entity.id)
    links = service.links_of(db, actor, {entity.id})
    others = {lk.target_id if lk.source_id == entity.id else lk.source_id for lk in links}
    other_entities = {e.id: e for e in service.entities_by_id(db, actor, others)}
    owner = service.owner_slugs(db, {entity.owner_org_id}).get(entity.owner_org_id, "")
    ctx = _common(db, actor) | {
        "entity": entity,
        "incidents": incidents,
        "owner": owner,
        "links": [
            (
                lk,
                other_entities.get(lk.target_id if lk.source_id == entity.id else lk.source_id),
                lk.source_id == entity.id,
            )
            for lk in links
        ],
        "link_label": lambda key, outgoing: (
            taxonomy.label("link_type", key, lang)
            if outgoing
            else taxonomy.inverse_label(key, lang)
        ),
        "role_label": lambda key: taxonomy.label("involvement_role", key, lang),
        "identifier_label": lambda key: taxonomy.label("identifier_kind", key, lang),
        "geojson": json.dumps(_points([i for i, _ in incidents])),
        "governorate": _governorate_name(entity.governorate_code, lang),
        "merges": merge_service.merges_of(db, actor, entity.id),
        "merged_from": request.query_params.get("merged_from", ""),
        "can_edit": actor.can("write") and actor.org_id == entity.owner_org_id,
        "warning": warning,
    }
    return render(request, "registry/entity.html", ctx)


@router.get("/registry/entities/{entity_id}/edit")
def entity_edit(entity_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    service.require_write(actor)
    entity = service.get_entity(db, actor, entity_id)
    return render(
        request,
        "registry/entity_form.html",
        _entity_form_ctx(
            db,
            actor,
            _entity_as_form(db, entity),
            action=f"/registry/entities/{entity.id}",
            editing=entity,
        ),
    )


@router.post("/registry/entities/{entity_id}")
async def entity_update(entity_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    return _save_entity(request, db, actor, form, entity_id)


@router.get("/registry/entities/{entity_id}/chart")
def entity_chart(entity_id: int, request: Request, db: DB, actor: PageActor) -> Response:
    entity = service.get_entity(db, actor, entity_id)
    return render(request, "registry/chart.html", {"entity": entity})


# --- links -------------------------------------------------------------------------------------------------


@router.get("/registry/links/new")
def link_new(request: Request, db: DB, actor: PageActor, source: int) -> Response:
    service.require_write(actor)
    entity = service.get_entity(db, actor, source, audit_read=False)
    return render(
        request,
        "registry/link_form.html",
        _common(db, actor)
        | {
            "source": entity,
            "link_types": _vocab("link_type"),
            "form": {"marking": entity.marking},
        },
    )


@router.post("/registry/links")
async def link_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    source_id = _int(str(form.get("source_id") or ""), "source_id") or 0
    try:
        target = _int(str(form.get("target_id") or ""), "target_id")
        if target is None:
            raise ValidationFailed("Choose the record to link to.", field="target_id")
        data = LinkIn(
            source_id=source_id,
            target_id=target,
            link_type=str(form.get("link_type") or ""),
            start_date=_day(str(form.get("start_date") or ""), "start_date"),
            end_date=_day(str(form.get("end_date") or ""), "end_date"),
            evidence=str(form.get("evidence") or ""),
            reliability=str(form.get("reliability") or "F"),
            credibility=_int(str(form.get("credibility") or ""), "credibility") or 6,
            **_marking_fields(form),
        )
        service.create_link(db, actor, data)
    except (RasidError, ValidationError) as exc:
        db.rollback()
        err = _pydantic_error(exc) if isinstance(exc, ValidationError) else exc
        entity = service.get_entity(db, actor, source_id, audit_read=False)
        return render(
            request,
            "registry/link_form.html",
            _common(db, actor)
            | {
                "source": entity,
                "link_types": _vocab("link_type"),
                "form": {k: str(v) for k, v in form.items()},
                "error_exc": err,
                "error_field": err.field,
            },
            status_code=err.status,
        )
    return _redirect(f"/registry/entities/{source_id}#links")


@router.get("/registry/gazetteer/pick")
def gazetteer_picker(request: Request, actor: PageActor, q: str = "") -> Response:
    """htmx: gazetteer places for the place form (Sa'dah / Saada / صعدة all work)."""
    places = gazetteer.search_places(q, limit=8) if q.strip() else []
    return render(request, "registry/_gazetteer_pick.html", {"places": places})


@router.get("/registry/pick")
def entity_picker(
    request: Request, db: DB, actor: PageActor, q: str = "", target: str = ""
) -> Response:
    """htmx: candidates for a record picker (links, involvements)."""
    hits = []
    if q.strip():
        try:
            hits = [h for h in search_service.search(db, actor, q, limit=8) if h.type != "incident"]
        except RasidError:
            hits = []
    return render(request, "registry/_pick.html", {"hits": hits, "target": target})


# --- export and screening ------------------------------------------------------------------------


@router.get("/registry/export")
def export_file(
    request: Request,
    db: DB,
    actor: PageActor,
    kind: str = "incidents",
    format: str = "csv",
    governorate: str = "",
    date_from: str = "",
    date_to: str = "",
    marking: str = "",
) -> Response:
    from rasid.registry import io as registry_io

    data, summary = registry_io.export_list(
        db,
        actor,
        kind,
        format,
        governorate_code=governorate or None,
        date_from=_day(date_from, "date_from"),
        date_to=_day(date_to, "date_to"),
        marking=marking or None,
    )
    ext = str(summary["format"])
    return Response(
        data,
        media_type=registry_io.MEDIA_TYPES[ext],
        headers={
            "Content-Disposition": f'attachment; filename="rasid-{kind}.{ext}"',
            "X-Record-Count": str(summary["count"]),
            "X-Red-Withheld": str(summary["red_withheld"]),
        },
    )


@router.get("/registry/screen")
def screen_page(request: Request, actor: PageActor) -> Response:
    return render(request, "registry/screen.html", {"results": None})


@router.post("/registry/screen")
async def screen_upload(request: Request, db: DB, actor: PageActor) -> Response:
    from rasid.audit import service as audit
    from rasid.registry import io as registry_io

    form = await request.form()
    upload = form.get("file")
    output = str(form.get("output") or "page")
    try:
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise ValidationFailed("Choose a CSV or XLSX file.", field="file")
        data = await upload.read()
        if len(data) > 20 * 1024 * 1024:
            raise ValidationFailed("The file is larger than 20 MB.", field="file")
        name = upload.filename
        table = (
            registry_io.parse_xlsx(data, name)
            if name.lower().endswith(".xlsx")
            else registry_io.parse_csv(data, name)
        )
        results = registry_io.screen_table(db, actor, table, top=3)
        audit.record(
            db,
            actor,
            "screen",
            object_type="registry_entity",
            detail={"file": name, "rows": len(results), "output": output},
        )
    except RasidError as exc:
        return render(
            request,
            "registry/screen.html",
            {"results": None, "error_exc": exc, "error_field": exc.field},
            status_code=exc.status,
        )
    if output in ("csv", "xlsx"):
        payload = registry_io.screen_output(table, results, output, top=3)
        return Response(
            payload,
            media_type=registry_io.MEDIA_TYPES[output],
            headers={"Content-Disposition": f'attachment; filename="screening-results.{output}"'},
        )
    return render(request, "registry/screen.html", {"results": results, "filename": name})


# --- duplicates ----------------------------------------------------------------------------------------------


@router.get("/registry/duplicates")
def duplicates_page(request: Request, db: DB, actor: PageActor) -> Response:
    return render(
        request,
        "registry/duplicates.html",
        {"pairs": merge_service.review_queue(db, actor), "can_write": actor.can("write")},
    )


@router.post("/registry/duplicates/scan")
def duplicates_scan(request: Request, db: DB, actor: PageActor) -> Response:
    service.require_write(actor)
    merge_service.scan(db, actor)
    return _redirect("/registry/duplicates")


@router.post("/registry/duplicates/{candidate_id}/dismiss")
def duplicates_dismiss(candidate_id: int, db: DB, actor: PageActor) -> Response:
    merge_service.dismiss(db, actor, candidate_id)
    return _redirect("/registry/duplicates")


@router.post("/registry/merges")
async def merges_create(request: Request, db: DB, actor: PageActor) -> Response:
    form = await request.form()
    survivor = _int(str(form.get("survivor_id") or ""), "survivor_id") or 0
    duplicate = _int(str(form.get("duplicate_id") or ""), "duplicate_id") or 0
    merge_service.merge(db, actor, survivor, duplicate)
    return _redirect(f"/registry/entities/{survivor}?merged={duplicate}")


@router.post("/registry/merges/{merge_id}/undo")
def merges_undo(merge_id: int, db: DB, actor: PageActor) -> Response:
    record = merge_service.undo(db, actor, merge_id)
    return _redirect(f"/registry/entities/{record.survivor_id}")
