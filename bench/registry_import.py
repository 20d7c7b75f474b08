"""Import rate: `rasid registry import` of a generated persons CSV, against parsing alone.

    .venv/bin/python bench/registry_import.py [--rows 5000] [--postgres URL]

Writes a persons CSV (Arabic name, Latin spelling, aliases, date of birth, nationality, a
phone number), then in the same process: (baseline) parses it with the import module's own
CSV reader, and (Rasid) imports it through the registry service as a signed-in analyst —
validation, access grants, search terms, a version and an audit entry per row, one
transaction. Prints rows/s of both, the ratio, and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rasid.core.actor import system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.core.migrate import upgrade
from rasid.identity import service as identity
from rasid.registry import io as registry_io
from rasid.registry.schemas import MarkingIn
from registry_search import FAMILY, GIVEN


def write_csv(path: Path, rows: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["name_ar", "name_latin", "aliases", "dob", "nationality", "identifiers"])
        for i in range(rows):
            parts = [rng.choice(GIVEN), rng.choice(GIVEN), rng.choice(GIVEN), rng.choice(FAMILY)]
            out.writerow(
                [
                    " ".join(p[0] for p in parts),
                    " ".join(p[1] for p in parts),
                    f"Abu {parts[1][1]}",
                    f"{rng.randint(1960, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "YE",
                    f"phone:+9677{i:08d}",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rasid-import-"))
    source = tmp / "persons.csv"
    write_csv(source, args.rows, random.Random(7))
    url = (
        args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
        if args.postgres
        else f"sqlite:///{tmp / 'x.db'}"
    )
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with factory.begin() as db:
        identity.create_org(
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
    started = time.perf_counter()
    table = registry_io.read_table(source)
    parse_rate = len(table.rows) / (time.perf_counter() - started)
    with factory.begin() as db:
        actor = identity.actor_for_username(db, "bench")
        started = time.perf_counter()
        report = registry_io.import_table(
            db, actor, table, "persons", marking=MarkingIn(marking="TLP:AMBER")
        )
        seconds = time.perf_counter() - started
    import_rate = args.rows / seconds
    print(
        json.dumps(
            {
                "database": "postgresql" if args.postgres else "sqlite",
                "rows": args.rows,
                "imported": getattr(report, "imported", None),
                "baseline_parse_rows_per_s": round(parse_rate),
                "import_rows_per_s": round(import_rate),
                "ratio": round(import_rate / parse_rate, 4),
                "seconds": round(seconds, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
