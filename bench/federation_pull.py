"""Federation pull rate: a partner server pulls ≥100,000 STIX objects from a peer over TAXII.

    .venv/bin/python bench/federation_pull.py [--reports 100] [--per-report 200]
        [--page-size 1000] [--database-url URL] [--profile]

The default (100 reports, ≈27,600 objects) takes about 2 minutes on 2 cores;
``--reports 370`` gives ≥100,000 objects (about 10 minutes). The source is the
``taxii_objects.py`` collection (``--reports`` reports, each linked to ``--per-report``
registry records of every kind and incidents, released to the partner; built by
:func:`taxii_objects.build_collection` in a SQLite database) served by Rasid under
Uvicorn (one process, as deployed). The receiving side is a fresh partner database (SQLite,
or a temporary schema of ``--database-url`` on PostgreSQL) with its own organisations — the
embassy that receives, the local organisation that stands for the peer — and an agreement
from the latter to the former. ``federation.pull`` then reads the ``released-to-partner``
collection ``--page-size`` objects a page and imports every page (each record through the
registry or intel service: search terms, versions, audit, provenance).

Measured, one run: (1) the first pull — objects/s, records created, seconds; (2) the same
pull again with nothing new (the cursor asks only for what was added after the last page);
(3) baseline: the same pages fetched by ``taxii2-client`` alone, nothing imported, so
``ratio`` = pull seconds ÷ fetch seconds. Prints this process's peak RSS (the importer) and
the source server's. ``--profile`` runs the first pull under cProfile and prints the top
functions. Not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from taxii2client.v21 import Collection, as_pages  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_rps import free_port, serve, wait_up
from rasid.core.actor import system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.identity import service as identity
from rasid.intel import federation, service
from rasid.intel.models import Report, StixOrigin
from rasid.intel.schemas import AgreementIn
from rasid.registry.models import Entity, Incident, Link
from stix_export import PASSWORD, database
from taxii_objects import COLLECTION, build_collection, peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
EVERY = ["report", "entity", "incident", "link"]
PEER = "ministry"


def make_partner(factory: sessionmaker[Session]) -> None:
    """The receiving server: an embassy, the peer's local organisation, an agreement."""
    sysact = system_actor()
    with factory.begin() as db:
        for slug, name, country in [
            ("gb-embassy", "Embassy", "GB"),
            ("moi-ct", "Ministry CT Unit (peer)", "YE"),
        ]:
            identity.create_org(
                db, sysact, slug=slug, name_ar=name, name_en=name, country=country, kind="embassy"
            )
        for username, roles in [("gb-admin", ["admin"]), ("gb-liaison", ["liaison"])]:
            identity.create_user(
                db, sysact, username=username, org_slug="gb-embassy", roles=roles, password=PASSWORD
            )
        service.create_agreement(
            db,
            sysact,
            AgreementIn(
                from_org="moi-ct",
                partner_org="gb-embassy",
                markings=["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"],
                record_types=EVERY,
            ),
        )


def count(factory: sessionmaker[Session], model: type[object]) -> int:
    with factory() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def timed_pull(
    factory: sessionmaker[Session], data_dir: Path, page_size: int, label: str
) -> tuple[federation.RunSummary, float]:
    with factory() as db:
        liaison = identity.actor_for_username(db, "gb-liaison", via="bench")
    with Progress(
        TextColumn("{task.description} {task.completed} objects"), TimeElapsedColumn()
    ) as bar:
        task = bar.add_task(label)
        started = time.perf_counter()
        summary = federation.pull(
            factory,
            liaison,
            PEER,
            data_dir,
            page_size=page_size,
            progress=lambda n: bar.advance(task, n),
        )
        seconds = time.perf_counter() - started
    if summary.status != "ok":
        raise SystemExit(f"pull failed: {summary.error}")
    return summary, seconds


