"""Personnel import rate: `import_personnel` of a generated CSV (every row checked, then
created through the training service with grants, audit entries batched) against parsing the
same file alone, in the same run.

    .venv/bin/python bench/training_import.py [--rows 10000] [--database-url URL]

The issue's target: a 10,000-row import in seconds. Not a test: no assertion.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rasid.core.actor import system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.identity import service as identity
from rasid.registry.io import parse_csv
from rasid.training import imports, service
from stix_export import database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    lines = ["name_ar,national_id,unit,name_latin,rank,governorate"]
    lines += [f"فرد رقم {i},N{i:08d},u{1 + i % 20},Person {i},رقيب,YE-AD" for i in range(args.rows)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    started = time.perf_counter()
    table = parse_csv(data, "bench.csv")
    parse_s = time.perf_counter() - started
    with database(args.database_url) as url:
        factory = make_session_factory(make_engine(url))
        with factory.begin() as db:
            identity.create_org(db, system_actor(), slug="moi", name_ar="الوزارة", name_en="MOI", country="YE")  # fmt: skip
            identity.create_user(db, system_actor(), username="trainer", org_slug="moi", roles=["training"], password="x" * 16, display_name_ar="م", display_name_en="T")  # fmt: skip
        with factory.begin() as db:
            actor = identity.actor_for_username(db, "trainer")
            for u in range(1, 21):
                service.create_unit(db, actor, code=f"u{u}", name_ar=f"وحدة {u}")
        started = time.perf_counter()
        with factory.begin() as db:
            report = imports.import_personnel(db, identity.actor_for_username(db, "trainer"), table)
        import_s = time.perf_counter() - started
    out = {
        "database": "postgresql" if args.database_url else "sqlite",
        "rows": args.rows, "created": report.created, "import_s": round(import_s, 2),
        "rows_per_s": round(args.rows / import_s), "parse_s": round(parse_s, 3),
        "parse_rows_per_s": round(args.rows / parse_s), "ratio_import_over_parse": round(import_s / parse_s, 1),
    }  # fmt: skip
    print(json.dumps(out))
    print(
        f"personnel import ({out['database']}): {args.rows} rows in {out['import_s']} s "
        f"({out['rows_per_s']} rows/s); parsing alone {out['parse_s']} s"
    )


if __name__ == "__main__":
    main()
