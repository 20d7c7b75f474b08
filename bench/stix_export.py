"""STIX export of one intel report with 1,000 linked registry records, against stix2 alone.

    .venv/bin/python bench/stix_export.py [--linked 1000] [--repeat 7] [--database-url URL]

Loads, in bulk and straight into the tables (core inserts, as ``registry_search.py`` does),
registry records of every kind — persons (Arabic and Latin names, a phone number), groups,
vehicles, vessels (MMSI), places (coordinates) — and incidents, with incident involvements and
entity-to-entity links among them; half are TLP:GREEN, 40 % TLP:AMBER released to the
partner organisation by access grants and 10 % TLP:AMBER+STRICT (hidden from the partner),
with their search terms, so the access rule and the search see them as they see service-made
rows. Then one report is written through the intel
service, linked to all of them (bulk link rows), approved and released to the partner.

Measured (median of ``--repeat`` runs, one process): ``stix.report_bundle`` as the owner's
analyst — every query, the access filter, the audit entry — plus ``json.dumps`` of the bundle.
Baseline, same run: constructing the same objects with the ``stix2`` library alone
(``stix2.Identity``/``ThreatActor``/``Infrastructure``/``Location``/``Incident``/
``Relationship``/``Report``, ``allow_custom=True``, from dicts already in memory) and
``Bundle.serialize()``. ``ratio`` = Rasid objects/s ÷ stix2 objects/s.

PostgreSQL runs in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import stix2  # type: ignore[import-untyped]
from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rasid.access.models import AccessGrant
from rasid.core.actor import Actor, system_actor
from rasid.core.db import make_engine, make_session_factory, utcnow
from rasid.core.migrate import analyze, upgrade
from rasid.identity import service as identity
from rasid.intel import service, stix
from rasid.intel.models import ReportLink
from rasid.intel.schemas import AgreementIn, ObservableIn, ReportIn
from rasid.registry import names, taxonomy
from rasid.registry.models import (
    Entity,
    EntityIdentifier,
    EntityName,
    Incident,
    Involvement,
    Link,
    SearchTerm,
)
from registry_search import FAMILY, GIVEN

PASSWORD = "load test passphrase 2026"
KINDS = ("person", "group", "vehicle", "vessel", "place")
BATCH = 2000


@contextmanager
def database(url: str) -> Iterator[str]:
    """A migrated, empty database: SQLite in a temporary directory, or a fresh PG schema."""
    if not url:
        with tempfile.TemporaryDirectory(prefix="rasid-stix-") as tmp:
            db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(db_url)
            yield db_url
        return
    base = url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"rasid_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    db_url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        upgrade(db_url)
        yield db_url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class World:
    owner_org: int
    partner_org: int
    analyst: str = "analyst"
    liaison: str = "liaison"
    partner: str = "partner"


def make_world(factory: sessionmaker[Session]) -> World:
    """Two organisations, an analyst and a liaison officer at one, a reader at the other."""
    sysact = system_actor()
    with factory.begin() as db:
        owner = identity.create_org(
            db, sysact, slug="moi-ct", name_ar="مكافحة الإرهاب", name_en="MOI CT", country="YE"
        )
        partner = identity.create_org(
            db, sysact, slug="partner", name_ar="شريك", name_en="Partner", country="SA"
        )
        for username, org, role in [
            ("analyst", "moi-ct", "analyst"),
            ("liaison", "moi-ct", "liaison"),
            ("admin", "moi-ct", "admin"),
            ("partner", "partner", "analyst"),
        ]:
            identity.create_user(
                db, sysact, username=username, org_slug=org, roles=[role], password=PASSWORD
            )
        admin = identity.actor_for_username(db, "admin", via="bench")
        service.create_agreement(
            db,
            admin,
            AgreementIn(
                partner_org="partner",
                markings=["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"],
                record_types=["report"],
            ),
        )
        return World(owner.id, partner.id)


@dataclass
class Records:
    entity_ids: list[int]
    incident_ids: list[int]


class Loader:
    """Core bulk inserts of valid registry rows; ids are assigned here."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.next_entity = 1
        self.next_incident = 1
        self.rows: dict[type[Any], list[dict[str, Any]]] = {}
        self.now = utcnow() - timedelta(days=30)

    def _add(self, model: type[Any], row: dict[str, Any]) -> None:
        self.rows.setdefault(model, []).append(row)

    def _protected(self, model: type[Any], row_id: int, index: int) -> str:
        marking = "TLP:AMBER" if index % 2 else "TLP:GREEN"
        if index % 10 == 5:
            marking = "TLP:AMBER+STRICT"  # the owner's only: left out of the partner's bundles
        if marking == "TLP:AMBER":
            self._add(
                AccessGrant,
                {
                    "object_type": model.__access_type__,
                    "object_id": row_id,
                    "org_id": self.world.partner_org,
                    "user_id": None,
                },
            )
        return marking

    def _terms(self, object_type: str, object_id: int, texts: list[str]) -> None:
        terms: set[str] = set()
        for t in texts:
            if t.strip():
                terms |= names.index_terms(t)
        for term in sorted(terms):
            self._add(
                SearchTerm, {"object_type": object_type, "object_id": object_id, "term": term[:80]}
            )

    def entity(self, kind: str) -> int:
        eid, rng, i = self.next_entity, self.rng, self.next_entity
        self.next_entity += 1
        row: dict[str, Any] = {
            "id": eid,
            "kind": kind,
            "owner_org_id": self.world.owner_org,
            "marking": self._protected(Entity, eid, i),
            "notes": f"سجل تجريبي {eid}",
            "version": 1,
            "created_at": self.now,
            "updated_at": self.now,
        }
        name_rows: list[tuple[str, str, str]] = []
        identifiers: list[tuple[str, str]] = []
        if kind == "person":
            parts = [rng.choice(GIVEN), rng.choice(GIVEN), rng.choice(GIVEN), rng.choice(FAMILY)]
            ar, latin = " ".join(p[0] for p in parts), " ".join(p[1] for p in parts)
            row.update(
                label=ar,
                label_ar=ar,
                label_latin=latin,
                given_name=parts[0][0],
                father_name=parts[1][0],
                grandfather_name=parts[2][0],
                family_name=parts[3][0],
                nationality="YE",
            )
            name_rows = [(ar, "ar", "as_written"), (latin, "latin", "latin")]
            identifiers = [("phone", f"+9677{eid:08d}")]
        elif kind == "group":
            ar = f"شبكة {rng.choice(FAMILY)[0]} {eid}"
            row.update(label=ar, label_ar=ar, group_kind="network")
            name_rows = [(ar, "ar", "as_written")]
        elif kind == "vehicle":
            ar = f"سيارة {eid}"
            row.update(label=ar, label_ar=ar, make="Toyota", model="Hilux", colour="أبيض")
            name_rows = [(ar, "ar", "as_written")]
            identifiers = [("plate", f"{eid % 100000} - أ")]
        elif kind == "vessel":
            ar, latin = f"القارب {eid}", f"Skiff {eid}"
            row.update(label=ar, label_ar=ar, label_latin=latin, flag="YE", vessel_type="skiff")
            name_rows = [(ar, "ar", "as_written"), (latin, "latin", "latin")]
            identifiers = [("mmsi", f"473{eid % 1000000:06d}")]
        else:
            ar = f"موقع {eid}"
            row.update(
                label=ar,
                label_ar=ar,
                governorate_code="YE-HD",
                lat=round(14.5 + rng.random(), 5),
                lon=round(49.1 + rng.random(), 5),
            )
            name_rows = [(ar, "ar", "as_written")]
        self._add(Entity, row)
        for name, script, name_type in name_rows:
            self._add(
                EntityName,
                {"entity_id": eid, "name": name, "script": script, "name_type": name_type},
            )
        for kind_, value in identifiers:
            self._add(
                EntityIdentifier,
                {
                    "entity_id": eid,
                    "kind": kind_,
                    "value": value,
                    "normalised": taxonomy.normalise_identifier(kind_, value),
                },
            )
        self._terms("entity", eid, [n[0] for n in name_rows])
        return eid

    def incident(self, involved: list[int]) -> int:
        iid = self.next_incident
        self.next_incident += 1
        title, ref = f"اشتباك مسلح {iid}", f"BENCH-{iid:07d}"
        self._add(
            Incident,
            {
                "id": iid,
                "ref": ref,
                "title": title,
                "event_date": (self.now - timedelta(days=iid % 900)).date(),
                "date_precision": "day",
                "event_time": "",
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "governorate_code": "YE-HD",
                "district_id": "",
                "location_name": "المكلا",
                "fatalities": iid % 4,
                "injured": iid % 7,
                "narrative_ar": "اشتباك قرب الميناء.",
                "narrative_en": "Clash near the port.",
                "marking": self._protected(Incident, iid, iid),
                "owner_org_id": self.world.owner_org,
                "version": 1,
                "created_at": self.now,
                "updated_at": self.now,
            },
        )
        for n, eid in enumerate(involved):
            self._add(
                Involvement,
                {"incident_id": iid, "entity_id": eid, "role": "perpetrator" if n else "target"},
            )
        self._terms("incident", iid, [title, "المكلا", ref])
        return iid

    def link(self, source: int, target: int, index: int) -> None:
        self._add(
            Link,
            {
                "source_id": source,
                "target_id": target,
                "link_type": "associate",
                "evidence": "Seen together at the port.",
                "reliability": "B",
                "credibility": 2,
                "marking": "TLP:GREEN",
                "owner_org_id": self.world.owner_org,
                "created_at": self.now,
            },
        )

    def records(self, linked: int) -> Records:
        """``linked`` records: 4/5 entities (all kinds), 1/5 incidents; links and involvements."""
        n_inc = linked // 5
        entity_ids = [self.entity(KINDS[i % len(KINDS)]) for i in range(linked - n_inc)]
        incident_ids = [
            self.incident([entity_ids[(2 * i) % len(entity_ids)]]) for i in range(n_inc)
        ]
        for i in range(0, len(entity_ids) - 1, 2):  # every second pair of entities is linked
            self.link(entity_ids[i], entity_ids[i + 1], i)
        return Records(entity_ids, incident_ids)

    def flush(self, db: Session) -> int:
        order = [Entity, EntityName, EntityIdentifier, Incident, Involvement, Link, SearchTerm]
        done = 0
        for model in [*order, AccessGrant]:
            rows = self.rows.pop(model, [])
            for start in range(0, len(rows), BATCH):
                db.execute(insert(model), rows[start : start + BATCH])
            done += len(rows)
        return done