def fetch_only(base: str, user: str, token: str, limit: int) -> tuple[int, int, float]:
    """The same pages through taxii2-client, nothing kept: (objects, pages, seconds)."""
    coll = Collection(f"{base}/taxii2/rasid/collections/{COLLECTION}/", user=user, password=token)
    coll.get_objects(limit=1)  # warm-up: connection, collection info
    n = pages = 0
    started = time.perf_counter()
    for envelope in as_pages(coll.get_objects, per_request=limit):
        n += len(envelope.get("objects", []))
        pages += 1
    return n, pages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--per-report", type=int, default=200)
    parser.add_argument("--page-size", type=int, default=federation.PAGE_SIZE)
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL URL for the receiving side (a temporary schema is used)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first pull")
    args = parser.parse_args()
    with (
        database("") as source_url,
        database(args.database_url) as partner_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        tmpdir = Path(tmp)
        world, token, rows, build_s = build_collection(source_url, args.reports, args.per_report)
        env = os.environ | {
            "RASID_DATA_DIR": str(tmpdir / "source-data"),
            "RASID_DATABASE_URL": source_url,
        }
        port = free_port()
        proc = serve("rasid.web.asgi:app", port, 1, env, ROOT)
        engine = make_engine(partner_url)
        factory = make_session_factory(engine)
        data_dir = tmpdir / "partner-data"
        try:
            wait_up(port)
            base = f"http://127.0.0.1:{port}"
            make_partner(factory)
            with factory.begin() as db:
                admin = identity.actor_for_username(db, "gb-admin", via="bench")
                federation.add_peer(
                    db,
                    admin,
                    federation.PeerIn(
                        name=PEER,
                        url=f"{base}/taxii2/rasid/",
                        collection=COLLECTION,
                        token=token,
                        username=world.partner,
                        local_org="moi-ct",
                    ),
                    data_dir,
                )
            profiler = cProfile.Profile() if args.profile else None
            if profiler is not None:
                profiler.enable()
            first, first_s = timed_pull(factory, data_dir, args.page_size, "pull")
            if profiler is not None:
                profiler.disable()
            importer_rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            records = {
                "entities": count(factory, Entity),
                "incidents": count(factory, Incident),
                "links": count(factory, Link),
                "reports": count(factory, Report),
                "origins": count(factory, StixOrigin),
            }
            again, again_s = timed_pull(factory, data_dir, args.page_size, "re-run")
            fetched, pages, fetch_s = fetch_only(base, world.partner, token, args.page_size)
            server_rss = peak_rss_mb(proc.pid)
        finally:
            engine.dispose()
            proc.terminate()
            proc.wait(timeout=30)

    n = first.received
    result = {
        "database": "postgresql" if args.database_url else "sqlite",
        "reports": args.reports,
        "records_per_report": args.per_report,
        "source_rows_loaded": rows,
        "source_build_s": round(build_s, 1),
        "page_size": args.page_size,
        "pages": first.pages,
        "objects": n,
        "created": first.created,
        "updated": first.updated,
        "unchanged": first.unchanged,
        "refused": first.refused,
        "skipped": n - first.created - first.updated - first.unchanged - first.refused,
        "records": records,
        "pull_s": round(first_s, 1),
        "pull_objects_per_s": round(n / first_s),
        "rerun_objects": again.received,
        "rerun_created": again.created + again.updated,
        "rerun_s": round(again_s, 2),
        "fetch_objects": fetched,
        "fetch_pages": pages,
        "fetch_s": round(fetch_s, 2),
        "fetch_objects_per_s": round(fetched / fetch_s),
        "ratio_import_over_fetch": round(first_s / fetch_s, 1),
        "importer_peak_rss_mb": importer_rss,
        "source_server_peak_rss_mb": server_rss,
        "cores": os.cpu_count(),
    }
    print(json.dumps(result))
    print(
        f"federation pull ({result['database']}): {n} objects in {first.pages} pages, "
        f"{first_s:.1f} s: {result['pull_objects_per_s']} objects/s, {first.created} created; "
        f"re-run {again.received} objects in {again_s:.2f} s; taxii2-client fetch alone "
        f"{fetch_s:.1f} s ({result['fetch_objects_per_s']} objects/s), import ÷ fetch "
        f"{result['ratio_import_over_fetch']}; peak RSS importer {importer_rss} MB, "
        f"source server {server_rss} MB"
    )
    if profiler is not None:
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
