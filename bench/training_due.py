"""Training due lists and the logistics accountability report at issue 6's scale.

    .venv/bin/python bench/training_due.py [--personnel 50000] [--enrolments 200000]
        [--serials 100000] [--runs 20] [--database-url URL]

Builds a migrated database (SQLite in a temporary directory, or a fresh schema of
``--database-url`` on PostgreSQL) with one organisation and a training officer, 100 units,
``--personnel`` people each with an approved vetting (and every unit), 2,000 sessions,
``--enrolments`` enrolments of which a third completed with certificates, and ``--serials``
equipment serials with a check line each for half of them; rows are bulk-inserted (the
service path is measured by the tests, not here). Then times, as the officer through the
access filter, ``reports.due(days=60)``, ``logistics.accountability()`` and the quarterly
accountability report (``accountability_report`` rendered to its HTML document) ``--runs`` times
each (p50, p95), against a baseline in the same run: ``SELECT count(*)`` of the same
tables. The issue's target: both under 1 s p95 on 2 cores. Not a test: no assertion.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rasid.core.actor import system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.identity import service as identity
from rasid.logistics import service as logistics
from rasid.logistics.models import CheckLine, EndUseCheck, EquipmentType, Item
from rasid.training import reports
from rasid.training.models import (
    Course,
    Enrolment,
    TrainingPerson,
    TrainingSession,
    TrainingUnit,
    VettingCase,
)
from stix_export import database

AMBER = "TLP:AMBER"


def build(factory: sessionmaker[Session], people: int, enrolments: int, serials: int) -> float:
    started = time.perf_counter()
    rng = random.Random(6)
    with factory.begin() as db:
        org = identity.create_org(db, system_actor(), slug="moi", name_ar="الوزارة",
                                  name_en="Ministry", country="YE")  # fmt: skip
        identity.create_user(db, system_actor(), username="trainer", org_slug="moi",
                             roles=["training", "logistics"], password="x" * 16,
                             display_name_ar="مدرب", display_name_en="Trainer")  # fmt: skip
        base = {"owner_org_id": org.id, "marking": AMBER}
        today = date.today()
        decided = today - timedelta(days=300)
        db.execute(insert(TrainingUnit), [
            {**base, "id": u, "code": f"u{u}", "name_ar": f"وحدة {u}", "name_en": f"Unit {u}",
             "level": "unit", "governorate_code": "YE-AD"} for u in range(1, 101)
        ])  # fmt: skip
        db.execute(insert(TrainingPerson), [
            {**base, "id": p, "name_ar": f"فرد {p}", "name_latin": f"Person {p}",
             "national_id": f"N{p:08d}", "unit_id": 1 + p % 100, "governorate_code": "YE-AD"}
            for p in range(1, people + 1)
        ])  # fmt: skip
        vet = [{**base, "ref": f"U{u}", "unit_id": u, "person_id": None, "status": "approved",
                "requested_on": decided, "decided_on": decided, "valid_months": 12}
               for u in range(1, 101)]  # fmt: skip
        vet += [{**base, "ref": f"P{p}", "person_id": p, "unit_id": None, "status": "approved",
                 "requested_on": decided, "decided_on": decided + timedelta(days=p % 200),
                 "valid_months": 12} for p in range(1, people + 1)]  # fmt: skip
        db.execute(insert(VettingCase), vet)
        db.execute(insert(Course), [{**base, "id": c, "title_ar": f"دورة {c}", "title_en": f"Course {c}",
                                      "certificate_valid_months": 24} for c in range(1, 21)])  # fmt: skip
        sessions = 2000
        db.execute(insert(TrainingSession), [
            {**base, "id": s, "course_id": 1 + s % 20, "start_date": today - timedelta(days=700 - s // 3),
             "end_date": today - timedelta(days=696 - s // 3), "capacity": 200} for s in range(1, sessions + 1)
        ])  # fmt: skip
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < enrolments:
            pairs.add((rng.randint(1, sessions), rng.randint(1, people)))
        rows = []
        for i, (s, p) in enumerate(sorted(pairs)):
            done = i % 3 == 0
            end = today - timedelta(days=696 - s // 3)
            rows.append({**base, "session_id": s, "person_id": p,
                         "status": "completed" if done else "enrolled",
                         "completed_on": end if done else None,
                         "certificate_code": f"C{i:011d}" if done else None,
                         "certificate_valid_until": end + timedelta(days=730) if done else None})  # fmt: skip
        for start in range(0, len(rows), 20000):
            db.execute(insert(Enrolment), rows[start : start + 20000])
        db.execute(insert(EquipmentType), [{**base, "id": 1, "name_ar": "جهاز", "enhanced": True}])
        db.execute(insert(Item), [
            {**base, "type_id": 1, "serial": f"S{n:07d}", "status": "held" if n % 50 else "missing",
             "custodian_unit_id": 1 + n % 100} for n in range(1, serials + 1)
        ])  # fmt: skip
        db.execute(insert(EndUseCheck), [
            {**base, "id": u, "unit_id": u, "kind": "routine", "status": "done" if u % 10 else "scheduled",
             "scheduled_for": today - timedelta(days=30), "done_on": today - timedelta(days=30) if u % 10 else None}
            for u in range(1, 101)
        ])  # fmt: skip
        db.execute(insert(CheckLine), [
            {"check_id": 1 + n % 100, "item_id": n, "result": "present",
             "checked_on": today - timedelta(days=30)} for n in range(1, serials // 2 + 1)
        ])  # fmt: skip
    return time.perf_counter() - started


def timed(fn: object, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(0.95 * len(samples)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--personnel", type=int, default=50_000)
    parser.add_argument("--enrolments", type=int, default=200_000)
    parser.add_argument("--serials", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with database(args.database_url) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        built = build(factory, args.personnel, args.enrolments, args.serials)
        from rasid.core.migrate import analyze

        analyze(engine)
        with factory() as db:
            actor = identity.actor_for_username(db, "trainer")

            def due() -> object:
                return reports.due(db, actor, days=60)

            def account() -> object:
                return logistics.accountability(db, actor)

            import rasid.logistics.views  # noqa: F401  (the report's template functions)
            from rasid.web.templating import environment

            template = environment().get_template("logistics/accountability_print.html")
            year, quarter = date.today().year, (date.today().month - 1) // 3 + 1

            def quarterly() -> object:
                report = logistics.accountability_report(db, actor, year, quarter)
                return template.render(r=report, font_faces="", lang="ar", dir="rtl")

            def baseline() -> object:
                return [
                    db.scalar(select(func.count()).select_from(m))
                    for m in (TrainingPerson, Enrolment, VettingCase, Item, CheckLine)
                ]

            lists = reports.due(db, actor, days=60)
            figures = logistics.accountability(db, actor).as_dict()
            due_p50, due_p95 = timed(due, args.runs)
            acc_p50, acc_p95 = timed(account, args.runs)
            rep_p50, rep_p95 = timed(quarterly, args.runs)
            report_kb = len(str(quarterly())) // 1024
            base_p50, base_p95 = timed(baseline, args.runs)
    out = {
        "database": "postgresql" if args.database_url else "sqlite",
        "personnel": args.personnel, "enrolments": args.enrolments, "serials": args.serials,
        "build_s": round(built, 1),
        "due_p50_ms": round(due_p50 * 1000, 1), "due_p95_ms": round(due_p95 * 1000, 1),
        "due_counts": {k: len(v) for k, v in lists.items()},
        "accountability_p50_ms": round(acc_p50 * 1000, 1), "accountability_p95_ms": round(acc_p95 * 1000, 1),
        "accountability": figures,
        "quarterly_report_p50_ms": round(rep_p50 * 1000, 1), "quarterly_report_p95_ms": round(rep_p95 * 1000, 1),
        "quarterly_report_kb": report_kb,
        "baseline_counts_p50_ms": round(base_p50 * 1000, 1), "baseline_counts_p95_ms": round(base_p95 * 1000, 1),
    }  # fmt: skip
    print(json.dumps(out))
    print(
        f"training due (p95) {out['due_p95_ms']} ms, accountability (p95) "
        f"{out['accountability_p95_ms']} ms, quarterly report rendered (p95) "
        f"{out['quarterly_report_p95_ms']} ms, plain counts of the same tables (p95) "
        f"{out['baseline_counts_p95_ms']} ms ({out['database']}, {args.personnel} personnel, "
        f"{args.enrolments} enrolments, {args.serials} serials)"
    )


if __name__ == "__main__":
    main()