def release_report(
    factory: sessionmaker[Session], world: World, records: Records, title: str
) -> int:
    """One report through the service, its links as bulk rows, approved and released."""
    with factory.begin() as db:
        analyst = identity.actor_for_username(db, world.analyst, via="bench")
        data = ReportIn(
            title=title,
            summary="Smuggling network around Mukalla port.",
            body_ar="رصد شبكة تهريب تعمل قرب ميناء المكلا.",
            reliability="B",
            credibility=2,
            marking="TLP:AMBER",
            observables=[
                ObservableIn(kind="ip", value="192.0.2.7"),
                ObservableIn(kind="domain", value="example.com"),
                ObservableIn(kind="phone", value="+967777123456"),
            ],
        )
        report = service.create_report(db, analyst, data)
        links = [
            {"report_id": report.id, "object_type": "registry_entity", "object_id": e}
            for e in records.entity_ids
        ] + [
            {"report_id": report.id, "object_type": "registry_incident", "object_id": i}
            for i in records.incident_ids
        ]
        db.execute(insert(ReportLink), links)
        db.expire(report)
        report_id = report.id
    with factory.begin() as db:
        liaison = identity.actor_for_username(db, world.liaison, via="bench")
        service.approve_report(db, liaison, report_id)
        service.release_report(db, liaison, report_id, ["partner"])
    return report_id


