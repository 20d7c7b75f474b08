"""Registry search latency at scale: 1,000,000 persons and 1,000,000 incidents.

    .venv/bin/python bench/registry_search.py [--persons 1000000] [--incidents 1000000]
        [--queries 300] [--postgres URL] [--keep DIR]

Generates synthetic persons (Arabic names in 3–4 parts from realistic pools, with a Latin
spelling) and incidents, loads them in bulk straight into the registry tables (names, search
terms from ``registry.names.index_terms``, TLP markings and owners), then runs Latin-spelling
queries through ``registry.search.search`` as a signed-in analyst (so the access filter is
part of every query) and reports p50/p95 latency, recall@1 of the intended person, load rate
and peak memory.

Baseline, same run, same database: an exact, indexed lookup of the Arabic name string
(``WHERE name = ?`` on ``registry_entity_name``) — what a plain database search gives; it
cannot find a Latin spelling at all, so its "recall" on the same Latin queries is reported too.
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
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Index, insert, select, text
from sqlalchemy.orm import Session

from rasid.core.actor import system_actor
from rasid.core.db import make_engine, make_session_factory, utcnow
from rasid.core.migrate import analyze, upgrade
from rasid.identity import service as identity
from rasid.registry import names
from rasid.registry import search as search_service
from rasid.registry.models import Entity, EntityName, Incident, SearchTerm

GIVEN = [
    ("محمد", "Mohammed"),
    ("أحمد", "Ahmed"),
    ("علي", "Ali"),
    ("عبدالله", "Abdullah"),
    ("صالح", "Saleh"),
    ("حسين", "Hussein"),
    ("حسن", "Hassan"),
    ("يحيى", "Yahya"),
    ("عبدالرحمن", "Abdulrahman"),
    ("خالد", "Khaled"),
    ("ناصر", "Nasser"),
    ("قاسم", "Qasim"),
    ("جمال", "Jamal"),
    ("عثمان", "Othman"),
    ("طارق", "Tariq"),
    ("عمر", "Omar"),
    ("فيصل", "Faisal"),
    ("عبدالملك", "Abdulmalik"),
    ("عبدالكريم", "Abdulkarim"),
    ("منصور", "Mansour"),
    ("سعيد", "Saeed"),
    ("مراد", "Murad"),
    ("وليد", "Walid"),
    ("نبيل", "Nabil"),
    ("هاشم", "Hashem"),
    ("إبراهيم", "Ibrahim"),
    ("يوسف", "Yousef"),
    ("مصطفى", "Mustafa"),
    ("سالم", "Salem"),
    ("عادل", "Adel"),
    ("فؤاد", "Fuad"),
    ("رشاد", "Rashad"),
    ("فاطمة", "Fatima"),
    ("عائشة", "Aisha"),
    ("مريم", "Maryam"),
    ("خديجة", "Khadija"),
    ("زينب", "Zainab"),
    ("أمة الله", "Amatullah"),
    ("سمية", "Sumaya"),
    ("هدى", "Huda"),
]
FAMILY = [
    ("الحوثي", "al-Houthi"),
    ("الأحمر", "al-Ahmar"),
    ("العولقي", "al-Awlaqi"),
    ("الحكيمي", "al-Hakimi"),
    ("باعباد", "Ba'abbad"),
    ("الشميري", "al-Shamiri"),
    ("المقطري", "al-Maqtari"),
    ("العبسي", "al-Absi"),
    ("الزبيدي", "al-Zubaidi"),
    ("الحاشدي", "al-Hashidi"),
    ("البيضاني", "al-Baidani"),
    ("الريمي", "al-Raimi"),
    ("الصبري", "al-Sabri"),
    ("الجعدني", "al-Jaadani"),
    ("بن بريك", "bin Brik"),
    ("باوزير", "Bawazir"),
    ("الكثيري", "al-Kathiri"),
    ("العمودي", "al-Amoudi"),
    ("الشامي", "al-Shami"),
    ("المؤيد", "al-Moayad"),
    ("الوزير", "al-Wazir"),
    ("الإرياني", "al-Iryani"),
    ("العديني", "al-Odaini"),
    ("القباطي", "al-Qubati"),
    ("الذيباني", "al-Dhibani"),
    ("الأغبري", "al-Aghbari"),
    ("الحميدي", "al-Hamidi"),
    ("المتوكل", "al-Mutawakkil"),
    ("الديلمي", "al-Dailami"),
    ("الغشمي", "al-Ghashmi"),
    ("السقاف", "al-Saqqaf"),
    ("الكاف", "al-Kaf"),
    ("العنسي", "al-Ansi"),
    ("الشرعبي", "al-Sharabi"),
    ("الوشلي", "al-Washali"),
    ("الطاهري", "al-Taheri"),
    ("القدسي", "al-Qudsi"),
    ("الخولاني", "al-Khawlani"),
    ("المراني", "al-Marrani"),
    ("الصوفي", "al-Sufi"),
    ("الجابري", "al-Jabri"),
    ("السامعي", "al-Samei"),
    ("الحمادي", "al-Hammadi"),
    ("اليافعي", "al-Yafei"),
    ("الضالعي", "al-Dhalei"),
    ("المحمدي", "al-Mohammadi"),
    ("الكبسي", "al-Kibsi"),
    ("الشعبي", "al-Shaabi"),
]
BATCH = 5000


def bulk_load(
    db: Session, org_id: int, persons: int, incidents: int, rng: random.Random, sample: int
) -> tuple[list[tuple[int, str]], float]:
    """Insert persons (with names and search terms) and incidents; return query samples and rows/s."""
    samples: list[tuple[int, str]] = []
    now = utcnow()
    started = time.perf_counter()
    rows_done = 0
    sample_every = max(1, persons // sample)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("persons", total=persons)
        next_id = 1
        while next_id <= persons:
            ent_rows, name_rows, term_rows = [], [], []
            for pid in range(next_id, min(persons, next_id + BATCH - 1) + 1):
                given, father, grand, family = (
                    rng.choice(GIVEN),
                    rng.choice(GIVEN),
                    rng.choice(GIVEN),
                    rng.choice(FAMILY),
                )
                ar = " ".join(p[0] for p in (given, father, grand, family))
                # every second query leaves the grandfather out, as many lists do
                kept = (given, father, grand, family) if pid % 2 else (given, father, family)
                latin = " ".join(p[1] for p in kept)
                marking = "TLP:AMBER" if pid % 3 else "TLP:GREEN"
                ent_rows.append(
                    {
                        "id": pid,
                        "kind": "person",
                        "label": ar,
                        "label_ar": ar,
                        "label_latin": latin,
                        "owner_org_id": org_id,
                        "marking": marking,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                name_rows.append(
                    {"entity_id": pid, "name": ar, "script": "ar", "name_type": "as_written"}
                )
                for term in names.index_terms(ar):
                    term_rows.append({"object_type": "entity", "object_id": pid, "term": term})
                if pid % sample_every == 0 and len(samples) < sample:
                    samples.append((pid, latin))
            db.execute(insert(Entity), ent_rows)
            db.execute(insert(EntityName), name_rows)
            db.execute(insert(SearchTerm), term_rows)
            db.commit()
            rows_done += len(ent_rows)
            bar.advance(task, len(ent_rows))
            next_id += len(ent_rows)
        task = bar.add_task("incidents", total=incidents)
        done = 0
        while done < incidents:
            inc_rows = []
            for i in range(done + 1, min(incidents, done + BATCH) + 1):
                inc_rows.append(
                    {
                        "id": i,
                        "ref": f"SYN-{i:07d}",
                        "title": f"حادثة {i}",
                        "event_date": now.date().replace(
                            year=2020 + i % 6, month=1 + i % 12, day=1 + i % 28
                        ),
                        "date_precision": "day",
                        "event_time": "",
                        "event_type": "Battles",
                        "sub_event_type": "Armed clash",
                        "governorate_code": "YE-TA",
                        "district_id": "",
                        "location_name": "",
                        "fatalities": i % 4,
                        "injured": i % 7,
                        "narrative_ar": "",
                        "narrative_en": "",
                        "marking": "TLP:AMBER" if i % 2 else "TLP:GREEN",
                        "owner_org_id": org_id,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            db.execute(insert(Incident), inc_rows)
            db.commit()
            done += len(inc_rows)
            rows_done += len(inc_rows)
            bar.advance(task, len(inc_rows))
    return samples, rows_done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--postgres", default="", help="a PostgreSQL URL whose database may be overwritten"
    )
    parser.add_argument(
        "--keep", default="", help="directory for the SQLite file (kept afterwards)"
    )
    args = parser.parse_args()
    rng = random.Random(2026)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rasid-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    if args.postgres:
        url = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as db:
        org = identity.create_org(
            db, system_actor(), slug="bench-org", name_ar="جهة", name_en="Bench", country="YE"
        )
        identity.create_user(
            db,
            system_actor(),
            username="bench",
            org_slug="bench-org",
            roles=["analyst"],
            password="load test passphrase 2026",
        )
        org_id = org.id
    # Bulk loading is quicker with the term index built afterwards.
    term_index = next(
        i for i in SearchTerm.__table__.indexes if i.name == "ix_registry_search_term"
    )
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_registry_search_term"))
    with factory() as db:
        samples, load_rate = bulk_load(db, org_id, args.persons, args.incidents, rng, args.queries)
    started = time.perf_counter()
    Index(term_index.name, *term_index.expressions).create(engine)
    index_seconds = time.perf_counter() - started
    analyze(engine)  # as `rasid db optimize` after any bulk import (VACUUM ANALYZE on PostgreSQL)
    with factory() as db:
        actor = identity.actor_for_username(db, "bench", via="bench")
    baseline: list[float] = []
    ours: list[float] = []
    hits1 = hits10 = baseline_hits = 0
    name_col = EntityName.__table__.c.name
    Index("ix_bench_name_exact", name_col).create(engine)
    with factory() as db:
        for pid, query in samples:
            started = time.perf_counter()
            found = db.execute(
                select(EntityName.entity_id).where(EntityName.name == query).limit(20)
            ).all()
            baseline.append((time.perf_counter() - started) * 1000)
            baseline_hits += int(any(r[0] == pid for r in found))
            started = time.perf_counter()
            hits = search_service.search(
                db, actor, query, search_service.SearchFilter(type="person"), limit=10
            )
            ours.append((time.perf_counter() - started) * 1000)
            hits1 += int(bool(hits) and hits[0].id == pid)
            hits10 += int(any(h.id == pid for h in hits))
            db.rollback()

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)

    result = {
        "database": engine.dialect.name,
        "persons": args.persons,
        "incidents": args.incidents,
        "queries": len(samples),
        "load_rows_per_s": round(load_rate),
        "term_index_build_s": round(index_seconds, 1),
        "rasid_p50_ms": pct(ours, 0.5),
        "rasid_p95_ms": pct(ours, 0.95),
        "rasid_mean_ms": round(statistics.mean(ours), 2),
        # pools of 40 given names and 48 family names: a few people share all four parts
        "rasid_recall_at_1": round(hits1 / len(samples), 3),
        "rasid_recall_at_10": round(hits10 / len(samples), 3),
        "baseline_exact_p50_ms": pct(baseline, 0.5),
        "baseline_exact_p95_ms": pct(baseline, 0.95),
        "baseline_exact_recall_on_latin": round(baseline_hits / len(samples), 3),
        "ratio_p95_rasid_vs_exact": round(pct(ours, 0.95) / max(pct(baseline, 0.95), 1e-6), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result))
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