STIX2_CLASSES: dict[str, Callable[..., Any]] = {
    "identity": stix2.Identity,
    "threat-actor": stix2.ThreatActor,
    "infrastructure": stix2.Infrastructure,
    "location": stix2.Location,
    "incident": stix2.Incident,
    "relationship": stix2.Relationship,
    "report": stix2.Report,
    "marking-definition": stix2.MarkingDefinition,
    "extension-definition": stix2.ExtensionDefinition,
}


def stix2_bundle(objects: list[dict[str, Any]]) -> str:
    """The baseline: the same objects built and serialised by the stix2 library alone."""
    built: list[Any] = []
    for obj in objects:
        cls = STIX2_CLASSES.get(obj["type"])
        if cls is None:  # SCOs: the library's own classes by type
            built.append(stix2.parse(obj, allow_custom=True))
        else:
            built.append(cls(**obj, allow_custom=True))
    return str(stix2.Bundle(objects=built, allow_custom=True).serialize())


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` calls, and the last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--linked", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL URL (a temporary schema is used)"
    )
    args = parser.parse_args()
    with database(args.database_url) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        world = make_world(factory)
        loader = Loader(world, random.Random(2026))
        started = time.perf_counter()
        records = loader.records(args.linked)
        with factory.begin() as db:
            rows = loader.flush(db)
        load_s = time.perf_counter() - started
        report_id = release_report(factory, world, records, "شبكة تهريب المكلا")
        analyze(engine)
        with factory() as db:
            actor: Actor = identity.actor_for_username(db, world.analyst, via="bench")

        def rasid_export() -> str:
            with factory() as db:  # rolled back: the audit entry is not kept
                return json.dumps(stix.report_bundle(db, actor, report_id), ensure_ascii=False)

        rasid_export()  # warm-up (imports, statement caches)
        rasid_s, serialised = timed(rasid_export, args.repeat)
        objects = json.loads(serialised)["objects"]
        stix2_bundle(objects)
        base_s, _ = timed(lambda: stix2_bundle(objects), args.repeat)
        engine.dispose()
    n = len(objects)
    result = {
        "database": "postgresql" if args.database_url else "sqlite",
        "linked_records": args.linked,
        "rows_loaded": rows,
        "load_rows_per_s": round(rows / load_s),
        "objects": n,
        "repeat": args.repeat,
        "rasid_ms": round(rasid_s * 1000, 1),
        "rasid_objects_per_s": round(n / rasid_s),
        "stix2_ms": round(base_s * 1000, 1),
        "stix2_objects_per_s": round(n / base_s),
        "ratio": round(base_s / rasid_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result))
    print(
        f"report_bundle: {n} objects in {result['rasid_ms']} ms "
        f"({result['rasid_objects_per_s']} objects/s) vs stix2 alone {result['stix2_ms']} ms "
        f"({result['stix2_objects_per_s']} objects/s): ratio {result['ratio']}"
    )


if __name__ == "__main__":
    main()
